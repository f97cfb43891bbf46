"""The price list's new prices (by service type and engineer level, per km, a zone's fee, a
service item) and `price_of`, the lookup the pricing uses; on the page and in the API."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from fieldservice.accounts.models import ServiceArea
from fieldservice.contracts import services
from fieldservice.contracts.choices import PriceItemKind as K
from fieldservice.contracts.models import PriceListItem
from fieldservice.core.models import Event
from tests import factories

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def lists(personas):
    default = services.create_price_list(actor=personas.admin, name="Standard", is_default=True)
    own = services.create_price_list(actor=personas.admin, name="Contract prices")
    return default, own


def test_the_most_specific_labour_price_wins(personas, lists):
    default, _own = lists
    admin = personas.admin
    services.set_price(default, actor=admin, kind=K.LABOUR_HOUR, unit_price="200")
    services.set_price(default, actor=admin, kind=K.LABOUR_HOUR, service_type="repair", unit_price="220")
    services.set_price(default, actor=admin, kind=K.LABOUR_HOUR, engineer_level="senior", unit_price="260")
    services.set_price(
        default, actor=admin, kind=K.LABOUR_HOUR, service_type="repair", engineer_level="senior", unit_price="300"
    )

    def rate(**kw):
        return services.price_of(None, K.LABOUR_HOUR, **kw).unit_price

    assert rate(service_type="repair", engineer_level="senior") == Decimal("300")
    assert rate(service_type="installation", engineer_level="senior") == Decimal("260")
    assert rate(service_type="repair", engineer_level="junior") == Decimal("220")
    assert rate(service_type="installation", engineer_level="junior") == Decimal("200")
    assert services.price_of(None, K.CALL_OUT) is None
    assert default.items.count() == 4


def test_a_contracts_own_list_first_then_the_default(personas, lists):
    default, own = lists
    part = factories.part()
    services.set_price(default, actor=personas.admin, kind=K.PART, part=part, unit_price="10")
    services.set_price(default, actor=personas.admin, kind=K.CALL_OUT, unit_price="150")
    services.set_price(own, actor=personas.admin, kind=K.CALL_OUT, unit_price="90")
    assert services.price_of(own, K.CALL_OUT).unit_price == Decimal("90")
    assert services.price_of(own, K.PART, part=part).unit_price == Decimal("10")  # not on its own list
    assert services.price_of(None, K.CALL_OUT).unit_price == Decimal("150")


def test_zone_fees_service_items_and_per_km(personas, lists):
    default, _own = lists
    zone = ServiceArea.objects.create(name="Beilun", city="宁波")
    admin = personas.admin
    services.set_price(default, actor=admin, kind=K.TRAVEL_ZONE, area=zone, unit_price="88")
    services.set_price(default, actor=admin, kind=K.TRAVEL_ZONE, area=zone, unit_price="99")
    services.set_price(default, actor=admin, kind=K.SERVICE, name="Hydraulic flush", unit_price="800")
    services.set_price(default, actor=admin, kind=K.TRAVEL_KM, unit_price="3")
    assert services.price_of(default, K.TRAVEL_ZONE, area=zone).unit_price == Decimal("99")
    assert services.price_of(default, K.SERVICE, name="Hydraulic flush").unit_price == Decimal("800")
    assert services.price_of(default, K.SERVICE, name="Other") is None
    assert services.price_of(default, K.TRAVEL_KM).unit_price == Decimal("3")
    assert default.items.count() == 3
    assert Event.objects.filter(action="price_set", changes__has_key="Beilun").count() == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": K.SERVICE, "unit_price": "5"}, "name"),
        ({"kind": K.SERVICE, "name": "   ", "unit_price": "5"}, "name"),
        ({"kind": K.TRAVEL_ZONE, "unit_price": "5"}, "area"),
        ({"kind": K.CALL_OUT, "name": "Flush", "unit_price": "5"}, "name"),
        ({"kind": K.LABOUR_HOUR, "service_type": "magic", "unit_price": "5"}, "service_type"),
        ({"kind": K.LABOUR_HOUR, "engineer_level": "guru", "unit_price": "5"}, "engineer_level"),
        ({"kind": K.TRAVEL_ZONE, "engineer_level": "senior", "unit_price": "5", "zone": True}, "engineer_level"),
        ({"kind": K.TRAVEL_KM, "unit_price": "-1"}, "unit_price"),
    ],
)
def test_bad_prices_name_their_field(personas, lists, fields, field):
    default, _own = lists
    fields = dict(fields)
    if fields.pop("zone", False):
        fields["area"] = ServiceArea.objects.create(name="Zone")
    with pytest.raises(ValidationError) as error:
        services.set_price(default, actor=personas.admin, **fields)
    assert field in error.value.error_dict
    assert not PriceListItem.objects.exists()


def test_the_price_list_page_takes_and_shows_the_new_prices(personas, client_for, lists):
    default, _own = lists
    zone = ServiceArea.objects.create(name="Beilun")
    client = client_for(personas.admin)
    add = reverse("contracts:price_item_create", args=[default.pk])
    client.post(add, {"kind": "labour_hour", "service_type": "repair", "engineer_level": "senior", "unit_price": "300"})
    client.post(add, {"kind": "travel_zone", "area": zone.pk, "unit_price": "88"})
    bad = client.post(add, {"kind": "service", "unit_price": "800"})
    assert bad.status_code == 200 and "Enter the name of the service item." in bad.content.decode()
    assert default.items.count() == 2
    page = client.get(reverse("contracts:price_list_detail", args=[default.pk])).content.decode()
    assert "Senior engineer" in page and "Beilun" in page and "¥300.00" in page
    item = default.items.get(kind=K.LABOUR_HOUR)
    client.post(reverse("contracts:price_item_edit", args=[item.pk]), {"unit_price": "320"})
    item.refresh_from_db()
    assert item.unit_price == Decimal("320") and item.engineer_level == "senior"


def test_the_price_api(personas, api_client_for, lists):
    default, _own = lists
    zone = ServiceArea.objects.create(name="Beilun")
    client = api_client_for(personas.admin)
    url = f"/api/v1/price-lists/{default.pk}/prices"
    answer = client.post(url, {"kind": "travel_zone", "area": zone.pk, "unit_price": "88"}, content_type=JSON)
    assert answer.status_code == 201, answer.content
    assert answer.json()["area"] == zone.pk
    answer = client.post(url, {"kind": "service", "unit_price": "800"}, content_type=JSON)
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "name"]
    answer = client.post(
        url,
        {"kind": "labour_hour", "engineer_level": "expert", "service_type": "repair", "unit_price": "380"},
        content_type=JSON,
    )
    assert answer.status_code == 201
    rows = client.get(url).json()["items"]
    assert {(r["kind"], r["engineer_level"], r["service_type"]) for r in rows} == {
        ("travel_zone", "", ""),
        ("labour_hour", "expert", "repair"),
    }
    removed = client.post(f"/api/v1/prices/{rows[0]['id']}/remove")
    assert removed.status_code == 204
    assert default.items.count() == 1
    # Prices are our business: others see no list and change nothing.
    for outsider in (personas.customer_user_a, personas.provider_admin, personas.engineer):
        other = api_client_for(outsider)
        assert other.get(url).status_code == 404
        assert other.post(url, {"kind": "call_out", "unit_price": "1"}, content_type=JSON).status_code in (403, 404)
    agent = api_client_for(personas.agent)
    assert agent.post(url, {"kind": "call_out", "unit_price": "1"}, content_type=JSON).status_code == 403
    assert default.items.count() == 1
