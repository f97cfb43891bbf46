"""Dispatch rule conditions: which fields a rule may test, checking what an administrator typed,
area boundaries (polygons), and whether an order satisfies a rule.

A condition maps a field to the values it accepts; the order matches when, for every field the
rule names, the order's value is one of them. Matching runs on an `OrderFacts` snapshot so the
batch engine can evaluate thousands of orders without a query each.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fieldservice.accounts.models import ServiceArea
from fieldservice.assets.models import ProductModel
from fieldservice.contracts.choices import ContractLevel
from fieldservice.core.errors import field_error
from fieldservice.core.geo import point_in_polygon, validate_polygon
from fieldservice.customers.choices import CustomerTier
from fieldservice.workorders.choices import Channel, Priority, ServiceType
from fieldservice.workorders.models import FaultCategory

# field -> (label, kind). "choice" values are the codes of a TextChoices; "id" values are primary
# keys of rows (checked to exist); "text" values are free strings (province / city / district).
CONDITION_FIELDS: dict[str, tuple] = {
    "service_type": (gettext_lazy("Order type"), "choice"),
    "fault_category": (gettext_lazy("Fault category"), "id"),
    "product_line": (gettext_lazy("Product line"), "text"),
    "product_model": (gettext_lazy("Product model"), "id"),
    "priority": (gettext_lazy("Priority"), "choice"),
    "area": (gettext_lazy("Service area"), "id"),
    "province": (gettext_lazy("Province"), "text"),
    "city": (gettext_lazy("City"), "text"),
    "district": (gettext_lazy("District"), "text"),
    "customer_tier": (gettext_lazy("Customer tier"), "choice"),
    "contract_level": (gettext_lazy("Contract level"), "choice"),
    "channel": (gettext_lazy("Channel"), "choice"),
}
CHOICES = {
    "service_type": ServiceType,
    "priority": Priority,
    "customer_tier": CustomerTier,
    "contract_level": ContractLevel,
    "channel": Channel,
}
MAX_VALUES = 500


def _id_models():
    return {"fault_category": FaultCategory, "product_model": ProductModel, "area": ServiceArea}


def validate_conditions(conditions) -> dict:
    """The conditions cleaned: known fields only, each a non-empty list of valid values. Errors
    name the field as `conditions.<field>` (an unknown field is named as it was given)."""
    if conditions in (None, ""):
        return {}
    if not isinstance(conditions, dict):
        raise field_error("conditions", _("Conditions must map a field to a list of values."))
    cleaned = {}
    for name, values in conditions.items():
        key = f"conditions.{name}"
        if name not in CONDITION_FIELDS:
            raise field_error(
                key,
                _("Unknown condition field “%(field)s”; use one of: %(known)s.")
                % {"field": name, "known": ", ".join(CONDITION_FIELDS)},
                "unknown_field",
            )
        if not isinstance(values, list | tuple) or not values:
            raise field_error(key, _("Give a non-empty list of values."), "invalid")
        if len(values) > MAX_VALUES:
            raise field_error(key, _("Too many values."), "too_many")
        kind = CONDITION_FIELDS[name][1]
        if kind == "choice":
            allowed = set(CHOICES[name].values)
            bad = [v for v in values if v not in allowed]
            if bad:
                raise field_error(key, _("Unknown value “%(value)s”.") % {"value": bad[0]}, "invalid_choice")
            cleaned[name] = sorted(set(values))
        elif kind == "id":
            ids = []
            for value in values:
                if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
                    raise field_error(key, _("Unknown value “%(value)s”.") % {"value": value}, "invalid_choice")
                ids.append(int(value))
            found = set(_id_models()[name].objects.filter(pk__in=ids).values_list("pk", flat=True))
            missing = [pk for pk in ids if pk not in found]
            if missing:
                raise field_error(key, _("Unknown value “%(value)s”.") % {"value": missing[0]}, "invalid_choice")
            cleaned[name] = sorted(set(ids))
        else:
            texts = sorted({str(v).strip() for v in values if isinstance(v, str) and v.strip()})
            if len(texts) != len({str(v).strip() for v in values}):
                raise field_error(key, _("Give the names as non-empty text."), "invalid")
            cleaned[name] = texts
    return cleaned


# Area boundaries


@dataclass(frozen=True)
class AreaShape:
    """What deciding "is this site in the area" needs, loaded once."""

    pk: int
    province: str
    city: str
    district: str
    ring: tuple = ()
    box: tuple = ()  # (min lng, min lat, max lng, max lat): most points fail this cheaply

    @classmethod
    def of(cls, area) -> AreaShape:
        try:
            ring = tuple(tuple(p) for p in validate_polygon(area.polygon))
        except ValidationError:
            # A boundary saved around the services (the admin, a raw import) must not stop
            # dispatch: the area falls back to its names.
            ring = ()
        box = ()
        if ring:
            xs, ys = [p[0] for p in ring], [p[1] for p in ring]
            box = (min(xs), min(ys), max(xs), max(ys))
        return cls(area.pk, area.province or "", area.city or "", area.district or "", ring, box)

    def contains(self, lat, lng, province: str, city: str, district: str) -> bool:
        """By the boundary when the area has one and the site has coordinates; otherwise by
        the names (an area names the province, optionally the city and district; "Ningbo"
        covers "Ningbo City", as the candidate list does)."""
        if self.ring and lat is not None and lng is not None:
            x, y = float(lng), float(lat)
            b = self.box
            return b[0] <= x <= b[2] and b[1] <= y <= b[3] and point_in_polygon(x, y, self.ring)
        if not (self.province or self.city or self.district):
            return False
        return (
            (not self.province or self.province in (province or ""))
            and (not self.city or self.city in (city or ""))
            and (not self.district or self.district in (district or ""))
        )


# Orders


@dataclass
class OrderFacts:
    """The values of one order the conditions look at."""

    pk: int
    number: str
    status: str
    customer_id: int
    provider_id: int | None
    service_type: str
    priority: str
    fault_category_id: int | None
    fault_categories: frozenset = frozenset()  # the category and its ancestors
    skill_id: int | None = None
    product_line: str = ""
    product_model_id: int | None = None
    equipment_id: int | None = None
    site_id: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    province: str = ""
    city: str = ""
    district: str = ""
    customer_tier: str = ""
    contract_level: str = ""
    channel: str = ""
    areas: frozenset = field(default_factory=frozenset)  # the areas the site lies in
    radians: tuple | None = None  # (latitude, longitude, cos latitude), for distances


def compile_conditions(conditions: dict | None) -> dict[str, frozenset]:
    """The stored conditions as sets, for matching many orders."""
    return {name: frozenset(values) for name, values in (conditions or {}).items()}


def conditions_match(conditions: dict[str, frozenset], facts: OrderFacts) -> bool:
    """Every condition holds for the order (`conditions` as compile_conditions gives them)."""
    for name, values in conditions.items():
        if name == "fault_category":
            if not facts.fault_categories & values:
                return False
        elif name == "area":
            if not facts.areas & values:
                return False
        elif name in ("province", "city", "district"):
            own = getattr(facts, name)
            if not own or not any(value in own for value in values):
                return False
        elif getattr(facts, name + "_id" if name == "product_model" else name) not in values:
            return False
    return True
