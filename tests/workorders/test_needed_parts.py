"""The parts an order probably needs: listed from the fault category when the order is made, set by
the desk on the order's page and over the API, logged in the service log."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from fieldservice.workorders.choices import NeededPartSource
from fieldservice.workorders.models import FaultCategoryPart, NeededPart, WorkOrderEvent
from fieldservice.workorders.services import intake
from fieldservice.workorders.services.needed_parts import set_needed_parts
from tests import factories

API = "/api/v1"


def needed(order) -> dict:
    return {
        row.part.part_number: (row.quantity, row.source)
        for row in NeededPart.objects.filter(work_order=order).select_related("part")
    }


@pytest.fixture
def parts():
    return (
        factories.part(part_number="PUMP-1"),
        factories.part(part_number="SEAL-1"),
        factories.part(part_number="VALVE"),
    )


@pytest.fixture
def category(parts):
    category = factories.fault_category("hydraulic-leak-np")
    FaultCategoryPart.objects.create(category=category, part=parts[0], quantity=Decimal(1))
    FaultCategoryPart.objects.create(category=category, part=parts[1], quantity=Decimal("2.5"))
    return category


def test_a_new_order_lists_its_fault_categorys_usual_parts(world, service_request, category, parts):
    request = service_request(fault_category=category)
    order = intake.create_work_order(request, actor=world.agent)
    assert needed(order) == {
        "PUMP-1": (Decimal(1), NeededPartSource.FAULT_CATEGORY),
        "SEAL-1": (Decimal("2.5"), NeededPartSource.FAULT_CATEGORY),
    }
    # An order without a category lists nothing.
    assert needed(intake.create_work_order(service_request(), actor=world.agent)) == {}


def test_the_desk_sets_the_whole_list_and_an_unchanged_suggestion_keeps_its_source(
    world, service_request, category, parts
):
    pump, seal, valve = parts
    order = intake.create_work_order(service_request(fault_category=category), actor=world.agent)

    set_needed_parts(order, actor=world.dispatcher, parts=[(pump, 1), (valve, "3")])

    assert needed(order) == {
        "PUMP-1": (Decimal(1), NeededPartSource.FAULT_CATEGORY),
        "VALVE": (Decimal(3), NeededPartSource.AGENT),
    }
    event = WorkOrderEvent.objects.filter(work_order=order, action="needed_parts").get()
    assert event.actor == world.dispatcher and "VALVE × 3" in event.note
    # Setting the same list again writes no second log line; an empty list clears it.
    set_needed_parts(order, actor=world.dispatcher, parts=[(pump, 1), (valve, 3)])
    assert WorkOrderEvent.objects.filter(work_order=order, action="needed_parts").count() == 1
    set_needed_parts(order, actor=world.agent, parts=[])
    assert needed(order) == {}


@pytest.mark.parametrize(
    ("quantity", "code"), [("0", "out_of_range"), ("-1", "out_of_range"), ("abc", "invalid"), ("1.0001", "invalid")]
)
def test_a_bad_quantity_names_its_line_and_changes_nothing(world, work_order, parts, quantity, code):
    order = work_order()
    set_needed_parts(order, actor=world.agent, parts=[(parts[0], 1)])
    with pytest.raises(ValidationError) as caught:
        set_needed_parts(order, actor=world.agent, parts=[(parts[2], 1), (parts[1], quantity)])
    assert caught.value.error_dict["parts[1].quantity"][0].code == code
    assert needed(order) == {"PUMP-1": (Decimal(1), NeededPartSource.AGENT)}


def test_a_part_listed_twice_or_no_longer_used_is_refused(world, work_order, parts):
    order = work_order()
    with pytest.raises(ValidationError) as caught:
        set_needed_parts(order, actor=world.agent, parts=[(parts[0], 1), (parts[0], 2)])
    assert "parts[1].part" in caught.value.error_dict
    parts[2].is_active = False
    parts[2].save(update_fields=["is_active"])
    with pytest.raises(ValidationError) as caught:
        set_needed_parts(order, actor=world.agent, parts=[(parts[2], 1)])
    assert caught.value.error_dict["parts[0].part"][0].code == "inactive"
    assert needed(order) == {}


@pytest.mark.parametrize("who", ["engineer", "parts_keeper", "provider_admin", "customer_user_a", "director"])
def test_only_the_desk_sets_needed_parts(world, work_order, parts, who):
    order = work_order()
    with pytest.raises(PermissionDenied):
        set_needed_parts(order, actor=getattr(world, who), parts=[(parts[0], 1)])
    assert needed(order) == {}


# API


def test_the_order_detail_lists_its_needed_parts_and_put_sets_them(api_client_for, world, work_order, parts):
    order = work_order()
    client = api_client_for(world.dispatcher)
    response = client.put(
        f"{API}/work-orders/{order.pk}/needed-parts",
        {"parts": [{"part": parts[1].pk, "quantity": "2"}, {"part": parts[0].pk, "quantity": 1}]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    listed = response.json()["needed_parts"]
    assert [(p["part_number"], p["quantity"], p["source"]) for p in listed] == [
        ("PUMP-1", "1.000", "agent"),
        ("SEAL-1", "2.000", "agent"),
    ]
    assert listed[0]["part_id"] == parts[0].pk and listed[0]["name"] == parts[0].name
    assert client.get(f"{API}/work-orders/{order.pk}").json()["needed_parts"] == listed


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"parts": [{"part": 1, "quantity": "x"}]}, "parts[0].quantity"),
        ({"parts": [{"part": 999999, "quantity": 1}]}, "parts[0].part"),
        ({"parts": [{"part": 1}]}, "quantity"),
        ({"parts": [{"part": 1, "quantity": 1, "source": "agent"}]}, "source"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(api_client_for, world, work_order, parts, body, field):
    order = work_order()
    for line in body["parts"]:
        if line["part"] == 1:
            line["part"] = parts[0].pk
    response = api_client_for(world.agent).put(
        f"{API}/work-orders/{order.pk}/needed-parts", body, content_type="application/json"
    )
    assert response.status_code == 422, response.content
    assert field in str(response.json()["detail"])
    assert needed(order) == {}


def test_another_providers_order_is_404_and_a_keeper_is_403(api_client_for, world, work_order, parts):
    order = work_order(world.customer_z)  # customer Z is served by us only, not by provider B
    body = {"parts": [{"part": parts[0].pk, "quantity": 1}]}
    url = f"{API}/work-orders/{order.pk}/needed-parts"
    assert api_client_for(world.provider_admin).put(url, body, content_type="application/json").status_code == 404
    assert api_client_for(world.customer_user_a).put(url, body, content_type="application/json").status_code == 404
    assert api_client_for(world.parts_keeper).put(url, body, content_type="application/json").status_code == 403
    assert needed(order) == {}


# Page


def test_the_order_page_shows_and_saves_the_needed_parts(client_for, world, work_order, parts):
    order = work_order()
    client = client_for(world.agent)
    url = reverse("workorders:order_needed_parts", args=[order.pk])
    response = client.post(url, {"parts": "SEAL-1 2\nPUMP-1"})
    assert response.status_code == 302
    assert needed(order) == {
        "PUMP-1": (Decimal(1), NeededPartSource.AGENT),
        "SEAL-1": (Decimal(2), NeededPartSource.AGENT),
    }
    body = client.get(reverse("workorders:order_detail", args=[order.pk])).content.decode()
    assert 'id="needed-parts"' in body and "SEAL-1" in body and 'id="needed-parts-form"' in body


def test_the_page_names_an_unknown_part_and_keeps_the_list(client_for, world, work_order, parts):
    order = work_order()
    set_needed_parts(order, actor=world.agent, parts=[(parts[0], 1)])
    response = client_for(world.agent).post(
        reverse("workorders:order_needed_parts", args=[order.pk]), {"parts": "NOPE-9 1"}
    )
    assert response.status_code == 200
    assert "NOPE-9" in response.content.decode()
    assert needed(order) == {"PUMP-1": (Decimal(1), NeededPartSource.AGENT)}


def test_an_engineer_sees_the_list_without_the_form_and_cannot_post(client_for, world, work_order, parts):
    order = work_order(engineer=world.engineer)
    set_needed_parts(order, actor=world.agent, parts=[(parts[0], 1)])
    client = client_for(world.engineer)
    body = client.get(reverse("workorders:order_detail", args=[order.pk])).content.decode()
    assert "PUMP-1" in body and 'id="needed-parts-form"' not in body
    response = client.post(reverse("workorders:order_needed_parts", args=[order.pk]), {"parts": "SEAL-1 1"})
    assert response.status_code == 403
    assert needed(order) == {"PUMP-1": (Decimal(1), NeededPartSource.AGENT)}
