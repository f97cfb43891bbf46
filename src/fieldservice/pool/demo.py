"""Demo data of the grab pool: a few waiting orders published for the engineers to grab, one
of them needing a dispatcher's approval."""

from fieldservice.accounts.choices import OrganisationKind, Role
from fieldservice.accounts.models import User
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole
from fieldservice.pool.choices import ACTIVE_OFFER_STATUSES
from fieldservice.pool.services import publish_to_pool
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import WorkOrder

DEMO_OFFERS = 4


def seed(rng, now) -> list:
    """Publish up to DEMO_OFFERS new orders (the newest first) for 1 to 4 hours."""
    dispatcher = (
        User.objects.filter(is_active=True, roles__role=Role.DISPATCHER, organisation__kind=OrganisationKind.OWN)
        .order_by("pk")
        .first()
    )
    orders = (
        WorkOrder.objects.filter(status=WorkOrderStatus.NEW)
        .exclude(assignments__role=AssignmentRole.LEAD, assignments__status__in=ACTIVE_ASSIGNMENT_STATUSES)
        .exclude(pool_offers__status__in=ACTIVE_OFFER_STATUSES)
        .order_by("-created_at", "-pk")[:DEMO_OFFERS]
    )
    offers = []
    for index, order in enumerate(orders):
        offers.append(
            publish_to_pool(
                order,
                actor=dispatcher,
                minutes=rng.choice([60, 120, 180, 240]),
                requires_approval=index == 1,
                note="抢单演示" if index == 0 else "",
            )
        )
    return offers
