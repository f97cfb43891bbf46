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

from fieldservice.iot.metrics import metric_label
from fieldservice.iot.selectors.machines import Bucket


@dataclass(frozen=True)
class Layout:
    """The chart's geometry, in the units of its viewBox. The SVG is scaled to the width it is
    given, so the viewBox's width sets how large the text and lines come out: the desktop's 900
    units shrunk onto a phone's 360 pixels would make 14-unit labels 5 pixels high."""

    width: int
    height: int
    left: int  # the value axis's labels to the left of this
    right: int
    top: int
    plot_bottom: int
    alarm_lane: tuple[int, int]
    order_lane: tuple[int, int]
    axis_y: int
    font_size: int
    lane_font_size: int  # the "Alarms" and "Orders" labels in the left margin
    time_ticks: int
    value_ticks: int
    line_width: float
    dot_radius: float
    max_width: int  # CSS pixels the chart grows to at most
    unit_y: int = 16  # the unit's line (its top), above the value axis
    caption: bool = True  # the description printed under the chart (always in its <desc>)
    flush: bool = False  # the chart takes its panel's whole width (no figure margins)


DESKTOP = Layout(
    width=900,
    height=350,
    left=70,
    right=16,
    top=18,
    plot_bottom=236,
    alarm_lane=(252, 268),
    order_lane=(280, 296),
    axis_y=326,
    font_size=14,
    lane_font_size=14,
    time_ticks=6,
    value_ticks=5,
    line_width=1.6,
    dot_radius=2.5,
    max_width=900,
)
# About a phone's width in CSS pixels, so the text comes out at its own size; three time ticks and
# four values, which fit without crowding at that width.
PHONE = Layout(
    width=360,
    height=300,
    left=50,
    right=10,
    top=24,
    plot_bottom=196,
    alarm_lane=(208, 224),
    order_lane=(232, 248),
    axis_y=276,
    font_size=15,
    lane_font_size=12,
    time_ticks=3,
    value_ticks=4,
    line_width=2.4,
    dot_radius=3.5,
    max_width=560,
    unit_y=2,
    caption=False,
    flush=True,
)


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
    layout: Layout = DESKTOP,
) -> str:
    """The chart's SVG markup (or its empty state when there are no readings in the period), drawn
    for the desktop page unless another layout (`PHONE`) is given."""
    g = layout
    span = (end - start).total_seconds()
    plot_width = g.width - g.left - g.right

    def x_of(moment: dt.datetime) -> float:
        seconds = (moment - start).total_seconds()
        return round(g.left + plot_width * min(max(seconds / span, 0.0), 1.0), 1)

    lows = [b.low for b in buckets] + [value for _kind, value in thresholds]
    highs = [b.high for b in buckets] + [value for _kind, value in thresholds]
    ticks = nice_ticks(min(lows), max(highs), g.value_ticks) if buckets else []
    bottom, top = (ticks[0], ticks[-1]) if ticks else (0.0, 1.0)

    def y_of(value: float) -> float:
        return round(g.plot_bottom - (g.plot_bottom - g.top) * (value - bottom) / ((top - bottom) or 1.0), 1)

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
    # Time axis: the layout's ticks, evenly; hours shown when the period is eight days or less.
    with_hours = span <= 8 * 86400
    time_ticks = []
    last = g.time_ticks - 1
    for index in range(g.time_ticks):
        moment = start + dt.timedelta(seconds=span * index / last)
        local = timezone.localtime(moment)
        text = date_format(local, "m-d H:i" if with_hours else "Y-m-d")
        time_ticks.append((x_of(moment), text, "end" if index == last else ("start" if index == 0 else "middle")))
    title = _("%(metric)s of %(machine)s, %(period)s") % {
        "metric": metric_label(metric),
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
            "layout": g,
            "width": g.width,
            "height": g.height,
            "left": g.left,
            "right": g.width - g.right,
            "top": g.top,
            "plot_bottom": g.plot_bottom,
            "alarm_lane": g.alarm_lane,
            "alarm_height": g.alarm_lane[1] - g.alarm_lane[0],
            "order_lane": g.order_lane,
            "order_mid": (g.order_lane[0] + g.order_lane[1]) / 2,
            "order_half": (g.order_lane[1] - g.order_lane[0]) / 2,
            "axis_y": g.axis_y,
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
