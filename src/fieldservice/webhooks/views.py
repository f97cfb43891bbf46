"""Webhook pages for administrators: subscriptions, their secret (shown once), the delivery log."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.webhooks import selectors, services
from fieldservice.webhooks.choices import DeliveryStatus, WebhookEvent
from fieldservice.webhooks.forms import DeliveryFilterForm, SubscriptionFilterForm, SubscriptionForm
from fieldservice.webhooks.models import WebhookSubscription
from fieldservice.webhooks.permissions import may_manage_webhooks

EVENT_LABELS = dict(WebhookEvent.choices)


def event_labels(subscription: WebhookSubscription) -> str:
    return ", ".join(str(EVENT_LABELS.get(event, event)) for event in subscription.events)


SUBSCRIPTIONS = Listing(
    columns=[
        Column(gettext_lazy("Name"), lambda s: s.name, link=lambda s: reverse("webhooks:detail", args=[s.pk])),
        Column(gettext_lazy("URL"), lambda s: s.url, cell="<code>{{ row.url }}</code>"),
        Column(
            gettext_lazy("Events"),
            event_labels,
            cell='{% for event in row.events %}<span class="badge">{{ event }}</span> {% endfor %}',
        ),
        Column(
            gettext_lazy("Active"),
            lambda s: s.active,
            cell="webhooks/cells/active.html",
        ),
        Column(gettext_lazy("Created"), lambda s: s.created_at, date="SHORT_DATE_FORMAT"),
    ],
    filter_form=SubscriptionFilterForm,
    search=gettext_lazy("Name or URL"),
    empty=gettext_lazy("No webhooks yet. Add one to send events to another system."),
    empty_filtered=gettext_lazy("No webhooks match this search."),
    export_name="webhooks",
    export_title=gettext_lazy("Webhooks"),
)
DELIVERIES = Listing(
    columns=[
        Column(
            gettext_lazy("Delivery"),
            lambda d: d.key,
            cell="webhooks/cells/delivery.html",
        ),
        Column(gettext_lazy("Event"), lambda d: d.get_event_display()),
        Column(
            gettext_lazy("Status"),
            lambda d: d.get_status_display(),
            cell="<span class=\"badge{% if row.status == 'sent' %} ok{% elif row.status == 'failed' %} bad"
            '{% else %} warn{% endif %}">{{ row.get_status_display }}</span>\n          {% if row.sent_at %}'
            '<br><small class="muted">{{ row.sent_at|date:"SHORT_DATETIME_FORMAT" }}</small>{% endif %}',
        ),
        Column(
            gettext_lazy("Response"),
            export=False,
            cell='{{ row.response_status|default:"—" }}{% if row.response_excerpt %}<br><small class="muted">'
            "{{ row.response_excerpt|truncatechars:80 }}</small>{% endif %}",
        ),
        Column(gettext_lazy("Attempts"), lambda d: d.attempts),
        Column(gettext_lazy("Response status"), lambda d: d.response_status, page=False),
        Column(
            gettext_lazy("Last error"),
            lambda d: d.last_error,
            heading=gettext_lazy("Error"),
            cell="{% if row.last_error %}<small>{{ row.last_error|truncatechars:160 }}</small>{% else %}—{% endif %}",
        ),
        Column(
            gettext_lazy("Next attempt"),
            lambda d: d.next_attempt_at if d.status == DeliveryStatus.PENDING else None,
            cell='{% if row.status == "pending" %}{{ row.next_attempt_at|date:"SHORT_DATETIME_FORMAT" }}'
            "{% else %}—{% endif %}",
        ),
        Column(gettext_lazy("Sent"), lambda d: d.sent_at, page=False),
        Column(gettext_lazy("Created"), lambda d: d.created_at, date="SHORT_DATETIME_FORMAT"),
        Column(
            "",
            cell="webhooks/cells/redeliver.html",
            export=False,
        ),
    ],
    filter_form=DeliveryFilterForm,
    empty=gettext_lazy(
        "Nothing sent yet. Deliveries appear here when a subscribed event happens, or press “Send test”."
    ),
    empty_filtered=gettext_lazy("No deliveries match these filters."),
    export_name="webhook-deliveries",
    export_title=gettext_lazy("Webhook deliveries"),
)
FORM_FIELDS = ["name", "url", "events", "active"]


def _require_manage(user) -> None:
    require(may_manage_webhooks(user))


@login_required
def subscription_list(request):
    _require_manage(request.user)
    filter_form = SUBSCRIPTIONS.filters(request)
    subscriptions = selectors.search_subscriptions(
        selectors.subscriptions_for(request.user), request.GET.get("q", ""), **filter_form.filters()
    )
    return SUBSCRIPTIONS.render(request, "webhooks/subscription_list.html", subscriptions, filters=filter_form)


def _secret_page(request, subscription: WebhookSubscription, *, rotated: bool):
    # Rendered, not redirected: the secret is never put in the session, a message or a URL.
    response = render(request, "webhooks/secret.html", {"subscription": subscription, "rotated": rotated})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def subscription_create(request):
    _require_manage(request.user)
    form = SubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            subscription = services.create_subscription(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _secret_page(request, subscription, rotated=False)
    return render(request, "webhooks/subscription_form.html", {"form": form, "subscription": None})


@login_required
def subscription_detail(request, pk: int):
    _require_manage(request.user)
    subscription = selectors.get_subscription_for(request.user, pk)
    filter_form = DELIVERIES.filters(request)
    deliveries = selectors.filter_deliveries(
        selectors.deliveries_for(request.user, subscription), **filter_form.filters()
    )
    return DELIVERIES.render(
        request,
        "webhooks/subscription_detail.html",
        deliveries,
        filters=filter_form,
        context={
            "subscription": subscription,
            "destination": services.sending_state(subscription),
            "event_labels": event_labels(subscription),
            "redeliverable": {DeliveryStatus.SENT, DeliveryStatus.FAILED},
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def subscription_edit(request, pk: int):
    _require_manage(request.user)
    subscription = selectors.get_subscription_for(request.user, pk)
    initial = {name: getattr(subscription, name) for name in FORM_FIELDS}
    form = SubscriptionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            if changes:
                services.update_subscription(subscription, actor=request.user, **changes)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Webhook “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
            return redirect("webhooks:detail", pk=subscription.pk)
    return render(request, "webhooks/subscription_form.html", {"form": form, "subscription": subscription})


@login_required
@require_http_methods(["GET", "POST"])
def subscription_delete(request, pk: int):
    _require_manage(request.user)
    subscription = selectors.get_subscription_for(request.user, pk)
    if request.method == "POST":
        services.delete_subscription(subscription, actor=request.user)
        messages.success(request, _("Webhook “%(name)s” deleted.") % {"name": subscription.name})
        return redirect("webhooks:list")
    return render(request, "webhooks/subscription_confirm.html", {"subscription": subscription, "action": "delete"})


@login_required
@require_http_methods(["GET", "POST"])
def rotate_secret(request, pk: int):
    _require_manage(request.user)
    subscription = selectors.get_subscription_for(request.user, pk)
    if request.method == "POST":
        subscription = services.rotate_secret(subscription, actor=request.user)
        return _secret_page(request, subscription, rotated=True)
    return render(request, "webhooks/subscription_confirm.html", {"subscription": subscription, "action": "rotate"})


@login_required
@require_POST
def redeliver(request, pk: int, delivery_pk: int):
    _require_manage(request.user)
    subscription = selectors.get_subscription_for(request.user, pk)
    delivery = selectors.get_delivery_for(request.user, subscription, delivery_pk)
    try:
        services.redeliver(delivery, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Delivery %(key)s will be sent again.") % {"key": delivery.key})
    return redirect("webhooks:detail", pk=subscription.pk)


@login_required
@require_POST
def resume(request, pk: int):
    _require_manage(request.user)
    subscription = selectors.get_subscription_for(request.user, pk)
    services.resume_sending(subscription, actor=request.user)
    messages.success(request, _("The waiting deliveries of %(name)s are being sent now.") % {"name": subscription.name})
    return redirect("webhooks:detail", pk=subscription.pk)


@login_required
@require_POST
def send_test(request, pk: int):
    _require_manage(request.user)
    subscription = selectors.get_subscription_for(request.user, pk)
    delivery = services.send_test(subscription, actor=request.user)
    if delivery.status == DeliveryStatus.SENT:
        messages.success(
            request, _("Test sent: the receiver answered HTTP %(status)s.") % {"status": delivery.response_status}
        )
    else:
        messages.error(request, _("Test failed: %(error)s") % {"error": delivery.last_error})
    return redirect("webhooks:detail", pk=subscription.pk)
