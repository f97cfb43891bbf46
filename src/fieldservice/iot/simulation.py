"""Simulated machines: what the device simulator (bench/iot_sim.py), the demo and the forecast's
measure publish. Pure functions of a seed, no database: the same seed gives the same machine.

A drifting machine has a metric (wear, vibration, temperature) that stays near its baseline until
an onset, then rises, with noise, towards the threshold it crosses at a known failure time. A
healthy machine has the same noise and never drifts (what a forecast must not flag). Live
machines (`LiveMachine`) also raise alarms when near the threshold, repeat them (alarm storms),
and now and then fall silent for a while (disconnections).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

# metric: unit, baseline, threshold (what the forecast and the rules look at)
METRICS = {
    "vibration": ("mm/s", 2.0, 11.2),
    "temperature": ("°C", 55.0, 95.0),
    "wear": ("%", 5.0, 80.0),
}


@dataclass(frozen=True)
class Drift:
    """One machine's metric over time. `failure_at` is when the noiseless value reaches the
    threshold (None: a healthy machine that never does)."""

    metric: str
    unit: str
    baseline: float
    threshold: float
    onset: dt.datetime | None
    failure_at: dt.datetime | None
    noise: float  # standard deviation
    shape: float = 1.8  # > 1: slow at first, faster towards the failure

    def level(self, at: dt.datetime) -> float:
        """The noiseless value at `at`."""
        if self.failure_at is None or self.onset is None or at <= self.onset:
            return self.baseline
        share = (at - self.onset) / (self.failure_at - self.onset)
        return self.baseline + (self.threshold - self.baseline) * share**self.shape

    def value(self, at: dt.datetime, rng: random.Random) -> float:
        value = self.level(at) + rng.gauss(0, self.noise)
        if rng.random() < 0.002:  # a rare spike, as a loose sensor gives
            value += abs(rng.gauss(0, 6 * self.noise))
        return round(max(value, 0.0), 3)


def machine_drift(
    seed: int,
    *,
    start: dt.datetime,
    days: float,
    metric: str = "vibration",
    fails: bool | None = None,
    fail_share: float = 0.5,
) -> Drift:
    """A machine's drift, deterministic by seed: whether it fails within `days` of `start`
    (`fails`, or drawn with `fail_share`), when, and how long it drifts before."""
    rng = random.Random(f"drift:{seed}:{metric}")
    unit, baseline, threshold = METRICS[metric]
    baseline *= rng.uniform(0.85, 1.15)
    noise = (threshold - baseline) * rng.uniform(0.02, 0.05)
    if fails is None:
        fails = rng.random() < fail_share
    if not fails:
        return Drift(metric, unit, baseline, threshold, None, None, noise)
    failure_at = start + dt.timedelta(days=days * rng.uniform(0.45, 0.95))
    drifting = dt.timedelta(days=days * rng.uniform(0.2, 0.4))
    return Drift(metric, unit, baseline, threshold, failure_at - drifting, failure_at, noise)


@dataclass
class DriftHistory:
    drift: Drift
    readings: list[tuple[dt.datetime, float]]

    @property
    def failure_at(self) -> dt.datetime | None:
        return self.drift.failure_at


def drift_history(
    seed: int,
    *,
    start: dt.datetime,
    days: float = 60,
    every: dt.timedelta = dt.timedelta(hours=1),
    metric: str = "vibration",
    fails: bool | None = None,
    fail_share: float = 0.5,
    until: dt.datetime | None = None,
) -> DriftHistory:
    """One machine's readings from `start` for `days` (or `until`), one per `every`, with its known
    failure time (`history.failure_at`, None for a healthy machine). Readings stop at the failure:
    a failed machine is repaired, not read. Deterministic by seed."""
    drift = machine_drift(seed, start=start, days=days, metric=metric, fails=fails, fail_share=fail_share)
    rng = random.Random(f"noise:{seed}:{metric}")
    end = until or start + dt.timedelta(days=days)
    if drift.failure_at is not None:
        end = min(end, drift.failure_at)
    readings = []
    at = start
    while at < end:
        readings.append((at, drift.value(at, rng)))
        at += every
    return DriftHistory(drift, readings)


# -- live machines -------------------------------------------------------------------------------


@dataclass
class LiveMachine:
    """A machine publishing now. Its drift runs `speed` times faster than the clock (a demo sees a
    failure in minutes); `failure_at` is in wall-clock time."""

    serial: str
    seed: int
    started: dt.datetime
    speed: float = 1.0
    drifts: list[Drift] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)
    silent_until: dt.datetime | None = None
    storm: tuple[str, int] | None = None  # code, raises left
    open_alarms: set[str] = field(default_factory=set)

    @classmethod
    def make(
        cls,
        serial: str,
        seed: int,
        *,
        started: dt.datetime,
        days: float = 30,
        speed: float = 1.0,
        metrics=("vibration", "temperature", "wear"),
        fail_share: float = 0.3,
    ) -> LiveMachine:
        drifts = [
            machine_drift(seed, start=started, days=days, metric=metric, fail_share=fail_share) for metric in metrics
        ]
        return cls(serial, seed, started, speed, drifts, random.Random(f"live:{seed}"))

    def simulated(self, now: dt.datetime) -> dt.datetime:
        return self.started + (now - self.started) * self.speed

    def wall(self, simulated: dt.datetime) -> dt.datetime:
        return self.started + (simulated - self.started) / self.speed

    @property
    def failure_at(self) -> dt.datetime | None:
        """When the first of its metrics crosses its threshold (wall clock; None: never)."""
        failures = [d.failure_at for d in self.drifts if d.failure_at is not None]
        return self.wall(min(failures)) if failures else None

    def tick(
        self,
        now: dt.datetime,
        *,
        silence_chance: float = 0.0005,
        silence: tuple[float, float] = (30, 300),
        storm_chance: float = 0.0005,
    ) -> tuple[list[dict], list[dict]]:
        """The readings and alarms this machine sends at `now` (none while it is silent)."""
        if self.silent_until is not None:
            if now < self.silent_until:
                return [], []
            self.silent_until = None
        if self.rng.random() < silence_chance:
            self.silent_until = now + dt.timedelta(seconds=self.rng.uniform(*silence))
            return [], []
        at = now.isoformat()
        simulated = self.simulated(now)
        readings, alarms = [], []
        for drift in self.drifts:
            value = drift.value(simulated, self.rng)
            readings.append(
                {"machine": self.serial, "metric": drift.metric, "value": value, "unit": drift.unit, "at": at}
            )
            code = f"{drift.metric.upper()}_HIGH"
            near = value >= drift.baseline + 0.85 * (drift.threshold - drift.baseline)
            if near and (code not in self.open_alarms or self.rng.random() < 0.2):
                self.open_alarms.add(code)  # raised, and raised again now and then: a storm
                severity = "critical" if value >= drift.threshold else "warning"
                alarms.append(
                    _alarm(self.serial, code, "raised", at, severity, f"{drift.metric} {value:g} {drift.unit}")
                )
            elif not near and code in self.open_alarms and drift.level(simulated) < drift.threshold * 0.8:
                self.open_alarms.discard(code)
                alarms.append(_alarm(self.serial, code, "cleared", at))
        if self.storm is None and self.rng.random() < storm_chance:
            self.storm = (f"E{self.rng.randint(100, 140)}", self.rng.randint(5, 30))
        if self.storm is not None:
            code, left = self.storm
            alarms.append(_alarm(self.serial, code, "raised" if left > 0 else "cleared", at, "warning", "fault"))
            self.storm = (code, left - 1) if left > 0 else None
        return readings, alarms


def _alarm(serial, code, state, at, severity="warning", message="") -> dict:
    item = {"machine": serial, "code": code, "state": state, "at": at}
    if state == "raised":
        item.update(severity=severity, message=message[:300])
    return item


def fleet(serials: list[str], *, seed: int = 1, started: dt.datetime, **options) -> list[LiveMachine]:
    return [
        LiveMachine.make(serial, seed * 1_000_003 + n, started=started, **options) for n, serial in enumerate(serials)
    ]


def expected_failures(machines: list[LiveMachine]) -> list[dict]:
    """What the simulation will do: each machine's failure time (None: healthy), for the record."""
    return [
        {
            "machine": m.serial,
            "failure_at": m.failure_at.isoformat() if m.failure_at else None,
            "metrics": {
                d.metric: {
                    "threshold": d.threshold,
                    "failure_at": m.wall(d.failure_at).isoformat() if d.failure_at else None,
                }
                for d in m.drifts
            },
        }
        for m in machines
    ]
