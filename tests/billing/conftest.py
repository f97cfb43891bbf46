"""Money on top of the field visit: a default price list with labour by level and service type,
call-out, travel per kilometre and part prices, part costs, and helpers that take the visit to
completed. The visit's order is chargeable unless a test gives its machine a warranty or contract."""

from decimal import Decimal

import pytest

from fieldservice.contracts.choices import PriceItemKind
from fieldservice.contracts.models import PriceList, PriceListItem
from fieldservice.field import services as field_services
from tests.field.conftest import accept, on_site, png_file, ready_to_complete, record, visit, with_helper  # noqa: F401


@pytest.fixture
def prices(visit):  # noqa: F811 (the imported fixture)
    p = visit
    p.price_list = PriceList.objects.create(name="Standard", currency="CNY", is_default=True)
    item = PriceListItem.objects.create
    item(price_list=p.price_list, kind=PriceItemKind.LABOUR_HOUR, unit_price=Decimal("200.00"))
    item(
        price_list=p.price_list,
        kind=PriceItemKind.LABOUR_HOUR,
        engineer_level="senior",
        service_type="repair",
        unit_price=Decimal("300.00"),
    )
    item(price_list=p.price_list, kind=PriceItemKind.CALL_OUT, unit_price=Decimal("150.00"))
    item(price_list=p.price_list, kind=PriceItemKind.TRAVEL_KM, unit_price=Decimal("3.00"))
    item(price_list=p.price_list, kind=PriceItemKind.SERVICE, name="Hydraulic flush", unit_price=Decimal("800.00"))
    item(price_list=p.price_list, kind=PriceItemKind.PART, part=p.motor, unit_price=Decimal("1200.00"))
    item(price_list=p.price_list, kind=PriceItemKind.PART, part=p.seal, unit_price=Decimal("45.50"))
    return p


def complete(p):
    """The visit walked to completed (motor replaced, two seals used, 2.5 h of labour)."""
    ready_to_complete(p)
    field_services.complete_visit(p.order, actor=p.engineer)
    p.order.refresh_from_db()
    return p.order
