"""Two answers for one order at the same moment (a double tap, two phones): exactly one row,
and the other gets the "already evaluated" refusal, never a server error."""

import pytest

from fieldservice.core.errors import DomainError
from fieldservice.feedback.models import Evaluation
from fieldservice.feedback.services import submit_evaluation
from tests.concurrency import run_concurrently
from tests.feedback.conftest import SCORES

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


@pytest.mark.parametrize("attempt", range(5))
def test_two_answers_at_once_leave_one_evaluation(make_order, attempt):
    order = make_order("completed")
    token = order.request.follow_token

    def answer(overall):
        return lambda: submit_evaluation(order, follow_token=token, **{**SCORES, "overall": overall})

    outcomes = run_concurrently(answer(5), answer(1))
    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], outcomes
    error = next(value for kind, value in outcomes if kind == "error")
    assert isinstance(error, DomainError) and error.code == "already_evaluated"
    assert Evaluation.objects.filter(work_order=order).count() == 1
