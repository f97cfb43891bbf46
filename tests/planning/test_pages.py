"""The planning pages and API: who may use them, and that they show and do what they say."""

import pytest

from fieldservice.planning import services
from fieldservice.planning.choices import RunStatus
from fieldservice.planning.models import PlanningRun
from fieldservice.scheduling.models import Visit


@pytest.fixture
def done_run(team_world, django_capture_on_commit_callbacks):
    w = team_world
    w.order()
    w.order(latitude=None, longitude=None)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.start_run(actor=w.dispatcher, day=w.day, team=w.team, time_budget_seconds=1)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    return run


def test_the_dispatcher_starts_a_run_from_the_form_and_sees_the_proposal(
    team_world, client_for, django_capture_on_commit_callbacks
):
    w = team_world
    order = w.order()
    client = client_for(w.dispatcher)
    page = client.get("/planning/")
    assert page.status_code == 200 and 'id="start-optimisation"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/planning/", {"team": w.team.pk, "day": w.day.isoformat(), "time_budget_seconds": 1})
    run = PlanningRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/planning/runs/{run.pk}/"
    html = client.get(response["Location"]).content.decode()
    assert 'id="run-progress-bar"' in html and 'value="100"' in html
    assert order.number in html and 'id="apply-run"' in html and "gantt-bar proposed" in html
    assert 'hx-trigger="every 1s"' not in html  # finished: no more polling


def test_the_form_shows_the_empty_team_error_next_to_the_team(team_world, client_for):
    w = team_world
    from fieldservice.accounts.services import create_team

    empty = create_team(actor=w.admin, name="Nobody", organisation=w.own)
    response = client_for(w.dispatcher).post(
        "/planning/", {"team": empty.pk, "day": w.day.isoformat(), "time_budget_seconds": 5}
    )
    assert response.status_code == 200
    assert "The team has no engineer available to plan." in response.content.decode()
    assert PlanningRun.objects.count() == 0


def test_a_queued_run_shows_a_polling_progress_bar_and_a_cancel_button(team_world, client_for, monkeypatch):
    w = team_world
    monkeypatch.setattr(services, "enqueue", lambda run_id: None)
    run = services.start_run(actor=w.dispatcher, day=w.day, team=w.team)
    client = client_for(w.dispatcher)
    html = client.get(f"/planning/runs/{run.pk}/").content.decode()
    assert 'id="run-progress-bar"' in html and 'hx-trigger="every 1s"' in html and 'id="cancel-run"' in html
    fragment = client.get(f"/planning/runs/{run.pk}/progress/", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and 'id="run-progress-bar"' in fragment.content.decode()
    client.post(f"/planning/runs/{run.pk}/cancel/")
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    finished = client.get(f"/planning/runs/{run.pk}/progress/", headers={"HX-Request": "true"})
    assert finished["HX-Refresh"] == "true"


def test_apply_from_the_page_writes_the_visits_and_a_stale_apply_shows_the_error(done_run, team_world, client_for):
    w = team_world
    client = client_for(w.dispatcher)
    order_id = done_run.proposal["moves"][0]["order_id"]
    from fieldservice.workorders.models import WorkOrder

    WorkOrder.objects.filter(pk=order_id).update(description="changed meanwhile")  # bumps nothing: updated_at
    order = WorkOrder.objects.get(pk=order_id)
    order.save()  # auto_now: the order changed after the run read it
    page = client.post(f"/planning/runs/{done_run.pk}/apply/", follow=True).content.decode()
    assert "These orders changed after the optimisation read them" in page and order.number in page
    assert Visit.objects.count() == 0
    done_run.refresh_from_db()
    assert done_run.status == RunStatus.DONE


def test_apply_from_the_page(done_run, team_world, client_for):
    client = client_for(team_world.dispatcher)
    response = client.post(f"/planning/runs/{done_run.pk}/apply/")
    assert response.status_code == 302
    done_run.refresh_from_db()
    assert done_run.status == RunStatus.APPLIED
    assert Visit.objects.count() == len(done_run.proposal["moves"]) == 1


def test_the_unplannable_order_is_listed_with_its_reason_in_the_readers_language(done_run, team_world, client_for):
    client = client_for(team_world.dispatcher)
    html = client.get(f"/planning/runs/{done_run.pk}/", headers={"accept-language": "en"}).content.decode()
    assert "The site has no coordinates." in html


@pytest.mark.parametrize("who", ["engineer", "provider_admin", "provider_engineer", "customer_user_a", "agent"])
def test_other_people_get_403_or_404_and_change_nothing(done_run, team_world, client_for, who):
    w = team_world
    client = client_for(getattr(w, who))
    assert client.get("/planning/").status_code == 403
    assert (
        client.post("/planning/", {"team": w.team.pk, "day": w.day.isoformat(), "time_budget_seconds": 1}).status_code
        == 403
    )
    for url in ("", "progress/"):
        assert client.get(f"/planning/runs/{done_run.pk}/{url}").status_code in (403, 404)
    for verb in ("apply", "discard", "cancel"):
        assert client.post(f"/planning/runs/{done_run.pk}/{verb}/").status_code in (403, 404)
    done_run.refresh_from_db()
    assert done_run.status == RunStatus.DONE and PlanningRun.objects.count() == 1
    assert Visit.objects.count() == 0


def test_api_start_get_apply(team_world, api_client_for, django_capture_on_commit_callbacks):
    w = team_world
    w.order()
    api = api_client_for(w.dispatcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/planning/runs",
            {"team": w.team.pk, "day": w.day.isoformat(), "time_budget_seconds": 1},
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    run_id = response.json()["id"]
    body = api.get(f"/api/v1/planning/runs/{run_id}").json()
    assert body["status"] == "done" and body["progress"] == 100 and len(body["proposal"]["moves"]) == 1
    applied = api.post(f"/api/v1/planning/runs/{run_id}/apply")
    assert applied.status_code == 200 and applied.json()["status"] == "applied"
    assert Visit.objects.count() == 1
    again = api.post(f"/api/v1/planning/runs/{run_id}/apply")
    assert again.status_code == 409


def test_api_validation_and_cancel(team_world, api_client_for, monkeypatch):
    w = team_world
    api = api_client_for(w.dispatcher)
    bad = api.post(
        "/api/v1/planning/runs",
        {"team": w.team.pk, "day": w.day.isoformat(), "time_budget_seconds": 500},
        content_type="application/json",
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "time_budget_seconds"]
    monkeypatch.setattr(services, "enqueue", lambda run_id: None)
    started = api.post(
        "/api/v1/planning/runs", {"team": w.team.pk, "day": w.day.isoformat()}, content_type="application/json"
    )
    assert started.json()["status"] == "queued"
    cancelled = api.post(f"/api/v1/planning/runs/{started.json()['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_a_provider_admin_cannot_see_or_touch_our_runs_through_the_api(done_run, team_world, api_client_for):
    w = team_world
    for who in (w.provider_admin, w.engineer, w.customer_user_a):
        api = api_client_for(who)
        assert api.get(f"/api/v1/planning/runs/{done_run.pk}").status_code == 404
        assert api.post(f"/api/v1/planning/runs/{done_run.pk}/apply").status_code == 404
        listed = api.get("/api/v1/planning/runs")
        assert listed.status_code == 403 or listed.json()["items"] == []
        started = api.post(
            "/api/v1/planning/runs", {"team": w.team.pk, "day": w.day.isoformat()}, content_type="application/json"
        )
        assert started.status_code == 403
    done_run.refresh_from_db()
    assert done_run.status == RunStatus.DONE and Visit.objects.count() == 0 and PlanningRun.objects.count() == 1
