"""The appointment panel of a work order page: what is planned, what is wrong with it, and the
form to agree it (for dispatchers and the order's lead engineer)."""

from __future__ import annotations

from django.utils import timezone

from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole
from fieldservice.scheduling.forms import VisitForm
from fieldservice.scheduling.permissions import may_edit_visit
from fieldservice.scheduling.selectors import planned_visit, slot_conflicts
from fieldservice.scheduling.services import default_duration_minutes


def initial_for(order, visit) -> dict:
    if visit is None:
        return {"duration_minutes": default_duration_minutes(order), "version": 0}
    local = timezone.localtime
    return {
        "planned_start": local(visit.planned_start),
        "duration_minutes": visit.duration_minutes,
        "window_start": local(visit.window_start) if visit.window_start else None,
        "window_end": local(visit.window_end) if visit.window_end else None,
        "is_pinned": visit.is_pinned,
        "note": visit.note,
        "version": visit.version,
    }


def panel_context(order, user, form: VisitForm | None = None) -> dict:
    visit = planned_visit(order)
    last = visit or order.visits.order_by("-planned_start", "-pk").first()
    editable = may_edit_visit(user, order)
    warnings = []
    if visit is not None and visit.engineer_id is not None:
        warnings = slot_conflicts(
            order,
            engineer=visit.engineer,
            start=visit.planned_start,
            duration_minutes=visit.duration_minutes,
            ignore_visit=visit,
        )
    if editable and form is None:
        form = VisitForm(initial=initial_for(order, visit), auto_id=f"visit-{order.pk}-%s")
    return {
        "order": order,
        "visit": visit,
        "last_visit": last if visit is None else None,
        "warnings": warnings,
        "editable": editable,
        "form": form if editable else None,
        "default_minutes": default_duration_minutes(order),
        **_lead(order),
    }


def _lead(order) -> dict:
    """Who holds the order: an engineer, or a provider that has not named one yet (dispatched all
    the same, so the panel must not say it is not)."""
    assignment = (
        order.assignments.filter(role=AssignmentRole.LEAD, status__in=ACTIVE_ASSIGNMENT_STATUSES)
        .select_related("engineer", "provider")
        .first()
    )
    if assignment is None:
        return {"lead": None, "lead_provider": None}
    return {"lead": assignment.engineer, "lead_provider": assignment.provider if assignment.engineer is None else None}
