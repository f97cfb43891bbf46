"""Evaluations: once per finished order, scores checked field by field, low scores flag a call
back that an agent records once; the engineers' scores average what they led."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fieldservice.core.errors import DomainError
from fieldservice.dispatch.assignments.services import accept_assignment, dispatch_to_engineer, revoke_assignment
from fieldservice.dispatch.choices import AssignmentStatus
from fieldservice.dispatch.models import Assignment
from fieldservice.feedback import selectors, services
from fieldservice.feedback.models import Evaluation
from fieldservice.workorders.models import WorkOrderEvent
from fieldservice.workorders.services.lifecycle import cancel_work_order, transition
from tests.feedback.conftest import SCORES


def test_a_completed_order_is_rated_and_the_service_log_says_so(make_order, evaluate):
    order = make_order("completed")
    evaluation = evaluate(order, comment="  Quick and tidy  ")
    assert evaluation.work_order == order
    assert evaluation.scores == SCORES
    assert evaluation.comment == "Quick and tidy"
    assert evaluation.needs_callback is False
    entry = WorkOrderEvent.objects.filter(work_order=order).latest("pk")
    assert (entry.action, entry.actor, entry.payload) == ("evaluated", None, SCORES)


def test_a_closed_order_can_be_rated(make_order, evaluate):
    order = make_order("closed")
    evaluation = evaluate(order)
    assert list(Evaluation.objects.filter(work_order=order)) == [evaluation]


def test_a_second_answer_is_refused_and_only_one_row_stays(make_order, evaluate):
    order = make_order("completed")
    evaluate(order, overall=5)
    with pytest.raises(DomainError) as excinfo:
        evaluate(order, overall=1)
    assert excinfo.value.code == "already_evaluated"
    assert Evaluation.objects.filter(work_order=order).count() == 1
    assert Evaluation.objects.get(work_order=order).overall == 5
    assert WorkOrderEvent.objects.filter(work_order=order, action="evaluated").count() == 1


@pytest.mark.parametrize("field", ["overall", "timeliness", "attitude", "quality"])
@pytest.mark.parametrize("bad", [0, 6, -1, "", None, "great", 4.5, True])
def test_a_bad_score_is_an_error_on_its_field(make_order, evaluate, field, bad):
    order = make_order("completed")
    with pytest.raises(ValidationError) as excinfo:
        evaluate(order, **{field: bad})
    assert set(excinfo.value.error_dict) == {field}
    assert not Evaluation.objects.filter(work_order=order).exists()
    assert not WorkOrderEvent.objects.filter(work_order=order, action="evaluated").exists()


def test_scores_given_as_digits_are_accepted(make_order, evaluate):
    evaluation = evaluate(make_order("completed"), overall="3")
    assert evaluation.overall == 3


def test_every_bad_score_is_named_at_once(make_order, evaluate):
    with pytest.raises(ValidationError) as excinfo:
        evaluate(make_order("completed"), overall=0, quality=9)
    assert set(excinfo.value.error_dict) == {"overall", "quality"}


def test_a_too_long_comment_is_an_error_on_the_comment(make_order, evaluate):
    order = make_order("completed")
    with pytest.raises(ValidationError) as excinfo:
        evaluate(order, comment="x" * 2001)
    assert set(excinfo.value.error_dict) == {"comment"}
    assert not Evaluation.objects.exists()


@pytest.mark.parametrize("until", ["new", "dispatched", "accepted", "travelling", "on_site"])
def test_an_unfinished_order_cannot_be_rated(make_order, evaluate, until):
    order = make_order(until)
    with pytest.raises(DomainError) as excinfo:
        evaluate(order)
    assert excinfo.value.code == "not_completed"
    assert not Evaluation.objects.exists()


def test_a_cancelled_order_cannot_be_rated(world, make_order, evaluate):
    order = cancel_work_order(make_order("accepted"), actor=world.dispatcher, reason="Customer fixed it")
    with pytest.raises(DomainError) as excinfo:
        evaluate(order)
    assert excinfo.value.code == "not_completed"


def test_the_token_of_another_request_is_refused(make_order):
    order, other = make_order("completed"), make_order("completed", customer="z")
    with pytest.raises(PermissionDenied):
        services.submit_evaluation(order, follow_token=other.request.follow_token, **SCORES)
    with pytest.raises(PermissionDenied):
        services.submit_evaluation(order, follow_token="", **SCORES)
    assert not Evaluation.objects.exists()


@pytest.mark.parametrize(
    ("scores", "flagged"),
    [
        ({}, False),
        ({"overall": 3, "timeliness": 3, "attitude": 3, "quality": 3}, False),
        ({"overall": 2}, True),
        ({"timeliness": 1}, True),
        ({"attitude": 2}, True),
        ({"quality": 2}, True),
    ],
)
def test_a_low_score_asks_for_a_call_back(make_order, evaluate, world, scores, flagged):
    evaluation = evaluate(make_order("completed"), **scores)
    assert services.CALLBACK_THRESHOLD == 2
    assert evaluation.needs_callback is flagged
    assert (evaluation in selectors.callbacks_due_for(world.agent)) is flagged


def test_a_call_back_is_recorded_once(make_order, evaluate, world):
    evaluation = evaluate(make_order("completed"), overall=1, comment="Came two days late")
    recorded = services.record_callback(evaluation, actor=world.agent, result="  Apologised; discount on next visit ")
    assert recorded.callback_result == "Apologised; discount on next visit"
    assert recorded.callback_by == world.agent and recorded.callback_at is not None
    assert evaluation not in selectors.callbacks_due_for(world.agent)
    with pytest.raises(DomainError) as excinfo:
        services.record_callback(evaluation, actor=world.agent, result="Called again")
    assert excinfo.value.code == "callback_recorded"
    evaluation.refresh_from_db()
    assert evaluation.callback_result == "Apologised; discount on next visit"
    assert WorkOrderEvent.objects.filter(work_order=evaluation.work_order, action="callback_recorded").count() == 1


def test_a_call_back_needs_a_result(make_order, evaluate, world):
    evaluation = evaluate(make_order("completed"), overall=1)
    with pytest.raises(ValidationError) as excinfo:
        services.record_callback(evaluation, actor=world.agent, result="   ")
    assert set(excinfo.value.error_dict) == {"result"}
    evaluation.refresh_from_db()
    assert evaluation.callback_at is None


@pytest.mark.parametrize("who", ["director", "dispatcher", "engineer", "customer_user_a", "provider_admin"])
def test_only_agents_record_call_backs(make_order, evaluate, world, who):
    evaluation = evaluate(make_order("completed"), overall=1)
    with pytest.raises(PermissionDenied):
        services.record_callback(evaluation, actor=getattr(world, who), result="Called")
    evaluation.refresh_from_db()
    assert evaluation.callback_at is None
    assert not selectors.callbacks_due_for(getattr(world, who)).exists()


def test_evaluations_are_scoped_like_their_orders(make_order, evaluate, world):
    mine = evaluate(make_order("completed"))
    theirs = evaluate(make_order("completed", customer="z", engineer=world.chen))
    assert set(selectors.evaluations_for(world.agent)) == {mine, theirs}
    assert set(selectors.evaluations_for(world.customer_user_a)) == {mine}
    assert set(selectors.evaluations_for(world.customer_user_z)) == {theirs}
    assert set(selectors.evaluations_for(world.wang)) == {mine}
    assert set(selectors.evaluations_for(world.other_provider_admin)) == set()


def test_engineer_scores_average_the_orders_each_engineer_led(make_order, evaluate, world):
    evaluate(make_order("completed", engineer=world.wang), overall=5)
    evaluate(make_order("closed", engineer=world.wang), overall=4)
    evaluate(make_order("completed", engineer=world.wang), overall=4)
    make_order("completed", engineer=world.wang)  # not rated: not counted
    evaluate(make_order("completed", customer="z", engineer=world.chen), overall=2)
    scores = selectors.engineer_scores()
    assert scores[world.wang.pk].count == 3
    assert scores[world.wang.pk].average == pytest.approx(13 / 3)
    assert (scores[world.chen.pk].average, scores[world.chen.pk].count) == (2.0, 1)
    assert world.engineer.pk not in scores
    assert set(selectors.engineer_scores([world.chen])) == {world.chen.pk}
    assert selectors.engineer_scores([]) == {}


def test_only_the_accepted_lead_gets_the_score(make_order, evaluate, world):
    """Wang accepted, was taken off; Chen led the work. A helper is not scored either."""
    from fieldservice.dispatch.assignments.services import add_helper
    from tests.feedback.conftest import named_engineer

    helper = named_engineer("Helper Hu")
    order = make_order("accepted", engineer=world.wang)
    first = Assignment.objects.get(work_order=order, engineer=world.wang)
    revoke_assignment(first, actor=world.dispatcher, reason="Needed elsewhere")
    second = dispatch_to_engineer(order, actor=world.dispatcher, engineer=world.chen)
    accept_assignment(second, actor=world.chen)
    accept_assignment(add_helper(order, actor=world.dispatcher, engineer=helper), actor=helper)
    for verb in ("check_in", "complete"):
        transition(order, verb, actor=world.chen)
    evaluate(order, overall=3)
    assert Assignment.objects.get(pk=first.pk).status == AssignmentStatus.REVOKED
    scores = selectors.engineer_scores()
    assert set(scores) == {world.chen.pk}
    assert scores[world.chen.pk].average == 3.0


def test_average_scores(make_order, evaluate, world):
    evaluate(make_order("completed"), overall=5, timeliness=4, attitude=5, quality=3)
    evaluate(make_order("completed"), overall=2, timeliness=3, attitude=4, quality=2)
    averages = selectors.average_scores(selectors.evaluations_for(world.director))
    assert averages == {"count": 2, "overall": 3.5, "timeliness": 3.5, "attitude": 4.5, "quality": 2.5}
    empty = selectors.average_scores(selectors.evaluations_for(world.other_provider_admin))
    assert empty["count"] == 0 and empty["overall"] is None
