"""Travel times and distances between the places of a plan.

- `GreatCircle`: great-circle distance x road factor, driven at a constant speed (settings
  FSM_ROAD_FACTOR, default 1.3, and FSM_TRAVEL_SPEED_KMH, default 40). The default.
- `OsrmTable`: an OSRM server's table service (settings FSM_OSRM_URL), asked in blocks of at most
  `max_table` sources x destinations. When the server fails, the matrix comes from `fallback` (the
  great-circle estimate by default) with a warning that says why; without a fallback it raises.
- `ExplicitMatrix`: a given matrix over known keys (benchmarks, tests).

`default_source()` picks OSRM when FSM_OSRM_URL is set, else the great-circle estimate.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from django.utils.translation import gettext as _

from fieldservice.core.geo import EARTH_RADIUS_KM, great_circle_km

from .model import GeoPoint

__all__ = [
    "EARTH_RADIUS_M",
    "UNREACHABLE",
    "ExplicitMatrix",
    "GreatCircle",
    "OsrmTable",
    "TravelError",
    "TravelMatrix",
    "TravelSource",
    "default_source",
    "great_circle_m",
]

EARTH_RADIUS_M = 1000 * EARTH_RADIUS_KM
# Stands for "no road between these places" in a matrix; far beyond any working day.
UNREACHABLE = 10**9


class TravelError(Exception):
    """The travel matrix could not be made (e.g. the OSRM server failed and there is no fallback)."""


@dataclass(frozen=True)
class TravelMatrix:
    """durations[i][j] seconds and distances[i][j] metres from points[i] to points[j]."""

    durations: np.ndarray
    distances: np.ndarray
    warnings: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        durations = np.asarray(self.durations, dtype=np.int64)
        distances = np.asarray(self.distances, dtype=np.int64)
        if durations.ndim != 2 or durations.shape[0] != durations.shape[1] or durations.shape != distances.shape:
            raise ValueError("a travel matrix must be square, with durations and distances of the same size")
        if (durations < 0).any() or (distances < 0).any():
            raise ValueError("travel times and distances cannot be negative")
        object.__setattr__(self, "durations", durations)
        object.__setattr__(self, "distances", distances)

    def __len__(self) -> int:
        return int(self.durations.shape[0])


class TravelSource(Protocol):
    def matrix(self, points: Sequence[Hashable]) -> TravelMatrix: ...


def great_circle_m(a: GeoPoint, b: GeoPoint) -> float:
    """Haversine distance in metres (the project's one formula, core.geo)."""
    return 1000 * great_circle_km(a.latitude, a.longitude, b.latitude, b.longitude)


def _setting(name: str, default):
    from django.conf import settings

    if not settings.configured:
        return default
    return getattr(settings, name, default)


def _geo_points(points: Sequence[Hashable], source: str) -> list[GeoPoint]:
    for point in points:
        if not isinstance(point, GeoPoint):
            raise TravelError(f"{source} needs coordinates for every place, got {point!r}")
    return list(points)  # type: ignore[arg-type]


class GreatCircle:
    def __init__(self, road_factor: float | None = None, speed_kmh: float | None = None):
        self.road_factor = float(road_factor if road_factor is not None else _setting("FSM_ROAD_FACTOR", 1.3))
        self.speed_kmh = float(speed_kmh if speed_kmh is not None else _setting("FSM_TRAVEL_SPEED_KMH", 40.0))
        if self.road_factor < 1 or self.speed_kmh <= 0:
            raise ValueError("the road factor must be at least 1 and the speed positive")

    def matrix(self, points: Sequence[Hashable]) -> TravelMatrix:
        geo = _geo_points(points, "great-circle travel")
        n = len(geo)
        if n == 0:
            return TravelMatrix(np.zeros((0, 0)), np.zeros((0, 0)))
        lat = np.radians([p.latitude for p in geo])
        lon = np.radians([p.longitude for p in geo])
        dlat = lat[None, :] - lat[:, None]
        dlon = lon[None, :] - lon[:, None]
        h = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
        metres = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h))) * self.road_factor
        seconds = metres / (self.speed_kmh / 3.6)
        return TravelMatrix(np.rint(seconds).astype(np.int64), np.rint(metres).astype(np.int64))


class OsrmTable:
    """Client of OSRM's table service: GET {url}/table/v1/{profile}/{lon,lat;...}?sources=..&destinations=.."""

    def __init__(
        self,
        base_url: str,
        *,
        profile: str = "driving",
        timeout: float = 10.0,
        max_table: int = 100,
        fallback: TravelSource | None = None,
    ):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"the OSRM address must start with http:// or https://, got {base_url!r}")
        if max_table < 1:
            raise ValueError("max_table must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.timeout = timeout
        self.max_table = max_table
        self.fallback = fallback

    def matrix(self, points: Sequence[Hashable]) -> TravelMatrix:
        geo = _geo_points(points, "OSRM")
        try:
            return self._ask(geo)
        except TravelError as error:
            if self.fallback is None:
                raise
            estimate = self.fallback.matrix(points)
            note = _("OSRM failed (%(error)s); travel times were estimated from straight-line distances instead.") % {
                "error": error
            }
            return TravelMatrix(estimate.durations, estimate.distances, (*estimate.warnings, note))

    def _ask(self, geo: list[GeoPoint]) -> TravelMatrix:
        n = len(geo)
        durations = np.zeros((n, n), dtype=np.int64)
        distances = np.zeros((n, n), dtype=np.int64)
        blocks = [list(range(i, min(n, i + self.max_table))) for i in range(0, n, self.max_table)]
        for sources in blocks:
            for destinations in blocks:
                self._block(geo, sources, destinations, durations, distances)
        return TravelMatrix(durations, distances)

    def _block(self, geo, sources, destinations, durations, distances) -> None:
        # One request per block: its own coordinates, sources first, then destinations.
        coordinates = [geo[i] for i in sources] + [geo[j] for j in destinations]
        path = ";".join(f"{p.longitude:.6f},{p.latitude:.6f}" for p in coordinates)
        query = "sources={}&destinations={}&annotations=duration,distance".format(
            ";".join(str(i) for i in range(len(sources))),
            ";".join(str(len(sources) + j) for j in range(len(destinations))),
        )
        url = f"{self.base_url}/table/v1/{self.profile}/{path}?{query}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                body = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            detail = ""
            with contextlib.suppress(ValueError, AttributeError, OSError):
                detail = json.loads(error.read().decode("utf-8")).get("message", "")
            raise TravelError(f"the server at {self.base_url} answered HTTP {error.code} {detail}".strip()) from error
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise TravelError(f"no usable answer from {self.base_url}: {error}") from error
        if not isinstance(body, dict) or body.get("code") != "Ok":
            message = body.get("message", "") if isinstance(body, dict) else ""
            raise TravelError(f"the server at {self.base_url} refused the table request: {message or body!r}")
        table_durations = body.get("durations")
        table_distances = body.get("distances")
        if table_durations is None:
            raise TravelError(f"the server at {self.base_url} sent no durations")
        for row, i in enumerate(sources):
            for col, j in enumerate(destinations):
                seconds = table_durations[row][col]
                metres = table_distances[row][col] if table_distances is not None else None
                if i == j:
                    durations[i, j] = distances[i, j] = 0
                elif seconds is None:
                    durations[i, j] = distances[i, j] = UNREACHABLE
                else:
                    durations[i, j] = round(seconds)
                    # Without distances (older servers) a distance is not known: count none.
                    distances[i, j] = round(metres) if metres is not None else 0


class ExplicitMatrix:
    """A matrix given in full over `keys`; `matrix(points)` picks the rows and columns of those points."""

    def __init__(self, keys: Sequence[Hashable], durations, distances=None):
        self._index = {key: i for i, key in enumerate(keys)}
        if len(self._index) != len(keys):
            raise ValueError("the keys of an explicit matrix must be unique")
        self._full = TravelMatrix(durations, durations if distances is None else distances)
        if len(self._full) != len(keys):
            raise ValueError("the matrix must have one row and one column per key")

    def matrix(self, points: Sequence[Hashable]) -> TravelMatrix:
        try:
            index = np.array([self._index[point] for point in points], dtype=np.int64)
        except KeyError as error:
            raise TravelError(f"the explicit matrix does not know the place {error.args[0]!r}") from None
        sub = np.ix_(index, index)
        return TravelMatrix(self._full.durations[sub], self._full.distances[sub])


def default_source() -> TravelSource:
    estimate = GreatCircle()
    url = _setting("FSM_OSRM_URL", "")
    if url:
        return OsrmTable(url, fallback=estimate)
    return estimate
