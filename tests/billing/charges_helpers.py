"""Fee lines written straight into the visit's order (the fee service is another topic's), and a
customer user of the visit's customer company."""

from decimal import Decimal

from fieldservice.accounts.choices import Role
from fieldservice.billing.choices import FeeKind, FeeSource, Payer
from fieldservice.billing.models import FeeLine
from tests import factories


def fee(order, amount, *, kind=FeeKind.LABOUR, payer=Payer.CUSTOMER, is_void=False, description=None, **fields):
    amount = Decimal(str(amount))
    return FeeLine.objects.create(
        work_order=order,
        kind=kind,
        description=description or f"{kind} {amount}",
        quantity=Decimal("1"),
        unit_price=amount,
        amount=amount,
        cost=amount / 2,
        payer=payer,
        is_void=is_void,
        source=FeeSource.OFFICE,
        **fields,
    )


def priced(p):
    """The visit's order with a chargeable labour line (600), a chargeable travel line (90.50), a
    warranty part line (1200, free) and a removed line (300)."""
    fee(p.order, "600.00", description="Labour 3 h")
    fee(p.order, "90.50", kind=FeeKind.TRAVEL, description="Travel 30 km")
    fee(p.order, "1200.00", kind=FeeKind.PART, part=p.motor, payer=Payer.WARRANTY, description="Motor")
    fee(p.order, "300.00", is_void=True, description="Removed line")
    return p.order


def customer_user(p):
    """A portal user of the visit's customer company."""
    return factories.user(Role.CUSTOMER, organisation=p.customer_cn.organisation, username="cust_cn")
