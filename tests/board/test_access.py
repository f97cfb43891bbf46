"""Only our dispatchers use the board: everyone else gets 403 from every page and endpoint, and
nothing they post changes a visit."""

import pytest
from django.urls import reverse

from fieldservice.scheduling.models import Visit

GETS = ["board:board", "board:data", "board:queue", "board:events", "board:boundaries"]


def snapshot(visit):
    fresh = Visit.objects.get(pk=visit.pk)
    return (fresh.engineer_id, fresh.planned_start, fresh.version)


def slot(visit, engineer, hhmm="14:00"):
    start = visit.planned_start.astimezone().strftime("%Y-%m-%d") + " " + hhmm
    return {"visit": visit.pk, "engineer": engineer.pk, "planned_start": start, "version": visit.version}


def test_anonymous_users_are_sent_to_sign_in(client, board):
    for name in GETS:
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    before = snapshot(board.visit)
    response = client.post(reverse("board:move"), slot(board.visit, board.engineer))
    assert response.status_code == 302
    assert snapshot(board.visit) == before


@pytest.mark.parametrize(
    "who", ["engineer", "provider_admin", "provider_engineer", "customer_user_a", "agent", "director"]
)
def test_everyone_but_dispatchers_is_refused(client_for, board, who):
    client = client_for(getattr(board, who))
    before = snapshot(board.visit)
    for name in GETS:
        assert client.get(reverse(name)).status_code == 403, name
    assert client.get(reverse("board:nearest", args=[board.order.pk])).status_code == 403
    assert client.post(reverse("board:check"), slot(board.visit, board.engineer)).status_code == 403
    assert client.post(reverse("board:move"), slot(board.visit, board.engineer)).status_code == 403
    assert snapshot(board.visit) == before


def test_dispatcher_and_administrator_see_the_board(client_for, board):
    for user in (board.dispatcher, board.admin):
        response = client_for(user).get(reverse("board:board"))
        assert response.status_code == 200
        assert 'id="gantt"' in response.content.decode()


def test_posts_only(client_for, board):
    client = client_for(board.dispatcher)
    assert client.get(reverse("board:move")).status_code == 405
    assert client.get(reverse("board:check")).status_code == 405
