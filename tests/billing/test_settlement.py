"""Settlement services: rules, amounts per basis, generation (once per order, however often it
runs), the statement's life (dispute → correct → confirm → approve → settle) and adjustments."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError

from fieldservice.accounts.models import EngineerProfile, ServiceTeam
from fieldservice.billing.models import OrderMargin, SettlementRule, Statement, StatementLine
from fieldservice.billing.services import settlement as svc
from fieldservice.core.errors import DomainError
from fieldservice.core.models import Event
from tests import factories
from tests.billing.settlement_data import APRIL, MARCH, closed_order

pytestmark = pytest.mark.django_db


def events_of(obj):
    return Event.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_pk=str(obj.pk))


def generate(actor, period=MARCH):
    return svc.generate_statements(actor=actor, period_start=period[0], period_end=period[1])


def rule(actor, basis, rate, **fields):
    return svc.create_rule(actor=actor, name=f"{basis} {rate}", basis=basis, rate=rate, **fields)


# Rules ------------------------------------------------------------------------------------------


def test_rules_are_validated_and_nothing_is_written(personas):
    director = personas.director
    bad = [
        ({"basis": "labour_share", "rate": "120"}, "rate"),
        ({"basis": "per_order", "rate": "-1"}, "rate"),
        ({"basis": "per_order", "rate": "abc"}, "rate"),
        ({"basis": "score_bonus", "rate": "10"}, "threshold"),
        ({"basis": "score_bonus", "rate": "10", "threshold": "6"}, "threshold"),
        ({"basis": "score_deduction", "rate": "10", "threshold": "0"}, "threshold"),
        ({"basis": "nonsense", "rate": "10"}, "basis"),
        ({"basis": "per_order", "rate": "10", "service_type": "nope"}, "service_type"),
    ]
    for values, field in bad:
        with pytest.raises(ValidationError) as error:
            svc.create_rule(actor=director, name="Bad", **values)
        assert field in error.value.error_dict, values
    team = ServiceTeam.objects.create(name="North", organisation=personas.own)
    with pytest.raises(ValidationError) as error:
        svc.create_rule(actor=director, name="Both", basis="per_order", rate="1", provider=personas.provider, team=team)
    assert "team" in error.value.error_dict
    with pytest.raises(ValidationError):
        svc.create_rule(actor=director, name="Own", basis="per_order", rate="1", provider=personas.own)
    assert not SettlementRule.objects.exists()


def test_only_the_settlement_manager_writes_rules(personas):
    for who in (personas.agent, personas.engineer, personas.provider_admin, personas.customer_user_a):
        with pytest.raises(PermissionDenied):
            svc.create_rule(actor=who, name="x", basis="per_order", rate="1")
    assert not SettlementRule.objects.exists()


def test_update_and_deactivate_a_rule_leave_events(personas):
    made = rule(personas.director, "per_order", "50")
    svc.update_rule(made, actor=personas.director, rate="60")
    made.refresh_from_db()
    assert made.rate == Decimal("60")
    svc.deactivate_rule(made, actor=personas.director)
    made.refresh_from_db()
    assert not made.is_active
    with pytest.raises(DomainError) as error:
        svc.deactivate_rule(made, actor=personas.director)
    assert error.value.code == "already_inactive"
    assert list(events_of(made).order_by("pk").values_list("action", flat=True)) == ["created", "updated", "updated"]


# Amounts ----------------------------------------------------------------------------------------


def test_amount_per_basis_for_a_provider(personas):
    d = personas.director
    p = personas.provider
    rule(d, "per_order", "80", provider=p)
    rule(d, "per_order", "150", provider=p, service_type="installation")  # not this order's type
    rule(d, "per_hour", "40", provider=p)
    rule(d, "per_km", "1.50", provider=p)
    rule(d, "labour_share", "30", provider=p)
    rule(d, "parts_fee", "5", provider=p)
    rule(d, "score_bonus", "20", provider=p, threshold="4")
    rule(d, "score_deduction", "30", provider=p, threshold="2")
    rule(d, "sla_bonus", "10", provider=p)
    rule(d, "sla_deduction", "50", provider=p)
    rule(d, "per_order", "999", provider=personas.other_provider)  # another provider's
    rule(d, "per_order", "777")  # our engineers'
    order = closed_order(provider=p, hours="2.5", labour="600", km="40", parts="1000", score=5, sla="met")
    generate(d)
    line = StatementLine.objects.get(work_order=order)
    # 80 + 2.5 × 40 + 40 × 1.5 + 30% of 600 + 5% of 1000 + 20 (rated 5 ≥ 4) + 10 (SLA met)
    assert line.amount == Decimal("80") + 100 + 60 + 180 + 50 + 20 + 10
    bases = {part["basis"]: Decimal(part["amount"]) for part in line.breakdown}
    assert bases == {
        "per_order": Decimal("80"),
        "per_hour": Decimal("100.00"),
        "per_km": Decimal("60.00"),
        "labour_share": Decimal("180.00"),
        "parts_fee": Decimal("50.00"),
        "score_bonus": Decimal("20"),
        "sla_bonus": Decimal("10"),
    }
    assert line.statement.provider == p
    assert line.statement.party_kind == "provider"


def test_deductions_for_a_poor_rating_and_a_breached_sla(personas):
    d = personas.director
    p = personas.provider
    rule(d, "per_order", "80", provider=p)
    rule(d, "score_deduction", "30", provider=p, threshold="2")
    rule(d, "score_bonus", "20", provider=p, threshold="4")
    rule(d, "sla_deduction", "50", provider=p)
    rule(d, "sla_bonus", "10", provider=p)
    order = closed_order(provider=p, score=2, sla="breached")
    generate(d)
    line = StatementLine.objects.get(work_order=order)
    assert line.amount == Decimal("0")  # 80 − 30 − 50
    assert {part["basis"] for part in line.breakdown} == {"per_order", "score_deduction", "sla_deduction"}


def test_engineer_rules_by_team_else_general_and_by_service_type(personas):
    d = personas.director
    north = ServiceTeam.objects.create(name="North", organisation=personas.own)
    south = ServiceTeam.objects.create(name="South", organisation=personas.own)
    in_north = factories.engineer(personas.own)
    EngineerProfile.objects.filter(user=in_north).update(team=north)
    in_south = factories.engineer(personas.own)
    EngineerProfile.objects.filter(user=in_south).update(team=south)
    rule(d, "per_order", "60", team=north)
    rule(d, "per_order", "90", team=north, service_type="installation")
    rule(d, "per_order", "50")
    rule(d, "per_hour", "30")
    repair = closed_order(engineer=in_north, hours="2")
    install = closed_order(engineer=in_north, service_type="installation")
    southern = closed_order(engineer=in_south, hours="2")
    plain = closed_order(engineer=personas.engineer, hours="1")
    generate(d)
    amount = dict(StatementLine.objects.values_list("work_order_id", "amount"))
    assert amount[repair.pk] == Decimal("60")  # the team's rules only
    assert amount[install.pk] == Decimal("90")  # its service type wins over "any"
    assert amount[southern.pk] == Decimal("110")  # no team rules: the general ones (50 + 2 × 30)
    assert amount[plain.pk] == Decimal("80")
    statement = Statement.objects.get(engineer=in_north)
    assert (statement.order_count, statement.total, statement.party_kind) == (2, Decimal("150"), "engineer")


def test_a_provider_engineers_order_goes_to_the_provider(personas):
    rule(personas.director, "per_order", "80", provider=personas.provider)
    order = closed_order(engineer=personas.provider_engineer)
    generate(personas.director)
    line = StatementLine.objects.get(work_order=order)
    assert line.statement.provider == personas.provider
    assert line.party_key == f"p{personas.provider.pk}"


def test_only_orders_closed_in_the_period_by_local_date(personas):
    rule(personas.director, "per_order", "50")
    inside_first = closed_order(engineer=personas.engineer, on=dt.date(2026, 3, 1), hour=0)
    inside_last = closed_order(engineer=personas.engineer, on=dt.date(2026, 3, 31), hour=23)
    before = closed_order(engineer=personas.engineer, on=dt.date(2026, 2, 28), hour=23)
    after = closed_order(engineer=personas.engineer, on=dt.date(2026, 4, 1), hour=0)
    open_order = factories.work_order()
    summary = generate(personas.director)
    placed = set(StatementLine.objects.values_list("work_order_id", flat=True))
    assert placed == {inside_first.pk, inside_last.pk}
    assert summary.orders_placed == 2
    assert before.pk not in placed and after.pk not in placed and open_order.pk not in placed


def test_generating_twice_adds_nothing(personas):
    rule(personas.director, "per_order", "50")
    rule(personas.director, "per_order", "80", provider=personas.provider)
    closed_order(engineer=personas.engineer)
    closed_order(provider=personas.provider)
    first = generate(personas.director)
    assert (first.statements_created, first.orders_placed) == (2, 2)
    events = Event.objects.count()
    totals = dict(Statement.objects.values_list("pk", "total"))
    second = generate(personas.director)
    assert (second.statements_created, second.orders_placed) == (0, 0)
    assert StatementLine.objects.count() == 2
    assert dict(Statement.objects.values_list("pk", "total")) == totals
    assert Event.objects.count() == events
    # A new order closed later joins the party's statement that is still open.
    late = closed_order(engineer=personas.engineer, on=dt.date(2026, 3, 30))
    third = generate(personas.director)
    assert (third.statements_created, third.orders_placed) == (0, 1)
    statement = Statement.objects.get(engineer=personas.engineer)
    assert (statement.order_count, statement.total) == (2, Decimal("100"))
    assert StatementLine.objects.get(work_order=late).statement == statement


def test_generation_numbers_statements_and_refreshes_margins(personas):
    rule(personas.director, "per_order", "80", provider=personas.provider)
    order = closed_order(provider=personas.provider, labour="300")
    generate(personas.director)
    statement = Statement.objects.get()
    assert statement.number.startswith("ST")
    margin = OrderMargin.objects.get(work_order=order)
    assert margin.settlement_cost == Decimal("80")
    assert margin.provider_id == personas.provider.pk
    assert events_of(statement).filter(action="statement_generated").exists()


def test_generation_needs_the_manager_and_a_sane_period(personas):
    closed_order(engineer=personas.engineer)
    for who in (personas.engineer, personas.provider_admin, personas.agent):
        with pytest.raises(PermissionDenied):
            generate(who)
    with pytest.raises(ValidationError) as error:
        svc.generate_statements(actor=personas.director, period_start=MARCH[1], period_end=MARCH[0])
    assert "period_end" in error.value.error_dict
    assert not Statement.objects.exists()


def test_orders_without_an_accepted_lead_are_not_placed(personas):
    order = closed_order(engineer=personas.engineer)
    order.assignments.update(status="revoked")
    summary = generate(personas.director)
    assert summary.orders_without_party == 1
    assert not StatementLine.objects.exists()
    assert not Statement.objects.exists()


# The statement's life ---------------------------------------------------------------------------


@pytest.fixture
def provider_statement(personas):
    rule(personas.director, "per_order", "80", provider=personas.provider)
    first = closed_order(provider=personas.provider)
    second = closed_order(provider=personas.provider)
    generate(personas.director)
    return Statement.objects.get(provider=personas.provider), first, second


def test_dispute_correct_confirm_approve_settle(personas, provider_statement):
    statement, first, second = provider_statement
    line = StatementLine.objects.get(work_order=first)
    svc.dispute_line(line, actor=personas.provider_admin, reason="Two engineers went")
    statement.refresh_from_db()
    line.refresh_from_db()
    assert (statement.status, line.status, line.dispute_reason) == ("disputed", "disputed", "Two engineers went")
    with pytest.raises(DomainError) as error:
        svc.approve_statement(statement, actor=personas.director)
    assert error.value.code == "line_disputed"
    with pytest.raises(DomainError):
        svc.confirm_statement(statement, actor=personas.provider_admin)

    svc.correct_line(line, actor=personas.director, amount="120.00", reason="Second engineer paid")
    line.refresh_from_db()
    statement.refresh_from_db()
    assert (line.amount, line.original_amount, line.status) == (Decimal("120.00"), Decimal("80"), "corrected")
    assert statement.status == "draft"
    assert statement.total == Decimal("200.00")
    assert OrderMargin.objects.get(work_order=first).settlement_cost == Decimal("120.00")

    svc.confirm_statement(statement, actor=personas.provider_admin)
    statement.refresh_from_db()
    assert statement.status == "confirmed"
    assert StatementLine.objects.get(work_order=second).status == "confirmed"

    svc.approve_statement(statement, actor=personas.director)
    statement.refresh_from_db()
    assert statement.status == "approved"
    with pytest.raises(ValidationError) as error:
        svc.settle_statement(statement, actor=personas.director, payment_reference="  ")
    assert "payment_reference" in error.value.error_dict
    svc.settle_statement(statement, actor=personas.director, payment_reference="BANK-2026-0042")
    statement.refresh_from_db()
    assert (statement.status, statement.payment_reference) == ("settled", "BANK-2026-0042")
    actions = list(events_of(statement).order_by("pk").values_list("action", flat=True))
    assert actions == [
        "statement_generated",
        "statement_line_disputed",
        "statement_line_corrected",
        "statement_confirmed",
        "statement_approved",
        "statement_settled",
    ]


def test_approving_twice_is_refused_and_writes_nothing(personas, provider_statement):
    statement, _first, _second = provider_statement
    svc.approve_statement(statement, actor=personas.director)
    events = Event.objects.count()
    approved_at = Statement.objects.get(pk=statement.pk).approved_at
    with pytest.raises(DomainError) as error:
        svc.approve_statement(statement, actor=personas.director)
    assert error.value.code == "already_approved"
    assert Event.objects.count() == events
    assert Statement.objects.get(pk=statement.pk).approved_at == approved_at


def test_only_the_party_confirms_or_disputes(personas, provider_statement):
    statement, first, _second = provider_statement
    line = StatementLine.objects.get(work_order=first)
    for who in (personas.other_provider_admin, personas.engineer, personas.customer_user_a, personas.director):
        with pytest.raises(PermissionDenied):
            svc.confirm_statement(statement, actor=who)
        with pytest.raises(PermissionDenied):
            svc.dispute_line(line, actor=who, reason="no")
    statement.refresh_from_db()
    line.refresh_from_db()
    assert (statement.status, line.status) == ("draft", "open")


def test_manager_actions_need_the_manager(personas, provider_statement):
    statement, first, _second = provider_statement
    line = StatementLine.objects.get(work_order=first)
    for who in (personas.provider_admin, personas.engineer, personas.agent):
        with pytest.raises(PermissionDenied):
            svc.correct_line(line, actor=who, amount="1", reason="x")
        with pytest.raises(PermissionDenied):
            svc.approve_statement(statement, actor=who)
    line.refresh_from_db()
    statement.refresh_from_db()
    assert (line.amount, statement.status) == (Decimal("80"), "draft")


def test_bad_corrections_write_nothing(personas, provider_statement):
    statement, first, _second = provider_statement
    line = StatementLine.objects.get(work_order=first)
    for amount, reason, field in [("abc", "r", "amount"), ("1.234", "r", "amount"), ("10", " ", "reason")]:
        with pytest.raises(ValidationError) as error:
            svc.correct_line(line, actor=personas.director, amount=amount, reason=reason)
        assert field in error.value.error_dict
    line.refresh_from_db()
    assert (line.amount, line.status, line.original_amount) == (Decimal("80"), "open", None)
    assert not Event.objects.filter(action="statement_line_corrected").exists()


def test_an_engineer_confirms_his_own_statement(personas):
    rule(personas.director, "per_order", "50")
    closed_order(engineer=personas.engineer)
    generate(personas.director)
    statement = Statement.objects.get(engineer=personas.engineer)
    other = factories.engineer(personas.own)
    with pytest.raises(PermissionDenied):
        svc.confirm_statement(statement, actor=other)
    svc.confirm_statement(statement, actor=personas.engineer)
    statement.refresh_from_db()
    assert statement.status == "confirmed"


def test_an_approved_statement_takes_no_more_orders_or_corrections(personas, provider_statement):
    statement, first, _second = provider_statement
    svc.approve_statement(statement, actor=personas.director)
    line = StatementLine.objects.get(work_order=first)
    with pytest.raises(DomainError) as error:
        svc.correct_line(line, actor=personas.director, amount="1", reason="late")
    assert error.value.code == "already_approved"
    with pytest.raises(DomainError):
        svc.dispute_line(line, actor=personas.provider_admin, reason="late")
    closed_order(provider=personas.provider, on=dt.date(2026, 3, 20))
    summary = generate(personas.director)
    assert summary.orders_placed == 0
    statement.refresh_from_db()
    assert statement.order_count == 2


def test_an_adjustment_after_settlement_lands_in_the_next_period(personas, provider_statement, monkeypatch):
    statement, first, _second = provider_statement
    with pytest.raises(DomainError) as error:
        svc.adjust_settled_order(first, actor=personas.director, amount="-20", reason="Paid twice")
    assert error.value.code == "not_approved"
    svc.approve_statement(statement, actor=personas.director)
    svc.settle_statement(statement, actor=personas.director, payment_reference="PAY-1")
    with pytest.raises(ValidationError):
        svc.adjust_settled_order(first, actor=personas.director, amount="0", reason="Nothing")
    with pytest.raises(PermissionDenied):
        svc.adjust_settled_order(first, actor=personas.provider_admin, amount="5", reason="More please")
    adjustment = svc.adjust_settled_order(first, actor=personas.director, amount="-20.00", reason="Paid twice")
    assert adjustment.statement is None
    assert OrderMargin.objects.get(work_order=first).settlement_cost == Decimal("60.00")
    # Generating March again places nothing (the adjustment was made after March).
    assert generate(personas.director).adjustments_placed == 0
    # April: one new order and the adjustment, on the provider's April statement.
    april_order = closed_order(provider=personas.provider, on=dt.date(2026, 4, 10))
    from django.utils import timezone

    StatementLine.objects.filter(pk=adjustment.pk).update(created_at=timezone.now().replace(year=2026, month=4, day=5))
    summary = generate(personas.director, APRIL)
    assert (summary.orders_placed, summary.adjustments_placed) == (1, 1)
    april = Statement.objects.get(provider=personas.provider, period_start=APRIL[0])
    assert april.order_count == 1
    assert april.total == Decimal("60.00")  # 80 − 20
    assert set(april.lines.values_list("kind", "work_order_id")) == {
        ("order", april_order.pk),
        ("adjustment", first.pk),
    }
    statement.refresh_from_db()
    assert statement.total == Decimal("160")  # the settled statement is untouched


def test_an_adjustment_alone_makes_a_statement(personas, provider_statement):
    statement, first, _second = provider_statement
    svc.approve_statement(statement, actor=personas.director)
    svc.adjust_settled_order(first, actor=personas.director, amount="15", reason="Parking")
    from django.utils import timezone

    StatementLine.objects.filter(kind="adjustment").update(created_at=timezone.now().replace(year=2026, month=4, day=5))
    summary = generate(personas.director, APRIL)
    assert (summary.statements_created, summary.adjustments_placed) == (1, 1)
    april = Statement.objects.get(period_start=APRIL[0])
    assert (april.total, april.order_count) == (Decimal("15"), 0)


def test_the_periodic_check_generates_the_previous_month(personas, monkeypatch):
    from fieldservice.billing import tasks

    rule(personas.director, "per_order", "50")
    order = closed_order(engineer=personas.engineer)
    real = tasks.timezone.localdate
    monkeypatch.setattr(tasks.timezone, "localdate", lambda *args: real(*args) if args else dt.date(2026, 4, 1))
    result = tasks.generate_previous_month.call()
    assert result["orders_placed"] == 1
    assert StatementLine.objects.get(work_order=order).statement.period_start == MARCH[0]
    assert tasks.generate_previous_month.call()["orders_placed"] == 0
