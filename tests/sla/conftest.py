"""SLA data on top of the shared personas: the shipped China working-week calendar (2026 holidays)
and the "standard" policy with known targets, a team whose lead leads our engineer, and helpers
that make and move orders at given moments (the clock is moved with time_machine)."""

from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from fieldservice.accounts import services as account_services
from fieldservice.accounts.choices import Role
from fieldservice.dispatch.assignments.services import accept_assignment, dispatch_to_engineer
from fieldservice.field import services as field_services
from fieldservice.sla import services
from fieldservice.sla.calendar import load_calendar
from fieldservice.sla.models import BusinessCalendar, SlaPolicy
from fieldservice.workorders.services.lifecycle import put_on_hold, resume_work_order
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
CN_CALENDAR = "中国工作日 / China working week"
# The standard policy's targets in these tests, in business minutes.
NORMAL = {"response": 60, "acceptance": 120, "arrival": 240, "resolution": 480}
URGENT = {"response": 30, "acceptance": 60, "arrival": 120, "resolution": 240}


def local(*args) -> datetime:
    """A moment in Shanghai: local(2026, 3, 11, 10) is Wed 11 March 2026 10:00."""
    return datetime(*args, tzinfo=SHANGHAI)


@contextmanager
def at(moment: datetime):
    with time_machine.travel(moment, tick=False):
        yield


@pytest.fixture
def cn_calendar(db) -> BusinessCalendar:
    return BusinessCalendar.objects.get(name=CN_CALENDAR)


@pytest.fixture
def cn(cn_calendar):
    return load_calendar(cn_calendar)


@pytest.fixture
def always(db):
    return load_calendar(BusinessCalendar.objects.get(name="24×7"))


@pytest.fixture
def sla(personas, cn_calendar):
    """The personas, the standard policy on the China calendar with the targets above, and our
    engineer in a team led by `lead`."""
    p = personas
    p.policy = SlaPolicy.objects.get(code="standard")
    services.update_policy(
        p.policy,
        actor=p.admin,
        calendar=cn_calendar,
        targets={"normal": NORMAL, "urgent": URGENT, "high": {}, "low": {}},
    )
    p.lead = factories.user(Role.ENGINEER, organisation=p.own, username="team_lead")
    p.team = account_services.create_team(actor=p.admin, name="Ningbo team", organisation=p.own, leader=p.lead)
    account_services.save_engineer_profile(p.engineer, actor=p.admin, team=p.team)
    p.lone_engineer = factories.engineer(p.own)  # in no team
    return p


def make_order(p, moment: datetime, customer=None, **fields):
    with at(moment):
        return factories.work_order(customer or p.customer_a, actor=p.agent, **fields)


def dispatch(p, order, moment: datetime, engineer=None):
    with at(moment):
        assignment = dispatch_to_engineer(order, actor=p.dispatcher, engineer=engineer or p.engineer)
    order.refresh_from_db()
    return assignment


def accept(p, assignment, moment: datetime):
    with at(moment):
        accept_assignment(assignment, actor=assignment.engineer)


def check_in(p, order, moment: datetime, engineer=None):
    with at(moment):
        field_services.check_in(order, actor=engineer or p.engineer, latitude=None, longitude=None)


def complete(p, order, moment: datetime, engineer=None):
    engineer = engineer or p.engineer
    with at(moment):
        field_services.record_work(
            order,
            actor=engineer,
            resolution_type="remote_fix",
            fault_cause="Loose sensor cable",
            actions_taken="Reseated the cable",
            labour_hours="0.5",
        )
        field_services.complete_visit(order, actor=engineer)


def hold(p, order, moment: datetime, reason: str):
    with at(moment):
        put_on_hold(order, actor=p.dispatcher, hold_reason=reason, note="")


def resume(p, order, moment: datetime):
    with at(moment):
        resume_work_order(order, actor=p.dispatcher)


def clocks(order) -> dict:
    return {clock.kind: clock for clock in order.sla_clocks.all()}


# Thursday 12 March 2026, noon: the moment the overdue pages are looked at.
THURSDAY_NOON = local(2026, 3, 12, 12)


@pytest.fixture
def overdue(sla):
    """Orders as they stand on Thursday noon: `ours` dispatched to our engineer and `theirs` to
    provider B (both created Wednesday 10:00, every running clock breached), `waiting` for
    customer Z not dispatched (breached too), and `fresh` created Thursday 11:10 whose response
    is at risk (50 of 60 minutes used) and nothing else."""
    from fieldservice.dispatch.assignments.services import dispatch_to_provider

    p = sla
    p.ours = make_order(p, local(2026, 3, 11, 10))
    dispatch(p, p.ours, local(2026, 3, 11, 10, 20))
    p.theirs = make_order(p, local(2026, 3, 11, 10))
    with at(local(2026, 3, 11, 10, 20)):
        dispatch_to_provider(p.theirs, actor=p.dispatcher, provider=p.provider)
    p.waiting = make_order(p, local(2026, 3, 11, 10), customer=p.customer_z)
    p.fresh = make_order(p, local(2026, 3, 12, 11, 10), customer=p.customer_z)
    return p
