"""The day plan's travel figures compare like with like (issue 10, item 3): the current plan and the proposal
are both measured over the same orders (those with a visit now and after applying) with one travel model,
and the page says what each figure counts. The instance is checkable by hand: every place lies on one
parallel and the travel model drives 0.01 degree of longitude in one minute."""

import datetime as dt

import numpy as np

from fieldservice.planning.inputs import day_start
from fieldservice.planning.optimiser import GreatCircle, TravelMatrix
from fieldservice.scheduling.models import Visit
from tests.planning.test_services import run_now


def one_minute_per_hundredth(self, points):
    """Travel along a parallel: |delta longitude| / 0.01 minutes (in place of the straight-line estimate)."""
    lng = np.array([p.longitude for p in points])
    seconds = np.rint(np.abs(lng[:, None] - lng[None, :]) * 100) * 60
    return TravelMatrix(seconds, seconds * 10)


def test_the_saving_is_measured_over_the_same_orders_with_the_same_travel_model(
    team_world, django_capture_on_commit_callbacks, client_for, monkeypatch
):
    w = team_world
    w.plain.engineer_profile.delete()
    monkeypatch.setattr(GreatCircle, "matrix", one_minute_per_hundredth)
    # Home at 121.55. Now: A (121.70) at 08:30, B (121.60) at 10:30, C (121.68) at 12:30:
    # home-A 15, A-B 10, B-C 8, C-home 13 = 46 minutes.
    start = day_start(w.day)
    placed = []
    for hour, longitude in ((8.5, "121.70"), (10.5, "121.60"), (12.5, "121.68")):
        order = w.order(latitude="29.87", longitude=longitude)
        Visit.objects.create(
            work_order=order,
            engineer=w.skilled,
            planned_start=start + dt.timedelta(hours=hour),
            duration_minutes=60,
        )
        placed.append(order)
    # A new order on the way (121.65) has no visit now: it is in the proposal's day, not in the comparison.
    new = w.order(latitude="29.87", longitude="121.65")
    # An order the plan cannot place (no coordinates) and its visit late in the day: counted in neither.
    nowhere = w.order(latitude=None, longitude=None)
    Visit.objects.create(
        work_order=nowhere, engineer=w.skilled, planned_start=start + dt.timedelta(hours=16), duration_minutes=30
    )
    run = run_now(django_capture_on_commit_callbacks, actor=w.dispatcher, day=w.day, team=w.team)
    proposal = run.proposal
    assert {m["order_id"] for m in proposal["moves"]} >= {new.pk}
    # Out to 121.70 and back along the line, whichever way round: 15 + 15 = 30 minutes, for A, B, C and
    # for A, B, C and the new order alike.
    comparison = proposal["comparison"]
    assert comparison["orders"] == 3
    assert (comparison["before"], comparison["after"]) == (46 * 60, 30 * 60)
    assert (proposal["travel_before"], proposal["travel_after"]) == (46 * 60, 30 * 60)
    assert comparison["new_orders"] == 1 and comparison["after_all"] == 30 * 60
    assert comparison["no_location"] == 1
    assert comparison["model"] == {"kind": "great_circle", "road_factor": 1.3, "speed_kmh": 40.0}
    [engineer] = proposal["engineers"]
    assert (engineer["travel_before"], engineer["travel_after"]) == (46 * 60, 30 * 60)

    html = client_for(w.dispatcher).get(f"/planning/runs/{run.pk}/").content.decode()
    assert "46 min" in html and "30 min" in html and "16 min" in html
    assert "counting the same 3 orders" in html
    assert "1 order the proposal adds to these engineers&#x27; day" in html


def test_a_far_pinned_visit_counts_in_both_figures(team_world, django_capture_on_commit_callbacks, monkeypatch):
    w = team_world
    w.plain.engineer_profile.delete()
    monkeypatch.setattr(GreatCircle, "matrix", one_minute_per_hundredth)
    start = day_start(w.day)
    pinned = w.order(latitude="29.87", longitude="121.75")
    from fieldservice.dispatch.assignments.services import dispatch_to_engineer

    dispatch_to_engineer(pinned, actor=w.dispatcher, engineer=w.skilled)
    Visit.objects.create(
        work_order=pinned,
        engineer=w.skilled,
        planned_start=start + dt.timedelta(hours=8),
        duration_minutes=60,
        is_pinned=True,
    )
    near = w.order(latitude="29.87", longitude="121.60")
    Visit.objects.create(
        work_order=near, engineer=w.skilled, planned_start=start + dt.timedelta(hours=15), duration_minutes=60
    )
    run = run_now(django_capture_on_commit_callbacks, actor=w.dispatcher, day=w.day, team=w.team)
    proposal = run.proposal
    # Now: home-P 20, P-near 15, near-home 5 = 40. Whatever the proposal does with `near`, the day still
    # goes to the pinned visit at 121.75 and back: at least 40 minutes, never "saved" by leaving P out.
    assert proposal["travel_before"] == 40 * 60
    assert proposal["travel_after"] >= 40 * 60
    assert proposal["comparison"]["orders"] == 2
