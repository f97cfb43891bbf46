"""The dispatch board: one page (Gantt, map, list) and the JSON / event-stream endpoints its
script talks to. Dispatchers of our company only. Thin: parse, call a selector or a service."""

import datetime as dt
import json
import time

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fieldservice.board import boundaries as map_boundaries
from fieldservice.board import selectors
from fieldservice.board.forms import SPANS, VIEWS, BoardFilterForm, SlotForm
from fieldservice.core.errors import DomainError, require
from fieldservice.dispatch.permissions import may_dispatch
from fieldservice.scheduling import services as scheduling
from fieldservice.scheduling.choices import VisitStatus
from fieldservice.scheduling.selectors import get_visit_for, slot_conflicts
from fieldservice.workorders.selectors import get_work_order_for

# The event stream ends after this long so a proxy or a dead client never pins a worker thread
# for good; the browser's EventSource reconnects by itself.
SSE_SECONDS = 60
SSE_POLL_SECONDS = 2


def _require_board(user) -> None:
    require(may_dispatch(user))


def _filters(request) -> BoardFilterForm:
    return BoardFilterForm(request.GET or None, actor=request.user)


def _strings() -> dict:
    """The words the board's script shows, translated here so the script carries none."""
    return {
        "unassigned": _("Not assigned"),
        "travel": _("Travel (minutes)"),
        "from_home": _("from the home base"),
        "no_engineers": _("No engineers match the filters."),
        "no_conflicts": _("No conflicts: the slot is free."),
        "checking": _("Checking…"),
        "saving": _("Saving…"),
        "blocking": _("Blocks the move"),
        "warning": _("Warning"),
        "load_failed": _("Could not load the board; retrying."),
        "polling": _("Live updates unavailable; refreshing every 15 seconds."),
        "updated": _("Updated"),
        "nearest": _("Nearest qualified engineers"),
        "none_suitable": _("No engineer is suitable; the best of the rest:"),
        "no_candidates": _("No engineer of ours or of the customer's provider is available."),
        "dispatch": _("Dispatch…"),
        "km": _("km"),
        "from_check_in": _("from the last check-in"),
        "no_pins": _("No open orders or engineers with coordinates match the filters."),
        "open_orders": _("Open orders"),
        "planned": _("Planned"),
        "sla": _("SLA"),
        "sla_at_risk": _("At risk"),
        "sla_breached": _("Breached"),
        "bad_start": _("Give the start as YYYY-MM-DD HH:MM."),
        "tiles": _("Map tiles"),
        "error": _("Something went wrong; try again."),
    }


@login_required
@require_GET
def board(request):
    _require_board(request.user)
    filters = _filters(request)
    board_filter = filters.board()
    # The tabs keep the filters and change only the view.
    params = request.GET.copy()
    params.pop("view", None)
    query = params.urlencode()
    context = {
        "filters": filters,
        "view": filters.chosen_view,
        "views": VIEWS,
        "spans": SPANS,
        "board": board_filter,
        "query": query,
        "tile_url": settings.FSM_MAP_TILE_URL,
        "rows": selectors.queue_rows(request.user, board_filter) if filters.chosen_view == "list" else None,
        "strings": _strings(),
        "urls": {
            "data": reverse("board:data"),
            "check": reverse("board:check"),
            "move": reverse("board:move"),
            "events": reverse("board:events"),
            "queue": reverse("board:queue"),
            "nearest": reverse("board:nearest", args=[0]),
            "boundaries": reverse("board:boundaries"),
        },
    }
    return render(request, "board/board.html", context)


@login_required
@require_GET
def data(request):
    _require_board(request.user)
    payload = selectors.board_data(request.user, _filters(request).board())
    return JsonResponse(payload)


@login_required
@require_GET
def queue(request):
    """The list view's rows (the script reloads them when the board changes)."""
    _require_board(request.user)
    rows = selectors.queue_rows(request.user, _filters(request).board())
    return render(request, "board/_queue.html", {"rows": rows})


@login_required
@require_GET
def nearest(request, pk: int):
    _require_board(request.user)
    order = get_work_order_for(request.user, pk)
    return JsonResponse(
        {
            "order": order.pk,
            "number": order.number,
            "dispatch_url": reverse("dispatch:order", args=[order.pk]),
            "engineers": selectors.nearest_engineers(order, request.user),
        }
    )


def _bad_boundaries_request(field: str, message: str) -> JsonResponse:
    return JsonResponse({"errors": {field: [message]}}, status=400)


@login_required
@require_GET
def boundaries_json(request):
    """The map's base layer for the area in view: province, city and district borders with their names
    (board.boundaries), from the installed data package, so the map reads without a network."""
    _require_board(request.user)
    try:
        west, south, east, north = (float(part) for part in request.GET.get("bbox", "").split(","))
    except ValueError:
        return _bad_boundaries_request("bbox", _("Give the area as west,south,east,north in degrees."))
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        return _bad_boundaries_request("bbox", _("Give the area as west,south,east,north in degrees."))
    try:
        zoom = int(request.GET.get("zoom", ""))
    except ValueError:
        return _bad_boundaries_request("zoom", _("Give the zoom as a whole number."))
    try:
        payload = map_boundaries.boundaries(west=west, south=south, east=east, north=north, zoom=zoom)
    except map_boundaries.BoundariesUnavailableError:
        payload = {"zoom": zoom, "levels": [], "features": [], "unavailable": True}
    response = JsonResponse(payload)
    # The borders do not change while the server runs: let the browser keep them for the day.
    response["Cache-Control"] = "private, max-age=86400"
    return response


def _form_errors(form) -> JsonResponse:
    return JsonResponse({"errors": {field: list(messages) for field, messages in form.errors.items()}}, status=422)


def _conflict_json(conflict) -> dict:
    return {"code": conflict.code, "message": str(conflict.message), "blocking": conflict.blocking}


@login_required
@require_POST
def check(request):
    """What is wrong with the proposed slot, before the dispatcher saves it. Nothing is written."""
    _require_board(request.user)
    form = SlotForm(request.POST, actor=request.user)
    if not form.is_valid():
        return _form_errors(form)
    visit = get_visit_for(request.user, form.cleaned_data["visit"])
    engineer, start = form.cleaned_data["engineer"], form.cleaned_data["planned_start"]
    conflicts = []
    if visit.status != VisitStatus.PLANNED:
        conflicts.append({"code": "not_planned", "message": _("This visit is no longer planned."), "blocking": True})
    elif visit.version != form.cleaned_data["version"]:
        conflicts.append(
            {
                "code": "stale",
                "message": _("This visit was changed by someone else; the board will reload."),
                "blocking": True,
            }
        )
    conflicts += [
        _conflict_json(c)
        for c in slot_conflicts(
            visit.work_order,
            engineer=engineer,
            start=start,
            duration_minutes=visit.duration_minutes,
            ignore_visit=visit,
        )
    ]
    conflicts += selectors.handover_conflicts(visit, engineer, request.user)
    end = start + dt.timedelta(minutes=visit.duration_minutes)
    return JsonResponse(
        {
            "visit": visit.pk,
            "engineer": engineer.pk,
            "engineer_name": str(engineer),
            "number": visit.work_order.number,
            "start": timezone.localtime(start).isoformat(),
            "end": timezone.localtime(end).isoformat(),
            "conflicts": conflicts,
            "blocking": any(c["blocking"] for c in conflicts),
        }
    )


@login_required
@require_POST
def move(request):
    """Save a drag (or the click form): scheduling.services.move_visit decides."""
    _require_board(request.user)
    form = SlotForm(request.POST, actor=request.user)
    if not form.is_valid():
        return _form_errors(form)
    visit = get_visit_for(request.user, form.cleaned_data["visit"])
    try:
        moved = scheduling.move_visit(
            visit,
            actor=request.user,
            engineer=form.cleaned_data["engineer"],
            planned_start=form.cleaned_data["planned_start"],
            version=form.cleaned_data["version"],
            reason=form.cleaned_data.get("reason", ""),
        )
    except ValidationError as error:
        errors = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
        return JsonResponse({"errors": errors}, status=422)
    except DomainError as error:
        return JsonResponse({"code": error.code, "message": str(error.message)}, status=409)
    return JsonResponse(
        {
            "visit": moved.pk,
            "version": moved.version,
            "engineer": moved.engineer_id,
            "start": timezone.localtime(moved.planned_start).isoformat(),
            "message": _("Visit of %(number)s moved to %(start)s, %(name)s.")
            % {
                "number": moved.work_order.number,
                "start": timezone.localtime(moved.planned_start).strftime("%Y-%m-%d %H:%M"),
                "name": moved.engineer,
            },
        }
    )


def _stream(seconds: float, poll: float):
    """Server-sent events: the change stamp now, then each time it changes, until `seconds`."""
    yield "retry: 3000\n\n"
    deadline = time.monotonic() + seconds
    last = None
    while True:
        stamp = selectors.change_stamp()
        if stamp != last:
            last = stamp
            yield f"event: stamp\ndata: {json.dumps({'stamp': stamp})}\n\n"
        else:
            yield ": still here\n\n"  # a comment: keeps proxies from timing the stream out
        if time.monotonic() + poll > deadline:
            break
        time.sleep(poll)


@login_required
@require_GET
def events(request):
    _require_board(request.user)
    seconds = float(getattr(settings, "FSM_BOARD_SSE_SECONDS", SSE_SECONDS))
    poll = float(getattr(settings, "FSM_BOARD_SSE_POLL_SECONDS", SSE_POLL_SECONDS))
    response = StreamingHttpResponse(_stream(seconds, poll), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
