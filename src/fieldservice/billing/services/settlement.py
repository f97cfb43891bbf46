"""Settlement (结算) with our engineers and partner providers: statements and their lines (the
rules and what an order earns by them: `settlement_rules`).

A statement is one party's (an engineer of ours, or a provider) for one period. `generate_statements`
places every order closed in the period that has no order line yet, set-based: a handful of queries
for the whole period, one INSERT of statements and one of lines. The unique constraint
`statement_line_one_per_order` is the guard against counting an order twice (a second run, or
one at the same moment, inserts nothing: ON CONFLICT DO NOTHING); on PostgreSQL the runs also take
one advisory lock, so the statement numbers of two runs never collide.

The life of a statement: draft (awaiting the party) → confirmed by the party (the provider's
administrator, or the engineer himself) → approved by the service manager → settled with a
payment reference. The party may dispute a line (the statement is then disputed); the manager
corrects it (the original amount is kept), which puts the statement back to draft for the party to
see the corrected figure: the party confirms it, or the manager approves a draft whose lines are
no longer disputed. A correction after approval is an adjustment line, carried into the party's next
statement.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import EngineerProfile, User
from fieldservice.billing.choices import (
    FeeKind,
    PartyKind,
    StatementLineKind,
    StatementLineStatus,
    StatementStatus,
)
from fieldservice.billing.models import FeeLine, Statement, StatementLine
from fieldservice.billing.permissions import may_answer_statement, may_settle
from fieldservice.billing.services import margins
from fieldservice.billing.services.numbers import PREFIXES, next_number
from fieldservice.billing.services.settlement_rules import (  # noqa: F401 (the rules' services, re-exported)
    OrderFacts,
    RuleSet,
    _reason,
    amount_for,
    create_rule,
    deactivate_rule,
    signed_amount,
    update_rule,
)
from fieldservice.core.choices import WorkOrderStatus
from fieldservice.core.db import any_of, insert_rows, int_array
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import record_event, record_events
from fieldservice.core.validation import check_date, check_length
from fieldservice.dispatch.choices import AssignmentRole, AssignmentStatus
from fieldservice.dispatch.models import Assignment
from fieldservice.feedback.models import Evaluation
from fieldservice.sla.models import SlaClock
from fieldservice.workorders.models import WorkOrder

ZERO = Decimal("0")
CENT = Decimal("0.01")
HUNDRED = Decimal("100")
# Any number: the generations of every database share the one key space of advisory locks.
GENERATION_LOCK = 7_140_014
OPEN_STATUSES = (StatementStatus.DRAFT, StatementStatus.CONFIRMED, StatementStatus.DISPUTED)


@dataclass
class GenerationSummary:
    period_start: dt.date
    period_end: dt.date
    statements_created: int = 0
    statements_touched: int = 0
    orders_placed: int = 0
    adjustments_placed: int = 0
    orders_without_party: int = 0
    total: Decimal = ZERO
    statement_ids: list[int] = field(default_factory=list)


def period_bounds(period_start: dt.date, period_end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The period's local days as aware datetimes: [start 00:00, the day after the end 00:00)."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(period_start, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(period_end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def previous_month(today: dt.date) -> tuple[dt.date, dt.date]:
    end = today.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


def _party_key(kind: str, pk: int) -> str:
    return f"{'e' if kind == PartyKind.ENGINEER else 'p'}{pk}"


def _parse_key(key: str) -> tuple[str, int]:
    return (PartyKind.ENGINEER if key[0] == "e" else PartyKind.PROVIDER), int(key[1:])


def _unplaced_closed_orders(start: dt.datetime, end: dt.datetime):
    placed = StatementLine.objects.filter(kind=StatementLineKind.ORDER, work_order=OuterRef("pk"))
    return WorkOrder.objects.filter(status=WorkOrderStatus.CLOSED, closed_at__gte=start, closed_at__lt=end).filter(
        ~Exists(placed)
    )


def _candidates(start: dt.datetime, end: dt.datetime) -> tuple[dict[int, OrderFacts], dict[int, tuple]]:
    """The orders closed in the period and on no statement, with their party (kind, id, the
    engineer's team) from the accepted lead assignment: one query."""
    placed = StatementLine.objects.filter(kind=StatementLineKind.ORDER, work_order=OuterRef("work_order_id"))
    team = EngineerProfile.objects.filter(user_id=OuterRef("engineer_id")).values("team_id")[:1]
    leads = (
        Assignment.objects.filter(
            role=AssignmentRole.LEAD,
            status=AssignmentStatus.ACCEPTED,
            work_order__status=WorkOrderStatus.CLOSED,
            work_order__closed_at__gte=start,
            work_order__closed_at__lt=end,
        )
        .filter(~Exists(placed))
        .annotate(team_id=Subquery(team))
        .order_by()
        .values_list(
            "work_order_id",
            "work_order__number",
            "work_order__service_type",
            "work_order__labour_hours",
            "provider_id",
            "engineer_id",
            "engineer__organisation__kind",
            "engineer__organisation_id",
            "team_id",
        )
    )
    facts, parties = {}, {}
    for order_id, number, service_type, hours, provider_id, engineer_id, org_kind, org_id, team_id in leads:
        if provider_id is not None:
            party = (PartyKind.PROVIDER, provider_id, None)
        elif org_kind == OrganisationKind.PROVIDER:
            party = (PartyKind.PROVIDER, org_id, None)
        elif engineer_id is not None and org_kind == OrganisationKind.OWN:
            party = (PartyKind.ENGINEER, engineer_id, team_id)
        else:
            continue
        parties[order_id] = party
        facts[order_id] = OrderFacts(order_id, number, service_type, labour_hours=hours or ZERO)
    return facts, parties


def _gather_facts(facts: dict[int, OrderFacts], ids) -> None:
    kinds = (FeeKind.LABOUR, FeeKind.TRAVEL, FeeKind.PART)
    fees = (
        FeeLine.objects.filter(work_order_id__in=ids, is_void=False, kind__in=kinds)
        .order_by()
        .values_list("work_order_id")
        .annotate(
            labour=Sum("amount", filter=Q(kind=FeeKind.LABOUR)),
            km=Sum("quantity", filter=Q(kind=FeeKind.TRAVEL)),
            parts=Sum("amount", filter=Q(kind=FeeKind.PART)),
        )
    )
    for order_id, labour, km, parts in fees:
        order = facts[order_id]
        order.labour_amount = labour or ZERO
        order.km = km or ZERO
        order.parts_amount = parts or ZERO
    for order_id, score in (
        Evaluation.objects.filter(work_order_id__in=ids).order_by().values_list("work_order_id", "overall")
    ):
        facts[order_id].score = score
    clocks = (
        SlaClock.objects.filter(work_order_id__in=ids)
        .order_by()
        .values_list("work_order_id")
        .annotate(
            clocks=Count("pk"),
            breached=Count("pk", filter=Q(breached_at__isnull=False)),
            met=Count("pk", filter=Q(met_at__isnull=False, breached_at__isnull=True)),
        )
    )
    for order_id, count, breached, met in clocks:
        facts[order_id].sla = "breached" if breached else ("met" if met == count else None)


def _number_series(count: int, on: dt.date) -> list[str]:
    """`count` consecutive statement numbers after the last of the year (the generation lock
    keeps two runs from drawing the same ones)."""
    first = next_number(Statement, "statement", on)
    prefix = f"{PREFIXES['statement']}{on.year}-"
    serial = int(first[len(prefix) :])
    return [f"{prefix}{serial + n:05d}" for n in range(count)]


def generate_statements(*, actor: User | None, period_start: dt.date, period_end: dt.date) -> GenerationSummary:
    """The statements of every party with an order closed in the period (local dates) and not
    yet on a statement, or with an adjustment waiting; a statement of the party for the period
    that already exists (still open) gets the new lines. Running it again, or twice at once, adds
    nothing. `actor` None is the worker's periodic run."""
    if actor is not None:
        require(may_settle(actor))
    period_start = check_date(period_start, field="period_start")
    period_end = check_date(period_end, field="period_end")
    if period_end < period_start:
        raise field_error("period_end", _("The end of the period is before its start."), "period_order")
    if (period_end - period_start).days > 366:
        raise field_error("period_end", _("A period is at most a year."), "period_too_long")
    summary = GenerationSummary(period_start, period_end)
    start, end = period_bounds(period_start, period_end)
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [GENERATION_LOCK])
                # A month's grouping of fee lines and margins sorts in memory, not on disk.
                cursor.execute("SET LOCAL work_mem = '64MB'")
        facts, parties = _candidates(start, end)
        summary.orders_without_party = _unplaced_closed_orders(start, end).count() - len(facts)
        ids = any_of(list(facts))
        if facts:
            _gather_facts(facts, ids)
        pending = list(
            StatementLine.objects.filter(kind=StatementLineKind.ADJUSTMENT, statement__isnull=True, created_at__lt=end)
            .order_by()
            .values_list("pk", "party_key")
        )
        keys = {_party_key(kind, pk) for kind, pk, _team in parties.values()} | {key for _pk, key in pending}
        if not keys:
            return summary
        # Statements: the party's open one for the period, else a new one.
        existing = dict(
            Statement.objects.filter(party_key__in=keys, period_start=period_start, period_end=period_end).values_list(
                "party_key", "status"
            )
        )
        missing = sorted(keys - set(existing))
        numbers = _number_series(len(missing), timezone.localdate(now))
        new = []
        for key, number in zip(missing, numbers, strict=True):
            kind, pk = _parse_key(key)
            new.append(
                Statement(
                    number=number,
                    party_kind=kind,
                    engineer_id=pk if kind == PartyKind.ENGINEER else None,
                    provider_id=pk if kind == PartyKind.PROVIDER else None,
                    party_key=key,
                    period_start=period_start,
                    period_end=period_end,
                    generated_at=now,
                )
            )
        Statement.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
        statements = {
            key: (pk, status)
            for key, pk, status in Statement.objects.filter(
                party_key__in=keys, period_start=period_start, period_end=period_end
            ).values_list("party_key", "pk", "status")
        }
        # An approved or settled statement takes nothing more: those orders wait for a later period.
        open_ids = {key: pk for key, (pk, status) in statements.items() if status in OPEN_STATUSES}
        rules = RuleSet.load()
        rows = []
        for order_id, order in facts.items():
            kind, party_id, team_id = parties[order_id]
            key = _party_key(kind, party_id)
            statement_id = open_ids.get(key)
            if statement_id is None:
                continue
            applicable = rules.for_party(
                provider_id=party_id if kind == PartyKind.PROVIDER else None,
                team_id=team_id,
                service_type=order.service_type,
            )
            amount, breakdown = amount_for(order, applicable)
            rows.append(
                {
                    "statement_id": statement_id,
                    "party_key": key,
                    "work_order_id": order_id,
                    "amount": amount,
                    "breakdown": breakdown,
                }
            )
        # The order lines this run wrote: a run at the same moment may have written some of them.
        placed_ids = insert_rows(
            StatementLine,
            rows,
            on_conflict="DO NOTHING",
            returning="work_order_id",
            kind=StatementLineKind.ORDER,
            status=StatementLineStatus.OPEN,
            created_at=now,
            # Who generated them is the statement's "generated" event; a column of one value would
            # cost a hundred thousand foreign-key checks at commit.
            created_by_id=None,
            original_amount=None,
        )
        # Adjustments: claimed only while still waiting (a run at the same moment took none twice).
        by_statement = defaultdict(list)
        for pk, key in pending:
            if key in open_ids:
                by_statement[open_ids[key]].append(pk)
        adjusted_orders = []
        for statement_id, line_ids in by_statement.items():
            summary.adjustments_placed += StatementLine.objects.filter(pk__in=line_ids, statement__isnull=True).update(
                statement_id=statement_id
            )
        if by_statement:
            adjusted_orders = list(
                StatementLine.objects.filter(
                    pk__in=[pk for ids_ in by_statement.values() for pk in ids_], work_order__isnull=False
                ).values_list("work_order_id", flat=True)
            )
        touched = sorted(open_ids.values())
        _recompute_totals(touched)
        # A statement this run made that got nothing (a run at the same moment placed its orders).
        Statement.objects.filter(pk__in=touched, status=StatementStatus.DRAFT, generated_at=now, order_count=0).filter(
            ~Exists(StatementLine.objects.filter(statement=OuterRef("pk")))
        ).delete()
        if placed_ids is None:  # not PostgreSQL: no RETURNING from an insert that skips conflicts
            placed_ids = list(
                StatementLine.objects.filter(kind=StatementLineKind.ORDER, statement_id__in=touched, created_at=now)
                .order_by()
                .values_list("work_order_id", flat=True)
            )
        summary.orders_placed = len(placed_ids)
        result = Statement.objects.filter(pk__in=touched).order_by("pk")
        summary.statement_ids = list(result.values_list("pk", flat=True))
        summary.statements_touched = len(summary.statement_ids)
        summary.total = result.aggregate(total=Sum("total"))["total"] or ZERO
        missing_keys = set(missing)
        created = [s for s in result.filter(generated_at=now) if s.party_key in missing_keys]
        summary.statements_created = len(created)
        record_events(
            created,
            actor=actor,
            action="statement_generated",
            changes=lambda s: {"period": [None, f"{period_start.isoformat()} – {period_end.isoformat()}"]},
        )
        margins.refresh(placed_ids + adjusted_orders)
    return summary


def _recompute_totals(statement_ids: list[int]) -> None:
    """Each statement's total and order count, from its lines (in the database). On PostgreSQL one
    UPDATE from a grouped scan of the lines: a correlated subquery per statement would follow the
    statistics of a table this very transaction has just filled."""
    if not statement_ids:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {Statement._meta.db_table} AS s
                SET total = t.total, order_count = t.orders
                FROM (
                    SELECT st.id, COALESCE(SUM(l.amount), 0) AS total,
                           COUNT(l.id) FILTER (WHERE l.kind = %s) AS orders
                    FROM unnest(%s::bigint[]) AS st(id)
                    LEFT JOIN {StatementLine._meta.db_table} AS l ON l.statement_id = st.id
                    GROUP BY st.id
                ) AS t
                WHERE s.id = t.id
                """,
                [StatementLineKind.ORDER, int_array(statement_ids)],
            )
        return
    lines = StatementLine.objects.filter(statement=OuterRef("pk")).order_by().values("statement")
    Statement.objects.filter(pk__in=statement_ids).update(
        total=Coalesce(Subquery(lines.annotate(s=Sum("amount")).values("s")), Value(ZERO)),
        order_count=Coalesce(
            Subquery(
                lines.filter(kind=StatementLineKind.ORDER).annotate(c=Count("pk")).values("c"),
                output_field=IntegerField(),
            ),
            Value(0),
        ),
    )


# Statement actions ------------------------------------------------------------------------------


def _locked(statement: Statement) -> Statement:
    return Statement.objects.select_for_update().get(pk=statement.pk)


def _party_id(statement: Statement) -> int:
    return statement.engineer_id if statement.party_kind == PartyKind.ENGINEER else statement.provider_id


def _has_disputed_line(statement: Statement) -> bool:
    return statement.lines.filter(status=StatementLineStatus.DISPUTED).exists()


def _order_ids(statement: Statement) -> list[int]:
    return list(statement.lines.filter(work_order__isnull=False).order_by().values_list("work_order_id", flat=True))


def _status(statement: Statement) -> str:
    return str(statement.get_status_display())


def confirm_statement(statement: Statement, *, actor: User) -> Statement:
    """The party agrees with its statement (every open line is confirmed)."""
    require(may_answer_statement(actor, statement.party_kind, _party_id(statement)))
    with transaction.atomic():
        statement = _locked(statement)
        if statement.status not in (StatementStatus.DRAFT, StatementStatus.DISPUTED):
            raise DomainError("not_confirmable", _("Only a statement awaiting confirmation can be confirmed."))
        if _has_disputed_line(statement):
            raise DomainError("line_disputed", _("A line is still disputed: wait for its correction."))
        before = _status(statement)
        statement.lines.filter(status=StatementLineStatus.OPEN).update(status=StatementLineStatus.CONFIRMED)
        statement.status = StatementStatus.CONFIRMED
        statement.confirmed_at = timezone.now()
        statement.confirmed_by = actor
        statement.save(update_fields=["status", "confirmed_at", "confirmed_by"])
        record_event(
            statement, actor=actor, action="statement_confirmed", changes={"status": [before, _status(statement)]}
        )
    return statement


def dispute_line(line: StatementLine, *, actor: User, reason: str) -> StatementLine:
    """The party disputes one line of its statement, before approval."""
    statement = line.statement
    if statement is None:
        raise DomainError("not_on_statement", _("This adjustment is not on a statement yet."))
    require(may_answer_statement(actor, statement.party_kind, _party_id(statement)))
    reason = _reason(reason, "reason", column="dispute_reason")
    with transaction.atomic():
        statement = _locked(statement)
        line = StatementLine.objects.select_for_update().get(pk=line.pk)
        if statement.status not in OPEN_STATUSES:
            raise DomainError("already_approved", _("The statement is approved: it can no longer be disputed."))
        if line.status == StatementLineStatus.DISPUTED:
            raise DomainError("already_disputed", _("This line is already disputed."))
        before_line = str(line.get_status_display())
        before = _status(statement)
        line.status = StatementLineStatus.DISPUTED
        line.dispute_reason = reason
        line.save(update_fields=["status", "dispute_reason"])
        statement.status = StatementStatus.DISPUTED
        statement.confirmed_at = None
        statement.confirmed_by = None
        statement.save(update_fields=["status", "confirmed_at", "confirmed_by"])
        changes = {
            "line": [None, str(line)],
            "line_status": [before_line, str(line.get_status_display())],
            "dispute_reason": [None, reason],
        }
        if before != _status(statement):
            changes["status"] = [before, _status(statement)]
        record_event(statement, actor=actor, action="statement_line_disputed", changes=changes, note=reason)
    return line


def correct_line(line: StatementLine, *, actor: User, amount, reason: str) -> StatementLine:
    """The manager changes a line's amount before approval. The first amount stays readable;
    the statement goes back to draft, for the party to see the corrected figure."""
    require(may_settle(actor))
    amount = signed_amount(amount, "amount")
    reason = _reason(reason, "reason", column="correction_reason")
    statement = line.statement
    if statement is None:
        raise DomainError("not_on_statement", _("This adjustment is not on a statement yet."))
    with transaction.atomic():
        statement = _locked(statement)
        line = StatementLine.objects.select_for_update().get(pk=line.pk)
        if statement.status not in OPEN_STATUSES:
            raise DomainError(
                "already_approved",
                _("The statement is approved: correct the order with an adjustment in the next period."),
            )
        if amount == line.amount and line.status != StatementLineStatus.DISPUTED:
            raise field_error("amount", _("This is the line's amount already."), "unchanged")
        before_amount = line.amount
        if line.original_amount is None:
            line.original_amount = line.amount
        line.amount = amount
        line.status = StatementLineStatus.CORRECTED
        line.correction_reason = reason
        line.save(update_fields=["amount", "original_amount", "status", "correction_reason"])
        before = _status(statement)
        statement.status = StatementStatus.DRAFT
        statement.confirmed_at = None
        statement.confirmed_by = None
        statement.save(update_fields=["status", "confirmed_at", "confirmed_by"])
        before_total = statement.total
        _recompute_totals([statement.pk])
        statement.refresh_from_db(fields=["total", "order_count"])
        changes = {
            "line": [None, str(line)],
            "amount": [str(before_amount), str(amount)],
            "total": [str(before_total), str(statement.total)],
        }
        if before != _status(statement):
            changes["status"] = [before, _status(statement)]
        record_event(statement, actor=actor, action="statement_line_corrected", changes=changes, note=reason)
        if line.work_order_id:
            margins.refresh([line.work_order_id])
    return line


def approve_statement(statement: Statement, *, actor: User) -> Statement:
    """The manager approves a statement with no line in dispute (confirmed by the party, or a draft
    the party left unanswered)."""
    require(may_settle(actor))
    with transaction.atomic():
        statement = _locked(statement)
        if statement.status in (StatementStatus.APPROVED, StatementStatus.SETTLED):
            raise DomainError("already_approved", _("This statement is already approved."))
        if statement.status == StatementStatus.DISPUTED or _has_disputed_line(statement):
            raise DomainError("line_disputed", _("A line is disputed: correct it before approving."))
        before = _status(statement)
        statement.status = StatementStatus.APPROVED
        statement.approved_at = timezone.now()
        statement.approved_by = actor
        statement.save(update_fields=["status", "approved_at", "approved_by"])
        record_event(
            statement,
            actor=actor,
            action="statement_approved",
            changes={"status": [before, _status(statement)], "total": [None, str(statement.total)]},
        )
        margins.refresh(_order_ids(statement))
    return statement


def settle_statement(statement: Statement, *, actor: User, payment_reference: str) -> Statement:
    """An approved statement is paid: the payment's reference is recorded."""
    require(may_settle(actor))
    reference = check_length((payment_reference or "").strip(), model=Statement, field="payment_reference")
    if not reference:
        raise field_error("payment_reference", _("Enter the payment's reference."), "required")
    with transaction.atomic():
        statement = _locked(statement)
        if statement.status == StatementStatus.SETTLED:
            raise DomainError("already_settled", _("This statement is already settled."))
        if statement.status != StatementStatus.APPROVED:
            raise DomainError("not_approved", _("Only an approved statement can be settled."))
        before = _status(statement)
        statement.status = StatementStatus.SETTLED
        statement.settled_at = timezone.now()
        statement.settled_by = actor
        statement.payment_reference = reference
        statement.save(update_fields=["status", "settled_at", "settled_by", "payment_reference"])
        record_event(
            statement,
            actor=actor,
            action="statement_settled",
            changes={"status": [before, _status(statement)], "payment_reference": [None, reference]},
        )
        margins.refresh(_order_ids(statement))
    return statement


def adjust_settled_order(order: WorkOrder, *, actor: User, amount, reason: str) -> StatementLine:
    """A correction of an order whose statement is approved or settled: an adjustment line for the
    same party (positive: owed more; negative: paid too much), waiting for the party's next
    statement (`generate_statements` of a period ending on or after today places it)."""
    require(may_settle(actor))
    amount = signed_amount(amount, "amount", allow_zero=False)
    reason = _reason(reason, "reason", column="description")
    with transaction.atomic():
        line = StatementLine.objects.filter(kind=StatementLineKind.ORDER, work_order=order).first()
        if line is None:
            raise DomainError("not_on_statement", _("This order is on no statement yet."))
        statement = _locked(line.statement)
        if statement.status in OPEN_STATUSES:
            raise DomainError("not_approved", _("The order's statement is not approved yet: correct its line instead."))
        adjustment = StatementLine.objects.create(
            statement=None,
            party_key=line.party_key,
            kind=StatementLineKind.ADJUSTMENT,
            work_order=order,
            description=reason,
            amount=amount,
            breakdown=[{"basis": "adjustment", "label": reason, "amount": str(amount), "statement": statement.number}],
            created_by=actor,
        )
        record_event(
            statement,
            actor=actor,
            action="settlement_adjusted",
            changes={"order": [None, str(order)], "amount": [None, str(amount)]},
            note=reason,
        )
        margins.refresh([order.pk])
    return adjustment
