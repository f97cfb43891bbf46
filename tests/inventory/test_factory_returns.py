"""Returns to the factory: gather returned defective parts, ship them once, record the findings."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fieldservice.core.errors import DomainError
from fieldservice.core.models import Event
from fieldservice.inventory import services
from fieldservice.inventory.choices import DefectStatus, FactoryReturnStatus, Grade, MoveReason, Tracking, UnitStatus
from fieldservice.inventory.models import FactoryReturn, SerialUnit, StockBalance, StockMove
from fieldservice.inventory.services import Line, post
from tests import factories
from tests.concurrency import run_concurrently
from tests.inventory.defect_helpers import owed, returned

API = "/api/v1/factory-returns"


def defective(warehouse, part) -> Decimal:
    row = StockBalance.objects.filter(warehouse=warehouse, part=part, grade=Grade.DEFECTIVE).first()
    return row.on_hand if row else Decimal(0)


def codes(error: ValidationError) -> dict[str, str]:
    return {field: errors[0].code for field, errors in error.error_dict.items()}


@pytest.fixture
def rma(personas):
    p = personas
    p.store = factories.warehouse(p.own, name="Central store")
    p.motor = factories.part(part_number="MOTOR-1", tracking=Tracking.SERIAL)
    p.seal = factories.part(part_number="SEAL-1")
    # The motor went onto a machine from the van, and came back off it on a later visit.
    factories.fill_van(p.engineer, p.motor, 1, serials="M-1", source=p.store)
    unit = SerialUnit.objects.get(serial="M-1")
    post(
        [Line(services.van_for(p.engineer), p.motor, MoveReason.CONSUMPTION, quantity=Decimal(-1), unit=unit)],
        actor=p.engineer,
    )
    p.motor_defect = returned(p.engineer, p.parts_keeper, p.store, p.motor, serial="M-1", order_number="WO-1")
    p.seal_defect = returned(p.engineer, p.parts_keeper, p.store, p.seal, quantity=3, order_number="WO-2")
    return p


def test_the_whole_return(rma):
    p = rma
    made = services.create_factory_return(
        actor=p.parts_keeper,
        warehouse=p.store,
        lines=[{"defect": p.motor_defect, "reason": "Burnt winding"}, {"defect": p.seal_defect.pk}],
        note="Q3 batch",
    )
    assert made.number == f"FR{made.pk:07d}" and made.status == FactoryReturnStatus.DRAFT
    assert [line.reason for line in made.lines.order_by("pk")] == ["Burnt winding", ""]
    shipped = services.ship_factory_return(made, actor=p.parts_keeper, carrier="SF Express", tracking_number="SF1")
    assert (shipped.status, shipped.carrier, shipped.tracking_number) == (
        FactoryReturnStatus.SHIPPED,
        "SF Express",
        "SF1",
    )
    assert defective(p.store, p.motor) == 0 and defective(p.store, p.seal) == 0
    moves = StockMove.objects.filter(reason=MoveReason.RETURN_TO_FACTORY)
    assert {(m.part.part_number, m.quantity, m.grade, m.document_kind, m.reference) for m in moves} == {
        ("MOTOR-1", Decimal(-1), Grade.DEFECTIVE, "factory_return", made.number),
        ("SEAL-1", Decimal(-3), Grade.DEFECTIVE, "factory_return", made.number),
    }
    assert moves.get(part=p.motor).unit.serial == "M-1"
    assert SerialUnit.objects.get(serial="M-1").status == UnitStatus.AT_FACTORY
    p.motor_defect.refresh_from_db()
    assert p.motor_defect.status == DefectStatus.AT_FACTORY
    motor_line = made.lines.get(defect=p.motor_defect)
    seal_line = made.lines.get(defect=p.seal_defect)
    services.record_finding(
        made, actor=p.parts_keeper, findings={motor_line.pk: {"finding": "confirmed", "credit": "120.50"}}
    )
    made.refresh_from_db()
    assert made.status == FactoryReturnStatus.SHIPPED
    p.motor_defect.refresh_from_db()
    p.seal_defect.refresh_from_db()
    assert (p.motor_defect.status, p.seal_defect.status) == (DefectStatus.CLOSED, DefectStatus.AT_FACTORY)
    with pytest.raises(ValidationError) as caught:
        services.record_finding(made, actor=p.parts_keeper, findings={motor_line.pk: {"finding": "no_fault"}})
    assert codes(caught.value) == {f"findings[{motor_line.pk}]": "already_found"}
    services.record_finding(
        made, actor=p.parts_keeper, findings={seal_line.pk: {"finding": "no_fault", "note": "Works on the bench"}}
    )
    made.refresh_from_db()
    assert made.status == FactoryReturnStatus.CLOSED and made.closed_at is not None
    motor_line.refresh_from_db()
    assert (motor_line.finding, motor_line.credit) == ("confirmed", Decimal("120.50"))
    actions = set(Event.objects.filter(object_pk=str(made.pk)).values_list("action", flat=True))
    assert {"created", "factory_return_shipped", "factory_finding"} <= actions
    assert services.drift() == []


def test_shipping_twice_moves_stock_once(rma):
    p = rma
    made = services.create_factory_return(actor=p.parts_keeper, warehouse=p.store, lines=[{"defect": p.seal_defect}])
    services.ship_factory_return(made, actor=p.parts_keeper, carrier="SF")
    with pytest.raises(DomainError) as caught:
        services.ship_factory_return(made, actor=p.parts_keeper, carrier="SF")
    assert caught.value.code == "already_shipped"
    assert StockMove.objects.filter(reason=MoveReason.RETURN_TO_FACTORY).count() == 1


def test_bad_input_is_refused_and_writes_nothing(rma):
    p = rma
    still_owed = owed(p.engineer, p.seal)
    elsewhere = factories.warehouse(p.own)

    def refused(lines, warehouse=None):
        with pytest.raises(ValidationError) as caught:
            services.create_factory_return(actor=p.parts_keeper, warehouse=warehouse or p.store, lines=lines)
        return codes(caught.value)

    assert refused([]) == {"lines": "required"}
    assert refused([{"defect": still_owed}]) == {"lines[0].defect": "not_here"}
    assert refused([{"defect": p.seal_defect}], warehouse=elsewhere) == {"lines[0].defect": "not_here"}
    assert refused([{"defect": p.seal_defect}, {"defect": p.seal_defect}]) == {"lines[1].defect": "duplicate"}
    assert refused([{"defect": 999999}]) == {"lines[0].defect": "invalid_choice"}
    assert refused([{"defect": p.seal_defect}], warehouse=services.van_for(p.engineer)) == {
        "warehouse": "invalid_choice"
    }
    assert not FactoryReturn.objects.exists()
    made = services.create_factory_return(actor=p.parts_keeper, warehouse=p.store, lines=[{"defect": p.seal_defect}])
    assert refused([{"defect": p.seal_defect}]) == {"lines[0].defect": "not_here"}  # already on a return
    with pytest.raises(DomainError):
        services.record_finding(made, actor=p.parts_keeper, findings={})
    with pytest.raises(ValidationError) as caught:
        services.ship_factory_return(made, actor=p.parts_keeper, carrier="")
    assert codes(caught.value) == {"carrier": "required"}
    services.ship_factory_return(made, actor=p.parts_keeper, carrier="SF")
    line = made.lines.get()
    for values, field, code in (
        ({"finding": "magic"}, f"findings[{line.pk}].finding", "invalid_choice"),
        ({"finding": "confirmed", "credit": "-1"}, f"findings[{line.pk}].credit", "out_of_range"),
        ({"finding": "confirmed", "credit": "1.234"}, f"findings[{line.pk}].credit", "invalid"),
    ):
        with pytest.raises(ValidationError) as caught:
            services.record_finding(made, actor=p.parts_keeper, findings={line.pk: values})
        assert codes(caught.value) == {field: code}
    with pytest.raises(ValidationError) as caught:
        services.record_finding(made, actor=p.parts_keeper, findings={line.pk + 1000: {"finding": "confirmed"}})
    assert codes(caught.value) == {"findings": "invalid_choice"}
    line.refresh_from_db()
    assert line.finding == ""


def test_a_draft_can_be_dropped_and_its_parts_go_on_another(rma):
    p = rma
    made = services.create_factory_return(actor=p.parts_keeper, warehouse=p.store, lines=[{"defect": p.seal_defect}])
    services.cancel_factory_return(made, actor=p.parts_keeper)
    again = services.create_factory_return(actor=p.parts_keeper, warehouse=p.store, lines=[{"defect": p.seal_defect}])
    assert again.lines.get().defect == p.seal_defect


def test_other_organisations_may_not_touch_it(rma):
    p = rma
    for stranger in (p.provider_admin, p.engineer, p.customer_user_a):
        with pytest.raises(PermissionDenied):
            services.create_factory_return(actor=stranger, warehouse=p.store, lines=[{"defect": p.seal_defect}])
    made = services.create_factory_return(actor=p.parts_keeper, warehouse=p.store, lines=[{"defect": p.seal_defect}])
    with pytest.raises(PermissionDenied):
        services.ship_factory_return(made, actor=p.provider_admin, carrier="SF")
    assert FactoryReturn.objects.get().status == FactoryReturnStatus.DRAFT


# The API -------------------------------------------------------------------------------------------


def test_the_api_flow_with_an_idempotent_create(rma, api_client_for):
    p = rma
    client = api_client_for(p.parts_keeper)
    body = {"warehouse": p.store.pk, "lines": [{"defect": p.motor_defect.pk, "reason": "Burnt"}]}
    first = client.post(API, body, content_type="application/json", headers={"Idempotency-Key": "fr-1"})
    assert first.status_code == 201, first.content
    again = client.post(API, body, content_type="application/json", headers={"Idempotency-Key": "fr-1"})
    assert again.json()["id"] == first.json()["id"] and FactoryReturn.objects.count() == 1
    made = first.json()
    assert made["number"].startswith("FR") and made["lines"][0]["defect"]["serial"] == "M-1"
    url = f"{API}/{made['id']}"
    assert client.post(f"{url}/ship", {"carrier": ""}, content_type="application/json").status_code == 422
    shipped = client.post(f"{url}/ship", {"carrier": "SF", "tracking_number": "SF9"}, content_type="application/json")
    assert shipped.status_code == 200 and shipped.json()["status"] == "shipped"
    assert client.post(f"{url}/ship", {"carrier": "SF"}, content_type="application/json").status_code == 409
    line = made["lines"][0]["id"]
    bad = client.post(
        f"{url}/findings", {"findings": [{"line": line, "finding": "nope"}]}, content_type="application/json"
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", f"findings[{line}].finding"]
    found = client.post(
        f"{url}/findings",
        {"findings": [{"line": line, "finding": "damaged", "credit": "0", "note": "Dropped"}]},
        content_type="application/json",
    )
    assert found.status_code == 200 and found.json()["status"] == "closed"
    assert client.get(API).json()["count"] == 1
    assert StockMove.objects.filter(reason=MoveReason.RETURN_TO_FACTORY).count() == 1


def test_the_api_refuses_what_the_user_cannot_see(rma, api_client_for):
    p = rma
    made = services.create_factory_return(actor=p.parts_keeper, warehouse=p.store, lines=[{"defect": p.seal_defect}])
    for stranger in (p.other_provider_admin, p.provider_admin, p.customer_user_a):
        client = api_client_for(stranger)
        assert client.get(f"{API}/{made.pk}").status_code == 404
        assert (
            client.post(f"{API}/{made.pk}/ship", {"carrier": "X"}, content_type="application/json").status_code == 404
        )
        assert (
            client.post(
                f"{API}/{made.pk}/findings",
                {"findings": [{"line": made.lines.get().pk, "finding": "confirmed"}]},
                content_type="application/json",
            ).status_code
            == 404
        )
    listed = api_client_for(p.provider_admin).get(API)
    assert listed.json()["count"] == 0
    assert api_client_for(p.customer_user_a).get(API).status_code == 403
    body = {"warehouse": p.store.pk, "lines": [{"defect": p.motor_defect.pk}]}
    response = api_client_for(p.provider_admin).post(API, body, content_type="application/json")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "warehouse"]
    assert FactoryReturn.objects.get().status == FactoryReturnStatus.DRAFT
    assert StockMove.objects.filter(reason=MoveReason.RETURN_TO_FACTORY).count() == 0


# The pages -------------------------------------------------------------------------------------------


def test_the_pages(rma, client_for):
    p = rma
    client = client_for(p.parts_keeper)
    form = client.get("/parts/factory-returns/new/", {"warehouse": p.store.pk}).content.decode()
    assert "MOTOR-1" in form and "SEAL-1" in form
    response = client.post(
        "/parts/factory-returns/new/",
        {"warehouse": p.store.pk, "defect": [p.motor_defect.pk], f"reason_{p.motor_defect.pk}": "Burnt"},
    )
    made = FactoryReturn.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/parts/factory-returns/{made.pk}/"
    assert made.lines.get().reason == "Burnt"
    listing = client.get("/parts/factory-returns/").content.decode()
    assert made.number in listing
    assert client.get("/parts/factory-returns/", {"export": "xlsx"}).status_code == 200
    page = client.post(f"/parts/factory-returns/{made.pk}/ship/", {"carrier": ""})
    assert page.status_code == 200 and "carrier" in page.context["ship_form"].errors
    client.post(f"/parts/factory-returns/{made.pk}/ship/", {"carrier": "SF", "tracking_number": "SF2"})
    made.refresh_from_db()
    assert made.status == FactoryReturnStatus.SHIPPED
    line = made.lines.get()
    client.post(
        f"/parts/factory-returns/{made.pk}/findings/", {f"finding_{line.pk}": "confirmed", f"credit_{line.pk}": "80"}
    )
    made.refresh_from_db()
    assert made.status == FactoryReturnStatus.CLOSED
    detail = client.get(f"/parts/factory-returns/{made.pk}/").content.decode()
    assert "Defect confirmed" in detail


def test_the_pages_of_another_organisation_are_404(rma, client_for):
    p = rma
    made = services.create_factory_return(actor=p.parts_keeper, warehouse=p.store, lines=[{"defect": p.seal_defect}])
    for stranger in (p.other_provider_admin, p.provider_admin):
        client = client_for(stranger)
        assert client.get(f"/parts/factory-returns/{made.pk}/").status_code == 404
        assert client.post(f"/parts/factory-returns/{made.pk}/ship/", {"carrier": "X"}).status_code == 404
        assert made.number not in client.get("/parts/factory-returns/").content.decode()
    assert client_for(p.customer_user_a).get(f"/parts/factory-returns/{made.pk}/").status_code == 404
    assert client_for(p.customer_user_a).get("/parts/factory-returns/").status_code == 403
    assert FactoryReturn.objects.get().status == FactoryReturnStatus.DRAFT


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres_only")
def test_two_keepers_shipping_at_once_move_the_stock_once(rma):
    p = rma
    made = services.create_factory_return(actor=p.parts_keeper, warehouse=p.store, lines=[{"defect": p.seal_defect}])
    outcomes = run_concurrently(
        *[
            lambda: services.ship_factory_return(
                FactoryReturn.objects.get(pk=made.pk), actor=p.parts_keeper, carrier="SF"
            )
        ]
        * 2
    )
    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"]
    assert [type(value) for kind, value in outcomes if kind == "error"] == [DomainError]
    assert StockMove.objects.filter(reason=MoveReason.RETURN_TO_FACTORY).count() == 1
    assert defective(p.store, p.seal) == 0
