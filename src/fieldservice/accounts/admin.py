"""Django admin for people and reference data (skills, service areas).

The pages are the everyday tool; the admin is for administrators fixing data. Tokens come
only from the "My account" page, so the admin can list and revoke them but never create or show one.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from fieldservice.accounts.choices import ROLES_BY_ORGANISATION_KIND, OrganisationKind, Role
from fieldservice.accounts.models import (
    ApiToken,
    EngineerProfile,
    EngineerSkill,
    Organisation,
    ServiceArea,
    ServiceTeam,
    Skill,
    User,
    UserRole,
)
from fieldservice.accounts.services import revoke_api_token
from fieldservice.core.errors import DomainError
from fieldservice.core.geo import validate_polygon


class UserRoleFormSet(BaseInlineFormSet):
    """The same rule as the services: a user's roles must fit their organisation's kind."""

    def clean(self):
        super().clean()
        organisation = self.instance.organisation
        for form in self.forms:
            if not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            role = form.cleaned_data.get("role")
            if role and organisation is None:
                raise ValidationError(_("A user with roles needs an organisation."))
            if role and role not in ROLES_BY_ORGANISATION_KIND[OrganisationKind(organisation.kind)]:
                raise ValidationError(
                    _("The role %(role)s does not fit a %(kind)s.")
                    % {"role": Role(role).label, "kind": organisation.get_kind_display()}
                )


class UserRoleInline(admin.TabularInline):
    model = UserRole
    formset = UserRoleFormSet
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "display_name", "organisation", "phone", "is_active", "is_superuser", "last_login"]
    list_filter = ["organisation__kind", "organisation", "roles__role", "is_active", "is_superuser"]
    list_select_related = ["organisation"]
    search_fields = ["username", "display_name", "first_name", "last_name", "email", "phone"]
    inlines = [UserRoleInline]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (
            _lazy("Person"),
            {"fields": ["display_name", "first_name", "last_name", "email", "phone", "organisation", "language"]},
        ),
        (
            _lazy("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_lazy("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "organisation", "password1", "password2"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "phone", "is_active", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "phone", "address"]


@admin.register(ServiceTeam)
class ServiceTeamAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "leader"]
    list_filter = ["organisation"]
    list_select_related = ["organisation", "leader"]
    search_fields = ["name", "organisation__name"]
    autocomplete_fields = ["leader"]
    filter_horizontal = ["areas"]


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en"]
    search_fields = ["code", "name", "name_en"]


class ServiceAreaForm(forms.ModelForm):
    class Meta:
        model = ServiceArea
        fields = ["name", "province", "city", "district", "polygon"]

    def clean_polygon(self):
        # The rules engine reads the boundary; a ring that does not close would silently match nothing.
        try:
            return validate_polygon(self.cleaned_data.get("polygon"))
        except ValidationError as error:
            raise ValidationError(error.message_dict.get("polygon", error.messages)) from None


@admin.register(ServiceArea)
class ServiceAreaAdmin(admin.ModelAdmin):
    form = ServiceAreaForm
    list_display = ["name", "province", "city", "district"]
    list_filter = ["province"]
    search_fields = ["name", "province", "city", "district"]


class EngineerSkillInline(admin.TabularInline):
    model = EngineerSkill
    extra = 0


@admin.register(EngineerProfile)
class EngineerProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "availability", "home_address"]
    list_filter = ["availability", "team", "user__organisation"]
    list_select_related = ["user", "team"]
    search_fields = ["user__username", "user__display_name", "home_address"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["areas"]
    inlines = [EngineerSkillInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    # The digest is shown so a leaked token can be matched; the token itself is never stored.
    fields = ["user", "name", "prefix", "digest", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_lazy("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request, queryset):
        revoked = 0
        for token in queryset.select_related("user"):
            try:
                revoke_api_token(token, actor=request.user)
            except DomainError:
                continue
            revoked += 1
        self.message_user(request, _("%(count)d tokens revoked.") % {"count": revoked}, messages.SUCCESS)
