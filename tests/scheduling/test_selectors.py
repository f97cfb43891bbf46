"""Working time and slot conflicts."""

import datetime as dt

from fieldservice.accounts.choices import Role
from fieldservice.accounts.models import EngineerProfile
from fieldservice.scheduling import services
from fieldservice.scheduling.selectors import (
    DEFAULT_WORKING_HOURS,
    shift_periods,
    slot_conflicts,
    working_periods,
)
from tests import factories
from tests.scheduling.conftest import at, order_for, profile


def codes(conflicts) -> list[str]:
    return [c.code for c in conflicts]


def absence(world, engineer, start, end, kind="leave"):
    return services.create_absence(actor=world.dispatcher, engineer=engineer, kind=kind, starts_at=start, ends_at=end)


# working_periods / shift_periods


def test_weekly_pattern_gives_the_day_periods(world):
    profile(world.engineer, hours={"mon": [["13:00", "17:00"], ["07:30", "11:00"]], "sat": [["09:00", "12:00"]]})
    monday = world.monday
    assert working_periods(world.engineer, monday) == [
        (at(monday, "07:30"), at(monday, "11:00")),
        (at(monday, "13:00"), at(monday, "17:00")),
    ]
    saturday = monday + dt.timedelta(days=5)
    assert working_periods(world.engineer, saturday) == [(at(saturday, "09:00"), at(saturday, "12:00"))]


def test_a_day_missing_from_the_pattern_is_a_day_off(world):
    tuesday = world.monday + dt.timedelta(days=1)
    profile(world.engineer, hours={"mon": [["08:00", "17:00"]]})
    assert working_periods(world.engineer, tuesday) == []
    assert shift_periods(EngineerProfile.objects.get(user=world.engineer), tuesday) == []


def test_no_profile_or_empty_hours_work_the_default_office_day(world):
    no_profile = factories.user(Role.ENGINEER, organisation=world.own)
    expected = [
        (at(world.monday, "08:30"), at(world.monday, "12:00")),
        (at(world.monday, "13:00"), at(world.monday, "17:30")),
    ]
    assert working_periods(no_profile, world.monday) == expected
    empty = profile(factories.engineer(world.own), hours={})
    assert working_periods(empty, world.monday) == expected
    sunday = world.monday + dt.timedelta(days=6)
    assert "sun" not in DEFAULT_WORKING_HOURS and working_periods(no_profile, sunday) == []


def test_an_absence_cuts_a_period_and_a_whole_day_absence_empties_it(world):
    monday = world.monday
    absence(world, world.engineer, at(monday, "10:00"), at(monday, "14:00"), kind="break")
    assert working_periods(world.engineer, monday) == [
        (at(monday, "08:30"), at(monday, "10:00")),
        (at(monday, "14:00"), at(monday, "17:30")),
    ]
    tuesday = monday + dt.timedelta(days=1)
    absence(world, world.engineer, at(tuesday, "00:00"), at(tuesday + dt.timedelta(days=1), "00:00"))
    assert working_periods(world.engineer, tuesday) == []
    # Another engineer's absence takes nothing from him.
    absence(world, world.second, at(monday, "08:00"), at(monday, "18:00"))
    assert len(working_periods(world.engineer, monday)) == 2


def test_an_absence_inside_a_period_splits_it_in_two(world):
    monday = world.monday
    absence(world, world.engineer, at(monday, "09:00"), at(monday, "09:30"), kind="break")
    assert working_periods(world.engineer, monday)[:2] == [
        (at(monday, "08:30"), at(monday, "09:00")),
        (at(monday, "09:30"), at(monday, "12:00")),
    ]


# slot_conflicts


def test_a_good_slot_has_no_conflicts(world):
    assert (
        slot_conflicts(world.order, engineer=world.engineer, start=at(world.monday, "09:00"), duration_minutes=120)
        == []
    )


def test_missing_skill_is_blocking(world):
    conflicts = slot_conflicts(
        world.order, engineer=world.unskilled, start=at(world.monday, "09:00"), duration_minutes=60
    )
    assert codes(conflicts) == ["skill"] and conflicts[0].blocking


def test_an_engineer_without_a_profile_is_still_an_engineer(world):
    plain = factories.user(Role.ENGINEER, organisation=world.own)
    no_skill_needed = order_for(world, fault=False)
    assert slot_conflicts(no_skill_needed, engineer=plain, start=at(world.monday, "09:00"), duration_minutes=60) == []
    assert codes(slot_conflicts(world.order, engineer=plain, start=at(world.monday, "09:00"), duration_minutes=60)) == [
        "skill"
    ]


def test_a_non_engineer_is_refused(world):
    conflicts = slot_conflicts(world.order, engineer=world.agent, start=at(world.monday, "09:00"), duration_minutes=60)
    assert codes(conflicts) == ["not_an_engineer"] and conflicts[0].blocking


def test_overlap_with_another_visit(world):
    other = order_for(world, engineer=world.engineer)
    services.schedule_visit(other, actor=world.dispatcher, planned_start=at(world.monday, "09:00"), duration_minutes=90)
    # 10:00 starts inside 09:00-10:30.
    overlapping = slot_conflicts(
        world.order, engineer=world.engineer, start=at(world.monday, "10:00"), duration_minutes=60
    )
    assert codes(overlapping) == ["overlap"] and overlapping[0].blocking
    assert other.number in overlapping[0].message
    # Ending exactly when the other starts, or starting when it ends, is fine.
    for start, minutes in (("08:30", 30), ("10:30", 60)):
        assert (
            slot_conflicts(
                world.order, engineer=world.engineer, start=at(world.monday, start), duration_minutes=minutes
            )
            == []
        )
    # The other engineer is free then.
    assert (
        slot_conflicts(world.order, engineer=world.second, start=at(world.monday, "10:00"), duration_minutes=60) == []
    )


def test_outside_the_shift(world):
    for start, minutes in (("07:00", 60), ("11:30", 60), ("17:00", 60)):
        conflicts = slot_conflicts(
            world.order, engineer=world.engineer, start=at(world.monday, start), duration_minutes=minutes
        )
        assert codes(conflicts) == ["outside_shift"], start
    sunday = world.monday + dt.timedelta(days=6)
    assert codes(
        slot_conflicts(world.order, engineer=world.engineer, start=at(sunday, "09:00"), duration_minutes=60)
    ) == ["outside_shift"]


def test_absence_is_blocking(world):
    absence(world, world.engineer, at(world.monday, "10:00"), at(world.monday, "11:00"), kind="training")
    conflicts = slot_conflicts(
        world.order, engineer=world.engineer, start=at(world.monday, "09:30"), duration_minutes=60
    )
    assert codes(conflicts) == ["absent"] and conflicts[0].blocking and "Training" in conflicts[0].message


def test_outside_the_window_is_only_a_warning(world):
    visit = services.schedule_visit(
        world.order,
        actor=world.dispatcher,
        planned_start=at(world.monday, "09:00"),
        duration_minutes=60,
        window_start=at(world.monday, "08:30"),
        window_end=at(world.monday, "10:00"),
    )
    late = slot_conflicts(
        world.order, engineer=world.engineer, start=at(world.monday, "14:00"), duration_minutes=60, ignore_visit=visit
    )
    assert codes(late) == ["window"] and not late[0].blocking
    inside = slot_conflicts(
        world.order, engineer=world.engineer, start=at(world.monday, "10:00"), duration_minutes=60, ignore_visit=visit
    )
    assert inside == []
    # A window being agreed now wins over the stored one.
    new_window = slot_conflicts(
        world.order,
        engineer=world.engineer,
        start=at(world.monday, "14:00"),
        duration_minutes=60,
        ignore_visit=visit,
        window_start=at(world.monday, "13:00"),
        window_end=at(world.monday, "15:00"),
    )
    assert new_window == []
