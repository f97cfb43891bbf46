"""Campaigns and recalls (主动服务活动): write a campaign, pick its machines, launch it, follow it.

States: draft → launched → closed, and draft or launched → cancelled (`CAMPAIGN_TRANSITIONS`); any
other move is a `DomainError` ("illegal_transition", HTTP 409) that writes nothing.

The selection is a set of criteria that must all hold (an empty criterion is no restriction):
product models, a serial range, a lot range, an installation date range, customers, service areas
and a list of machines (typed or uploaded as serial numbers); only registered machines count.
A draft's selection is live (the preview counts it again); launching freezes it into one
`CampaignTarget` per machine (unique per campaign and machine), so a machine sold or moved after
the launch stays in the campaign as it was, and a second launch (or a concurrent one) adds nothing.

Serial and lot ranges compare text, not numbers: a value is inside the range when it has the same
width (number of characters) as the bounds and lies between them character by character, by code
point (the "C" collation on PostgreSQL, BINARY on SQLite, so both databases agree whatever their
locale). "2024-B02".."2024-B10" therefore holds 2024-B02, 2024-B05 and 2024-B10, and not 2024-B5
(another width) nor 2024-B11. Both bounds of a range must have the same width.

Launch opens one work order per machine (channel "proactive") through the work order services,
with the campaign's job steps and parts, or for "notify only" just the notice; every customer with
machines in the campaign hears of it once (one outbox message per customer, consumed by
notifications). A target is done when its order is completed or closed (`follow_orders`, a
workorders `on_moved` hook); a notice is done when the customer acknowledges it; the office
records a refusal (with the customer's reason) or that nobody could be reached (with a note).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.functions import Collate, Length
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import ServiceArea, User
from fieldservice.assets.choices import EquipmentStatus
from fieldservice.assets.demand import sites_in
from fieldservice.assets.models import Equipment, ProductModel
from fieldservice.core.choices import Priority, ServiceType
from fieldservice.core.db import any_of
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import record_created, record_event, record_updated, snapshot
from fieldservice.core.outbox import emit
from fieldservice.core.validation import check_date
from fieldservice.customers.models import Customer
from fieldservice.field.models import JobTemplate
from fieldservice.field.services import attach_job_steps
from fieldservice.inventory.models import Part
from fieldservice.inventory.services import quantity_of
from fieldservice.knowledge.models import Article
from fieldservice.maintenance.models.campaigns import (
    CAMPAIGN_TRANSITIONS,
    PARTS_ACTIONS,
    Campaign,
    CampaignAction,
    CampaignPart,
    CampaignSource,
    CampaignStatus,
    CampaignTarget,
    CampaignTransition,
    TargetStatus,
)
from fieldservice.maintenance.permissions import is_customer_user, may_manage_campaigns
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.hooks import Move
from fieldservice.workorders.permissions import may_manage_orders
from fieldservice.workorders.services.proactive import ProactiveSpec, open_proactive_orders

TITLE_MAX = 200
REASON_MAX = 4000
NOTE_MAX = 500
MAX_PARTS = 50
MAX_LISTED = 5000
PREVIEW_SIZE = 20
# Orders a machine counts as done with.
DONE_ORDER_STATUSES = frozenset({WorkOrderStatus.COMPLETED, WorkOrderStatus.CLOSED})
# The fields of a campaign recorded in its history.
LOGGED_FIELDS = (
    "title",
    "reason",
    "action",
    "job_template_id",
    "owner_id",
    "service_type",
    "priority",
    "starts_on",
    "ends_on",
    "serial_from",
    "serial_to",
    "lot_from",
    "lot_to",
    "installed_from",
    "installed_to",
)
CRITERIA = (
    "product_models",
    "serial_from",
    "serial_to",
    "lot_from",
    "lot_to",
    "installed_from",
    "installed_to",
    "customers",
    "areas",
    "serials",
    "equipment_ids",
)


# --- the selection ---------------------------------------------------------------------------


@dataclass
class Selection:
    """Checked criteria of a selection; `machines()` is the registered machines they pick."""

    product_models: list[ProductModel] = field(default_factory=list)
    serial_from: str = ""
    serial_to: str = ""
    lot_from: str = ""
    lot_to: str = ""
    installed_from: dt.date | None = None
    installed_to: dt.date | None = None
    customers: list[Customer] = field(default_factory=list)
    areas: list[ServiceArea] = field(default_factory=list)
    listed: list[Equipment] | None = None  # None: no list given

    @property
    def is_empty(self) -> bool:
        return not (
            self.product_models
            or self.serial_from
            or self.serial_to
            or self.lot_from
            or self.lot_to
            or self.installed_from
            or self.installed_to
            or self.customers
            or self.areas
            or self.listed is not None
        )

    def machines(self) -> QuerySet[Equipment]:
        machines = Equipment.objects.filter(status=EquipmentStatus.REGISTERED)
        if self.product_models:
            machines = machines.filter(product_model__in=[m.pk for m in self.product_models])
        machines = _in_range(machines, "serial_number", self.serial_from, self.serial_to)
        machines = _in_range(machines, "lot_number", self.lot_from, self.lot_to)
        if self.installed_from:
            machines = machines.filter(installed_on__gte=self.installed_from)
        if self.installed_to:
            machines = machines.filter(installed_on__lte=self.installed_to)
        if self.customers:
            machines = machines.filter(customer__in=[c.pk for c in self.customers])
        if self.areas:
            machines = machines.filter(site_id__in=sorted(sites_in([a.pk for a in self.areas])))
        if self.listed is not None:
            machines = machines.filter(pk__in=[m.pk for m in self.listed])
        return machines.order_by("product_model__code", "serial_number", "pk")


def _binary(name: str):
    return Collate(name, "C" if connection.vendor == "postgresql" else "BINARY")


def _in_range(machines: QuerySet[Equipment], name: str, low: str, high: str) -> QuerySet[Equipment]:
    """Machines whose `name` has the bounds' width and lies between them by code point."""
    if not low and not high:
        return machines
    width = len(low or high)
    machines = machines.alias(**{f"{name}_width": Length(name), f"{name}_binary": _binary(name)}).filter(
        **{f"{name}_width": width}
    )
    if low:
        machines = machines.filter(**{f"{name}_binary__gte": low})
    if high:
        machines = machines.filter(**{f"{name}_binary__lte": high})
    return machines


def _text(value, name: str, limit: int, *, required: bool = False) -> str:
    if value is not None and not isinstance(value, str):
        raise field_error(name, _("Enter text."), "invalid")
    text = (value or "").strip()
    if "\x00" in text:
        raise field_error(name, _("Enter text."), "invalid")
    if required and not text:
        raise field_error(name, _("This field is required."), "required")
    if len(text) > limit:
        raise field_error(
            name,
            _("Ensure this value has at most %(limit)d characters (it has %(length)d).")
            % {"limit": limit, "length": len(text)},
            "max_length",
        )
    return text


def _date(value, name: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise field_error(name, _("Enter a date such as 2026-12-31."), "invalid") from None
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        raise field_error(name, _("Enter a date such as 2026-12-31."), "invalid")
    check_date(value, field=name)
    return value


def _range(low, high, low_name: str, high_name: str) -> tuple[str, str]:
    low = _text(low, low_name, 64)
    high = _text(high, high_name, 64)
    if low and high:
        if len(low) != len(high):
            raise field_error(
                high_name,
                _("Both ends of the range must have the same number of characters (%(low)s has %(width)d).")
                % {"low": low, "width": len(low)},
                "width",
            )
        if _binary_gt(low, high):
            raise field_error(high_name, _("The end of the range comes before its start."), "reversed")
    return low, high


def _binary_gt(a: str, b: str) -> bool:
    return a.encode("utf-32-be") > b.encode("utf-32-be")


def _objects(model, values, name: str, **active) -> list:
    """Instances or ids of `model`; unknown ones are a field error naming `name`."""
    if values in (None, ""):
        return []
    if not isinstance(values, list | tuple | set | QuerySet):
        raise field_error(name, _("Give a list."), "invalid")
    found, ids = [], []
    for value in values:
        if isinstance(value, model):
            found.append(value)
        elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
            ids.append(value)
        elif isinstance(value, str) and value.strip().isdigit():
            ids.append(int(value))
        else:
            raise field_error(name, _("Unknown choice."), "invalid_choice")
    if ids:
        rows = list(model.objects.filter(pk__in=ids, **active))
        if len({row.pk for row in rows}) != len(set(ids)):
            raise field_error(name, _("Unknown choice."), "invalid_choice")
        found.extend(rows)
    unique = {obj.pk: obj for obj in found}
    return list(unique.values())


def parse_serials(text: str) -> list[str]:
    """Serial numbers typed or pasted one a line (or separated by commas, semicolons or tabs)."""
    if not text:
        return []
    for separator in (",", ";", "\t", "\r"):
        text = text.replace(separator, "\n")
    seen: dict[str, None] = {}
    for line in text.split("\n"):
        serial = line.strip()
        if serial:
            seen[serial] = None
    return list(seen)


def _listed(serials, equipment_ids) -> list[Equipment] | None:
    """The machines of a list: serial numbers (typed or from a spreadsheet) and/or ids."""
    if serials in (None, "", []) and equipment_ids in (None, "", []):
        return None
    machines: dict[int, Equipment] = {}
    if serials not in (None, "", []):
        names = (
            parse_serials(serials) if isinstance(serials, str) else [str(s).strip() for s in serials if str(s).strip()]
        )
        if len(names) > MAX_LISTED:
            raise field_error("serials", _("At most %(n)d machines may be listed.") % {"n": MAX_LISTED}, "too_many")
        rows = list(
            Equipment.objects.filter(serial_number__in=names, status=EquipmentStatus.REGISTERED).select_related(
                "product_model"
            )
        )
        known = {row.serial_number for row in rows}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise field_error(
                "serials",
                _("No registered machine has the serial number %(serials)s.")
                % {"serials": ", ".join(unknown[:10]) + (" …" if len(unknown) > 10 else "")},
                "unknown_serial",
            )
        machines.update({row.pk: row for row in rows})
    if equipment_ids not in (None, "", []):
        if not isinstance(equipment_ids, list | tuple | set):
            raise field_error("equipment_ids", _("Give a list."), "invalid")
        if len(equipment_ids) > MAX_LISTED:
            raise field_error(
                "equipment_ids", _("At most %(n)d machines may be listed.") % {"n": MAX_LISTED}, "too_many"
            )
        for row in _objects(Equipment, list(equipment_ids), "equipment_ids", status=EquipmentStatus.REGISTERED):
            if row.status != EquipmentStatus.REGISTERED:
                raise field_error("equipment_ids", _("Only registered machines can be picked."), "not_registered")
            machines[row.pk] = row
    return list(machines.values())


def check_selection(**criteria) -> Selection:
    """The criteria (names in CRITERIA) checked; field errors name the criterion."""
    unknown = set(criteria) - set(CRITERIA)
    if unknown:
        raise field_error(sorted(unknown)[0], _("Unknown field."), "unknown")
    serial_from, serial_to = _range(criteria.get("serial_from"), criteria.get("serial_to"), "serial_from", "serial_to")
    lot_from, lot_to = _range(criteria.get("lot_from"), criteria.get("lot_to"), "lot_from", "lot_to")
    installed_from = _date(criteria.get("installed_from"), "installed_from")
    installed_to = _date(criteria.get("installed_to"), "installed_to")
    if installed_from and installed_to and installed_to < installed_from:
        raise field_error("installed_to", _("The end of the range comes before its start."), "reversed")
    return Selection(
        product_models=_objects(ProductModel, criteria.get("product_models"), "product_models"),
        serial_from=serial_from,
        serial_to=serial_to,
        lot_from=lot_from,
        lot_to=lot_to,
        installed_from=installed_from,
        installed_to=installed_to,
        customers=_objects(Customer, criteria.get("customers"), "customers"),
        areas=_objects(ServiceArea, criteria.get("areas"), "areas"),
        listed=_listed(criteria.get("serials"), criteria.get("equipment_ids")),
    )


def selection_of(campaign: Campaign) -> Selection:
    """A saved campaign's criteria."""
    listed = list(campaign.listed.all()) if campaign.listed.exists() else None
    return Selection(
        product_models=list(campaign.product_models.all()),
        serial_from=campaign.serial_from,
        serial_to=campaign.serial_to,
        lot_from=campaign.lot_from,
        lot_to=campaign.lot_to,
        installed_from=campaign.installed_from,
        installed_to=campaign.installed_to,
        customers=list(campaign.customers.all()),
        areas=list(campaign.areas.all()),
        listed=listed,
    )


@dataclass(frozen=True)
class Preview:
    count: int
    first: list[Equipment]


def preview(selection: Selection, *, actor: User, size: int = PREVIEW_SIZE) -> Preview:
    """How many machines a selection picks, and the first of them."""
    require(may_manage_campaigns(actor))
    if selection.is_empty:
        return Preview(0, [])
    machines = selection.machines()
    return Preview(
        count=machines.count(), first=list(machines.select_related("product_model", "customer", "site")[:size])
    )


def preview_campaign(campaign: Campaign, *, actor: User, size: int = PREVIEW_SIZE) -> Preview:
    """A draft's live selection; a launched campaign's frozen machines."""
    require(may_manage_campaigns(actor))
    if campaign.status != CampaignStatus.DRAFT:
        targets = campaign.targets.select_related("equipment__product_model", "equipment__customer", "equipment__site")
        return Preview(targets.count(), [t.equipment for t in targets.order_by("pk")[:size]])
    return preview(selection_of(campaign), actor=actor, size=size)


# --- writing a campaign ----------------------------------------------------------------------


def _choice(value, choices, name: str, default: str) -> str:
    value = default if value in (None, "") else value
    if value not in choices.values:
        raise field_error(name, _("Select a valid choice."), "invalid_choice")
    return value


def _check_fields(fields: dict, *, current: Campaign | None = None) -> dict:
    checked = {}
    get = fields.get

    def given(name: str) -> bool:
        return current is None or name in fields

    if given("title"):
        checked["title"] = _text(get("title"), "title", TITLE_MAX, required=True)
    if given("reason"):
        checked["reason"] = _text(get("reason"), "reason", REASON_MAX)
    if given("action"):
        if get("action") in (None, ""):
            raise field_error("action", _("This field is required."), "required")
        checked["action"] = _choice(get("action"), CampaignAction, "action", "")
    if given("service_type"):
        service_type = _choice(get("service_type"), ServiceType, "service_type", ServiceType.INSPECTION)
        if service_type == ServiceType.CONSULTATION:
            raise field_error("service_type", _("A campaign's machines need a visit, not a consultation."), "no_visit")
        checked["service_type"] = service_type
    if given("priority"):
        checked["priority"] = _choice(get("priority"), Priority, "priority", Priority.NORMAL)
    if given("job_template"):
        template = get("job_template")
        if template not in (None, ""):
            if not isinstance(template, JobTemplate):
                found = _objects(JobTemplate, [template], "job_template")
                template = found[0]
            if not template.is_active:
                raise field_error("job_template", _("This job template is no longer used."), "inactive")
        checked["job_template"] = template or None
    if given("owner") and get("owner") is not None:
        owner = get("owner")
        if not isinstance(owner, User):
            owner = _objects(User, [owner], "owner")[0]
        if not owner.is_active or not may_manage_campaigns(owner):
            raise field_error("owner", _("The owner must be someone who runs campaigns."), "invalid_choice")
        checked["owner"] = owner
    if given("starts_on"):
        checked["starts_on"] = _date(get("starts_on"), "starts_on")
    if given("ends_on"):
        checked["ends_on"] = _date(get("ends_on"), "ends_on")
    starts = checked.get("starts_on", current.starts_on if current else None)
    ends = checked.get("ends_on", current.ends_on if current else None)
    if starts and ends and ends < starts:
        raise field_error("ends_on", _("The campaign cannot end before it starts."), "reversed")
    return checked


def _check_parts(parts, action: str) -> list[tuple[Part, Decimal]]:
    """(part or id, quantity) pairs, or dicts with "part" and "quantity"."""
    if parts in (None, ""):
        return []
    if not isinstance(parts, list | tuple):
        raise field_error("parts", _("Give a list."), "invalid")
    if parts and action not in PARTS_ACTIONS:
        raise field_error("parts", _("Only a part replacement or a recall carries parts."), "no_parts_for_action")
    if len(parts) > MAX_PARTS:
        raise field_error("parts", _("At most %(count)s parts may be listed.") % {"count": MAX_PARTS}, "too_many")
    checked: dict[int, tuple[Part, Decimal]] = {}
    for index, item in enumerate(parts):
        part, quantity = (item.get("part"), item.get("quantity")) if isinstance(item, dict) else item
        if not isinstance(part, Part):
            found = _objects(Part, [part] if part not in (None, "") else [], f"parts[{index}].part")
            if not found:
                raise field_error(f"parts[{index}].part", _("This field is required."), "required")
            part = found[0]
        if not part.is_active:
            raise field_error(
                f"parts[{index}].part", _("%(part)s is no longer used.") % {"part": part.part_number}, "inactive"
            )
        if part.pk in checked:
            raise field_error(
                f"parts[{index}].part", _("%(part)s is listed twice.") % {"part": part.part_number}, "duplicate"
            )
        checked[part.pk] = (part, quantity_of(quantity, f"parts[{index}].quantity"))
    return list(checked.values())


def _save_selection(campaign: Campaign, selection: Selection) -> None:
    for name in ("serial_from", "serial_to", "lot_from", "lot_to", "installed_from", "installed_to"):
        setattr(campaign, name, getattr(selection, name))
    campaign.save()
    campaign.product_models.set(selection.product_models)
    campaign.customers.set(selection.customers)
    campaign.areas.set(selection.areas)
    campaign.listed.set(selection.listed or [])


def _save_parts(campaign: Campaign, parts: list[tuple[Part, Decimal]]) -> None:
    CampaignPart.objects.filter(campaign=campaign).delete()
    CampaignPart.objects.bulk_create([CampaignPart(campaign=campaign, part=p, quantity=q) for p, q in parts])


def _split(fields: dict) -> tuple[dict, dict]:
    criteria = {name: fields.pop(name) for name in list(fields) if name in CRITERIA}
    return fields, criteria


def _check_source(kind, source_id) -> tuple[str, int | None]:
    """Where a campaign started: by hand, a knowledge article (which must exist) or a quality
    alert (analytics' id, kept as given)."""
    kind = kind or CampaignSource.MANUAL
    if kind not in CampaignSource.values:
        raise field_error("source_kind", _("Select a valid choice."), "invalid_choice")
    if kind == CampaignSource.MANUAL:
        return kind, None
    if not isinstance(source_id, int) or isinstance(source_id, bool) or source_id <= 0:
        raise field_error("source_id", _("Give the id of the source."), "invalid")
    if kind == CampaignSource.KNOWLEDGE and not Article.objects.filter(pk=source_id).exists():
        raise field_error("source_id", _("No knowledge article has this id."), "does_not_exist")
    return kind, source_id


@transaction.atomic
def create_campaign(*, actor: User, parts=None, **fields) -> Campaign:
    """A draft campaign: its fields (title, reason, action, job_template, owner, service_type,
    priority, starts_on, ends_on), its selection (CRITERIA) and its parts list."""
    require(may_manage_campaigns(actor))
    source_kind, source_id = _check_source(fields.pop("source_kind", ""), fields.pop("source_id", None))
    fields, criteria = _split(dict(fields))
    unknown = set(fields) - {
        "title",
        "reason",
        "action",
        "job_template",
        "owner",
        "service_type",
        "priority",
        "starts_on",
        "ends_on",
    }
    if unknown:
        raise field_error(sorted(unknown)[0], _("Unknown field."), "unknown")
    checked = _check_fields(fields)
    checked.setdefault("owner", actor)
    selection = check_selection(**criteria)
    checked_parts = _check_parts(parts, checked["action"])
    campaign = Campaign.objects.create(**checked, created_by=actor, source_kind=source_kind, source_id=source_id)
    campaign.number = f"CP{campaign.pk:06d}"
    _save_selection(campaign, selection)
    _save_parts(campaign, checked_parts)
    record_created(campaign, actor=actor, fields=LOGGED_FIELDS, note=campaign.number)
    return campaign


def _lock(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


def _illegal(campaign: Campaign, verb: str) -> DomainError:
    return DomainError(
        "illegal_transition",
        _("Campaign %(number)s is %(status)s and cannot be moved by “%(verb)s”.")
        % {
            "number": campaign.number,
            "status": campaign.get_status_display(),
            "verb": CampaignTransition(verb).label,
        },
    )


@transaction.atomic
def update_campaign(campaign: Campaign, *, actor: User, parts=None, **fields) -> Campaign:
    """Change a draft. A launched campaign's selection is frozen; only its title, reason, owner
    and dates may still change."""
    require(may_manage_campaigns(actor))
    current = _lock(campaign)
    fields, criteria = _split(dict(fields))
    unknown = set(fields) - {
        "title",
        "reason",
        "action",
        "job_template",
        "owner",
        "service_type",
        "priority",
        "starts_on",
        "ends_on",
    }
    if unknown:
        raise field_error(sorted(unknown)[0], _("Unknown field."), "unknown")
    if current.status in (CampaignStatus.CLOSED, CampaignStatus.CANCELLED):
        raise DomainError("campaign_finished", _("A closed or cancelled campaign cannot be changed."))
    if current.status == CampaignStatus.LAUNCHED:
        frozen = set(fields) - {"title", "reason", "owner", "starts_on", "ends_on"}
        if criteria or parts is not None or frozen:
            raise DomainError(
                "campaign_launched",
                _("The campaign is launched: its machines, action, orders and parts can no longer change."),
            )
    checked = _check_fields(fields, current=current)
    selection = check_selection(**criteria) if criteria else None
    action = checked.get("action", current.action)
    checked_parts = _check_parts(parts, action) if parts is not None else None
    if checked_parts is None and action not in PARTS_ACTIONS and current.parts.exists():
        raise field_error("parts", _("Only a part replacement or a recall carries parts."), "no_parts_for_action")
    before = snapshot(current, LOGGED_FIELDS)
    for name, value in checked.items():
        setattr(current, name, value)
    current.save()
    if selection is not None:
        _save_selection(current, selection)
    if checked_parts is not None:
        _save_parts(current, checked_parts)
    record_updated(current, actor=actor, before=before)
    return current


# --- launch ------------------------------------------------------------------------------------


def _areas_of_sites(site_ids: set[int], preferred: list[ServiceArea]) -> dict[int, int]:
    """{site id: area id}: the first area (the campaign's own areas first, then by name) that
    covers each site (as assets' installed base decides it)."""
    found: dict[int, int] = {}
    areas = list(preferred) + list(ServiceArea.objects.exclude(pk__in=[a.pk for a in preferred]).order_by("name"))
    for area in areas:
        left = site_ids - set(found)
        if not left:
            break
        for site_id in sites_in([area.pk]) & left:
            found[site_id] = area.pk
    return found


def _freeze_targets(campaign: Campaign, selection: Selection) -> int:
    """One target per selected machine (set-based; a machine already a target is skipped)."""
    rows = list(selection.machines().values_list("pk", "customer_id", "site_id"))
    areas = _areas_of_sites({site for _pk, _c, site in rows if site}, selection.areas)
    now = timezone.now()
    CampaignTarget.objects.bulk_create(
        [
            CampaignTarget(
                campaign=campaign,
                equipment_id=pk,
                customer_id=customer_id,
                site_id=site_id,
                area_id=areas.get(site_id),
                created_at=now,
            )
            for pk, customer_id, site_id in rows
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    return len(rows)


def _description(campaign: Campaign) -> str:
    text = f"{campaign.number} {campaign.get_action_display()}: {campaign.title}"
    if campaign.reason:
        text += f"\n{campaign.reason}"
    return text[:2000]


def open_orders(campaign: Campaign, targets: list[CampaignTarget], *, actor: User) -> int:
    """One proactive work order per target without one, with the campaign's job steps and parts,
    through workorders' set-based writer (the one a maintenance plan's generation uses)."""
    parts = tuple((row.part_id, row.quantity) for row in campaign.parts.all())
    waiting = [target for target in targets if target.work_order_id is None]
    if not waiting:
        return 0
    machines = Equipment.objects.select_related("customer", "site").in_bulk([t.equipment_id for t in waiting])
    specs = [
        ProactiveSpec(
            equipment=machines[target.equipment_id],
            service_type=campaign.service_type,
            priority=campaign.priority,
            description=_description(campaign),
            parts=parts,
            note=campaign.number or "",
            planned_for=campaign.ends_on,
        )
        for target in waiting
    ]
    orders = open_proactive_orders(specs, actor=actor)
    if campaign.job_template_id:
        attach_job_steps(orders, campaign.job_template)
    for target, order in zip(waiting, orders, strict=True):
        target.work_order = order
    CampaignTarget.objects.bulk_update(waiting, ["work_order"], batch_size=1000)
    return len(orders)


def notify_customers(campaign: Campaign) -> int:
    """One message per customer with machines in the campaign (keyed: a second call sends
    nothing twice), to the customer's users, for notifications to deliver."""
    targets = (
        CampaignTarget.objects.filter(campaign=campaign, notified_at__isnull=True)
        .select_related("customer", "equipment__product_model")
        .order_by("customer_id", "pk")
    )
    by_customer: dict[int, list[CampaignTarget]] = {}
    for target in targets:
        by_customer.setdefault(target.customer_id, []).append(target)
    if not by_customer:
        return 0
    users: dict[int, list[int]] = {}
    customers = {c.pk: c for c in Customer.objects.filter(pk__in=list(by_customer))}
    org_of = {c.organisation_id: c.pk for c in customers.values()}
    for pk, organisation_id in (
        User.objects.filter(is_active=True, organisation_id__in=list(org_of))
        .order_by("pk")
        .values_list("pk", "organisation_id")
    ):
        users.setdefault(org_of[organisation_id], []).append(pk)
    url = reverse("maintenance:campaign_notices")
    sent = 0
    for customer_id, rows in by_customer.items():
        serials = ", ".join(f"{t.equipment.product_model.code} {t.equipment.serial_number}" for t in rows[:20])
        if len(rows) > 20:
            serials += " …"
        message = emit(
            "maintenance.campaign_notice",
            {
                "event": "maintenance.campaign_notice",
                "recipients": users.get(customer_id, []),
                "context": {
                    "number": campaign.number,
                    "title": campaign.title,
                    "action": str(campaign.get_action_display()),
                    "reason": campaign.reason[:500],
                    "customer": customers[customer_id].name,
                    "machines": len(rows),
                    "serials": serials,
                },
                "url": url,
            },
            key=f"campaign:{campaign.pk}:customer:{customer_id}",
        )
        sent += message is not None
    CampaignTarget.objects.filter(pk__in=[t.pk for t in targets]).update(notified_at=timezone.now())
    return sent


@transaction.atomic
def launch_campaign(campaign: Campaign, *, actor: User) -> Campaign:
    """Freeze the selection, open the orders (or the notices) and tell the customers.

    A campaign that picks no machine is refused naming `machines`. Launching twice is an illegal
    move (409) that creates nothing: the campaign's row is locked, and the targets and messages
    are unique per machine and customer."""
    require(may_manage_campaigns(actor))
    current = _lock(campaign)
    sources, target_status = CAMPAIGN_TRANSITIONS[CampaignTransition.LAUNCH]
    if current.status not in sources:
        raise _illegal(current, CampaignTransition.LAUNCH)
    if current.creates_orders:
        # The orders are written by the work order services, as the launching person.
        require(
            may_manage_orders(actor),
            _("Launching a campaign that opens work orders needs the right to manage work orders."),
        )
    selection = selection_of(current)
    if selection.is_empty or not selection.machines().exists():
        raise field_error("machines", _("The selection picks no registered machine."), "no_machines")
    _freeze_targets(current, selection)
    if current.creates_orders:
        targets = list(
            CampaignTarget.objects.filter(campaign=current, work_order__isnull=True)
            .select_related("equipment__customer", "site")
            .order_by("pk")
        )
        open_orders(current, targets, actor=actor)
    notify_customers(current)
    now = timezone.now()
    Campaign.objects.filter(pk=current.pk).update(status=target_status, launched_at=now, updated_at=now)
    current.refresh_from_db()
    record_event(
        current,
        actor=actor,
        action="campaign_launched",
        changes={"status": [CampaignStatus.DRAFT, target_status]},
        note=_("%(count)d machines") % {"count": current.targets.count()},
    )
    campaign.refresh_from_db()
    return current


@transaction.atomic
def close_campaign(campaign: Campaign, *, actor: User, note: str = "") -> Campaign:
    """Close a launched campaign; what is still pending stays as it is, for the record."""
    require(may_manage_campaigns(actor))
    current = _lock(campaign)
    sources, target_status = CAMPAIGN_TRANSITIONS[CampaignTransition.CLOSE]
    if current.status not in sources:
        raise _illegal(current, CampaignTransition.CLOSE)
    note = _text(note, "note", NOTE_MAX)
    now = timezone.now()
    Campaign.objects.filter(pk=current.pk).update(status=target_status, closed_at=now, updated_at=now)
    record_event(
        current, actor=actor, action="campaign_closed", changes={"status": [current.status, target_status]}, note=note
    )
    current.refresh_from_db()
    return current


@transaction.atomic
def cancel_campaign(campaign: Campaign, *, actor: User, reason: str) -> Campaign:
    """Cancel a draft or a launched campaign (its open orders stay for the desk to cancel or do)."""
    require(may_manage_campaigns(actor))
    current = _lock(campaign)
    sources, target_status = CAMPAIGN_TRANSITIONS[CampaignTransition.CANCEL]
    if current.status not in sources:
        raise _illegal(current, CampaignTransition.CANCEL)
    reason = _text(reason, "reason", NOTE_MAX, required=True)
    now = timezone.now()
    Campaign.objects.filter(pk=current.pk).update(
        status=target_status, cancel_reason=reason, closed_at=now, updated_at=now
    )
    record_event(
        current,
        actor=actor,
        action="campaign_cancelled",
        changes={"status": [current.status, target_status]},
        note=reason,
    )
    current.refresh_from_db()
    return current


# --- progress ----------------------------------------------------------------------------------


def follow_orders(moves: list[Move]) -> None:
    """A workorders `on_moved` hook: the targets of orders completed or closed by these moves are
    done (one UPDATE, in the lifecycle's transaction), whatever the office recorded before."""
    done = [move.order_id for move in moves if move.target in DONE_ORDER_STATUSES]
    if not done:
        return
    CampaignTarget.objects.filter(work_order_id__in=any_of(done)).exclude(status=TargetStatus.DONE).update(
        status=TargetStatus.DONE, done_at=timezone.now()
    )


MARKABLE = frozenset({TargetStatus.REFUSED, TargetStatus.UNREACHABLE, TargetStatus.PENDING})


@transaction.atomic
def mark_target(target: CampaignTarget, *, actor: User, status: str, note: str = "") -> CampaignTarget:
    """Record that the customer refused (with the reason) or that nobody could be reached (with a
    note), or put the machine back to pending. A machine whose work is done stays done."""
    require(may_manage_campaigns(actor))
    if status not in MARKABLE:
        raise field_error("status", _("Select a valid choice."), "invalid_choice")
    note = _text(note, "note", NOTE_MAX, required=status != TargetStatus.PENDING)
    current = CampaignTarget.objects.select_for_update().select_related("campaign").get(pk=target.pk)
    if current.campaign.status != CampaignStatus.LAUNCHED:
        raise DomainError("campaign_not_launched", _("Only the machines of a launched campaign can be marked."))
    if current.status == TargetStatus.DONE:
        raise DomainError("target_done", _("The work on this machine is done."))
    before = current.status
    current.status = status
    current.note = note
    current.decided_by = actor
    current.decided_at = timezone.now()
    current.save(update_fields=["status", "note", "decided_by", "decided_at"])
    record_event(
        current.campaign,
        actor=actor,
        action="target_marked",
        changes={"status": [before, status]},
        related=current.equipment,
        note=note,
    )
    return current


@transaction.atomic
def acknowledge_notice(target: CampaignTarget, *, actor: User) -> CampaignTarget:
    """The customer read a "notify only" notice about his machine: the machine is done."""
    current = CampaignTarget.objects.select_for_update().select_related("campaign", "customer").get(pk=target.pk)
    require(
        may_manage_campaigns(actor)
        or (is_customer_user(actor) and actor.organisation_id == current.customer.organisation_id)
    )
    if current.campaign.creates_orders:
        raise DomainError("not_a_notice", _("This machine gets a visit; it is done when the visit is."))
    if current.campaign.status != CampaignStatus.LAUNCHED:
        raise DomainError("campaign_not_launched", _("Only the notices of a launched campaign can be acknowledged."))
    if current.status == TargetStatus.DONE:
        raise DomainError("target_done", _("This notice was acknowledged already."))
    before = current.status
    now = timezone.now()
    current.status = TargetStatus.DONE
    current.done_at = now
    current.decided_by = actor
    current.decided_at = now
    current.save(update_fields=["status", "done_at", "decided_by", "decided_at"])
    record_event(
        current.campaign,
        actor=actor,
        action="notice_acknowledged",
        changes={"status": [before, TargetStatus.DONE]},
        related=current.equipment,
    )
    return current


# --- early intervention ------------------------------------------------------------------------

SOURCE_KINDS = {"knowledge": CampaignSource.KNOWLEDGE, "quality_alert": CampaignSource.QUALITY_ALERT}


@transaction.atomic
def start_campaign_from(
    source_kind: str,
    source_id: int,
    *,
    actor: User,
    equipment_ids: list[int],
    title: str,
    action: str = CampaignAction.INSPECT,
    reason: str = "",
    product_models: list[int] | None = None,
    **fields,
) -> Campaign:
    """A draft campaign started from a knowledge article or a quality alert (early intervention),
    over the given machines (and, optionally, only those of some product models), with the source
    recorded. The owner reviews the draft and launches it. `fields` are create_campaign's other
    fields (service_type, priority, job_template, owner, starts_on, ends_on, parts, criteria)."""
    require(may_manage_campaigns(actor))
    kind = SOURCE_KINDS.get(source_kind)
    if kind is None:
        raise field_error("source_kind", _("Select a valid choice."), "invalid_choice")
    if not equipment_ids and not fields.get("serials") and not product_models:
        raise field_error("machines", _("Name the machines the campaign is about."), "no_machines")
    return create_campaign(
        actor=actor,
        title=title,
        action=action,
        reason=reason,
        source_kind=kind,
        source_id=source_id,
        equipment_ids=list(equipment_ids or []) or None,
        product_models=product_models or [],
        **fields,
    )


def serials_from_upload(upload) -> str:
    """The serial numbers in the first column of an uploaded Excel (.xlsx) or CSV file, one a
    line (a first row that says "serial" is a heading and skipped)."""
    name = (getattr(upload, "name", "") or "").lower()
    values: list[str] = []
    try:
        if name.endswith(".xlsx"):
            from openpyxl import load_workbook

            book = load_workbook(upload, read_only=True, data_only=True)
            for row in book.active.iter_rows(max_col=1, values_only=True):
                if row and row[0] not in (None, ""):
                    values.append(str(row[0]).strip())
                if len(values) > MAX_LISTED + 1:
                    break
        elif name.endswith(".csv") or name.endswith(".txt"):
            import csv
            import io

            text = upload.read().decode("utf-8-sig")
            for row in csv.reader(io.StringIO(text)):
                if row and row[0].strip():
                    values.append(row[0].strip())
        else:
            raise field_error("serials_file", _("Upload an Excel (.xlsx) or CSV file."), "invalid_type")
    except (UnicodeDecodeError, ValueError, KeyError, OSError) as error:
        if hasattr(error, "error_dict"):
            raise
        raise field_error("serials_file", _("The file could not be read."), "unreadable") from None
    if values and "serial" in values[0].lower():
        values = values[1:]
    return "\n".join(values)
