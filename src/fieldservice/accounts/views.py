"""People pages: my account and API tokens, users, engineers and their profiles, teams."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import (
    LoginView,
    PasswordChangeView,
    PasswordResetCompleteView,
    PasswordResetConfirmView,
    PasswordResetDoneView,
    PasswordResetView,
)
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from fieldservice.accounts import selectors, services
from fieldservice.accounts.choices import Availability, OrganisationKind, Role
from fieldservice.accounts.forms import (
    AvailabilityForm,
    EngineerCreateForm,
    EngineerProfileForm,
    MyAccountForm,
    TeamForm,
    TokenForm,
    UserCreateForm,
    UserEditForm,
)
from fieldservice.accounts.permissions import Capability, can, may_manage_people_of
from fieldservice.accounts.templatetags.people import area_names, role_labels, skill_levels
from fieldservice.core.clients import client_address
from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.core.validation import parse_id


def _may_add_engineers(user) -> bool:
    return can(user, Capability.MANAGE_PEOPLE) or can(user, Capability.MANAGE_PROVIDER_ENGINEERS)


def _staff_organisations(actor):
    """Companies that have people in the field: ours and the providers the actor may see."""
    return selectors.organisations_for(actor).exclude(kind=OrganisationKind.CUSTOMER)


# --- my account ---------------------------------------------------------------------------------


def _set_language(response, language: str):
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


class SignInView(LoginView):
    """Sign in, then show pages in the language the user chose under My account."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        language = form.get_user().language
        if language:
            _set_language(response, language)
        return response


def signin_locked(request, original_response=None, credentials=None):
    """What django-axes answers while an account or address is locked: the sign-in page again,
    with the reason, and 429 so scripts see they are being throttled."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    form = AuthenticationForm(request, data=request.POST or None)
    return render(
        request,
        "registration/login.html",
        {"form": form, "locked_minutes": minutes, "next": request.POST.get("next", "")},
        status=429,
    )


class PasswordReset(PasswordResetView):
    """Ask for a reset link by e-mail. The answer is the same whether or not the address is known."""

    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        try:
            services.note_password_reset_request(
                email=form.cleaned_data["email"], client_address=client_address(self.request)
            )
        except DomainError as error:
            form.add_error(None, error.message)
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        # The link points at the public address of this installation, never at the Host header.
        self.extra_email_context = {"public_base_url": settings.FSM_PUBLIC_BASE_URL.rstrip("/")}
        return super().form_valid(form)


class PasswordResetConfirm(PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")


password_reset = PasswordReset.as_view()
password_reset_done = PasswordResetDoneView.as_view(template_name="registration/password_reset_done.html")
password_reset_confirm = PasswordResetConfirm.as_view()
password_reset_complete = PasswordResetCompleteView.as_view(template_name="registration/password_reset_complete.html")


@never_cache
@login_required
def me(request):
    """My details, language, availability (engineers), password link and API tokens.

    One page, several small forms told apart by the `form` field of the POST.
    """
    user = request.user
    profile = selectors.engineers_for(user).filter(user=user).first()
    account_form = MyAccountForm(
        initial={"display_name": user.display_name, "email": user.email, "phone": user.phone, "language": user.language}
    )
    availability_form = AvailabilityForm(initial={"availability": profile.availability}) if profile else None
    token_form = TokenForm()
    new_token = None
    which = request.POST.get("form") if request.method == "POST" else None

    if which == "account":
        account_form = MyAccountForm(request.POST)
        if account_form.is_valid():
            try:
                services.update_user(user, actor=user, **account_form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(account_form, exc)
            else:
                # Switch now, so the message and the next page are already in the chosen language.
                translation.activate(user.language)
                messages.success(request, _("Your details were saved."))
                return _set_language(redirect("accounts:me"), user.language)
    elif which == "availability" and profile is not None:
        availability_form = AvailabilityForm(request.POST)
        if availability_form.is_valid():
            try:
                services.set_availability(profile, actor=user, **availability_form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(availability_form, exc)
            else:
                messages.success(request, _("Your availability was saved."))
                return redirect("accounts:me")
    elif which == "token":
        token_form = TokenForm(request.POST)
        if token_form.is_valid():
            try:
                _token, new_token = services.create_api_token(user, actor=user, name=token_form.cleaned_data["name"])
            except ValidationError as exc:
                add_service_errors(token_form, exc)
            else:
                # Rendered, not redirected: the plain token is never stored anywhere, not even in the session.
                token_form = TokenForm()

    return render(
        request,
        "accounts/me.html",
        {
            "account_form": account_form,
            "availability_form": availability_form,
            "token_form": token_form,
            "new_token": new_token,
            "profile": profile,
            "tokens": selectors.api_tokens_for(user),
            "roles": user.roles.all(),
        },
    )


@require_POST
@login_required
def token_revoke(request, pk: int):
    token = selectors.get_api_token_for(request.user, pk)
    try:
        services.revoke_api_token(token, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("accounts:me")


class PasswordChange(PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:me")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password was changed."))
        user = self.request.user
        if user.email:
            # Tells the owner at once if someone else changed it in an open session.
            with translation.override(user.language or settings.LANGUAGE_CODE):
                send_mail(
                    _("Your fieldservice password was changed"),
                    _(
                        "The password of your account %(username)s was changed. If it was not you, "
                        "reset it at once: %(url)s"
                    )
                    % {
                        "username": user.get_username(),
                        "url": settings.FSM_PUBLIC_BASE_URL.rstrip("/") + str(reverse_lazy("password_reset")),
                    },
                    None,
                    [user.email],
                    fail_silently=True,
                )
        return response


password_change = PasswordChange.as_view()


# --- users (administrators) ---------------------------------------------------------------------

# The filter bars of the people lists are written in their pages: they choose among the actor's
# organisations, teams and skills from the context rather than from a filter form.
USERS = Listing(
    columns=[
        Column(_lazy("User name"), lambda u: u.username, link=lambda u: reverse("accounts:user_detail", args=[u.pk])),
        Column(_lazy("Name"), lambda u: u.display_name or u.get_full_name()),
        Column(_lazy("Organisation"), lambda u: u.organisation, default="—"),
        Column(_lazy("Roles"), role_labels),
        Column(_lazy("Phone"), lambda u: u.phone),
        Column(_lazy("E-mail"), lambda u: u.email, page=False),
        Column(_lazy("Active"), lambda u: u.is_active, cell="accounts/cells/user_active.html"),
        Column(_lazy("Last sign-in"), lambda u: u.last_login, page=False),
    ],
    export_link=False,
    empty=_lazy("No users match."),
    export_name="users",
    export_title=_lazy("Users"),
)


@login_required
def user_list(request):
    require(can(request.user, Capability.MANAGE_PEOPLE))
    users = selectors.search_users(selectors.users_for(request.user), request.GET.get("q", ""))
    organisation = parse_id(request.GET.get("organisation"))
    if organisation:
        users = users.filter(organisation_id=organisation)
    role = request.GET.get("role", "")
    if role in Role.values:
        users = users.filter(roles__role=role).distinct()
    return USERS.render(
        request,
        "accounts/user_list.html",
        users,
        context={
            "organisations": selectors.organisations_for(request.user),
            "roles": Role.choices,
            "selected_organisation": organisation,
            "selected_role": role,
        },
    )


@login_required
def user_create(request):
    require(can(request.user, Capability.MANAGE_PEOPLE))
    organisations = selectors.organisations_for(request.user)
    form = UserCreateForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("password2")
        try:
            user = services.create_user(actor=request.user, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The user %(name)s was created.") % {"name": user})
            return redirect("accounts:user_detail", pk=user.pk)
    return render(request, "accounts/user_form.html", {"form": form, "title": _("New user")})


@login_required
def user_detail(request, pk: int):
    require(can(request.user, Capability.MANAGE_PEOPLE))
    user_obj = selectors.get_user_for(request.user, pk)
    profile = selectors.engineers_for(request.user).filter(user=user_obj).first()
    return render(request, "accounts/user_detail.html", {"user_obj": user_obj, "profile": profile})


@login_required
def user_edit(request, pk: int):
    require(can(request.user, Capability.MANAGE_PEOPLE))
    user_obj = selectors.get_user_for(request.user, pk)
    initial = {
        "display_name": user_obj.display_name,
        "email": user_obj.email,
        "phone": user_obj.phone,
        "language": user_obj.language,
        "is_active": user_obj.is_active,
        "roles": sorted(user_obj.role_codes),
    }
    form = UserEditForm(request.POST or None, initial=initial)
    if user_obj.pk == request.user.pk:
        form.fields["is_active"].disabled = True  # nobody switches themselves off
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        roles = data.pop("roles")
        try:
            # Details and roles are saved together or not at all.
            with transaction.atomic():
                services.update_user(user_obj, actor=request.user, **data)
                services.set_roles(user_obj, actor=request.user, roles=roles)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The user %(name)s was saved.") % {"name": user_obj})
            return redirect("accounts:user_detail", pk=user_obj.pk)
    return render(
        request,
        "accounts/user_form.html",
        {"form": form, "user_obj": user_obj, "title": _("Edit %(name)s") % {"name": user_obj}},
    )


# --- engineers ----------------------------------------------------------------------------------

ENGINEERS = Listing(
    columns=[
        Column(
            _lazy("Engineer"),
            lambda p: p.user,
            cell="<a href=\"{% url 'accounts:engineer_detail' row.pk %}\">{{ row.user }}</a>"
            '{% if row.user.phone %}<br><span class="muted">{{ row.user.phone }}</span>{% endif %}',
        ),
        Column(_lazy("User name"), lambda p: p.user.username, page=False),
        Column(
            _lazy("Availability"),
            cell='{% load people %}<span class="badge {{ row|availability_badge }}">'
            "{{ row.get_availability_display }}</span>",
            export=False,
        ),
        Column(_lazy("Team"), lambda p: p.team, default="—", export=False),
        Column(_lazy("Organisation"), lambda p: p.user.organisation, default="—"),
        Column(_lazy("Team"), lambda p: p.team, page=False),
        Column(_lazy("Skills"), skill_levels, default="—"),
        Column(_lazy("Service areas"), area_names, default="—"),
        Column(_lazy("Availability"), lambda p: p.get_availability_display(), page=False),
        Column(_lazy("Home base"), lambda p: p.home_address, default="—"),
        Column(_lazy("Phone"), lambda p: p.user.phone, page=False),
    ],
    export_link=False,
    empty=_lazy("No engineers match."),
    export_name="engineers",
    export_title=_lazy("Engineers"),
)


@login_required
def engineer_list(request):
    require(can(request.user, Capability.VIEW_PEOPLE))
    actor = request.user
    filters = {
        "team": parse_id(request.GET.get("team")),
        "skill": request.GET.get("skill") or None,
        "availability": request.GET.get("availability")
        if request.GET.get("availability") in Availability.values
        else None,
        "organisation": parse_id(request.GET.get("organisation")),
    }
    profiles = selectors.filter_engineers(
        selectors.search_engineers(selectors.engineers_for(actor), request.GET.get("q", "")), **filters
    ).prefetch_related("skills__skill", "areas")
    return ENGINEERS.render(
        request,
        "accounts/engineer_list.html",
        profiles,
        context={
            "teams": selectors.teams_for(actor),
            "skills": selectors.skills(),
            "availabilities": Availability.choices,
            "organisations": _staff_organisations(actor),
            "filters": filters,
            "may_add": _may_add_engineers(actor),
        },
    )


@login_required
def engineer_create(request):
    """Administrators add engineers to any company; a provider admin adds them to their own."""
    actor = request.user
    require(_may_add_engineers(actor))
    organisations = _staff_organisations(actor) if can(actor, Capability.MANAGE_PEOPLE) else None
    form = EngineerCreateForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("password2")
        organisation = data.pop("organisation", None) or actor.organisation
        try:
            user = services.create_user(actor=actor, organisation=organisation, roles=[Role.ENGINEER], **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The engineer %(name)s was created.") % {"name": user})
            return redirect("accounts:engineer_edit", pk=user.engineer_profile.pk)
    return render(request, "accounts/user_form.html", {"form": form, "title": _("New engineer")})


@login_required
def engineer_detail(request, pk: int):
    require(can(request.user, Capability.VIEW_PEOPLE))
    profile = selectors.get_engineer_for(request.user, pk)
    may_manage = may_manage_people_of(request.user, profile.user.organisation)
    return render(
        request,
        "accounts/engineer_detail.html",
        {
            "profile": profile,
            "may_manage": may_manage,
            "availability_form": AvailabilityForm(initial={"availability": profile.availability}),
        },
    )


@login_required
def engineer_edit(request, pk: int):
    actor = request.user
    require(can(actor, Capability.VIEW_PEOPLE))
    profile = selectors.get_engineer_for(actor, pk)
    require(may_manage_people_of(actor, profile.user.organisation))
    form = EngineerProfileForm(
        request.POST or None,
        profile=profile,
        teams=selectors.teams_for(actor).filter(organisation_id=profile.user.organisation_id),
        areas=selectors.service_areas(),
        skills=selectors.skills(),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.save_engineer_profile(
                profile.user,
                actor=actor,
                team=data["team"],
                level=data["level"] or None,
                home_address=data["home_address"],
                home_latitude=data["home_latitude"],
                home_longitude=data["home_longitude"],
                areas=data["areas"],
                skills=data["skills"],
                working_hours=data["working_hours"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The profile of %(name)s was saved.") % {"name": profile.user})
            return redirect("accounts:engineer_detail", pk=profile.pk)
    return render(request, "accounts/engineer_form.html", {"form": form, "profile": profile})


@require_POST
@login_required
def engineer_availability(request, pk: int):
    require(can(request.user, Capability.VIEW_PEOPLE))
    profile = selectors.get_engineer_for(request.user, pk)
    form = AvailabilityForm(request.POST)
    if form.is_valid():
        try:
            services.set_availability(profile, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The availability of %(name)s was saved.") % {"name": profile.user})
    else:
        messages.error(request, _("Choose an availability."))
    return redirect("accounts:engineer_detail", pk=profile.pk)


# --- teams --------------------------------------------------------------------------------------

TEAMS = Listing(
    columns=[
        Column(_lazy("Name"), lambda t: t.name, link=lambda t: reverse("accounts:team_detail", args=[t.pk])),
        Column(_lazy("Organisation"), lambda t: t.organisation),
        Column(_lazy("Team lead"), lambda t: t.leader, default="—"),
        Column(_lazy("Engineers"), lambda t: t.engineer_count),
    ],
    export_link=False,
    empty=_lazy("No teams match."),
    export_name="teams",
    export_title=_lazy("Teams"),
)


@login_required
def team_list(request):
    require(can(request.user, Capability.VIEW_PEOPLE))
    teams = selectors.teams_for(request.user)
    query = request.GET.get("q", "").strip()
    if query:
        teams = teams.filter(name__icontains=query)
    organisation = parse_id(request.GET.get("organisation"))
    if organisation:
        teams = teams.filter(organisation_id=organisation)
    return TEAMS.render(
        request,
        "accounts/team_list.html",
        teams,
        context={
            "organisations": _staff_organisations(request.user),
            "selected_organisation": organisation,
            "may_add": _may_add_engineers(request.user),
        },
    )


@login_required
def team_create(request):
    actor = request.user
    require(_may_add_engineers(actor))
    organisations = _staff_organisations(actor)
    leaders = selectors.users_for(actor).filter(is_active=True).exclude(organisation__kind=OrganisationKind.CUSTOMER)
    form = TeamForm(request.POST or None, organisations=organisations, leaders=leaders)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.create_team(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The team %(name)s was created.") % {"name": team})
            return redirect("accounts:team_detail", pk=team.pk)
    return render(request, "accounts/team_form.html", {"form": form})


@login_required
def team_detail(request, pk: int):
    require(can(request.user, Capability.VIEW_PEOPLE))
    team = selectors.get_team_for(request.user, pk)
    engineers = selectors.engineers_for(request.user).filter(team=team).prefetch_related("skills__skill", "areas")
    return render(
        request,
        "accounts/team_detail.html",
        {"team": team, "engineers": engineers},
    )
