"""The pool panel of a work order page, for dispatchers:

    {% load pool_tags %}{% pool_panel order %}

Shows the order's active pool offer with a withdraw form, or a form to publish it when the order
waits for dispatch; renders nothing for users who may not dispatch."""

from django import template

from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole
from fieldservice.pool import selectors
from fieldservice.pool.choices import ACTIVE_OFFER_STATUSES
from fieldservice.pool.forms import PublishForm
from fieldservice.pool.permissions import may_manage_pool
from fieldservice.workorders.choices import TO_DISPATCH_STATUSES

register = template.Library()


@register.inclusion_tag("pool/_panel.html", takes_context=True)
def pool_panel(context, order):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not may_manage_pool(user):
        return {"hidden": True}
    offers = selectors.offers_for(user).filter(work_order=order).order_by("-published_at", "-pk")
    active = offers.filter(status__in=ACTIVE_OFFER_STATUSES).first()
    form = None
    if active is None and order.status in TO_DISPATCH_STATUSES:
        has_lead = order.assignments.filter(role=AssignmentRole.LEAD, status__in=ACTIVE_ASSIGNMENT_STATUSES).exists()
        if not has_lead:
            form = PublishForm(actor=user, auto_id="pool-%s")
    last = None if active else offers.first()
    if active is None and form is None and last is None:
        return {"hidden": True}  # never in the pool and no longer offerable: no empty panel
    return {
        "order": order,
        "active": active,
        "last": last,
        "form": form,
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag
def open_pool_offer(order, user):
    """The order's offer still in the pool, for our staff's pages that would otherwise say "not
    dispatched yet" of an order a rule or a dispatcher put there."""
    if not getattr(user, "is_own_staff", False):
        return None
    return order.pool_offers.filter(status__in=ACTIVE_OFFER_STATUSES).order_by("-published_at", "-pk").first()
