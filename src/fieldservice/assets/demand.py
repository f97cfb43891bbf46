"""The installed base as a demand source of inventory's parts plans (`inventory.hooks`): the parts
in the registered machines of some service areas, machines × bill-of-materials quantity.

A machine is in an area as dispatch decides it (`dispatch.rules.conditions.AreaShape`, which sits
above assets and cannot be imported here): by the area's boundary when it has one and the site has
coordinates, otherwise by the area's names, each non-blank name of the area contained in the site's
("Ningbo" covers "Ningbo City"). A machine in two areas asked for at once counts once; a machine
without a site is in no area (it counts only when every area is asked for).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, Q

from fieldservice.accounts.models import ServiceArea
from fieldservice.assets.choices import EquipmentStatus
from fieldservice.assets.models import BomLine, Equipment
from fieldservice.core.geo import point_in_polygon, validate_polygon
from fieldservice.customers.models import Site


def _ring(area: ServiceArea) -> list:
    try:
        return validate_polygon(area.polygon)
    except ValidationError:
        return []  # a broken boundary falls back to the names, as dispatch does


def sites_in(area_ids: list[int]) -> set[int]:
    """The ids of the sites inside any of the areas."""
    found: set[int] = set()
    for area in ServiceArea.objects.filter(pk__in=area_ids):
        names = Q()
        for field in ("province", "city", "district"):
            value = (getattr(area, field) or "").strip()
            if value:
                names &= Q(**{f"{field}__contains": value})
        ring = _ring(area)
        if ring:
            xs, ys = [p[0] for p in ring], [p[1] for p in ring]
            boxed = Site.objects.filter(
                latitude__gte=min(ys), latitude__lte=max(ys), longitude__gte=min(xs), longitude__lte=max(xs)
            ).values_list("pk", "latitude", "longitude")
            found |= {pk for pk, lat, lng in boxed if point_in_polygon(float(lng), float(lat), ring)}
            if names:  # sites without coordinates still go by the names
                found |= set(
                    Site.objects.filter(names, Q(latitude__isnull=True) | Q(longitude__isnull=True)).values_list(
                        "pk", flat=True
                    )
                )
        elif names:
            found |= set(Site.objects.filter(names).values_list("pk", flat=True))
    return found


def installed_parts(area_ids: list[int] | None, part_ids: Iterable[int] | None = None) -> dict[int, Decimal]:
    """{part id: quantity installed} in the registered machines of the areas (None: everywhere)."""
    machines = Equipment.objects.filter(status=EquipmentStatus.REGISTERED)
    if area_ids is not None:
        machines = machines.filter(site_id__in=sites_in(list(area_ids)))
    per_model = dict(machines.values("product_model_id").annotate(n=Count("pk")).values_list("product_model_id", "n"))
    if not per_model:
        return {}
    bom = BomLine.objects.filter(product_model_id__in=per_model)
    if part_ids is not None:
        bom = bom.filter(part_id__in=list(part_ids))
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for model_id, part_id, quantity in bom.values_list("product_model_id", "part_id", "quantity"):
        totals[part_id] += quantity * per_model[model_id]
    return dict(totals)
