"""The forecast: it finds a machine drifting to its threshold, stays quiet on a stable noisy one,
is scoped like the machine's data, and turns a prediction into one maintenance order (refused
while that order is open, and for those who may not plan maintenance)."""

import datetime as dt
import random

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from fieldservice.core.errors import DomainError
from fieldservice.iot.choices import RuleKind
from fieldservice.iot.models import Incident, ThresholdRule
from fieldservice.iot.services import forecast as forecasting
from fieldservice.workorders.choices import Channel, WorkOrderStatus
from fieldservice.workorders.models import WorkOrder
from tests import factories
from tests.iot import factories as iot

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(minute=0, second=0, microsecond=0)


def hourly(days, value_at, seed=1):
    """(moment, value) every hour for the last `days` days; value_at(days before now, rng)."""
    rng = random.Random(seed)
    return [(NOW - dt.timedelta(hours=h), value_at(h / 24, rng)) for h in range(days * 24, 0, -1)]


@pytest.fixture
def fleet(personas):
    p = personas
    rule = ThresholdRule.objects.create(name="Vibration high", metric="vibration", kind=RuleKind.ABOVE, value=10.0)
    drifting = factories.equipment(p.customer_a, site=factories.site(p.customer_a))
    stable = factories.equipment(p.customer_a, site=factories.site(p.customer_a))
    other = factories.equipment(p.customer_z, site=factories.site(p.customer_z))
    # 4.0 two weeks ago, +0.3 a day: 8.2 now, crossing 10 in 6 days; noise ±0.3.
    iot.store_readings(drifting, "vibration", hourly(14, lambda d, r: 4.0 + 0.3 * (14 - d) + r.uniform(-0.3, 0.3)))
    iot.store_readings(stable, "vibration", hourly(14, lambda d, r: 6.0 + r.gauss(0, 1.0), seed=2))
    iot.store_readings(other, "vibration", hourly(14, lambda d, r: 5.0 + 0.4 * (14 - d), seed=3))
    return type("Fleet", (), {"p": p, "rule": rule, "drifting": drifting, "stable": stable, "other": other})


def test_finds_the_drifting_machine_and_stays_quiet_on_the_stable_one(fleet):
    predictions = {(x.equipment_id, x.metric): x for x in forecasting.forecast(now=NOW)}
    assert (fleet.stable.pk, "vibration") not in predictions
    found = predictions[(fleet.drifting.pk, "vibration")]
    assert 5.0 <= found.days_left <= 7.0
    assert 0.28 <= found.trend.slope_per_day <= 0.32
    assert found.trend.r2 >= 0.9 and found.trend.points == 14 * 24
    assert found.threshold.rule_id == fleet.rule.pk
    # Outside the horizon: not listed.
    assert (fleet.drifting.pk, "vibration") not in {
        (x.equipment_id, x.metric) for x in forecasting.forecast(now=NOW, horizon_days=4)
    }


def test_no_rule_no_forecast_and_a_model_rule_wins(fleet):
    fleet.rule.is_active = False
    fleet.rule.save()
    assert forecasting.forecast(now=NOW) == []
    # A rule of the drifting machine's own model, with a higher threshold, pushes the date out.
    ThresholdRule.objects.create(
        name="Every model", metric="vibration", kind=RuleKind.ABOVE, value=9.0, product_model=None
    )
    ThresholdRule.objects.create(
        name="This model",
        metric="vibration",
        kind=RuleKind.ABOVE,
        value=11.0,
        product_model=fleet.drifting.product_model,
    )
    found = {x.equipment_id: x for x in forecasting.forecast(now=NOW)}
    assert found[fleet.drifting.pk].threshold.name == "This model"
    assert 8.0 <= found[fleet.drifting.pk].days_left <= 10.0


def test_below_thresholds_and_machines_already_beyond(personas):
    p = personas
    ThresholdRule.objects.create(name="Pressure low", metric="pressure", kind=RuleKind.BELOW, value=2.0)
    falling = factories.equipment(p.customer_a)
    beyond = factories.equipment(p.customer_a)
    iot.store_readings(falling, "pressure", hourly(7, lambda d, r: 3.0 - 0.1 * (7 - d)))
    iot.store_readings(beyond, "pressure", hourly(7, lambda d, r: 1.9 - 0.05 * (7 - d)))
    found = {x.equipment_id: x for x in forecasting.forecast(now=NOW)}
    assert 2.5 <= found[falling.pk].days_left <= 3.5
    assert found[beyond.pk].days_left == 0.0


def test_silent_or_short_histories_are_not_forecast(personas):
    p = personas
    ThresholdRule.objects.create(name="Temp", metric="temperature", kind=RuleKind.ABOVE, value=90.0)
    short = factories.equipment(p.customer_a)
    silent = factories.equipment(p.customer_a)
    iot.store_readings(short, "temperature", hourly(1, lambda d, r: 80 + 5 * (1 - d)))
    iot.store_readings(
        silent, "temperature", [(at - dt.timedelta(days=5), v) for at, v in hourly(9, lambda d, r: 60 + 3 * (9 - d))]
    )
    assert forecasting.forecast(now=NOW) == []


def test_the_sums_give_the_same_line_as_postgresql():
    # y = 2x + 1 exactly, x = 0..9.
    xs = list(range(10))
    ys = [2 * x + 1 for x in xs]
    slope, intercept, r2 = forecasting.solve_line(
        10,
        sum(xs),
        sum(ys),
        sum(x * x for x in xs),
        sum(x * y for x, y in zip(xs, ys, strict=True)),
        sum(y * y for y in ys),
    )
    assert (round(slope, 9), round(intercept, 9), round(r2, 9)) == (2.0, 1.0, 1.0)
    assert forecasting.solve_line(3, 3.0, 6.0, 3.0, 6.0, 12.0) is None  # x never varies


def test_the_list_is_scoped_like_the_machine_data(fleet, client_for):
    p = fleet.p
    ids = lambda user: {row.equipment.pk for row in forecasting.predictions_for(user, now=NOW)}  # noqa: E731
    assert ids(p.director) == {fleet.drifting.pk, fleet.other.pk}
    assert ids(p.customer_user_a) == {fleet.drifting.pk}
    assert ids(p.customer_user_z) == {fleet.other.pk}
    assert ids(p.provider_admin) == set()
    assert ids(factories.engineer(p.own)) == set()
    page = client_for(p.customer_user_z).get("/iot/forecast/").content.decode()
    assert fleet.other.serial_number in page and fleet.drifting.serial_number not in page
    assert "Open a maintenance order" not in page  # a customer does not plan maintenance


def test_a_prediction_becomes_one_maintenance_order_before_the_failure(fleet, client_for):
    p = fleet.p
    order = forecasting.order_from_prediction(fleet.drifting, "vibration", actor=p.director, now=NOW)
    assert order.request.channel == Channel.PROACTIVE and order.service_type == "maintenance"
    assert order.equipment_id == fleet.drifting.pk
    predicted = next(x for x in forecasting.forecast(now=NOW) if x.equipment_id == fleet.drifting.pk)
    assert order.planned_for == predicted.crosses_on - dt.timedelta(days=1)
    incident = Incident.objects.get(equipment=fleet.drifting, cause="forecast:vibration")
    assert incident.work_order_id == order.pk and incident.evidence[0]["rule"] == fleet.rule.pk
    # Twice while it is open: refused, nothing written.
    with pytest.raises(DomainError) as refused:
        forecasting.order_from_prediction(fleet.drifting, "vibration", actor=p.director, now=NOW)
    assert refused.value.code == "forecast_order_open"
    assert WorkOrder.objects.filter(equipment=fleet.drifting).count() == 1
    # The page shows the order instead of the button.
    page = client_for(p.director).get("/iot/forecast/").content.decode()
    assert order.number in page
    # Once that order is closed, the planner may open another.
    WorkOrder.objects.filter(pk=order.pk).update(status=WorkOrderStatus.CLOSED, closed_at=NOW)
    second = forecasting.order_from_prediction(fleet.drifting, "vibration", actor=p.director, now=NOW)
    assert second.pk != order.pk
    assert (
        Incident.objects.filter(equipment=fleet.drifting, cause="forecast:vibration", closed_at__isnull=True).count()
        == 1
    )


def test_who_may_open_the_order_and_for_what(fleet, client_for):
    p = fleet.p
    for user in (p.customer_user_a, p.agent, p.provider_admin):
        with pytest.raises(PermissionDenied):
            forecasting.order_from_prediction(fleet.drifting, "vibration", actor=user, now=NOW)
    with pytest.raises(DomainError) as nothing:
        forecasting.order_from_prediction(fleet.stable, "vibration", actor=p.director, now=NOW)
    assert nothing.value.code == "no_prediction"
    assert not WorkOrder.objects.filter(equipment__in=[fleet.drifting, fleet.stable]).exists()
    # Through the page: the customer's POST to another's machine is a 404.
    response = client_for(p.customer_user_z).post(
        f"/iot/machines/{fleet.drifting.pk}/forecast-order/", {"metric": "vibration"}
    )
    assert response.status_code == 404
    response = client_for(p.director).post(
        f"/iot/machines/{fleet.drifting.pk}/forecast-order/", {"metric": "vibration"}
    )
    assert response.status_code == 302
    assert WorkOrder.objects.filter(equipment=fleet.drifting).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres_only")
def test_two_planners_at_once_open_one_order(fleet):
    from fieldservice.accounts.choices import Role
    from tests.concurrency import run_concurrently

    p = fleet.p
    other_planner = factories.user(Role.DIRECTOR, organisation=p.own, username="director2")

    def plan(user):
        return lambda: forecasting.order_from_prediction(fleet.drifting, "vibration", actor=user, now=NOW)

    outcomes = run_concurrently(plan(p.director), plan(other_planner))
    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["error", "ok"], outcomes
    error = next(value for kind, value in outcomes if kind == "error")
    assert isinstance(error, DomainError) and error.code == "forecast_order_open"
    assert WorkOrder.objects.filter(equipment=fleet.drifting).count() == 1
