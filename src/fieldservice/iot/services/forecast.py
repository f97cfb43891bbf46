"""The forecast of the next failure: for metrics that drift (wear, vibration, temperature, hours),
the trend of each machine's recent readings, and when it will cross its threshold.

What is forecast, kept simple:
- A metric is forecast for a machine when an active threshold rule of kind "above" or "below"
  (`iot.ThresholdRule`) watches that metric for the machine's product model or for every model;
  the rule's value is the threshold (a model's own rule wins over an every-model rule; of several,
  the one crossed first: the lowest "above", the highest "below"). No rule, no forecast: there is no
  separate forecast setting to keep in step.
- The trend is an ordinary least-squares line through the hourly means of the last
  `LOOKBACK_DAYS` days of readings (hourly means, so that a machine reporting every second does
  not outweigh one reporting every ten minutes, and noise averages out). On PostgreSQL the line is
  fitted in the database (`regr_slope`, `regr_intercept`, `regr_r2`, `regr_count`); on SQLite the
  database sums x, y, x², xy, y² and Python solves the line from the sums: never a loop over
  readings.
- A machine is predicted to cross when the line reaches the threshold within the horizon
  (default `HORIZON_DAYS`), the fit explains the readings well enough (R² ≥ `MIN_R2`), it rests on
  at least `MIN_POINTS` hours spanning `MIN_SPAN_DAYS` days, and the machine reported in the last
  `STALE_DAYS` days. A machine whose line is already beyond the threshold is predicted "now".
- The planner (Capability.MANAGE_MAINTENANCE) turns a prediction into a maintenance order through
  the one proactive writer (`workorders.services.proactive.open_proactive_orders`), planned for
  the day before the predicted crossing; an `iot.Incident` with cause "forecast:<metric>" ties the
  order to the machine and metric, and a second order is refused while that one is open.

The figures that justify the defaults are printed by `bench/iot_forecast.py`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.assets.models import Equipment
from fieldservice.core.errors import DomainError, require
from fieldservice.iot.choices import RuleKind
from fieldservice.iot.models import Incident, Reading, ThresholdRule
from fieldservice.workorders.choices import OPEN_STATUSES, ServiceType
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.services.proactive import ProactiveSpec, open_proactive_orders

HORIZON_DAYS = 30
LOOKBACK_DAYS = 14
MIN_R2 = 0.6
MIN_POINTS = 24  # hourly means
MIN_SPAN_DAYS = 2.0
STALE_DAYS = 2
CAUSE_PREFIX = "forecast:"


@dataclass(frozen=True)
class Threshold:
    rule_id: int
    name: str
    direction: str  # RuleKind.ABOVE or RuleKind.BELOW
    value: float
    priority: str


@dataclass(frozen=True)
class Trend:
    equipment_id: int
    metric: str
    slope_per_day: float
    value_now: float  # the line's value now
    r2: float
    points: int
    first_at: dt.datetime
    last_at: dt.datetime


@dataclass(frozen=True)
class Prediction:
    equipment_id: int
    metric: str
    threshold: Threshold
    trend: Trend
    crosses_at: dt.datetime
    days_left: float

    @property
    def days_whole(self) -> int:
        return math.ceil(self.days_left)

    @property
    def crosses_on(self) -> dt.date:
        return timezone.localdate(self.crosses_at)

    @property
    def planned_for(self) -> dt.date:
        """The day before the crossing, never before today."""
        return max(self.crosses_on - dt.timedelta(days=1), timezone.localdate(self.trend.last_at))


def thresholds_by_model() -> dict[tuple[int | None, str], Threshold]:
    """{(product model id or None for every model, metric): threshold} of the active rules."""
    found: dict[tuple[int | None, str], Threshold] = {}
    rules = ThresholdRule.objects.filter(
        is_active=True, kind__in=[RuleKind.ABOVE, RuleKind.BELOW], value__isnull=False
    ).order_by("pk")
    for rule in rules:
        key = (rule.product_model_id, rule.metric)
        candidate = Threshold(rule.pk, rule.name, rule.kind, float(rule.value), rule.priority)
        current = found.get(key)
        if current is None or _first_crossed(candidate, current):
            found[key] = candidate
    return found


def _first_crossed(candidate: Threshold, current: Threshold) -> bool:
    if candidate.direction != current.direction:
        return False  # the first rule of a metric sets the direction
    if candidate.direction == RuleKind.ABOVE:
        return candidate.value < current.value
    return candidate.value > current.value


def _as_datetime(value) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if timezone.is_naive(value) else value


def fit_trends(
    metrics: list[str], *, now: dt.datetime, lookback_days: int = LOOKBACK_DAYS, equipment_ids=None
) -> list[Trend]:
    """The trend line of each machine's `metrics` over the last `lookback_days` days, x in days
    from `now` (so the intercept is the line's value now), through hourly means."""
    if not metrics or (equipment_ids is not None and not equipment_ids):
        return []
    table = connection.ops.quote_name(Reading._meta.db_table)
    since = now - dt.timedelta(days=lookback_days)
    where = "metric IN ({}) AND at >= %s AND at <= %s".format(", ".join(["%s"] * len(metrics)))
    adapt = connection.ops.adapt_datetimefield_value
    params: list = [*metrics, adapt(since), adapt(now)]
    if equipment_ids is not None:
        ids = [int(pk) for pk in equipment_ids]
        where += " AND equipment_id IN ({})".format(", ".join(["%s"] * len(ids)))
        params += ids
    if connection.vendor == "postgresql":
        sql = (
            "SELECT equipment_id, metric, regr_slope(y, x), regr_intercept(y, x), regr_r2(y, x), "
            "regr_count(y, x), MIN(first_at), MAX(last_at) FROM ("
            "  SELECT equipment_id, metric, AVG(value) AS y, AVG(extract(epoch from (at - %s)) / 86400.0) AS x,"
            "    MIN(at) AS first_at, MAX(at) AS last_at"
            f"  FROM {table} WHERE {where}"  # noqa: S608 - placeholders only
            "  GROUP BY equipment_id, metric, date_trunc('hour', at)"
            ") hours GROUP BY equipment_id, metric"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [adapt(now), *params])
            rows = cursor.fetchall()
        trends = []
        for equipment_id, metric, slope, intercept, r2, count, first_at, last_at in rows:
            if slope is None or intercept is None:
                continue
            trends.append(
                Trend(
                    equipment_id,
                    metric,
                    float(slope),
                    float(intercept),
                    float(r2 if r2 is not None else 0.0),
                    int(count),
                    first_at,
                    last_at,
                )
            )
        return trends
    sql = (
        "SELECT equipment_id, metric, COUNT(*), SUM(x), SUM(y), SUM(x * x), SUM(x * y), SUM(y * y),"
        " MIN(first_at), MAX(last_at) FROM ("
        "  SELECT equipment_id, metric, AVG(value) AS y, AVG(julianday(at) - julianday(%s)) AS x,"
        "    MIN(at) AS first_at, MAX(at) AS last_at"
        f"  FROM {table} WHERE {where}"  # noqa: S608 - placeholders only
        "  GROUP BY equipment_id, metric, strftime('%%Y-%%m-%%d %%H', at)"
        ") hours GROUP BY equipment_id, metric"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(now), *params])
        rows = cursor.fetchall()
    trends = []
    for equipment_id, metric, n, sx, sy, sxx, sxy, syy, first_at, last_at in rows:
        fitted = solve_line(n, sx, sy, sxx, sxy, syy)
        if fitted is None:
            continue
        slope, intercept, r2 = fitted
        trends.append(
            Trend(equipment_id, metric, slope, intercept, r2, int(n), _as_datetime(first_at), _as_datetime(last_at))
        )
    return trends


def solve_line(n, sx, sy, sxx, sxy, syy) -> tuple[float, float, float] | None:
    """Least squares from the sums: (slope, intercept, R²), as PostgreSQL's regr_* compute them;
    None when x does not vary (fewer than two distinct moments)."""
    sxx_c = n * sxx - sx * sx
    if n < 2 or sxx_c <= 1e-12 * max(1.0, n * sxx):
        return None
    sxy_c = n * sxy - sx * sy
    syy_c = n * syy - sy * sy
    slope = sxy_c / sxx_c
    intercept = (sy - slope * sx) / n
    if syy_c <= 1e-12 * max(1.0, abs(n * syy)):
        r2 = 1.0  # a flat line through flat readings (regr_r2's answer too)
    else:
        r2 = min(1.0, (sxy_c * sxy_c) / (sxx_c * syy_c))
    return slope, intercept, r2


def crossing(trend: Trend, threshold: Threshold, now: dt.datetime) -> float | None:
    """Days from now until the trend line reaches the threshold (0 when already beyond), or None
    when it never does (flat or moving away)."""
    if threshold.direction == RuleKind.ABOVE:
        if trend.value_now >= threshold.value:
            return 0.0
        if trend.slope_per_day <= 0:
            return None
        return (threshold.value - trend.value_now) / trend.slope_per_day
    if trend.value_now <= threshold.value:
        return 0.0
    if trend.slope_per_day >= 0:
        return None
    return (threshold.value - trend.value_now) / trend.slope_per_day


def forecast(
    *,
    now: dt.datetime | None = None,
    horizon_days: float = HORIZON_DAYS,
    equipment_ids=None,
    lookback_days: int = LOOKBACK_DAYS,
    min_r2: float = MIN_R2,
) -> list[Prediction]:
    """The machines predicted to cross a threshold within `horizon_days`, soonest first. Not
    scoped: `predictions_for` is the users' door; the bench and the services call this."""
    now = now or timezone.now()
    thresholds = thresholds_by_model()
    if not thresholds:
        return []
    metrics = sorted({metric for _model, metric in thresholds})
    trends = fit_trends(metrics, now=now, lookback_days=lookback_days, equipment_ids=equipment_ids)
    models = dict(
        Equipment.objects.filter(pk__in={t.equipment_id for t in trends}).values_list("pk", "product_model_id")
    )
    predictions = []
    for trend in trends:
        threshold = _threshold_of(thresholds, models.get(trend.equipment_id), trend.metric)
        prediction = _predict(trend, threshold, now=now, horizon_days=horizon_days, min_r2=min_r2)
        if prediction is not None:
            predictions.append(prediction)
    predictions.sort(key=lambda p: (p.crosses_at, p.equipment_id, p.metric))
    return predictions


def _threshold_of(thresholds: dict, product_model_id: int | None, metric: str) -> Threshold | None:
    """The machine's model's own threshold of the metric, else the every-model one."""
    return thresholds.get((product_model_id, metric)) or thresholds.get((None, metric))


def _predict(
    trend: Trend, threshold: Threshold | None, *, now: dt.datetime, horizon_days: float, min_r2: float
) -> Prediction | None:
    """The crossing of a confident trend within the horizon, or None."""
    if threshold is None or not confident(trend, now=now, min_r2=min_r2):
        return None
    days = crossing(trend, threshold, now)
    if days is None or days > horizon_days:
        return None
    return Prediction(trend.equipment_id, trend.metric, threshold, trend, now + dt.timedelta(days=days), days)


@dataclass(frozen=True)
class MachineTrend:
    """One watched metric of one machine: its fitted trend, its threshold, whether the fit is
    trusted, and the crossing predicted within the horizon (None when there is none)."""

    metric: str
    threshold: Threshold
    trend: Trend
    confident: bool
    prediction: Prediction | None


def machine_trends(
    equipment: Equipment, *, now: dt.datetime | None = None, horizon_days: float = HORIZON_DAYS
) -> list[MachineTrend]:
    """The trend of each metric a threshold watches for this machine, by metric; a metric without
    readings enough to fit a line is left out. Call with a machine from `get_machine_for` (or
    `may_see_machine`), which did the scoping."""
    now = now or timezone.now()
    thresholds = thresholds_by_model()
    watched = {
        metric: threshold
        for metric in sorted({metric for _model, metric in thresholds})
        if (threshold := _threshold_of(thresholds, equipment.product_model_id, metric)) is not None
    }
    trends = fit_trends(list(watched), now=now, equipment_ids=[equipment.pk])
    return [
        MachineTrend(
            metric=trend.metric,
            threshold=watched[trend.metric],
            trend=trend,
            confident=confident(trend, now=now),
            prediction=_predict(trend, watched[trend.metric], now=now, horizon_days=horizon_days, min_r2=MIN_R2),
        )
        for trend in sorted(trends, key=lambda t: t.metric)
    ]


def confident(trend: Trend, *, now: dt.datetime, min_r2: float = MIN_R2) -> bool:
    span_days = (trend.last_at - trend.first_at).total_seconds() / 86400
    return (
        trend.points >= MIN_POINTS
        and span_days >= MIN_SPAN_DAYS
        and trend.r2 >= min_r2
        and now - trend.last_at <= dt.timedelta(days=STALE_DAYS)
    )


# --- for people: scoped, and the order before the failure ---


@dataclass
class Row:
    """A prediction as the page lists it: the machine loaded, and the order opened for it."""

    prediction: Prediction
    equipment: Equipment
    open_order: WorkOrder | None


def predictions_for(actor: User, *, now: dt.datetime | None = None, horizon_days: float = HORIZON_DAYS) -> list[Row]:
    """The predictions of the machines whose data the actor may see."""
    from fieldservice.iot.selectors.machines import machines_for

    now = now or timezone.now()
    visible = machines_for(actor, now=now)
    if actor.is_own_staff and (actor.is_superuser or actor.role_codes - {"engineer"}):
        ids = None  # every machine: no list of ids in the query
    else:
        ids = list(visible.values_list("pk", flat=True))
    predictions = forecast(now=now, horizon_days=horizon_days, equipment_ids=ids)
    machines = visible.in_bulk({p.equipment_id for p in predictions})
    orders = open_orders_of({p.equipment_id for p in predictions})
    return [
        Row(p, machines[p.equipment_id], orders.get((p.equipment_id, p.metric)))
        for p in predictions
        if p.equipment_id in machines
    ]


def open_orders_of(equipment_ids) -> dict[tuple[int, str], WorkOrder]:
    """{(machine id, metric): open order} of the forecasts turned into orders."""
    found = {}
    incidents = Incident.objects.filter(
        equipment_id__in=list(equipment_ids),
        cause__startswith=CAUSE_PREFIX,
        closed_at__isnull=True,
        work_order__status__in=OPEN_STATUSES,
    ).select_related("work_order")
    for incident in incidents:
        found[(incident.equipment_id, incident.cause.removeprefix(CAUSE_PREFIX))] = incident.work_order
    return found


def may_order_from_forecast(actor: User) -> bool:
    return can(actor, Capability.MANAGE_MAINTENANCE)


def order_from_prediction(
    equipment: Equipment,
    metric: str,
    *,
    actor: User,
    now: dt.datetime | None = None,
    horizon_days: float = HORIZON_DAYS,
) -> WorkOrder:
    """Open a maintenance order for the machine's predicted crossing of `metric`, planned for the
    day before it. Refused (DomainError) when nothing is predicted for it within the horizon, or
    while an order opened for the same machine and metric is still open."""
    from fieldservice.iot.selectors.machines import may_see_machine

    require(may_order_from_forecast(actor) and may_see_machine(actor, equipment))
    now = now or timezone.now()
    with transaction.atomic():
        # One at a time per machine: the second planner waits, then sees the first one's order.
        Equipment.objects.select_for_update().filter(pk=equipment.pk).first()
        cause = CAUSE_PREFIX + metric
        incident = Incident.objects.filter(equipment=equipment, cause=cause, closed_at__isnull=True).first()
        if incident is not None:
            order = incident.work_order
            if order is not None and order.status in OPEN_STATUSES:
                raise DomainError(
                    "forecast_order_open",
                    _("Work order %(number)s is already open for this forecast.") % {"number": order.number},
                )
            incident.closed_at = now
            incident.save(update_fields=["closed_at"])
        prediction = next(
            (
                p
                for p in forecast(now=now, horizon_days=horizon_days, equipment_ids=[equipment.pk])
                if p.metric == metric
            ),
            None,
        )
        if prediction is None:
            raise DomainError(
                "no_prediction", _("Nothing is predicted for this machine and metric within the horizon.")
            )
        threshold, trend = prediction.threshold, prediction.trend
        description = _(
            "Forecast: %(metric)s is expected to cross %(threshold)s (%(rule)s) on %(date)s; "
            "trend %(slope)s per day, R² %(r2)s over %(points)d hours. Service the machine before then."
        ) % {
            "metric": metric,
            "threshold": f"{threshold.value:g}",
            "rule": threshold.name,
            "date": f"{prediction.crosses_on:%Y-%m-%d}",
            "slope": f"{trend.slope_per_day:+.4g}",
            "r2": f"{trend.r2:.2f}",
            "points": trend.points,
        }
        planned_for = max(prediction.crosses_on - dt.timedelta(days=1), timezone.localdate(now))
        (order,) = open_proactive_orders(
            [
                ProactiveSpec(
                    equipment=equipment,
                    service_type=ServiceType.MAINTENANCE,
                    priority=threshold.priority,
                    description=description,
                    planned_for=planned_for,
                    note=_("Opened from the forecast of %(metric)s.") % {"metric": metric},
                )
            ],
            actor=actor,
            at=now,
        )
        evidence = {
            "metric": metric,
            "rule": threshold.rule_id,
            "threshold": threshold.value,
            "direction": threshold.direction,
            "crosses_at": prediction.crosses_at.isoformat(),
            **{k: v for k, v in asdict(trend).items() if k in ("slope_per_day", "value_now", "r2", "points")},
        }
        Incident.objects.create(equipment=equipment, cause=cause, work_order=order, opened_at=now, evidence=[evidence])
    return order
