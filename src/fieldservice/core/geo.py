"""Distances from coordinates, and area boundaries: closed rings of [longitude, latitude]
points, checked where they are typed (the admin, the rules' API) and read by the rules engine.
Road routing (OSRM) comes with the dispatch optimiser."""

import math
from decimal import Decimal

from django.utils.translation import gettext as _

from fieldservice.core.errors import field_error

EARTH_RADIUS_KM = 6371.0088
MAX_POLYGON_POINTS = 5000


def great_circle_km(
    lat1: float | Decimal, lng1: float | Decimal, lat2: float | Decimal, lng2: float | Decimal
) -> float:
    """Haversine distance in kilometres."""
    phi1, phi2 = math.radians(float(lat1)), math.radians(float(lat2))
    d_phi = phi2 - phi1
    d_lambda = math.radians(float(lng2) - float(lng1))
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def validate_polygon(polygon) -> list[list[float]]:
    """A closed ring of [longitude, latitude] points: at least four, the last equal to the first.
    An empty value means "no boundary". Errors name the field `polygon`."""
    if polygon in (None, "", []):
        return []
    if not isinstance(polygon, list | tuple):
        raise field_error("polygon", _("The boundary must be a list of [longitude, latitude] points."))
    if len(polygon) > MAX_POLYGON_POINTS:
        raise field_error("polygon", _("The boundary has too many points."), "too_many")
    ring = []
    for index, point in enumerate(polygon, start=1):
        if (
            not isinstance(point, list | tuple)
            or len(point) != 2
            or any(isinstance(v, bool) or not isinstance(v, int | float | Decimal) for v in point)
            or any(not math.isfinite(float(v)) for v in point)
        ):
            raise field_error(
                "polygon", _("Point %(n)s is not a [longitude, latitude] pair of numbers.") % {"n": index}
            )
        lng, lat = float(point[0]), float(point[1])
        if not -180 <= lng <= 180 or not -90 <= lat <= 90:
            raise field_error(
                "polygon",
                _("Point %(n)s is outside the world: longitude within ±180, latitude within ±90.") % {"n": index},
                "out_of_range",
            )
        ring.append([lng, lat])
    if len(ring) < 4:
        raise field_error(
            "polygon", _("A boundary needs at least four points, the last repeating the first."), "too_short"
        )
    if ring[0] != ring[-1]:
        raise field_error(
            "polygon", _("The boundary does not close: the last point must repeat the first."), "not_closed"
        )
    if len({tuple(p) for p in ring}) < 3:
        raise field_error("polygon", _("A boundary needs at least three different points."), "too_short")
    return ring


def point_in_polygon(lng: float, lat: float, ring) -> bool:
    """Even-odd ray casting on the plane of degrees: exact enough for city-sized areas that do
    not straddle the antimeridian. A point on an edge counts as inside."""
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i]
        xj, yj = ring[j]
        # On the edge (collinear and within the segment's box): inside.
        if (
            min(xi, xj) <= lng <= max(xi, xj)
            and min(yi, yj) <= lat <= max(yi, yj)
            and abs((xj - xi) * (lat - yi) - (yj - yi) * (lng - xi)) < 1e-12
        ):
            return True
        if (yi > lat) != (yj > lat):
            x_cross = xi + (lat - yi) * (xj - xi) / (yj - yi)
            if lng < x_cross:
                inside = not inside
        j = i
    return inside
