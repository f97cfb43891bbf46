"""The administrator's settings services: calendars, holidays, policies and escalation rules. Bad
input names the field and saves nothing."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from fieldservice.core.models import Event
from fieldservice.sla import services
from fieldservice.sla.calendar import add_business_minutes, load_calendar
from fieldservice.sla.models import BusinessCalendar, EscalationRule, Holiday, SlaClock, SlaPolicy, WorkingPeriod
from tests.sla.conftest import CN_CALENDAR, local

NINE_TO_SIX = [(dt.time(9), dt.time(12)), (dt.time(13), dt.time(18))]


def fields_of(error: ValidationError) -> set[str]:
    return set(error.value.message_dict)


def test_the_shipped_settings(db):
    china = BusinessCalendar.objects.get(name=CN_CALENDAR)
    assert china.is_default and china.time_zone == "Asia/Shanghai"
    assert sorted(china.periods.values_list("weekday", "starts_at", "ends_at")) == [
        (day, start, end) for day in range(5) for start, end in NINE_TO_SIX
    ]
    assert china.holidays.filter(date__year=2026).count() == 39
    assert not BusinessCalendar.objects.get(name="24×7").periods.exists()
    policies = {p.code: p for p in SlaPolicy.objects.select_related("calendar")}
    assert set(policies) == {"standard", "key", "strategic", "gold", "silver", "basic"}
    assert policies["standard"].is_default and policies["standard"].customer_tier == "standard"
    assert policies["key"].customer_tier == "key" and policies["strategic"].customer_tier == "strategic"
    assert policies["gold"].calendar.name == "24×7"
    urgent_gold = policies["gold"].targets.get(priority="urgent")
    assert (urgent_gold.response_minutes, urgent_gold.acceptance_minutes) == (30, 60)
    assert (urgent_gold.arrival_minutes, urgent_gold.resolution_minutes) == (240, 480)
    assert all(policy.targets.count() == 4 for policy in policies.values())
    rules = list(EscalationRule.objects.values_list("target", "after_minutes", "percent_used", "notify"))
    assert rules == [
        ("response", 30, None, "dispatcher"),
        ("response", 60, None, "team_lead"),
        ("arrival", None, 80, "assigned_engineer"),
        ("", None, 100, "director"),
    ]


def test_create_a_calendar_with_hours(personas):
    calendar = services.create_calendar(
        actor=personas.admin, name="Shift", time_zone="Asia/Shanghai", hours={5: [(dt.time(8), dt.time(12))]}
    )
    spec = load_calendar(calendar)
    assert add_business_minutes(spec, local(2026, 3, 13, 9), 60) == local(2026, 3, 14, 9)  # Friday → Saturday
    assert Event.objects.filter(object_pk=str(calendar.pk), action="created").exists()


def test_overlapping_periods_name_the_weekday_and_save_nothing(personas, cn_calendar):
    hours = {0: NINE_TO_SIX, 2: [(dt.time(9), dt.time(13)), (dt.time(12), dt.time(18))]}
    with pytest.raises(ValidationError) as error:
        services.update_calendar(cn_calendar, actor=personas.admin, hours=hours, name="Renamed")
    assert fields_of(error) == {"wednesday"}
    assert error.value.error_dict["wednesday"][0].code == "overlap"
    cn_calendar.refresh_from_db()
    assert cn_calendar.name == CN_CALENDAR
    assert WorkingPeriod.objects.filter(calendar=cn_calendar).count() == 10
    with pytest.raises(ValidationError) as error:
        services.create_calendar(actor=personas.admin, name="Backwards", hours={4: [(dt.time(18), dt.time(9))]})
    assert fields_of(error) == {"friday"}
    assert not BusinessCalendar.objects.filter(name="Backwards").exists()


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "asia/shanghai", "+08:00"])
def test_a_time_zone_must_be_an_iana_name(personas, zone):
    with pytest.raises(ValidationError) as error:
        services.create_calendar(actor=personas.admin, name="Elsewhere", time_zone=zone)
    assert fields_of(error) == {"time_zone"}
    assert not BusinessCalendar.objects.filter(name="Elsewhere").exists()


def test_a_new_default_calendar_takes_over(personas, cn_calendar):
    calendar = services.create_calendar(actor=personas.admin, name="New default", is_default=True)
    cn_calendar.refresh_from_db()
    assert calendar.is_default and not cn_calendar.is_default
    with pytest.raises(ValidationError) as error:
        services.update_calendar(calendar, actor=personas.admin, is_default=False)
    assert fields_of(error) == {"is_default"}


def test_one_entry_per_holiday_date(personas, cn_calendar):
    with pytest.raises(ValidationError) as error:
        services.add_holiday(cn_calendar, actor=personas.admin, date=dt.date(2026, 2, 16), kind="holiday", name="Again")
    assert fields_of(error) == {"date"}
    assert Holiday.objects.get(calendar=cn_calendar, date=dt.date(2026, 2, 16)).name == "春节"
    holiday = services.add_holiday(
        cn_calendar, actor=personas.admin, date=dt.date(2026, 3, 12), kind="holiday", name="Company day"
    )
    assert add_business_minutes(load_calendar(cn_calendar), local(2026, 3, 11, 17), 120) == local(2026, 3, 13, 10)
    services.delete_holiday(holiday, actor=personas.admin)
    assert add_business_minutes(load_calendar(cn_calendar), local(2026, 3, 11, 17), 120) == local(2026, 3, 12, 10)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"date": "2026-02-30", "kind": "holiday", "name": "x"}, "date"),
        ({"date": dt.date(2026, 3, 3), "kind": "vacation", "name": "x"}, "kind"),
        ({"date": dt.date(2026, 3, 3), "kind": "holiday", "name": " "}, "name"),
    ],
)
def test_bad_holidays(personas, cn_calendar, fields, field):
    count = Holiday.objects.count()
    with pytest.raises(ValidationError) as error:
        services.add_holiday(cn_calendar, actor=personas.admin, **fields)
    assert fields_of(error) == {field}
    assert Holiday.objects.count() == count


def test_load_a_year_replaces_that_year_only(personas):
    calendar = services.create_calendar(actor=personas.admin, name="Plant calendar", hours={0: NINE_TO_SIX})
    services.add_holiday(calendar, actor=personas.admin, date=dt.date(2026, 8, 3), kind="holiday", name="Old")
    services.add_holiday(calendar, actor=personas.admin, date=dt.date(2025, 8, 4), kind="holiday", name="Kept")
    assert services.load_shipped_holidays(calendar, actor=personas.admin, year=2026) == 39
    dates = set(calendar.holidays.values_list("date", flat=True))
    assert dt.date(2026, 8, 3) not in dates and dt.date(2025, 8, 4) in dates
    assert calendar.holidays.get(date=dt.date(2026, 2, 14)).kind == "workday"
    # Loading again gives the same list, not twice the list.
    assert services.load_shipped_holidays(calendar, actor=personas.admin, year=2026) == 39
    assert calendar.holidays.count() == 40
    assert Event.objects.filter(object_pk=str(calendar.pk), action="holidays_loaded").count() == 2


def test_a_bad_entry_loads_nothing(personas, cn_calendar):
    before = list(cn_calendar.holidays.values_list("date", "kind", "name"))
    entries = [
        {"date": "2026-05-01", "kind": "holiday", "name": "劳动节"},
        {"date": "2026-05-01", "kind": "holiday", "name": "Twice"},
        {"date": "2026-13-01", "kind": "holiday", "name": "No such month"},
    ]
    with pytest.raises(ValidationError) as error:
        services.load_holidays(cn_calendar, actor=personas.admin, entries=entries)
    assert fields_of(error) == {"file"}
    assert len(error.value.message_dict["file"]) == 2
    assert list(cn_calendar.holidays.values_list("date", "kind", "name")) == before
    with pytest.raises(ValidationError) as error:
        services.load_shipped_holidays(cn_calendar, actor=personas.admin, year=1999)
    assert fields_of(error) == {"year"}


def test_the_load_holidays_command(db, tmp_path, capsys):
    calendar = BusinessCalendar.objects.get(name="24×7")
    call_command("load_holidays", "--calendar", "24×7", "--year", "2026")
    assert calendar.holidays.count() == 39
    path = tmp_path / "2027.json"
    path.write_text(
        '{"year": 2027, "holidays": [{"date": "2027-01-01", "kind": "holiday", "name": "元旦"}]}', encoding="utf-8"
    )
    call_command("load_holidays", "--calendar", "24×7", "--file", str(path))
    assert calendar.holidays.count() == 40
    assert "1 holidays" in capsys.readouterr().out
    path.write_text('{"holidays": [{"date": "nope"}]}', encoding="utf-8")
    with pytest.raises(CommandError, match="Entry 1"):
        call_command("load_holidays", "--calendar", "24×7", "--file", str(path))
    with pytest.raises(CommandError, match="No calendar"):
        call_command("load_holidays", "--calendar", "Nowhere", "--year", "2026")
    assert calendar.holidays.count() == 40


def test_policies_and_their_targets(personas, cn_calendar):
    policy = services.create_policy(
        actor=personas.admin,
        code="platinum",
        name="Platinum",
        calendar=cn_calendar,
        targets={"urgent": {"response": 15, "resolution": 240}},
    )
    target = policy.targets.get(priority="urgent")
    assert (target.response_minutes, target.acceptance_minutes, target.resolution_minutes) == (15, None, 240)
    services.update_policy(policy, actor=personas.admin, targets={"urgent": {"response": 20}})
    target.refresh_from_db()
    assert (target.response_minutes, target.resolution_minutes) == (20, None)


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"code": "Not a slug!"}, {"code"}),
        ({"code": "gold"}, {"code"}),
        ({"customer_tier": "key"}, {"customer_tier"}),
        ({"calendar": None}, {"calendar"}),
        ({"is_default": True, "is_active": False}, {"is_active"}),
        ({"targets": {"urgent": {"response": 0, "arrival": "soon"}}}, {"urgent_response", "urgent_arrival"}),
    ],
)
def test_bad_policies_name_the_field_and_save_nothing(personas, cn_calendar, fields, bad):
    values = {"code": "new-policy", "name": "New", "calendar": cn_calendar, **fields}
    count = SlaPolicy.objects.count()
    with pytest.raises(ValidationError) as error:
        services.create_policy(actor=personas.admin, **values)
    assert fields_of(error) == bad
    assert SlaPolicy.objects.count() == count
    assert SlaPolicy.objects.get(is_default=True).code == "standard"


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"after_minutes": 30, "percent_used": 80}, {"after_minutes", "percent_used"}),
        ({}, {"after_minutes"}),
        ({"percent_used": 0}, {"percent_used"}),
        ({"percent_used": 101}, {"percent_used"}),
        ({"after_minutes": 0}, {"after_minutes"}),
        ({"after_minutes": -5}, {"after_minutes"}),
        ({"after_minutes": 10, "target": "lunch"}, {"target"}),
        ({"after_minutes": 10, "priorities": ["urgent", "panic"]}, {"priorities"}),
        ({"after_minutes": 10, "notify": "everyone"}, {"notify"}),
    ],
)
def test_bad_rules_name_the_field_and_save_nothing(personas, fields, bad):
    values = {"name": "Bad", "notify": "director", **fields}
    count = EscalationRule.objects.count()
    with pytest.raises(ValidationError) as error:
        services.create_rule(actor=personas.admin, **values)
    assert fields_of(error) == bad
    assert EscalationRule.objects.count() == count


def test_editing_a_rule(personas):
    rule = EscalationRule.objects.get(after_minutes=30)
    services.update_rule(rule, actor=personas.admin, after_minutes=45, priorities=["urgent", "high"])
    rule.refresh_from_db()
    assert (rule.after_minutes, rule.priorities) == (45, ["high", "urgent"])
    with pytest.raises(ValidationError) as error:
        services.update_rule(rule, actor=personas.admin, percent_used=50)  # it has minutes already
    assert fields_of(error) == {"after_minutes", "percent_used"}
    rule.refresh_from_db()
    assert (rule.after_minutes, rule.percent_used) == (45, None)
    services.delete_rule(rule, actor=personas.admin)
    assert not EscalationRule.objects.filter(pk=rule.pk).exists()


@pytest.mark.parametrize("who", ["dispatcher", "director", "agent", "provider_admin", "customer_user_a"])
def test_only_administrators_change_the_settings(personas, cn_calendar, who):
    actor = getattr(personas, who)
    rule = EscalationRule.objects.first()
    calls = [
        lambda: services.create_calendar(actor=actor, name="Mine"),
        lambda: services.update_calendar(cn_calendar, actor=actor, name="Mine"),
        lambda: services.add_holiday(cn_calendar, actor=actor, date=dt.date(2026, 3, 3), kind="holiday", name="x"),
        lambda: services.load_shipped_holidays(cn_calendar, actor=actor, year=2026),
        lambda: services.create_policy(actor=actor, code="mine", name="Mine", calendar=cn_calendar),
        lambda: services.create_rule(actor=actor, name="Mine", after_minutes=5, notify="director"),
        lambda: services.update_rule(rule, actor=actor, name="Mine"),
        lambda: services.delete_rule(rule, actor=actor),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert not BusinessCalendar.objects.filter(name="Mine").exists()
    assert EscalationRule.objects.filter(pk=rule.pk).exclude(name="Mine").exists()
    assert not SlaClock.objects.exists()
