"""Demo: a recall over a lot range of the demo's machines, launched and about half done.

The campaign picks the registered machines of the most common model in a run of consecutive lots
(12 to 24 machines, so the demo stays quick), is launched by the administrator (one proactive order
per machine with the hose kit as its parts, each customer notified), and then about half of its
orders are visited through the field services (dispatched, accepted, checked in, work recorded,
signed, completed, and most of those closed); two customers refused and one could not be reached.
Everything goes through the services, so the campaign's progress follows the orders by itself.
"""

from __future__ import annotations

import io
import random
from collections import Counter
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db.models import Count
from PIL import Image, ImageDraw

from fieldservice.accounts.models import User
from fieldservice.assets.choices import EquipmentStatus
from fieldservice.assets.models import Equipment
from fieldservice.dispatch.assignments import services as dispatch
from fieldservice.dispatch.assignments.selectors import candidates_for
from fieldservice.field import demo as field_demo
from fieldservice.field import services as field
from fieldservice.inventory.models import Part
from fieldservice.maintenance.models.campaigns import Campaign, CampaignAction, TargetStatus
from fieldservice.maintenance.services import campaigns as services
from fieldservice.workorders.choices import Priority, ResolutionType, ServiceType
from fieldservice.workorders.services import lifecycle

MIN_MACHINES = 12
MAX_MACHINES = 24

REFUSALS = ["产线满负荷，年底前不停机", "设备即将报废，不再维修"]
UNREACHABLE = "三次来电无人接听，短信未回复"


def _signature() -> bytes:
    image = Image.new("RGB", (240, 90), "white")
    ImageDraw.Draw(image).line([(20, 60), (80, 25), (140, 65), (215, 30)], fill="black", width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _lot_window() -> tuple[int, str, str] | None:
    """(model id, first lot, last lot): consecutive lots of the most common model that hold
    MIN_MACHINES to MAX_MACHINES registered machines (lots of the same width only)."""
    machines = Equipment.objects.filter(status=EquipmentStatus.REGISTERED, parent__isnull=True).exclude(lot_number="")
    top = machines.values("product_model_id").annotate(n=Count("pk")).order_by("-n", "product_model_id").first()
    if top is None:
        return None
    lots = Counter(machines.filter(product_model_id=top["product_model_id"]).values_list("lot_number", flat=True))
    width = Counter(len(lot) for lot in lots).most_common(1)[0][0]
    ordered = sorted(lot for lot in lots if len(lot) == width)
    best = None
    for start in range(len(ordered)):
        total = 0
        for end in range(start, len(ordered)):
            total += lots[ordered[end]]
            if total > MAX_MACHINES:
                break
            if total >= MIN_MACHINES:
                best = (top["product_model_id"], ordered[start], ordered[end])
        if best is not None:
            break
    if best is None and ordered:  # a small demo: every lot of the model
        best = (top["product_model_id"], ordered[0], ordered[-1])
    return best


def seed_recall(*, rng: random.Random, admin: User, director: User, dispatcher: User, agent: User) -> Campaign | None:
    """The demo's recall campaign; None when the demo has no machine with a lot."""
    window = _lot_window()
    if window is None:
        return None
    model_id, lot_from, lot_to = window
    part = Part.objects.filter(is_active=True).order_by("part_number").first()
    campaign = services.create_campaign(
        actor=admin,
        title=f"液压油管召回（批次 {lot_from} – {lot_to}）",
        reason="供应商通报：该批次液压油管在高油温下可能开裂渗油。请在停机保养时更换油管。",
        action=CampaignAction.RECALL,
        service_type=ServiceType.MAINTENANCE,
        priority=Priority.HIGH,
        owner=director,
        product_models=[model_id],
        lot_from=lot_from,
        lot_to=lot_to,
        parts=[(part, Decimal("1"))] if part is not None else [],
    )
    services.launch_campaign(campaign, actor=admin)
    targets = list(campaign.targets.select_related("work_order", "equipment__site", "equipment__customer"))
    rng.shuffle(targets)
    half = len(targets) // 2
    signature = _signature()
    visited = 0
    for target in targets[:half]:
        if _visit(target, rng=rng, dispatcher=dispatcher, agent=agent, signature=signature):
            visited += 1
    left = targets[half:]
    for target, note in zip(left[:2], REFUSALS, strict=False):
        services.mark_target(target, actor=director, status=TargetStatus.REFUSED, note=note)
    for target in left[2:3]:
        services.mark_target(target, actor=director, status=TargetStatus.UNREACHABLE, note=UNREACHABLE)
    campaign.refresh_from_db()
    return campaign


def _visit(target, *, rng: random.Random, dispatcher: User, agent: User, signature: bytes) -> bool:
    """The machine's order visited and completed (and most of them closed) by an engineer of its area."""
    order = target.work_order
    site = target.equipment.site
    if order is None or site is None or site.latitude is None:
        return False
    ranked = [c for c in candidates_for(order, dispatcher, limit=50) if c.covers_area] or list(
        candidates_for(order, dispatcher, limit=5)
    )
    if not ranked:
        return False
    engineer = ranked[0].engineer
    assignment = dispatch.dispatch_to_engineer(order, actor=dispatcher, engineer=engineer)
    dispatch.accept_assignment(assignment, actor=engineer)
    field.check_in(order, actor=engineer, latitude=site.latitude, longitude=site.longitude, accuracy=15)
    field.record_work(
        order,
        actor=engineer,
        resolution_type=ResolutionType.REPLACE_PART,
        fault_cause="召回批次油管",
        actions_taken="按召回通知更换液压油管，试机无渗漏",
        labour_hours=Decimal("1.5"),
    )
    field.capture_signature(
        order,
        actor=engineer,
        signer_name=target.equipment.customer.contacts.values_list("name", flat=True).first() or "客户",
        image_file=ContentFile(signature, name="signature.png"),
    )
    answers = field_demo.answers_for(order, target.equipment, rng)
    if answers:
        field.answer_steps(order, actor=engineer, answers=answers)
    field.complete_visit(order, actor=engineer)
    if rng.random() < 0.7:
        lifecycle.close_work_order(order, actor=agent, note="召回回单已审核")
    return True
