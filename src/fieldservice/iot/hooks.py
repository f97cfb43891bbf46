"""What runs after a batch of messages is stored, in its transaction: the rules (`iot.services.rules`
registers itself in apps.ready). A hook, so that the ingest path does not know who listens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Changes:
    """What one ingested batch changed. `readings` are every reading the batch carried (stored now
    or before: a redelivered message brings the same ones again, so a hook must be idempotent)."""

    now: dt.datetime
    readings: list[tuple[int, str, dt.datetime, float]] = field(default_factory=list)  # machine, metric, at, value
    raised: list = field(default_factory=list)  # Alarm rows raised by this batch
    repeated: list = field(default_factory=list)  # open Alarm rows raised again (a storm)
    cleared: list = field(default_factory=list)  # Alarm rows this batch cleared

    def __bool__(self) -> bool:
        return bool(self.readings or self.raised or self.repeated or self.cleared)


_ingested: list[Callable[[Changes], object]] = []


def on_ingested(hook: Callable[[Changes], object]) -> None:
    if hook not in _ingested:
        _ingested.append(hook)


def ingested(changes: Changes) -> None:
    if changes:
        for hook in _ingested:
            hook(changes)
