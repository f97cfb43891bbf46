"""A metric's chart drawn on the server as inline SVG: the readings' band (low to high of each
bucket) and mean line, the thresholds, and under them on the same time line the machine's alarms
and orders. No script: the page works as it loads, prints, and is read by screen readers from its
title and description."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from fieldservice.iot.selectors.machines import Bucket

WIDTH, HEIGHT = 900, 350
LEFT, RIGHT, TOP = 70, 16, 18
PLOT_BOTTOM = 236
ALARM_LANE = (252, 268)
ORDER_LANE = (280, 296)
AXIS_Y = 326


@dataclass
class Mark:
    x: float
    width: float
    label: str
    url: str = ""
    severity: str = ""


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round values spanning [low, high] for the value axis."""
    if high - low < 1e-12:
        pad = abs(high) * 0.1 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value <= high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def render_chart(
    *,
    machine_label: str,
    metric: str,
    unit: str,
    buckets: list[Bucket],
    start: dt.datetime,
    end: dt.datetime,
    alarms=(),
    orders=(),
    thresholds: list[tuple[str, float]] = (),
    period_label: str = "",
) -> str:
    """The chart's SVG markup (or its empty state when there are no readings in the period)."""
    span = (end - start).total_seconds()
    plot_width = WIDTH - LEFT - RIGHT

    def x_of(moment: dt.datetime) -> float:
        seconds = (moment - start).total_seconds()
        return round(LEFT + plot_width * min(max(seconds / span, 0.0), 1.0), 1)

    lows = [b.low for b in buckets] + [value for _kind, value in thresholds]
    highs = [b.high for b in buckets] + [value for _kind, value in thresholds]
    ticks = nice_ticks(min(lows), max(highs)) if buckets else []
    bottom, top = (ticks[0], ticks[-1]) if ticks else (0.0, 1.0)

    def y_of(value: float) -> float:
        return round(PLOT_BOTTOM - (PLOT_BOTTOM - TOP) * (value - bottom) / ((top - bottom) or 1.0), 1)

    line = " ".join(f"{x_of(b.at)},{y_of(b.mean)}" for b in buckets)
    band = " ".join(
        [f"{x_of(b.at)},{y_of(b.high)}" for b in buckets] + [f"{x_of(b.at)},{y_of(b.low)}" for b in reversed(buckets)]
    )
    alarm_marks = []
    for alarm in alarms:
        left = x_of(max(alarm.raised_at, start))
        right = x_of(min(alarm.cleared_at or end, end))
        label = f"{alarm.code} · {alarm.get_severity_display()} · {_local(alarm.raised_at)}"
        alarm_marks.append(Mark(x=left, width=max(right - left, 3.0), label=label, severity=alarm.severity))
    order_marks = [
        Mark(
            x=x_of(max(order.created_at, start)),
            width=0,
            label=f"{order.number} · {order.get_status_display()} · {_local(order.created_at)}",
            url=reverse("workorders:order_detail", args=[order.pk]),
        )
        for order in orders
    ]
    # Time axis: six ticks; hours shown when the period is eight days or less.
    with_hours = span <= 8 * 86400
    time_ticks = []
    for index in range(6):
        moment = start + dt.timedelta(seconds=span * index / 5)
        local = timezone.localtime(moment)
        text = date_format(local, "m-d H:i" if with_hours else "Y-m-d")
        time_ticks.append((x_of(moment), text, "end" if index == 5 else ("start" if index == 0 else "middle")))
    title = _("%(metric)s of %(machine)s, %(period)s") % {
        "metric": metric,
        "machine": machine_label,
        "period": period_label,
    }
    count = sum(b.count for b in buckets)
    if buckets:
        description = _(
            "%(count)d readings from %(start)s to %(end)s: lowest %(low)s, highest %(high)s, "
            "mean %(mean)s %(unit)s. %(alarms)d alarms and %(orders)d work orders in the period."
        ) % {
            "count": count,
            "start": _local(start),
            "end": _local(end),
            "low": _fmt(min(b.low for b in buckets)),
            "high": _fmt(max(b.high for b in buckets)),
            "mean": _fmt(sum(b.mean * b.count for b in buckets) / count),
            "unit": unit,
            "alarms": len(alarm_marks),
            "orders": len(order_marks),
        }
    else:
        description = ""
    return render_to_string(
        "iot/_chart.html",
        {
            "width": WIDTH,
            "height": HEIGHT,
            "left": LEFT,
            "right": WIDTH - RIGHT,
            "top": TOP,
            "plot_bottom": PLOT_BOTTOM,
            "alarm_lane": ALARM_LANE,
            "alarm_height": ALARM_LANE[1] - ALARM_LANE[0],
            "order_lane": ORDER_LANE,
            "order_mid": (ORDER_LANE[0] + ORDER_LANE[1]) / 2,
            "axis_y": AXIS_Y,
            "buckets": buckets,
            "line": line,
            "band": band,
            "value_ticks": [(y_of(value), _fmt(value)) for value in ticks],
            "thresholds": [(y_of(value), kind, _fmt(value)) for kind, value in thresholds],
            "time_ticks": time_ticks,
            "alarm_marks": alarm_marks,
            "order_marks": order_marks,
            "title": title,
            "description": description,
            "unit": unit,
            "dots": [(x_of(b.at), y_of(b.mean)) for b in buckets] if len(buckets) <= 60 else [],
        },
    )


def _local(moment: dt.datetime) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i")
