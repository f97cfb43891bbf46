"""Dispatch pages: the queue, one order's dispatch page, the provider admins' queue."""

import re

import pytest
from django.urls import reverse

from fieldservice.accounts.choices import Availability
from fieldservice.accounts.services import set_availability
from fieldservice.dispatch.assignments import services
from fieldservice.dispatch.choices import AssignmentRole, AssignmentStatus
from fieldservice.dispatch.models import Assignment
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.services.lifecycle import cancel_work_order
from tests import factories
from tests.dispatch.conftest import order_for

S = WorkOrderStatus
A = AssignmentStatus
QUEUE = reverse("dispatch:queue")
PROVIDER_QUEUE = reverse("dispatch:provider_queue")


def order_url(order) -> str:
    return reverse("dispatch:order", args=[order.pk])


def queued(response) -> list[str]:
    """The work order numbers the queue lists, in order."""
    return re.findall(r'<tr id="order-\d+">\s*<td><a href="[^"]+">(WO\d+)</a>', response.content.decode())


def snapshot(order) -> tuple:
    return (
        WorkOrder.objects.get(pk=order.pk).status,
        list(Assignment.objects.filter(work_order=order).order_by("pk").values_list("engineer", "provider", "status")),
    )


def post_action(client, order, action, *, follow=False, **data):
    return client.post(order_url(order), {"action": action, **data}, follow=follow)


# The queue


def test_anonymous_users_are_sent_to_sign_in(client, world):
    for url in (QUEUE, order_url(world.order), PROVIDER_QUEUE):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_queue_lists_orders_to_dispatch_urgent_first_with_suggestions(client_for, world):
    urgent = order_for(world, priority="urgent")
    high = order_for(world, world.customer_z, priority="high")
    underway = order_for(world)
    services.dispatch_to_engineer(underway, actor=world.dispatcher, engineer=world.far)
    response = client_for(world.dispatcher).get(QUEUE)
    assert response.status_code == 200
    assert queued(response) == [urgent.number, high.number, world.order.number]
    body = response.content.decode()
    # Customer, city, fault and the best suggestion with its distance.
    assert "Customer A" in body and "Ningbo" in body and "Oil temperature" in body
    assert world.engineer.username in body and " km" in body
    assert world.on_leave.username not in body
    assert reverse("dispatch:candidates", args=[world.order.pk]) in body


def test_queue_shows_only_the_top_three_suggestions_per_order(client_for, world):
    body = client_for(world.dispatcher).get(QUEUE).content.decode()
    assert world.engineer.username in body and world.far.username in body
    # Fourth and later are not shown until the row is expanded.
    assert world.unskilled.username not in body and world.off_duty.username not in body


def test_rejected_orders_are_back_in_the_queue(client_for, world):
    assignment = services.dispatch_to_engineer(world.order, actor=world.dispatcher, engineer=world.engineer)
    assert world.order.number not in queued(client_for(world.dispatcher).get(QUEUE))
    services.reject_assignment(assignment, actor=world.engineer, reason="Ill")
    assert queued(client_for(world.dispatcher).get(QUEUE)) == [world.order.number]


def test_queue_filters(client_for, world):
    urgent = order_for(world, priority="urgent")
    suzhou = factories.site(world.customer_z, name="Suzhou plant", city="Suzhou")
    elsewhere = order_for(world, world.customer_z, site=suzhou, service_type="maintenance")
    client = client_for(world.dispatcher)
    assert queued(client.get(QUEUE, {"priority": "urgent"})) == [urgent.number]
    assert queued(client.get(QUEUE, {"city": "Suzhou"})) == [elsewhere.number]
    assert queued(client.get(QUEUE, {"service_type": "maintenance"})) == [elsewhere.number]
    assert set(queued(client.get(QUEUE, {"city": "Atlantis"}))) == {urgent.number, elsewhere.number, world.order.number}
    assert "No orders to dispatch match the filters." in client.get(QUEUE, {"priority": "low"}).content.decode()


def test_queue_htmx_returns_only_the_results(client_for, world):
    response = client_for(world.dispatcher).get(QUEUE, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and world.order.number in body


def test_queue_paginates(client_for, world):
    for _ in range(25):
        order_for(world, fault=False)
    client = client_for(world.dispatcher)
    first, second = client.get(QUEUE), client.get(QUEUE, {"page": 2})
    assert len(queued(first)) == 25 and len(queued(second)) == 1
    assert set(queued(first)).isdisjoint(queued(second))


def test_the_candidate_partial_expands_a_row(client_for, world):
    response = client_for(world.dispatcher).get(reverse("dispatch:candidates", args=[world.order.pk]))
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    for person in (world.engineer, world.provider_engineer, world.far, world.unskilled, world.off_duty):
        assert person.username in body
    assert "lacks the skill" in body and "outside their area" in body and "off duty" in body
    assert world.on_leave.username not in body and world.other_provider_engineer.username not in body


@pytest.mark.parametrize("who", ["engineer", "agent", "director", "provider_admin", "customer_user_a"])
def test_dispatch_pages_need_the_dispatch_capability(client_for, world, who):
    client = client_for(getattr(world, who))
    assert client.get(QUEUE).status_code == 403
    assert client.get(order_url(world.order)).status_code == 403
    assert client.get(reverse("dispatch:candidates", args=[world.order.pk])).status_code == 403
    before = snapshot(world.order)
    response = post_action(client, world.order, "dispatch_engineer", engineer=world.engineer.pk)
    assert response.status_code == 403
    assert snapshot(world.order) == before


RUN_RULES = reverse("dispatch:run_rules")


def test_a_dispatcher_runs_the_rules_on_the_waiting_orders(client_for, world):
    from fieldservice.dispatch.rules.services import create_rule

    waiting = [world.order, order_for(world), order_for(world, world.customer_z)]
    client = client_for(world.dispatcher)
    # No rule yet: nothing moves, and the dispatcher is told why.
    response = client.post(RUN_RULES, follow=True)
    assert "no active dispatch rule" in response.content.decode()
    assert {WorkOrder.objects.get(pk=o.pk).status for o in waiting} == {S.NEW}
    assert "Run the rules on the waiting orders" in client.get(QUEUE).content.decode()

    create_rule(actor=world.dispatcher, name="Anyone near", strategy="nearest")
    response = client.post(RUN_RULES, follow=True)
    assert response.redirect_chain[-1][0] == QUEUE
    given = [o for o in waiting if WorkOrder.objects.get(pk=o.pk).status == S.DISPATCHED]
    assert given, "the rule must give out at least one order for this test to mean anything"
    for order in given:
        (lead,) = Assignment.objects.filter(work_order=order, role=AssignmentRole.LEAD)
        assert lead.rule is not None and lead.assigned_by is None
    page = response.content.decode()
    assert f"Of {len(waiting)} orders in the queue, {len(waiting)} were free for the rules" in page
    assert f"The rules gave out {len(given)} and put 0 in the grab pool" in page
    assert client.get(RUN_RULES).status_code == 405


@pytest.mark.parametrize("who", ["engineer", "agent", "provider_admin", "customer_user_a"])
def test_only_dispatchers_run_the_rules(client_for, world, who):
    from fieldservice.dispatch.rules.services import create_rule

    create_rule(actor=world.dispatcher, name="Anyone near", strategy="nearest")
    before = snapshot(world.order)
    assert client_for(getattr(world, who)).post(RUN_RULES).status_code == 403
    assert snapshot(world.order) == before


def test_an_unknown_order_is_404(client_for, world):
    assert client_for(world.dispatcher).get(reverse("dispatch:order", args=[999999])).status_code == 404


# One order's dispatch page


def test_order_page_shows_the_summary_and_every_candidate(client_for, world):
    response = client_for(world.dispatcher).get(order_url(world.order))
    assert response.status_code == 200
    body = response.content.decode()
    assert world.order.number in body and "Plant A" in body and "Oil temperature" in body
    for person in (world.engineer, world.provider_engineer, world.far, world.unskilled, world.elsewhere):
        assert person.username in body
    assert 'value="dispatch_engineer"' in body and 'value="dispatch_provider"' in body
    assert "Provider B" in body


def test_dispatch_to_an_engineer_with_the_form(client_for, world):
    response = post_action(client_for(world.dispatcher), world.order, "dispatch_engineer", engineer=world.engineer.pk)
    assert response.status_code == 302 and response["Location"] == order_url(world.order)
    assert snapshot(world.order) == (S.DISPATCHED, [(world.engineer.pk, None, A.OFFERED)])
    page = client_for(world.dispatcher).get(order_url(world.order)).content.decode()
    assert "Waiting for acceptance" in page
    assert 'value="revoke_lead"' in page and 'value="add_helper"' in page


def test_dispatch_to_a_provider_with_the_form(client_for, world):
    response = post_action(client_for(world.dispatcher), world.order, "dispatch_provider", provider=world.provider.pk)
    assert response.status_code == 302
    assert snapshot(world.order) == (S.DISPATCHED, [(None, world.provider.pk, A.OFFERED)])


def test_service_field_errors_show_on_the_form_and_nothing_changes(client_for, world):
    client = client_for(world.dispatcher)
    response = post_action(client, world.order, "dispatch_engineer", engineer=world.on_leave.pk)
    assert response.status_code == 200
    assert f"{world.on_leave.username} is on leave." in response.content.decode()
    # An engineer the order cannot be given to is not even a choice.
    response = post_action(client, world.order, "dispatch_engineer", engineer=world.other_provider_engineer.pk)
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert snapshot(world.order) == (S.NEW, [])


def test_a_domain_error_is_a_message_and_nothing_changes(client_for, world):
    client = client_for(world.dispatcher)
    post_action(client, world.order, "dispatch_engineer", engineer=world.engineer.pk)
    before = snapshot(world.order)
    response = post_action(client, world.order, "dispatch_engineer", engineer=world.far.pk, follow=True)
    assert "already has a lead engineer or provider" in response.content.decode()
    assert snapshot(world.order) == before
    response = post_action(client, world.order, "nonsense", follow=True)
    assert "Unknown action." in response.content.decode()


def test_reassign_revoke_and_helpers_with_the_forms(client_for, world):
    client = client_for(world.dispatcher)
    post_action(client, world.order, "dispatch_engineer", engineer=world.engineer.pk)
    response = post_action(client, world.order, "reassign", engineer=world.far.pk, reason="")
    assert response.status_code == 200 and "Give a reason." in response.content.decode()
    assert snapshot(world.order) == (S.DISPATCHED, [(world.engineer.pk, None, A.OFFERED)])

    assert post_action(client, world.order, "reassign", engineer=world.far.pk, reason="Nearer").status_code == 302
    assert snapshot(world.order) == (
        S.DISPATCHED,
        [(world.engineer.pk, None, A.REVOKED), (world.far.pk, None, A.OFFERED)],
    )

    assert post_action(client, world.order, "add_helper", engineer=world.engineer.pk).status_code == 302
    helper = Assignment.objects.get(work_order=world.order, role=AssignmentRole.HELPER)
    assert (helper.engineer, helper.status) == (world.engineer, A.OFFERED)
    response = post_action(client, world.order, "revoke_helper", assignment=helper.pk, reason="Not needed")
    assert response.status_code == 302
    helper.refresh_from_db()
    assert helper.status == A.REVOKED

    response = post_action(client, world.order, "revoke_lead", reason="")
    assert "Give a reason." in response.content.decode()
    assert WorkOrder.objects.get(pk=world.order.pk).status == S.DISPATCHED
    assert post_action(client, world.order, "revoke_lead", reason="Customer postponed").status_code == 302
    assert snapshot(world.order)[0] == S.NEW
    response = post_action(client, world.order, "revoke_lead", reason="again", follow=True)
    assert "no lead engineer or provider to revoke" in response.content.decode()


def test_order_pages_of_finished_orders_offer_no_dispatch(client_for, world):
    cancel_work_order(world.order, actor=world.agent, reason="Duplicate")
    body = client_for(world.dispatcher).get(order_url(world.order)).content.decode()
    assert 'value="dispatch_engineer"' not in body and "Cancelled" in body


# The provider admin's queue


def given_to_provider(world, order=None):
    return services.dispatch_to_provider(order or world.order, actor=world.dispatcher, provider=world.provider)


def test_provider_admin_sees_orders_waiting_for_an_engineer_and_assigns_one(client_for, world):
    assignment = given_to_provider(world)
    client = client_for(world.provider_admin)
    body = client.get(PROVIDER_QUEUE).content.decode()
    assert world.order.number in body and world.provider_engineer.username in body
    # Only their own engineers are offered.
    assert f'value="{world.engineer.pk}"' not in body
    response = client.post(
        reverse("dispatch:provider_assign", args=[assignment.pk]),
        {f"a{assignment.pk}-engineer": world.provider_engineer.pk},
    )
    assert response.status_code == 302 and response["Location"] == PROVIDER_QUEUE
    assignment.refresh_from_db()
    assert assignment.engineer == world.provider_engineer
    body = client.get(PROVIDER_QUEUE).content.decode()
    assert "No orders are waiting for an engineer." in body
    assert "Our orders in progress" in body and world.order.number in body


def test_provider_admin_rejects_with_a_reason(client_for, world):
    assignment = given_to_provider(world)
    client = client_for(world.provider_admin)
    url = reverse("dispatch:provider_reject", args=[assignment.pk])
    response = client.post(url, {f"r{assignment.pk}-reason": ""})
    assert response.status_code == 200 and "Say why you reject the order." in response.content.decode()
    assert WorkOrder.objects.get(pk=world.order.pk).status == S.DISPATCHED
    assert client.post(url, {f"r{assignment.pk}-reason": "Nobody free"}).status_code == 302
    assert WorkOrder.objects.get(pk=world.order.pk).status == S.REJECTED
    response = client.post(url, {f"r{assignment.pk}-reason": "Again"}, follow=True)
    assert "This assignment is already Rejected." in response.content.decode()
    assert Assignment.objects.get(pk=assignment.pk).reason == "Nobody free"


def test_provider_admin_assigning_an_engineer_on_leave_sees_the_field_error(client_for, world):
    set_availability(
        world.provider_engineer.engineer_profile, actor=factories.system_user(), availability=Availability.ON_LEAVE
    )
    assignment = given_to_provider(world)
    response = client_for(world.provider_admin).post(
        reverse("dispatch:provider_assign", args=[assignment.pk]),
        {f"a{assignment.pk}-engineer": world.provider_engineer.pk},
    )
    assert response.status_code == 200 and "is on leave." in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.engineer is None


def test_another_providers_admin_sees_nothing_and_gets_404(client_for, world):
    assignment = given_to_provider(world)
    client = client_for(world.other_provider_admin)
    body = client.get(PROVIDER_QUEUE).content.decode()
    assert world.order.number not in body
    before = snapshot(world.order)
    assign = client.post(
        reverse("dispatch:provider_assign", args=[assignment.pk]),
        {f"a{assignment.pk}-engineer": world.provider_engineer.pk},
    )
    reject = client.post(reverse("dispatch:provider_reject", args=[assignment.pk]), {f"r{assignment.pk}-reason": "x"})
    assert (assign.status_code, reject.status_code) == (404, 404)
    assert snapshot(world.order) == before


@pytest.mark.parametrize("who", ["dispatcher", "engineer", "provider_engineer", "customer_user_a"])
def test_provider_queue_is_for_provider_admins(client_for, world, who):
    assignment = given_to_provider(world)
    client = client_for(getattr(world, who))
    assert client.get(PROVIDER_QUEUE).status_code == 403
    response = client.post(reverse("dispatch:provider_reject", args=[assignment.pk]), {f"r{assignment.pk}-reason": "x"})
    assert response.status_code == 403
    assert WorkOrder.objects.get(pk=world.order.pk).status == S.DISPATCHED


def test_all_candidates_is_a_visible_button_on_the_queue(client_for, world):
    """It was a text-styled button in the top bar's pale grey: invisible on a white page."""
    from pathlib import Path

    import fieldservice

    body = client_for(world.dispatcher).get(QUEUE).content.decode()
    url = reverse("dispatch:candidates", args=[world.order.pk])
    button = re.search(rf'<button [^>]*hx-get="{url}"[^>]*>', body).group(0)
    assert 'class="link"' not in button
    css = (Path(fieldservice.__file__).parent / "static" / "fieldservice" / "app.css").read_text()
    # The pale link colour belongs to the dark top bar only.
    rule = re.search(r"^button\.link \{[^}]*\}", css, re.M).group(0)
    assert "#d9e2ec" not in rule
