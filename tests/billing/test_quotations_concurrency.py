"""A revision and an approval of the same quotation at the same moment (the office changes the
price while the customer taps "approve"): the row lock orders them, so either the approval wins
and the revision is refused, or the revision wins and the approval of the replaced version is
refused. Never an approved quotation whose fee lines come from a version that was replaced."""

import datetime as dt

import pytest
from django.utils import timezone

from fieldservice.billing.choices import DecisionChannel, FeeKind, QuotationStatus
from fieldservice.billing.models import FeeLine, Quotation
from fieldservice.billing.services import quotations as q
from fieldservice.core.errors import DomainError
from tests.concurrency import run_concurrently

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


@pytest.mark.parametrize("attempt", range(4))
def test_revision_and_approval_never_cross(prices, attempt):
    p = prices
    quotation = q.create_quotation(
        p.order,
        actor=p.agent,
        lines=[{"kind": FeeKind.PART, "part": p.motor, "quantity": "1"}],
        valid_until=timezone.localdate() + dt.timedelta(days=7),
        tax_rate="13",
    )
    q.send_quotation(quotation, actor=p.agent)
    token = p.order.request.follow_token

    def revise():
        return q.revise_quotation(
            Quotation.objects.get(pk=quotation.pk),
            actor=p.agent,
            lines=[{"kind": FeeKind.PART, "part": p.motor, "quantity": "2"}],
            valid_until=timezone.localdate() + dt.timedelta(days=7),
            tax_rate="13",
        )

    def approve():
        return q.approve_quotation(
            Quotation.objects.get(pk=quotation.pk), version=1, channel=DecisionChannel.FOLLOW_LINK, follow_token=token
        )

    outcomes = run_concurrently(revise, approve)
    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], outcomes
    error = next(value for kind, value in outcomes if kind == "error")
    quotation.refresh_from_db()
    fees = list(FeeLine.objects.filter(quotation=quotation))
    if quotation.status == QuotationStatus.APPROVED:
        assert isinstance(error, DomainError) and error.code == "quotation_approved"
        assert quotation.version == 1 and [f.quantity for f in fees] == [1]
    else:
        assert isinstance(error, DomainError) and error.code == "quotation_replaced"
        assert quotation.version == 2 and quotation.status == QuotationStatus.SENT and fees == []
