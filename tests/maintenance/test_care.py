"""Customer care's services: writing a plan, its moves and their guards, running it (once per
customer, tasks for the right people), recording outcomes, the effect, the periodic check."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from fieldservice.core.errors import DomainError
from fieldservice.core.models import Event, OutboxMessage
from fieldservice.customers.choices import CustomerTier
from fieldservice.maintenance.models import CarePlan, CareTouch
from fieldservice.maintenance.models.care import CarePlanStatus, CareTouchStatus
from fieldservice.maintenance.selectors import care as selectors
from fieldservice.maintenance.services import care as services
from fieldservice.workorders.models import ServiceRequest
from tests import factories
from tests.maintenance import care_helpers as h

pytestmark = pytest.mark.django_db


def _codes(error: ValidationError) -> dict:
    return {field: [e.code for e in errors] for field, errors in error.error_dict.items()}


# Writing -----------------------------------------------------------------------------------------


def test_a_plan_is_written_with_money_dates_and_people(personas):
    customers = h.key_customers(personas.admin, 1)
    plan = h.plan(
        personas.agent,
        method="call",
        chosen=True,
        customers=[customers[0].pk],
        participants=[personas.agent.pk, personas.engineer.pk],
        budget="1200.50",
        currency="cny",
    )
    assert plan.status == CarePlanStatus.PLAN
    assert plan.budget == Decimal("1200.50") and plan.currency == "CNY"
    assert set(plan.participants.all()) == {personas.agent, personas.engineer}
    assert list(plan.customers.all()) == customers
    assert Event.objects.filter(object_pk=str(plan.pk), action="created").exists()


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"name": ""}, "name", "required"),
        ({"occasion": "birthday"}, "occasion", "invalid_choice"),
        ({"method": "fax"}, "method", "invalid_choice"),
        ({"target_tiers": ["gold"]}, "target_tiers", "invalid_choice"),
        ({"budget": "-1"}, "budget", "negative"),
        ({"budget": "1.234"}, "budget", "invalid"),
        ({"body": "{% if %}"}, "body", "template_syntax"),
        ({"subject": "{{ customer|date:'Y' }}{% load x %}"}, "subject", "template_syntax"),
        ({"effect_days": 0}, "effect_days", "out_of_range"),
        ({"customers": [999999]}, "customers", "does_not_exist"),
        ({"unknown": 1}, "unknown", "unknown_field"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(personas, fields, field, code):
    with pytest.raises(ValidationError) as caught:
        h.plan(personas.agent, **fields)
    assert code in _codes(caught.value)[field]
    assert not CarePlan.objects.exists()


def test_the_people_must_be_our_own_active_staff(personas):
    with pytest.raises(ValidationError) as caught:
        h.plan(personas.agent, participants=[personas.provider_engineer.pk])
    assert "participants" in _codes(caught.value)


def test_the_end_cannot_come_before_the_start(personas):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as caught:
        h.plan(personas.agent, starts_on=today, ends_on=today - h.days(1))
    assert "ends_on" in _codes(caught.value)


@pytest.mark.parametrize("who", ["dispatcher", "engineer", "provider_admin", "customer_user_a"])
def test_only_care_managers_write_plans(personas, who):
    with pytest.raises(PermissionDenied):
        h.plan(getattr(personas, who))
    assert not CarePlan.objects.exists()


# Moves -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"method": ""}, "method"),
        ({"body": ""}, "body"),
        ({"method": "email", "subject": ""}, "subject"),
        ({"target_tiers": []}, "target_tiers"),
        ({"target_tiers": [CustomerTier.STRATEGIC]}, "target_tiers"),  # nobody of that tier
        ({"chosen": True}, "customers"),
        ({"method": "call"}, "participants"),
    ],
)
def test_activating_an_incomplete_plan_names_the_missing_field(personas, fields, field):
    h.key_customers(personas.admin, 1)
    plan = h.plan(personas.agent, **fields)
    with pytest.raises(ValidationError) as caught:
        services.activate_care_plan(plan, actor=personas.agent)
    assert field in _codes(caught.value)
    plan.refresh_from_db()
    assert plan.status == CarePlanStatus.PLAN


@pytest.mark.parametrize(
    ("state", "verb"),
    [
        ("plan", "run"),
        ("plan", "close"),
        ("active", "activate"),
        ("active", "close"),
        ("running", "activate"),
        ("running", "invalidate"),
        ("closed", "run"),
        ("closed", "invalidate"),
        ("invalid", "activate"),
        ("invalid", "run"),
    ],
)
def test_illegal_moves_are_refused_with_a_code_and_change_nothing(personas, state, verb):
    h.key_customers(personas.admin, 1)
    plan = h.plan(personas.agent)
    if state != "plan" and state != "invalid":
        services.activate_care_plan(plan, actor=personas.agent)
    if state in ("running", "closed"):
        services.run_care_plan(plan, actor=personas.agent)
    if state == "closed":
        services.close_care_plan(plan, actor=personas.agent)
    if state == "invalid":
        services.invalidate_care_plan(plan, actor=personas.agent, reason="Duplicate")
    plan.refresh_from_db()
    assert plan.status == state
    touches, events = CareTouch.objects.count(), Event.objects.count()
    moves = {
        "activate": lambda: services.activate_care_plan(plan, actor=personas.agent),
        "run": lambda: services.run_care_plan(plan, actor=personas.agent),
        "close": lambda: services.close_care_plan(plan, actor=personas.agent),
        "invalidate": lambda: services.invalidate_care_plan(plan, actor=personas.agent, reason="x"),
    }
    with pytest.raises(DomainError) as caught:
        moves[verb]()
    assert caught.value.code == "illegal_transition"
    plan.refresh_from_db()
    assert plan.status == state
    assert (CareTouch.objects.count(), Event.objects.count()) == (touches, events)


def test_invalidating_needs_a_reason_and_keeps_it(personas):
    plan = h.plan(personas.agent)
    with pytest.raises(ValidationError) as caught:
        services.invalidate_care_plan(plan, actor=personas.agent, reason="  ")
    assert "reason" in _codes(caught.value)
    services.invalidate_care_plan(plan, actor=personas.agent, reason="Budget withdrawn")
    plan.refresh_from_db()
    assert (plan.status, plan.invalid_reason) == (CarePlanStatus.INVALID, "Budget withdrawn")
    with pytest.raises(DomainError):
        services.update_care_plan(plan, actor=personas.agent, name="Again")


def test_a_running_plan_takes_only_its_cost_and_end(personas):
    h.key_customers(personas.admin, 1)
    plan = h.running(personas.agent)
    with pytest.raises(DomainError) as caught:
        services.update_care_plan(plan, actor=personas.agent, body="New text")
    assert caught.value.code == "plan_running"
    services.update_care_plan(plan, actor=personas.agent, actual_cost="320.00")
    plan.refresh_from_db()
    assert plan.actual_cost == Decimal("320.00")
    assert plan.body.startswith("尊敬的")


def test_an_active_plan_edited_must_stay_complete(personas):
    h.key_customers(personas.admin, 1)
    plan = h.plan(personas.agent)
    services.activate_care_plan(plan, actor=personas.agent)
    with pytest.raises(ValidationError) as caught:
        services.update_care_plan(plan, actor=personas.agent, body="")
    assert "body" in _codes(caught.value)
    plan.refresh_from_db()
    assert plan.body


# Running -----------------------------------------------------------------------------------------


def test_running_touches_each_targeted_customer_once_and_again_adds_only_new_ones(personas):
    key = h.key_customers(personas.admin, 3)
    factories.customer(actor=personas.admin, tier=CustomerTier.STANDARD)  # not targeted
    plan = h.plan(personas.agent)
    services.activate_care_plan(plan, actor=personas.agent)
    first = services.run_care_plan(plan, actor=personas.agent)
    assert (first.created, first.messages) == (3, 3)
    assert set(CareTouch.objects.values_list("customer_id", flat=True)) == {c.pk for c in key}
    messages = OutboxMessage.objects.filter(topic=services.EVENT).count()

    again = services.run_care_plan(plan, actor=personas.agent)
    assert again.created == 0
    assert CareTouch.objects.count() == 3
    assert OutboxMessage.objects.filter(topic=services.EVENT).count() == messages

    newcomer = h.key_customers(personas.admin, 1)[0]
    later = services.run_care_plan(plan, actor=personas.agent)
    assert later.created == 1
    assert CareTouch.objects.filter(customer=newcomer).count() == 1
    plan.refresh_from_db()
    assert plan.status == CarePlanStatus.RUNNING and plan.run_at is not None


def test_the_text_is_rendered_for_each_customer(personas):
    customer = h.key_customers(personas.admin, 1)[0]
    h.running(personas.agent)
    touch = CareTouch.objects.get(customer=customer)
    assert touch.body == f"尊敬的王经理 0：{personas.own.name}祝{customer.name}新春快乐！"
    assert touch.to_phone == customer.contacts.get().phone
    assert touch.status == CareTouchStatus.SENT


def test_calls_become_tasks_for_the_people_named_the_account_owner_first(personas):
    customers = h.key_customers(personas.admin, 4)
    customers[0].account_owner = personas.director
    customers[0].save()
    plan = h.running(
        personas.agent, method="call", participants=[personas.agent.pk, personas.director.pk, personas.engineer.pk]
    )
    touches = {t.customer_id: t for t in CareTouch.objects.filter(plan=plan)}
    assert touches[customers[0].pk].assignee == personas.director
    assert {t.assignee_id for t in touches.values()} <= {personas.agent.pk, personas.director.pk, personas.engineer.pk}
    assert {t.status for t in touches.values()} == {CareTouchStatus.OPEN}
    # Spread over the people, not all on one.
    assert len({t.assignee_id for t in touches.values()}) >= 2
    assert not OutboxMessage.objects.filter(topic=services.EVENT).exists()
    # Each sees his own in "My care tasks", nobody else's.
    for person in (personas.agent, personas.director, personas.engineer):
        mine = selectors.care_tasks_for(person)
        assert {t.pk for t in mine} == {t.pk for t in touches.values() if t.assignee_id == person.pk}


def test_an_email_goes_to_a_contact_with_an_address_or_is_skipped(personas):
    with_mail = h.key_customers(personas.admin, 1)[0]
    without = factories.customer(actor=personas.admin, tier=CustomerTier.KEY)
    factories.contact(without, actor=personas.admin)
    summary = services.run_care_plan(
        services.activate_care_plan(h.plan(personas.agent, method="email"), actor=personas.agent), actor=personas.agent
    )
    assert (summary.messages, summary.skipped) == (1, 1)
    assert CareTouch.objects.get(customer=with_mail).status == CareTouchStatus.SENT
    assert CareTouch.objects.get(customer=without).status == CareTouchStatus.SKIPPED


def test_the_periodic_check_runs_active_plans_whose_start_has_come(personas):
    h.key_customers(personas.admin, 2)
    today = timezone.localdate()
    due = h.plan(personas.agent, starts_on=today)
    later = h.plan(personas.agent, starts_on=today + h.days(3))
    draft = h.plan(personas.agent, starts_on=today)
    for plan in (due, later):
        services.activate_care_plan(plan, actor=personas.agent)
    assert services.run_due_care_plans(today) == {"plans_run": 1, "customers_touched": 2}
    assert services.run_due_care_plans(today) == {"plans_run": 0, "customers_touched": 0}
    statuses = dict(CarePlan.objects.values_list("pk", "status"))
    assert statuses == {due.pk: "running", later.pk: "active", draft.pk: "plan"}


# Outcomes and effect -----------------------------------------------------------------------------


def _call_plan(personas, count=3):
    customers = h.key_customers(personas.admin, count)
    plan = h.running(personas.agent, method="call", participants=[personas.agent.pk], actual_cost="300.00")
    return plan, customers


def test_the_assignee_records_an_outcome_and_may_correct_it(personas):
    plan, _customers = _call_plan(personas, 1)
    touch = CareTouch.objects.get(plan=plan)
    services.record_care_outcome(touch, actor=personas.agent, outcome="no_answer")
    services.record_care_outcome(touch, actor=personas.agent, outcome="lead", note="Wants a second machine")
    touch.refresh_from_db()
    assert (touch.status, touch.outcome, touch.outcome_note) == ("done", "lead", "Wants a second machine")
    assert touch.done_by == personas.agent


def test_nobody_else_records_an_outcome_and_bad_outcomes_are_refused(personas):
    plan, _customers = _call_plan(personas, 1)
    touch = CareTouch.objects.get(plan=plan)
    for outsider in (personas.dispatcher, personas.engineer, personas.customer_user_a, personas.provider_admin):
        with pytest.raises(PermissionDenied):
            services.record_care_outcome(touch, actor=outsider, outcome="reached")
    with pytest.raises(ValidationError) as caught:
        services.record_care_outcome(touch, actor=personas.agent, outcome="maybe")
    assert "outcome" in _codes(caught.value)
    # A care manager who is not the assignee may (the director covers for an absent agent).
    services.record_care_outcome(touch, actor=personas.director, outcome="reached")
    services.close_care_plan(plan, actor=personas.agent)
    with pytest.raises(DomainError) as closed:
        services.record_care_outcome(touch, actor=personas.agent, outcome="refused")
    assert closed.value.code == "plan_not_running"
    touch.refresh_from_db()
    assert touch.outcome == "reached"


def test_a_message_touch_has_no_outcome(personas):
    h.key_customers(personas.admin, 1)
    plan = h.running(personas.agent)
    touch = CareTouch.objects.get(plan=plan)
    with pytest.raises(DomainError) as caught:
        services.record_care_outcome(touch, actor=personas.agent, outcome="reached")
    assert caught.value.code == "not_a_task"


def test_the_effect_counts_responses_leads_and_requests_in_the_window(personas):
    plan, customers = _call_plan(personas, 3)
    a, b, c = customers
    touches = {t.customer_id: t for t in CareTouch.objects.filter(plan=plan)}
    services.record_care_outcome(touches[a.pk], actor=personas.agent, outcome="lead")
    services.record_care_outcome(touches[b.pk], actor=personas.agent, outcome="no_answer")
    services.record_care_outcome(touches[c.pk], actor=personas.agent, outcome="reached")
    touched_at = touches[a.pk].touched_at
    inside = factories.service_request(a, actor=personas.agent)
    factories.service_request(b, actor=personas.agent)
    before = factories.service_request(c, actor=personas.agent)
    late = factories.service_request(c, actor=personas.agent)
    proactive = factories.service_request(a, actor=personas.agent, channel="proactive")
    ServiceRequest.objects.filter(pk=before.pk).update(created_at=touched_at - h.days(1))
    ServiceRequest.objects.filter(pk=late.pk).update(created_at=touched_at + h.days(plan.effect_days + 1))
    other = factories.service_request(personas.customer_z, actor=personas.agent)  # not touched
    assert inside and proactive and other

    effect = selectors.effect_of(plan)
    assert (effect.touched, effect.done, effect.responses, effect.leads) == (3, 3, 2, 1)
    assert effect.requests == 2  # a's and b's; not c's before or after the window, nor ours, nor Z's
    assert effect.cost_per_response == Decimal("150.00")
    listed = selectors.with_effect(CarePlan.objects.filter(pk=plan.pk)).get()
    assert (listed.effect_requests, listed.effect_responses) == (2, 2)


def test_no_response_has_no_cost_per_response(personas):
    plan, _customers = _call_plan(personas, 1)
    assert selectors.effect_of(plan).cost_per_response is None


def test_preview_renders_for_one_customer_and_checks_like_saving(personas):
    customer = h.key_customers(personas.admin, 1)[0]
    subject, body = services.preview_content(
        actor=personas.agent, subject="致 {{ customer }}", body="{{ contact }}，您好", customer=customer
    )
    assert (subject, body) == (f"致 {customer.name}", "王经理 0，您好")
    with pytest.raises(ValidationError) as caught:
        services.preview_content(actor=personas.agent, subject="", body="{% for %}")
    assert "body" in _codes(caught.value)
    with pytest.raises(PermissionDenied):
        services.preview_content(actor=personas.customer_user_a, subject="", body="x")
