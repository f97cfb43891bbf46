"""Checking a slot before saving (skill, overlap, shift, leave, stale) and saving it through
scheduling.services.move_visit: a new time, a new engineer, and refusals that change nothing."""

from django.urls import reverse

from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole
from fieldservice.dispatch.models import Assignment
from fieldservice.scheduling.models import Absence, Visit
from fieldservice.workorders.models import WorkOrderEvent
from tests.board.conftest import at, planned
from tests.board.test_access import snapshot

CHECK = reverse("board:check")
MOVE = reverse("board:move")


def slot(visit, engineer, day, hhmm, version=None):
    return {
        "visit": visit.pk,
        "engineer": engineer.pk,
        "planned_start": f"{day:%Y-%m-%d} {hhmm}",
        "version": visit.version if version is None else version,
    }


def codes(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {c["code"] for c in response.json()["conflicts"]}


def test_a_free_slot_has_no_conflicts_and_checking_writes_nothing(client_for, board):
    before, events = snapshot(board.visit), WorkOrderEvent.objects.count()
    response = client_for(board.dispatcher).post(CHECK, slot(board.visit, board.engineer, board.day, "14:00"))
    data = response.json()
    assert data["conflicts"] == [] and data["blocking"] is False
    assert data["start"].startswith(f"{board.day:%Y-%m-%d}T14:00")
    assert data["end"].startswith(f"{board.day:%Y-%m-%d}T15:00")
    assert snapshot(board.visit) == before and WorkOrderEvent.objects.count() == events


def test_check_reports_skill_overlap_shift_and_leave(client_for, board):
    client = client_for(board.dispatcher)
    assert codes(client.post(CHECK, slot(board.visit, board.unskilled, board.day, "10:00"))) == {"skill"}
    planned(board, board.engineer, at(board.day, "14:00"))
    assert codes(client.post(CHECK, slot(board.visit, board.engineer, board.day, "14:30"))) == {"overlap"}
    # The default shift ends at 17:30 and has a lunch break from 12:00.
    assert codes(client.post(CHECK, slot(board.visit, board.engineer, board.day, "19:00"))) == {"outside_shift"}
    assert codes(client.post(CHECK, slot(board.visit, board.engineer, board.day, "11:30"))) == {"outside_shift"}
    Absence.objects.create(engineer=board.far, starts_at=at(board.day, "08:00"), ends_at=at(board.day, "18:00"))
    response = client.post(CHECK, slot(board.visit, board.far, board.day, "09:00"))
    assert codes(response) == {"absent"}
    assert all(c["blocking"] for c in response.json()["conflicts"]) and response.json()["blocking"]


def test_check_reports_a_stale_version(client_for, board):
    response = client_for(board.dispatcher).post(CHECK, slot(board.visit, board.engineer, board.day, "14:00", 99))
    assert codes(response) == {"stale"}


def test_check_rejects_a_bad_start_by_field(client_for, board):
    data = slot(board.visit, board.engineer, board.day, "14:00") | {"planned_start": "tomorrow-ish"}
    response = client_for(board.dispatcher).post(CHECK, data)
    assert response.status_code == 422 and "planned_start" in response.json()["errors"]


def test_move_to_another_time(client_for, board):
    response = client_for(board.dispatcher).post(MOVE, slot(board.visit, board.engineer, board.day, "14:00"))
    assert response.status_code == 200, response.content
    visit = Visit.objects.get(pk=board.visit.pk)
    assert visit.planned_start == at(board.day, "14:00") and visit.engineer == board.engineer
    assert visit.version == board.visit.version + 1 == response.json()["version"]
    assert board.visit.work_order.number in response.json()["message"]


def test_move_to_another_engineer_reassigns_the_order(client_for, board):
    response = client_for(board.dispatcher).post(MOVE, slot(board.visit, board.far, board.day, "09:00"))
    assert response.status_code == 200, response.content
    visit = Visit.objects.get(pk=board.visit.pk)
    assert visit.engineer == board.far and visit.planned_start == at(board.day, "09:00")
    lead = Assignment.objects.get(
        work_order=board.visit.work_order, role=AssignmentRole.LEAD, status__in=ACTIVE_ASSIGNMENT_STATUSES
    )
    assert lead.engineer == board.far


def test_a_stale_move_is_refused_and_changes_nothing(client_for, board):
    client = client_for(board.dispatcher)
    stale = slot(board.visit, board.engineer, board.day, "15:00")
    assert client.post(MOVE, slot(board.visit, board.engineer, board.day, "14:00")).status_code == 200
    after_first = snapshot(board.visit)
    response = client.post(MOVE, stale)
    assert response.status_code == 409
    assert response.json()["code"] == "stale" and response.json()["message"]
    assert snapshot(board.visit) == after_first


def test_a_blocking_conflict_is_refused_and_changes_nothing(client_for, board):
    before = snapshot(board.visit)
    assignments = list(Assignment.objects.values_list("pk", "engineer", "status"))
    response = client_for(board.dispatcher).post(MOVE, slot(board.visit, board.unskilled, board.day, "10:00"))
    assert response.status_code == 422
    assert "engineer" in response.json()["errors"]
    response = client_for(board.dispatcher).post(MOVE, slot(board.visit, board.engineer, board.day, "20:00"))
    assert response.status_code == 422 and "planned_start" in response.json()["errors"]
    assert snapshot(board.visit) == before
    assert list(Assignment.objects.values_list("pk", "engineer", "status")) == assignments


def test_an_engineer_the_dispatcher_cannot_pick_is_a_field_error(client_for, board):
    before = snapshot(board.visit)
    data = slot(board.visit, board.engineer, board.day, "14:00") | {"engineer": board.customer_user_a.pk}
    response = client_for(board.dispatcher).post(MOVE, data)
    assert response.status_code == 422 and "engineer" in response.json()["errors"]
    assert snapshot(board.visit) == before


def test_an_unknown_visit_is_404(client_for, board):
    data = slot(board.visit, board.engineer, board.day, "14:00") | {"visit": board.visit.pk + 1000}
    assert client_for(board.dispatcher).post(MOVE, data).status_code == 404
    assert client_for(board.dispatcher).post(CHECK, data).status_code == 404


def test_check_reports_what_the_handover_would_refuse(client_for, board):
    client = client_for(board.dispatcher)
    # Provider C does not serve customer A; the on-leave engineer cannot take new work.
    assert "other_company" in codes(
        client.post(CHECK, slot(board.visit, board.other_provider_engineer, board.day, "10:00"))
    )
    assert "on_leave" in codes(client.post(CHECK, slot(board.visit, board.on_leave, board.day, "10:00")))
    # Provider B serves customer A: no handover conflict.
    assert codes(client.post(CHECK, slot(board.visit, board.provider_engineer, board.day, "10:00"))) == set()
    before = snapshot(board.visit)
    response = client.post(MOVE, slot(board.visit, board.other_provider_engineer, board.day, "10:00"))
    assert response.status_code == 422 and "engineer" in response.json()["errors"]
    assert snapshot(board.visit) == before
