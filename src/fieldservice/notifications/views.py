"""Notification pages: the bell, the user's list and preferences, and the administrators'
templates, channel settings and delivery log."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.notifications import selectors, services
from fieldservice.notifications.choices import ALWAYS_IN_APP, Channel, DeliveryStatus, Event
from fieldservice.notifications.defaults import SAMPLE_CONTEXT
from fieldservice.notifications.forms import (
    DeliveryFilterForm,
    ImEndpointForm,
    PreferencesForm,
    SmsGatewayForm,
    TemplateForm,
    TestSmsForm,
)
from fieldservice.notifications.models import NotificationTemplate
from fieldservice.notifications.permissions import may_manage_notifications

NOTIFICATIONS = Listing(
    columns=[
        Column(gettext_lazy("Created"), lambda n: n.created_at, page=False),
        Column(gettext_lazy("Notification"), cell="notifications/cells/notification.html", export=False),
        Column(gettext_lazy("Created"), lambda n: n.created_at, date="SHORT_DATETIME_FORMAT", export=False),
        Column(gettext_lazy("Title"), lambda n: n.title, page=False),
        Column(gettext_lazy("Text"), lambda n: n.body, page=False),
        Column(gettext_lazy("Read"), lambda n: n.read_at, page=False),
        Column("", cell="notifications/cells/mark_read.html", export=False),
    ],
    row_class=lambda n: "read" if n.read_at else "unread",
    row_id="notification",
    export_link=False,
    empty=gettext_lazy("No notifications yet. New work, assignments and deadline warnings will show up here."),
    empty_filtered=gettext_lazy("No unread notifications."),
    export_name="notifications",
    export_title=gettext_lazy("Notifications"),
)
DELIVERIES = Listing(
    columns=[
        Column(gettext_lazy("Created"), lambda d: d.notification.created_at, date="SHORT_DATETIME_FORMAT"),
        Column(gettext_lazy("Recipient"), lambda d: d.notification.addressee),
        Column(
            gettext_lazy("Notification"),
            cell='{{ row.notification.title|truncatechars:80 }}<br><small class="muted">'
            "{{ row.notification.event }} · {{ row.key }}</small>",
            export=False,
        ),
        Column(gettext_lazy("Event"), lambda d: d.notification.event, page=False),
        Column(gettext_lazy("Title"), lambda d: d.notification.title, page=False),
        Column(gettext_lazy("Channel"), lambda d: d.get_channel_display()),
        Column(
            gettext_lazy("Status"), lambda d: d.get_status_display(), cell="notifications/cells/delivery_status.html"
        ),
        Column(gettext_lazy("Attempts"), lambda d: d.attempts),
        Column(gettext_lazy("Sent"), lambda d: d.sent_at, page=False),
        Column(
            gettext_lazy("Last error"),
            lambda d: d.last_error,
            cell='<small>{{ row.last_error|truncatechars:200|default:"—" }}</small>',
        ),
        Column("", cell="notifications/cells/delivery_retry.html", export=False),
    ],
    filter_form=DeliveryFilterForm,
    row_id="delivery",
    empty=gettext_lazy("Nothing has been sent yet."),
    empty_filtered=gettext_lazy("No deliveries match these filters."),
    export_name="deliveries",
    export_title=gettext_lazy("Deliveries"),
)
LANGUAGE_NAMES = dict(settings.LANGUAGES)


def _require_manage(user) -> None:
    require(may_manage_notifications(user))


def _back(request, fallback: str):
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


# --- the user's own -----------------------------------------------------------------------


@require_GET
def bell(request):
    """The bell alone, for htmx to refresh it. Signed out (the session ended in another tab):
    204, so htmx leaves the page alone rather than pasting the sign-in page into the bar."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    return render(request, "notifications/_bell.html")


@login_required
def notification_list(request):
    notifications = selectors.notifications_for(request.user)
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return NOTIFICATIONS.render(
        request,
        "notifications/notification_list.html",
        notifications,
        context={
            "filtered": unread_only,
            "unread_only": unread_only,
            "unread_count": selectors.unread_count(request.user),
            "may_manage": may_manage_notifications(request.user),
        },
    )


@login_required
@require_POST
def notification_open(request, pk):
    """Mark it read and go where it points."""
    notification = selectors.get_notification_for(request.user, pk)
    services.mark_read(notification, actor=request.user)
    if notification.url and url_has_allowed_host_and_scheme(notification.url, allowed_hosts=None):
        return redirect(notification.url)
    return redirect("notifications:list")


@login_required
@require_POST
def notification_read(request, pk):
    notification = selectors.get_notification_for(request.user, pk)
    services.mark_read(notification, actor=request.user)
    return _back(request, "notifications:list")


@login_required
@require_POST
def notification_read_all(request):
    count = services.mark_all_read(actor=request.user)
    messages.success(
        request,
        ngettext("%(count)d notification marked read.", "%(count)d notifications marked read.", count)
        % {"count": count},
    )
    return _back(request, "notifications:list")


@login_required
def preferences(request):
    rows = services.preferences_of(request.user)
    form = PreferencesForm(request.POST or None, rows=rows)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_preferences(request.user, actor=request.user, choices=form.choices())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Notification settings saved."))
            return redirect("notifications:preferences")
    user = request.user
    return render(
        request,
        "notifications/preferences.html",
        {
            "form": form,
            "channels": Channel.choices,
            "always_in_app": [Event(event).label for event in ALWAYS_IN_APP],
            "has_email": bool(user.email),
            "has_phone": bool(user.phone),
        },
    )


# --- administrators -------------------------------------------------------------------------


@login_required
def manage(request):
    _require_manage(request.user)
    failed = selectors.deliveries_for(request.user, status=DeliveryStatus.FAILED).count()
    return render(
        request,
        "notifications/manage.html",
        {
            "failed": failed,
            "im_count": selectors.im_endpoints_for(request.user).filter(is_active=True).count(),
            "sms_count": selectors.sms_gateways_for(request.user).filter(is_active=True).count(),
            "channels": services.channel_states(),
        },
    )


@login_required
def template_list(request):
    _require_manage(request.user)
    rows = {(t.event, t.language): t for t in NotificationTemplate.objects.all()}
    events = [
        {
            "event": event,
            "label": label,
            "languages": [
                {"code": code, "name": name, "template": rows.get((event, code))} for code, name in settings.LANGUAGES
            ],
        }
        for event, label in Event.choices
    ]
    return render(request, "notifications/template_list.html", {"events": events})


def _check_event_language(event: str, language: str) -> None:
    if event not in Event.values or language not in LANGUAGE_NAMES:
        raise Http404


@login_required
def template_edit(request, event, language):
    _require_manage(request.user)
    _check_event_language(event, language)
    source = services.template_source(event, language)
    form = TemplateForm(request.POST or None, initial=source)
    preview = None
    if request.method == "POST" and form.is_valid():
        try:
            action = services.preview_template if "preview" in request.POST else services.save_template
            result = action(actor=request.user, event=event, language=language, **form.cleaned_data)
            preview = result if "preview" in request.POST else None
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if preview is None:
                messages.success(request, _("Template saved."))
                return redirect("notifications:template_list")
    elif request.method == "GET":
        try:
            preview = services.preview_template(actor=request.user, event=event, language=language, **source)
        except ValidationError:
            preview = None  # a text saved elsewhere that no longer renders: the form shows it to fix
    return render(
        request,
        "notifications/template_form.html",
        {
            "form": form,
            "event": event,
            "event_label": Event(event).label,
            "language": language,
            "language_name": LANGUAGE_NAMES[language],
            "preview": preview,
            "sample": sorted(SAMPLE_CONTEXT.get(event, {}).items()),
        },
    )


@login_required
@require_POST
def template_reset(request, event, language):
    _require_manage(request.user)
    _check_event_language(event, language)
    services.reset_template(actor=request.user, event=event, language=language)
    messages.success(request, _("The shipped text is back."))
    return redirect("notifications:template_edit", event=event, language=language)


def _config_page(request, *, kind: str, obj, form_class, create, update):
    form = form_class(request.POST or None, initial=_initial(obj), secret_set=bool(obj and obj.secret))
    if request.method == "POST" and form.is_valid():
        data = {name: value for name, value in form.cleaned_data.items() if name not in ("secret", "clear_secret")}
        try:
            if obj is None:
                obj = create(actor=request.user, secret=form.secret_value() or "", **data)
            else:
                obj = update(obj, actor=request.user, secret=form.secret_value(), **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("“%(name)s” saved.") % {"name": obj.name})
            return redirect(f"notifications:{kind}_list")
    return render(request, "notifications/config_form.html", {"form": form, "obj": obj, "kind": kind})


def _initial(obj) -> dict:
    if obj is None:
        return {}
    fields = ["name", "url", "is_active"] + (["kind"] if hasattr(obj, "kind") else [])
    return {name: getattr(obj, name) for name in fields}  # never the secret


@login_required
def im_list(request):
    _require_manage(request.user)
    return render(
        request,
        "notifications/config_list.html",
        {"objects": selectors.im_endpoints_for(request.user), "kind": "im"},
    )


@login_required
def im_create(request):
    _require_manage(request.user)
    return _config_page(
        request,
        kind="im",
        obj=None,
        form_class=ImEndpointForm,
        create=services.create_im_endpoint,
        update=services.update_im_endpoint,
    )


@login_required
def im_edit(request, pk):
    _require_manage(request.user)
    return _config_page(
        request,
        kind="im",
        obj=selectors.get_im_endpoint_for(request.user, pk),
        form_class=ImEndpointForm,
        create=services.create_im_endpoint,
        update=services.update_im_endpoint,
    )


@login_required
@require_POST
def im_test(request, pk):
    _require_manage(request.user)
    endpoint = selectors.get_im_endpoint_for(request.user, pk)
    try:
        result = services.send_test_im(endpoint, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, result)
    return redirect("notifications:im_list")


@login_required
@require_POST
def im_delete(request, pk):
    _require_manage(request.user)
    endpoint = selectors.get_im_endpoint_for(request.user, pk)
    services.delete_channel_config(endpoint, actor=request.user)
    messages.success(request, _("“%(name)s” deleted.") % {"name": endpoint.name})
    return redirect("notifications:im_list")


@login_required
def sms_list(request):
    _require_manage(request.user)
    return render(
        request,
        "notifications/config_list.html",
        {
            "objects": selectors.sms_gateways_for(request.user),
            "kind": "sms",
            "test_form": TestSmsForm(initial={"phone": request.user.phone}),
        },
    )


@login_required
def sms_create(request):
    _require_manage(request.user)
    return _config_page(
        request,
        kind="sms",
        obj=None,
        form_class=SmsGatewayForm,
        create=services.create_sms_gateway,
        update=services.update_sms_gateway,
    )


@login_required
def sms_edit(request, pk):
    _require_manage(request.user)
    return _config_page(
        request,
        kind="sms",
        obj=selectors.get_sms_gateway_for(request.user, pk),
        form_class=SmsGatewayForm,
        create=services.create_sms_gateway,
        update=services.update_sms_gateway,
    )


@login_required
@require_POST
def sms_test(request, pk):
    _require_manage(request.user)
    gateway = selectors.get_sms_gateway_for(request.user, pk)
    try:
        result = services.send_test_sms(gateway, actor=request.user, phone=request.POST.get("phone", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, result)
    return redirect("notifications:sms_list")


@login_required
@require_POST
def sms_delete(request, pk):
    _require_manage(request.user)
    gateway = selectors.get_sms_gateway_for(request.user, pk)
    services.delete_channel_config(gateway, actor=request.user)
    messages.success(request, _("“%(name)s” deleted.") % {"name": gateway.name})
    return redirect("notifications:sms_list")


@login_required
def delivery_list(request):
    _require_manage(request.user)
    filter_form = DELIVERIES.filters(request)
    filters = filter_form.filters() if request.GET else {}
    return DELIVERIES.render(
        request,
        "notifications/delivery_list.html",
        selectors.deliveries_for(request.user, **filters),
        filters=filter_form,
    )


@login_required
@require_POST
def delivery_retry(request, pk):
    _require_manage(request.user)
    delivery = selectors.get_delivery_for(request.user, pk)
    try:
        services.retry_delivery(delivery, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The delivery is queued again."))
    return _back(request, "notifications:delivery_list")
