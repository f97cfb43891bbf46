"""Stock counts (盘点): the sheet, blind counts, posting differences as adjustments, and who may."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from fieldservice.core.errors import DomainError
from fieldservice.inventory import services
from fieldservice.inventory.choices import CountStatus, Grade, MoveReason, Tracking
from fieldservice.inventory.models import StockBalance, StockCount, StockMove
from fieldservice.inventory.services import Line, post
from tests import factories

API = "/api/v1/stock-counts"


def on_hand(warehouse, part, lot=""):
    row = StockBalance.objects.filter(warehouse=warehouse, part=part, lot=lot, grade=Grade.GOOD).first()
    return row.on_hand if row else Decimal(0)


@pytest.fixture
def shelf(personas):
    central = factories.warehouse(personas.own)
    pump, seal, filter_ = factories.part(), factories.part(), factories.part()
    factories.stock(central, pump, 10, unit_cost="20")
    factories.stock(central, seal, 4)
    factories.stock(central, filter_, 1)
    # A balance that once held stock and is empty now is not on the sheet.
    services.scrap_stock(central, actor=personas.parts_keeper, part=filter_, quantity=1, note="Broken")
    return central, pump, seal, filter_


def line_of(count, part):
    return count.lines.get(part=part)


def test_open_snapshots_the_balances_and_a_second_open_count_is_refused(personas, shelf):
    central, pump, seal, filter_ = shelf
    count = services.open_count(central, actor=personas.parts_keeper)
    assert count.number == f"SC{count.pk:07d}" and count.blind and count.status == CountStatus.OPEN
    assert {(line.part_id, line.expected) for line in count.lines.all()} == {
        (pump.pk, Decimal(10)),
        (seal.pk, Decimal(4)),
    }
    with pytest.raises(DomainError) as caught:
        services.open_count(central, actor=personas.parts_keeper, blind=False)
    assert caught.value.code == "count_open" and count.number in caught.value.message
    assert StockCount.objects.filter(warehouse=central).count() == 1


def test_post_writes_differences_as_adjustments_by_the_keeper_with_the_reason(personas, shelf):
    central, pump, seal, _filter = shelf
    count = services.open_count(central, actor=personas.parts_keeper)
    found = factories.part()
    services.record_counts(
        count,
        actor=personas.parts_keeper,
        counted={line_of(count, pump).pk: "8", line_of(count, seal).pk: 4},
        extra=[{"part": found.pk, "quantity": "2"}],
    )
    assert line_of(count, found).expected == 0
    services.post_count(count, actor=personas.parts_keeper, reason="Quarterly count")
    count.refresh_from_db()
    assert (count.status, count.posted_by, count.reason) == (
        CountStatus.POSTED,
        personas.parts_keeper,
        "Quarterly count",
    )
    assert (on_hand(central, pump), on_hand(central, seal), on_hand(central, found)) == (8, 4, 2)
    moves = StockMove.objects.filter(document_kind="count", document_id=count.pk)
    assert sorted((m.part_id, m.quantity) for m in moves) == sorted([(pump.pk, Decimal(-2)), (found.pk, Decimal(2))])
    assert {(m.reason, m.actor_id, m.note, m.reference) for m in moves} == {
        (MoveReason.ADJUSTMENT, personas.parts_keeper.pk, "Quarterly count", count.number)
    }
    assert services.drift() == []


def test_a_count_posted_twice_moves_stock_once(personas, shelf):
    central, pump, seal, _filter = shelf
    count = services.open_count(central, actor=personas.parts_keeper)
    services.record_counts(
        count, actor=personas.parts_keeper, counted={line_of(count, pump).pk: 9, line_of(count, seal).pk: 4}
    )
    services.post_count(count, actor=personas.parts_keeper, reason="Count")
    with pytest.raises(DomainError) as caught:
        services.post_count(count, actor=personas.parts_keeper, reason="Count")
    assert caught.value.code == "already_posted"
    with pytest.raises(DomainError):
        services.record_counts(count, actor=personas.parts_keeper, counted={line_of(count, pump).pk: 1})
    assert on_hand(central, pump) == 9
    assert StockMove.objects.filter(document_kind="count").count() == 1
    # Posted, the warehouse may be counted again.
    assert services.open_count(central, actor=personas.parts_keeper).status == CountStatus.OPEN


def test_no_differences_posts_nothing_but_closes(personas, shelf):
    central, pump, seal, _filter = shelf
    count = services.open_count(central, actor=personas.parts_keeper)
    services.record_counts(
        count, actor=personas.parts_keeper, counted={line_of(count, pump).pk: 10, line_of(count, seal).pk: "4.000"}
    )
    services.post_count(count, actor=personas.parts_keeper, reason="All as expected")
    count.refresh_from_db()
    assert count.status == CountStatus.POSTED
    assert not StockMove.objects.filter(document_kind="count").exists()


def test_every_line_must_be_counted_and_a_reason_given(personas, shelf):
    central, pump, seal, _filter = shelf
    count = services.open_count(central, actor=personas.parts_keeper)
    services.record_counts(count, actor=personas.parts_keeper, counted={line_of(count, pump).pk: 10})
    with pytest.raises(ValidationError) as caught:
        services.post_count(count, actor=personas.parts_keeper, reason="Count")
    assert caught.value.error_dict["counted"][0].code == "incomplete"
    services.record_counts(count, actor=personas.parts_keeper, counted={line_of(count, seal).pk: 0})
    with pytest.raises(ValidationError) as caught:
        services.post_count(count, actor=personas.parts_keeper, reason="  ")
    assert "reason" in caught.value.error_dict
    count.refresh_from_db()
    assert count.status == CountStatus.OPEN and on_hand(central, seal) == 4


@pytest.mark.parametrize(
    ("counted", "field", "code"),
    [
        ("-1", "counted[{line}]", "out_of_range"),
        ("lots", "counted[{line}]", "invalid"),
        ("1.0001", "counted[{line}]", "invalid"),
        ("", "counted[{line}]", "required"),
    ],
)
def test_bad_counted_quantities_name_the_line(personas, shelf, counted, field, code):
    central, pump, _seal, _filter = shelf
    count = services.open_count(central, actor=personas.parts_keeper)
    line = line_of(count, pump)
    with pytest.raises(ValidationError) as caught:
        services.record_counts(count, actor=personas.parts_keeper, counted={line.pk: counted})
    assert caught.value.error_dict[field.format(line=line.pk)][0].code == code
    line.refresh_from_db()
    assert line.counted is None


def test_bad_extra_lines_and_unknown_lines_are_named(personas, shelf):
    central, pump, _seal, _filter = shelf
    count = services.open_count(central, actor=personas.parts_keeper)
    lot_part = factories.part(tracking=Tracking.LOT)
    serial_part = factories.part(tracking=Tracking.SERIAL)
    cases = [
        ({"counted": {999999: 1}}, "counted", "invalid_choice"),
        ({"extra": [{"part": 999999, "quantity": 1}]}, "extra[0].part", "invalid_choice"),
        ({"extra": [{"part": pump.pk, "quantity": -2}]}, "extra[0].quantity", "out_of_range"),
        ({"extra": [{"part": lot_part.pk, "quantity": 1}]}, "extra[0].lot", "required"),
        ({"extra": [{"part": pump.pk, "lot": "L1", "quantity": 1}]}, "extra[0].lot", "invalid"),
        ({"extra": [{"part": serial_part.pk, "quantity": "1.5"}]}, "extra[0].quantity", "invalid"),
        ({"extra": [{"part": pump.pk, "grade": "shiny", "quantity": 1}]}, "extra[0].grade", "invalid_choice"),
    ]
    for kwargs, field, code in cases:
        with pytest.raises(ValidationError) as caught:
            services.record_counts(count, actor=personas.parts_keeper, **kwargs)
        assert caught.value.error_dict[field][0].code == code, (kwargs, caught.value)
    assert count.lines.count() == 2 and not count.lines.filter(counted__isnull=False).exists()


def test_stock_that_moved_while_counting_is_kept(personas, shelf):
    """The chosen rule: posting adds counted - expected (the snapshot), so a receipt made while
    counting stays on the ledger next to the adjustment."""
    central, pump, seal, _filter = shelf
    count = services.open_count(central, actor=personas.parts_keeper)
    factories.stock(central, pump, 5)  # arrives after the sheet was opened
    services.record_counts(
        count, actor=personas.parts_keeper, counted={line_of(count, pump).pk: 9, line_of(count, seal).pk: 4}
    )
    services.post_count(count, actor=personas.parts_keeper, reason="Count")
    assert on_hand(central, pump) == 14  # 10 expected, 1 missing, 5 received meanwhile
    assert services.drift() == []


def test_a_difference_that_would_take_stock_below_zero_is_refused(personas, shelf):
    central, pump, seal, _filter = shelf
    count = services.open_count(central, actor=personas.parts_keeper)
    services.scrap_stock(central, actor=personas.parts_keeper, part=seal, quantity=4, note="Water damage")
    services.record_counts(
        count, actor=personas.parts_keeper, counted={line_of(count, pump).pk: 10, line_of(count, seal).pk: 1}
    )
    with pytest.raises(ValidationError) as caught:
        services.post_count(count, actor=personas.parts_keeper, reason="Count")
    assert caught.value.error_dict["quantity"][0].code == "insufficient_stock"
    count.refresh_from_db()
    assert count.status == CountStatus.OPEN and on_hand(central, seal) == 0


def test_cancel_closes_without_moving_stock(personas, shelf):
    central, pump, _seal, _filter = shelf
    count = services.open_count(central, actor=personas.parts_keeper)
    services.record_counts(count, actor=personas.parts_keeper, counted={line_of(count, pump).pk: 1})
    services.cancel_count(count, actor=personas.parts_keeper, reason="Wrong day")
    count.refresh_from_db()
    assert count.status == CountStatus.CANCELLED
    with pytest.raises(DomainError):
        services.cancel_count(count, actor=personas.parts_keeper)
    assert on_hand(central, pump) == 10 and not StockMove.objects.filter(document_kind="count").exists()


def test_who_may_count(personas, shelf):
    central, pump, _seal, _filter = shelf
    for who in ("provider_admin", "engineer", "dispatcher", "customer_user_a"):
        with pytest.raises(PermissionDenied):
            services.open_count(central, actor=getattr(personas, who))
    count = services.open_count(central, actor=personas.parts_keeper)
    for who in ("provider_admin", "engineer", "dispatcher"):
        with pytest.raises(PermissionDenied):
            services.record_counts(count, actor=getattr(personas, who), counted={line_of(count, pump).pk: 1})
        with pytest.raises(PermissionDenied):
            services.post_count(count, actor=getattr(personas, who), reason="Count")
    assert count.lines.filter(counted__isnull=False).count() == 0


def test_a_van_is_counted_by_a_keeper_and_the_engineer_enters_but_cannot_post(personas):
    central = factories.warehouse(personas.own)
    part = factories.part()
    factories.stock(central, part, 3)
    van = services.van_for(personas.engineer)
    post(
        [
            Line(central, part, MoveReason.TRANSFER_OUT, quantity=Decimal(-3)),
            Line(van, part, MoveReason.ISSUE, quantity=Decimal(3)),
        ],
        actor=personas.parts_keeper,
    )
    with pytest.raises(PermissionDenied):
        services.open_count(van, actor=personas.engineer)
    with pytest.raises(PermissionDenied):
        services.open_count(van, actor=personas.provider_admin)
    count = services.open_count(van, actor=personas.parts_keeper)
    services.record_counts(count, actor=personas.engineer, counted={line_of(count, part).pk: 2})
    with pytest.raises(PermissionDenied):
        services.post_count(count, actor=personas.engineer, reason="Van count")
    with pytest.raises(PermissionDenied):
        services.cancel_count(count, actor=personas.engineer)
    services.post_count(count, actor=personas.parts_keeper, reason="Van count")
    assert on_hand(van, part) == 2 and services.drift() == []


# --- pages ---


def test_blind_sheet_hides_expected_until_review_and_posting(client_for, personas, shelf):
    central, pump, seal, _filter = shelf
    count = services.open_count(central, actor=personas.parts_keeper)
    client = client_for(personas.parts_keeper)
    sheet = client.get(reverse("inventory:count_sheet", args=[count.pk])).content.decode()
    assert pump.part_number in sheet and 'class="expected"' not in sheet
    response = client.post(
        reverse("inventory:count_sheet", args=[count.pk]),
        {f"counted-{line_of(count, pump).pk}": "7", f"counted-{line_of(count, seal).pk}": "4", "then": "review"},
    )
    assert response.status_code == 302 and response.url == reverse("inventory:count_review", args=[count.pk])
    review = client.get(response.url).content.decode()
    assert "<strong>-3</strong>" in review
    response = client.post(response.url, {"reason": "Monthly count"})
    assert response.status_code == 302
    assert on_hand(central, pump) == 7
    sheet = client.get(reverse("inventory:count_sheet", args=[count.pk])).content.decode()
    assert 'class="expected">10<' in sheet


def test_open_count_page_and_list_with_export(client_for, personas, shelf):
    central, *_ = shelf
    client = client_for(personas.parts_keeper)
    response = client.post(reverse("inventory:count_open"), {"warehouse": central.pk, "blind": ""})
    count = StockCount.objects.get(warehouse=central)
    assert response.status_code == 302 and not count.blind
    again = client.post(reverse("inventory:count_open"), {"warehouse": central.pk, "blind": "on"})
    assert again.status_code == 200 and count.number in again.content.decode()
    listing = client.get(reverse("inventory:count_list")).content.decode()
    assert count.number in listing
    export = client.get(reverse("inventory:count_list"), {"export": "xlsx"})
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_engineer_counts_his_van_on_the_phone_page(client_for, personas):
    van = services.van_for(personas.engineer)
    part = factories.part()
    count = services.open_count(van, actor=personas.parts_keeper)
    client = client_for(personas.engineer)
    page = client.get(reverse("inventory:count_sheet", args=[count.pk]))
    assert page.status_code == 200 and 'class="m-bar"' in page.content.decode()
    client.post(
        reverse("inventory:count_sheet", args=[count.pk]), {"extra_part": part.part_number, "extra_quantity": "1"}
    )
    assert count.lines.get(part=part).counted == 1
    assert client.get(reverse("inventory:count_review", args=[count.pk])).status_code == 403
    assert client.post(reverse("inventory:count_review", args=[count.pk]), {"reason": "x"}).status_code == 403
    count.refresh_from_db()
    assert count.status == CountStatus.OPEN


def test_other_organisations_do_not_see_our_counts(client_for, personas, shelf):
    central, pump, *_ = shelf
    count = services.open_count(central, actor=personas.parts_keeper)
    client = client_for(personas.provider_admin)
    assert client.get(reverse("inventory:count_sheet", args=[count.pk])).status_code == 404
    assert (
        client.post(reverse("inventory:count_sheet", args=[count.pk]), {f"counted-{line_of(count, pump).pk}": "0"})
    ).status_code == 404
    assert client.post(reverse("inventory:count_cancel", args=[count.pk])).status_code == 404
    assert count.number not in client.get(reverse("inventory:count_list")).content.decode()
    assert client.post(reverse("inventory:count_open"), {"warehouse": central.pk}).status_code == 200
    count.refresh_from_db()
    assert count.status == CountStatus.OPEN and not count.lines.filter(counted__isnull=False).exists()
    assert StockCount.objects.count() == 1
    assert client_for(personas.customer_user_a).get(reverse("inventory:count_list")).status_code == 403


# --- API ---


def test_api_open_count_post(api_client_for, personas, shelf):
    central, pump, seal, _filter = shelf
    client = api_client_for(personas.parts_keeper)
    made = client.post(
        API, {"warehouse": central.pk}, content_type="application/json", headers={"Idempotency-Key": "c1"}
    )
    assert made.status_code == 201
    body = made.json()
    assert body["blind"] and {line["expected"] for line in body["lines"]} == {None}
    again = client.post(
        API, {"warehouse": central.pk}, content_type="application/json", headers={"Idempotency-Key": "c1"}
    )
    assert again.json()["id"] == body["id"]
    lines = {line["part"]: line["id"] for line in body["lines"]}
    bad = client.post(
        f"{API}/{body['id']}/counts", {"counted": {str(lines[pump.pk]): "-1"}}, content_type="application/json"
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", f"counted[{lines[pump.pk]}]"]
    counted = client.post(
        f"{API}/{body['id']}/counts",
        {"counted": {str(lines[pump.pk]): "11", str(lines[seal.pk]): 4}},
        content_type="application/json",
    )
    assert counted.status_code == 200
    review = client.get(f"{API}/{body['id']}", {"review": "true"}).json()
    assert {line["part"]: line["difference"] for line in review["lines"]}[pump.pk] == "1.000"
    assert client.post(f"{API}/{body['id']}/post", {}, content_type="application/json").status_code == 422
    posted = client.post(f"{API}/{body['id']}/post", {"reason": "Count"}, content_type="application/json")
    assert posted.status_code == 200 and posted.json()["status"] == "posted"
    twice = client.post(f"{API}/{body['id']}/post", {"reason": "Count"}, content_type="application/json")
    assert twice.status_code == 409
    assert on_hand(central, pump) == 11
    listed = client.get(API).json()
    assert listed["count"] == 1 and listed["items"][0]["difference_total"] == 1


def test_api_crossings(api_client_for, personas, shelf):
    central, pump, *_ = shelf
    outsider = api_client_for(personas.provider_admin)
    assert outsider.post(API, {"warehouse": central.pk}, content_type="application/json").status_code == 404
    assert not StockCount.objects.exists()
    count = services.open_count(central, actor=personas.parts_keeper)
    line = line_of(count, pump)
    assert outsider.get(f"{API}/{count.pk}").status_code == 404
    assert (
        outsider.post(f"{API}/{count.pk}/counts", {"counted": {str(line.pk): 1}}, content_type="application/json")
    ).status_code == 404
    assert outsider.post(f"{API}/{count.pk}/cancel", {}, content_type="application/json").status_code == 404
    assert outsider.get(API).json()["count"] == 0
    engineer = api_client_for(personas.engineer)
    assert engineer.post(f"{API}/{count.pk}/post", {"reason": "x"}, content_type="application/json").status_code == 404
    dispatcher = api_client_for(personas.dispatcher)  # sees our stock, may not move it
    assert (
        dispatcher.post(f"{API}/{count.pk}/post", {"reason": "x"}, content_type="application/json").status_code == 403
    )
    assert api_client_for(personas.customer_user_a).get(API).status_code == 403
    count.refresh_from_db()
    line.refresh_from_db()
    assert count.status == CountStatus.OPEN and line.counted is None
