"""A customer's request form: the company is his own (preselected, no choice when he has one),
and he says how urgent it is; our staff see that and set the priority."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from fieldservice.workorders.models import ServiceRequest
from fieldservice.workorders.services import intake
from tests import factories

NEW = reverse("workorders:request_new")


def customer_field(body: str) -> str:
    return re.search(r'<(?:input|select)[^>]*name="customer"[^>]*>', body).group(0)


def test_a_customer_with_one_company_is_not_asked_which(client_for, world):
    body = client_for(world.customer_user_a).get(NEW).content.decode()
    field = customer_field(body)
    assert 'type="hidden"' in field and f'value="{world.customer_a.pk}"' in field
    assert world.customer_z.name not in body
    # Its machines are offered straight away.
    assert "A-0001" in body


def test_a_customer_states_urgency_and_is_not_offered_the_priority(client_for, world):
    body = client_for(world.customer_user_a).get(NEW).content.decode()
    assert 'name="priority"' not in body
    assert 'name="urgency"' in body


def test_staff_set_the_priority_and_see_the_customers_urgency(client_for, world):
    client = client_for(world.customer_user_a)
    response = client.post(
        NEW,
        {
            "customer": world.customer_a.pk,
            "equipment": world.machine_a.pk,
            "service_type": "repair",
            # Sent by hand: not the customer's to set, so it does not count.
            "priority": "urgent",
            "urgency": "The line is stopped",
            "description": "Mould temperature alarm",
            "action": "file",
        },
    )
    assert response.status_code == 302
    request = ServiceRequest.objects.get()
    assert (request.customer, request.priority, request.urgency) == (world.customer_a, "normal", "The line is stopped")
    agent = client_for(world.agent)
    assert "The line is stopped" in agent.get(reverse("workorders:request_detail", args=[request.pk])).content.decode()
    order = intake.create_work_order(request, actor=world.agent, priority="urgent")
    body = agent.get(reverse("workorders:order_detail", args=[order.pk])).content.decode()
    assert "The line is stopped" in body and order.priority == "urgent"


def test_the_agents_form_keeps_the_priority(client_for, world):
    body = client_for(world.agent).get(NEW).content.decode()
    assert 'name="priority"' in body and 'name="urgency"' not in body
    assert "<select" in customer_field(body)


@pytest.mark.parametrize("who", ["customer_user_a", "provider_admin"])
def test_only_our_staff_set_a_priority(world, who):
    with pytest.raises(ValidationError) as error:
        intake.file_request(
            actor=getattr(world, who),
            channel="portal",
            customer=world.customer_a,
            description="Leak",
            priority="urgent",
        )
    assert "priority" in error.value.message_dict
    assert not ServiceRequest.objects.exists()
    assert factories.service_request(world.customer_a, actor=world.agent, priority="urgent").priority == "urgent"


def test_the_api_takes_urgency_from_a_customer_and_refuses_a_priority(api_client_for, world):
    client = api_client_for(world.customer_user_a)
    data = {"customer": world.customer_a.pk, "description": "Leak", "urgency": "Can wait until Monday"}
    response = client.post("/api/v1/requests", data, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["urgency"] == "Can wait until Monday"
    response = client.post("/api/v1/requests", {**data, "priority": "urgent"}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "priority"]
    assert ServiceRequest.objects.count() == 1
