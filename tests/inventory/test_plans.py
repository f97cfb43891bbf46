"""Parts plans (备件计划): suggested levels from the installed base and consumption, applying them,
one-click refill, and the below-minimum alert reaching the keeper."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from fieldservice.accounts.models import ServiceArea
from fieldservice.assets import services as asset_services
from fieldservice.assets.demand import installed_parts
from fieldservice.core.models import OutboxMessage
from fieldservice.inventory import hooks, services
from fieldservice.inventory.choices import MoveReason, TransferKind, TransferStatus
from fieldservice.inventory.models import StockLevel, Transfer
from fieldservice.inventory.services import Line, post
from fieldservice.inventory.services.plans import suggest
from fieldservice.notifications.models import Notification
from tests import factories


@pytest.fixture
def ningbo():
    return ServiceArea.objects.create(name="Ningbo", province="浙江省", city="宁波市")


def machines(part, count, *, per_machine=2, city="宁波市", province="浙江省"):
    model = factories.product_model(bom=[(part, per_machine)])
    customer = factories.customer()
    site = factories.site(customer, province=province, city=city, latitude=None, longitude=None)
    return [factories.equipment(customer, product_model=model, site=site) for _ in range(count)]


def consume(warehouse, part, quantity, *, days_ago=10, actor=None):
    """A part used on a job, straight through the ledger (consumption pages are elsewhere)."""
    post(
        [Line(warehouse, part, MoveReason.CONSUMPTION, quantity=-Decimal(quantity))],
        actor=actor,
        at=timezone.now() - dt.timedelta(days=days_ago),
    )


def test_the_formula():
    # 24 used in 12 months: 2 a month; 100 installed: 2 safety.
    assert suggest(Decimal(100), Decimal(24), 12) == (Decimal(4), Decimal(8))
    assert suggest(Decimal(0), Decimal(0), 12) == (Decimal(0), Decimal(0))
    assert suggest(Decimal(10), Decimal(0), 12) == (Decimal(1), Decimal(1))  # ceil(0.2)
    assert suggest(Decimal(0), Decimal(6), 12, planned=Decimal(3)) == (Decimal(4), Decimal(5))


def test_installed_base_by_area_names_and_boundary(personas, ningbo):
    pump = factories.part()
    machines(pump, 3, per_machine=2)
    machines(pump, 5, city="杭州市")  # another city
    invalid = machines(pump, 1)[0]
    asset_services.invalidate_equipment(invalid, actor=factories.system_user(), reason="Duplicate")
    assert installed_parts([ningbo.pk], None) == {pump.pk: Decimal(6)}
    assert installed_parts(None, [pump.pk]) == {pump.pk: Decimal(16)}
    assert installed_parts([ningbo.pk], [factories.part().pk]) == {}
    # A drawn boundary around the default test site's coordinates (Ningbo, 121.54 E 29.87 N).
    square = ServiceArea.objects.create(
        name="Drawn", polygon=[[121.5, 29.8], [121.6, 29.8], [121.6, 29.9], [121.5, 29.9], [121.5, 29.8]]
    )
    model = factories.product_model(bom=[(pump, 1)])
    customer = factories.customer()
    factories.equipment(customer, product_model=model, site=factories.site(customer))
    far = factories.site(customer, latitude=Decimal("39.9"), longitude=Decimal("116.4"))
    factories.equipment(customer, product_model=model, site=far)
    assert installed_parts([square.pk], None) == {pump.pk: Decimal(1)}
    # Overlapping areas count a machine once.
    assert installed_parts([ningbo.pk, ningbo.pk], None) == {pump.pk: Decimal(6)}


def test_assets_registers_the_installed_base_hook(personas, ningbo):
    pump = factories.part()
    machines(pump, 2, per_machine=3)
    assert hooks.demand(hooks.INSTALLED_BASE, [ningbo.pk]) == {pump.pk: Decimal(6)}
    assert hooks.demand(hooks.MAINTENANCE, [ningbo.pk]) == {}  # the slot for maintenance plans


def test_suggestions_from_installed_base_and_consumption_of_the_area(personas, ningbo):
    central = factories.warehouse(personas.own, area=ningbo.pk)
    pump, belt = factories.part(), factories.part()
    machines(pump, 50, per_machine=2)  # 100 installed → safety 2
    factories.stock(central, pump, 40)
    factories.stock(central, belt, 5)
    consume(central, pump, 10)
    # An engineer of ours covering Ningbo: what he used counts; one outside the area does not.
    local = factories.engineer(personas.own, areas=[ningbo])
    elsewhere = factories.engineer(personas.own)
    for person, quantity in ((local, 14), (elsewhere, 5)):
        van = services.van_for(person)
        post(
            [
                Line(central, pump, MoveReason.TRANSFER_OUT, quantity=Decimal(-quantity)),
                Line(van, pump, MoveReason.ISSUE, quantity=Decimal(quantity)),
            ],
            actor=personas.parts_keeper,
        )
    consume(services.van_for(local), pump, 14)
    consume(services.van_for(elsewhere), pump, 5)
    consume(central, pump, 1, days_ago=400)  # before the period
    rows = {row.part: row for row in services.suggest_levels(actor=personas.parts_keeper, warehouse=central)}
    row = rows[pump]
    assert (row.installed, row.consumed, row.monthly) == (Decimal(100), Decimal(24), Decimal("2.00"))
    assert (row.minimum, row.maximum) == (Decimal(4), Decimal(8))
    assert (row.on_hand, row.incoming, row.gap, row.level_minimum) == (Decimal(10), 0, 0, None)
    assert rows[belt].installed == 0 and rows[belt].minimum == 0


def test_apply_levels_then_refill_one_transfer_and_not_twice(personas):
    central = factories.warehouse(personas.own)
    regional = factories.warehouse(personas.own, kind="regional")
    pump, belt, seal = factories.part(), factories.part(), factories.part()
    factories.stock(regional, pump, 1)
    factories.stock(regional, belt, 9)
    services.apply_levels(
        actor=personas.parts_keeper,
        warehouse=regional,
        levels=[
            {"part": pump, "minimum": "2", "maximum": "6"},
            {"part": belt.pk, "minimum": 3, "maximum": 10},  # 9 held: not below
            {"part": seal.pk, "minimum": "1", "maximum": "1"},
        ],
    )
    transfer = services.request_refills(actor=personas.parts_keeper, warehouse=regional, source=central)
    assert (transfer.kind, transfer.status, transfer.source, transfer.destination) == (
        TransferKind.TRANSFER,
        TransferStatus.REQUESTED,
        central,
        regional,
    )
    assert {(line.part_id, line.requested) for line in transfer.lines.all()} == {(pump.pk, 5), (seal.pk, 1)}
    # The request is incoming now: a second click asks for nothing.
    assert services.request_refills(actor=personas.parts_keeper, warehouse=regional, source=central) is None
    assert Transfer.objects.count() == 1
    row = {r.part: r for r in services.suggest_levels(actor=personas.parts_keeper, warehouse=regional)}[pump]
    assert (row.level_minimum, row.level_maximum, row.incoming, row.gap) == (2, 6, 5, 0)
    # 0 and 0 removes a level.
    services.apply_levels(
        actor=personas.parts_keeper, warehouse=regional, levels=[{"part": seal, "minimum": 0, "maximum": "0"}]
    )
    assert set(StockLevel.objects.filter(warehouse=regional).values_list("part_id", flat=True)) == {pump.pk, belt.pk}


@pytest.mark.parametrize(
    ("level", "field", "code"),
    [
        ({"part": 999999, "minimum": 1, "maximum": 2}, "levels[0].part", "invalid_choice"),
        ({"minimum": 1, "maximum": 2}, "levels[0].part", "invalid_choice"),
        ({"part": "P", "minimum": -1, "maximum": 2}, "levels[0].minimum", "out_of_range"),
        ({"part": "P", "minimum": "x", "maximum": 2}, "levels[0].minimum", "invalid"),
        ({"part": "P", "minimum": 3, "maximum": 2}, "levels[0].maximum", "below_minimum"),
        ({"part": "P", "minimum": 1}, "levels[0].maximum", "required"),
    ],
)
def test_bad_levels_are_named_and_nothing_is_written(personas, level, field, code):
    warehouse = factories.warehouse(personas.own)
    part = factories.part()
    good = {"part": part, "minimum": 1, "maximum": 1}
    if level.get("part") == "P":
        level = {**level, "part": factories.part()}
    with pytest.raises(ValidationError) as caught:
        services.apply_levels(actor=personas.parts_keeper, warehouse=warehouse, levels=[level, good])
    assert caught.value.error_dict[field][0].code == code
    assert not StockLevel.objects.exists()


def test_a_part_listed_twice_is_refused(personas):
    warehouse = factories.warehouse(personas.own)
    part = factories.part()
    with pytest.raises(ValidationError) as caught:
        services.apply_levels(
            actor=personas.parts_keeper,
            warehouse=warehouse,
            levels=[{"part": part, "minimum": 1, "maximum": 1}, {"part": part, "minimum": 2, "maximum": 2}],
        )
    assert caught.value.error_dict["levels[1].part"][0].code == "duplicate"


def test_who_may_plan(personas):
    ours = factories.warehouse(personas.own)
    part = factories.part()
    for who in ("provider_admin", "engineer", "dispatcher"):
        with pytest.raises(PermissionDenied):
            services.apply_levels(
                actor=getattr(personas, who), warehouse=ours, levels=[{"part": part, "minimum": 1, "maximum": 2}]
            )
    with pytest.raises(PermissionDenied):
        services.suggest_levels(actor=personas.provider_admin, warehouse=ours)
    theirs = factories.warehouse(personas.provider)
    services.apply_levels(
        actor=personas.parts_keeper, warehouse=ours, levels=[{"part": part, "minimum": 1, "maximum": 2}]
    )
    with pytest.raises(ValidationError) as caught:
        services.request_refills(actor=personas.parts_keeper, warehouse=ours, source=theirs)
    assert caught.value.error_dict["destination"][0].code == "other_organisation"
    assert not Transfer.objects.exists()


def test_falling_below_minimum_notifies_the_keeper_once(personas, django_capture_on_commit_callbacks):
    central = factories.warehouse(personas.own)
    services.set_keepers(central, actor=personas.admin, keepers=[personas.parts_keeper])
    part = factories.part()
    factories.stock(central, part, 5)
    services.apply_levels(
        actor=personas.parts_keeper, warehouse=central, levels=[{"part": part, "minimum": 3, "maximum": 8}]
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.scrap_stock(central, actor=personas.admin, part=part, quantity=3, note="Broken")
    with django_capture_on_commit_callbacks(execute=True):
        services.scrap_stock(central, actor=personas.admin, part=part, quantity=1, note="Broken")
    notes = list(Notification.objects.filter(event="stock.below_minimum"))
    assert [note.recipient for note in notes] == [personas.parts_keeper]
    assert part.part_number in notes[0].title and central.name in notes[0].title
    assert "2 on hand" in notes[0].body and "minimum is 3" in notes[0].body
    assert notes[0].url == reverse("inventory:plan_detail", args=[central.pk])
    assert OutboxMessage.objects.filter(topic="stock.below_minimum").count() == 1


def test_without_keepers_the_organisations_stock_managers_are_told(personas, django_capture_on_commit_callbacks):
    central = factories.warehouse(personas.own)
    part = factories.part()
    factories.stock(central, part, 2)
    services.apply_levels(
        actor=personas.parts_keeper, warehouse=central, levels=[{"part": part, "minimum": 2, "maximum": 4}]
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.scrap_stock(central, actor=personas.admin, part=part, quantity=1, note="Broken")
    told = set(Notification.objects.filter(event="stock.below_minimum").values_list("recipient__username", flat=True))
    # Those of our company who run stock; not the provider's admin, who runs his own company's.
    assert told == {"keeper", "admin"}


# --- pages and API ---


def test_plan_page_apply_and_refill(client_for, personas):
    central = factories.warehouse(personas.own)
    regional = factories.warehouse(personas.own, kind="regional")
    part = factories.part()
    factories.stock(regional, part, 1)
    client = client_for(personas.parts_keeper)
    page = client.get(reverse("inventory:plan_detail", args=[regional.pk])).content.decode()
    assert part.part_number in page and "How the suggestion is made" in page
    bad = client.post(
        reverse("inventory:plan_apply", args=[regional.pk]), {f"minimum-{part.pk}": "5", f"maximum-{part.pk}": "2"}
    )
    assert bad.status_code == 200 and "at least its minimum" in bad.content.decode()
    assert not StockLevel.objects.exists()
    client.post(
        reverse("inventory:plan_apply", args=[regional.pk]), {f"minimum-{part.pk}": "2", f"maximum-{part.pk}": "10"}
    )
    assert StockLevel.objects.get(warehouse=regional, part=part).maximum == 10
    client.post(reverse("inventory:plan_refill", args=[regional.pk]), {"source": central.pk})
    transfer = Transfer.objects.get()
    assert transfer.lines.get().requested == 9 and transfer.source == central
    levels = client.get(reverse("inventory:levels_list")).content.decode()
    assert part.part_number in levels
    export = client.get(reverse("inventory:levels_list"), {"export": "xlsx"})
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_plan_pages_crossings(client_for, personas):
    central = factories.warehouse(personas.own)
    regional = factories.warehouse(personas.own, kind="regional")
    part = factories.part()
    client = client_for(personas.provider_admin)
    assert client.get(reverse("inventory:plan_detail", args=[regional.pk])).status_code == 404
    assert (
        client.post(
            reverse("inventory:plan_apply", args=[regional.pk]), {f"minimum-{part.pk}": "1", f"maximum-{part.pk}": "1"}
        )
    ).status_code == 404
    assert client.post(reverse("inventory:plan_refill", args=[regional.pk]), {"source": central.pk}).status_code == 404
    dispatcher = client_for(personas.dispatcher)
    assert dispatcher.get(reverse("inventory:plan_detail", args=[regional.pk])).status_code == 200
    assert (
        dispatcher.post(
            reverse("inventory:plan_apply", args=[regional.pk]), {f"minimum-{part.pk}": "1", f"maximum-{part.pk}": "1"}
        )
    ).status_code == 403
    assert client_for(personas.engineer).get(reverse("inventory:levels_list")).status_code == 403
    assert not StockLevel.objects.exists() and not Transfer.objects.exists()


def test_plan_api(api_client_for, personas):
    central = factories.warehouse(personas.own)
    regional = factories.warehouse(personas.own, kind="regional")
    part = factories.part()
    client = api_client_for(personas.parts_keeper)
    url = f"/api/v1/warehouses/{regional.pk}"
    bad = client.put(
        f"{url}/levels",
        {"levels": [{"part": part.pk, "minimum": "4", "maximum": "1"}]},
        content_type="application/json",
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "levels[0].maximum"]
    put = client.put(
        f"{url}/levels", {"levels": [{"part": part.pk, "minimum": 2, "maximum": "5"}]}, content_type="application/json"
    )
    assert put.status_code == 200
    assert [(row["part"], Decimal(row["minimum"]), Decimal(row["maximum"])) for row in put.json()] == [(part.pk, 2, 5)]
    plan = client.get(f"{url}/plan", {"months": 6}).json()
    assert plan[0]["part"] == part.pk and Decimal(plan[0]["gap"]) == 5
    assert client.get(f"{url}/plan", {"months": 0}).status_code == 422
    refill = client.post(f"{url}/refill", {"source": central.pk}, content_type="application/json").json()
    assert refill["number"].startswith("TR")
    again = client.post(f"{url}/refill", {"source": central.pk}, content_type="application/json").json()
    assert again == {"transfer": None, "number": None}
    outsider = api_client_for(personas.provider_admin)
    assert outsider.get(f"{url}/plan").status_code == 404
    assert (
        outsider.put(
            f"{url}/levels",
            {"levels": [{"part": part.pk, "minimum": 0, "maximum": 0}]},
            content_type="application/json",
        )
    ).status_code == 404
    assert outsider.post(f"{url}/refill", {"source": central.pk}, content_type="application/json").status_code == 404
    assert StockLevel.objects.get().maximum == 5 and Transfer.objects.count() == 1
