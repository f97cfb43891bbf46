"""Scheduling pages: the order's appointment panel, absences, durations, the engineer's schedule."""

import datetime as dt

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from fieldservice.scheduling import services
from fieldservice.scheduling.models import Absence, DurationDefault, Visit
from tests.scheduling.conftest import EVERY_DAY, at, order_for, profile


def visit_url(order):
    return f"/schedule/orders/{order.pk}/visit/"


def form_data(world, start="09:00", minutes=60, **extra):
    data = {"planned_start": f"{world.monday:%Y-%m-%d}T{start}", "duration_minutes": minutes, "version": 0}
    data.update(extra)
    return data


def render_panel(order, user) -> str:
    return Template("{% load scheduling %}{% visit_panel order user %}").render(Context({"order": order, "user": user}))


# The appointment panel


def test_panel_offers_the_form_with_the_default_duration(world):
    services.set_duration_default(actor=world.dispatcher, service_type="repair", minutes=135)
    html = render_panel(world.order, world.dispatcher)
    assert "No visit planned yet." in html and 'id="visit-form"' in html and 'value="135"' in html
    # Those who may not plan see the panel without the form.
    assert 'id="visit-form"' not in render_panel(world.order, world.customer_user_a)
    assert 'id="visit-form"' in render_panel(world.order, world.engineer)


def test_panel_shows_the_planned_visit_and_its_conflicts(world):
    visit = services.schedule_visit(
        world.order,
        actor=world.dispatcher,
        planned_start=at(world.monday, "09:00"),
        duration_minutes=60,
        window_start=at(world.monday, "08:30"),
        window_end=at(world.monday, "10:00"),
    )
    services.create_absence(
        actor=world.dispatcher,
        engineer=world.engineer,
        kind="sick",
        starts_at=at(world.monday, "08:00"),
        ends_at=at(world.monday, "18:00"),
    )
    html = render_panel(world.order, world.dispatcher)
    assert f"{world.monday:%Y-%m-%d} 09:00–10:00" in html and "engineer" in html
    assert 'data-conflict="absent"' in html
    assert f'name="version" value="{visit.version}"' in html


def test_dispatcher_plans_through_the_page(client_for, world):
    response = client_for(world.dispatcher).post(visit_url(world.order), form_data(world, is_pinned="on"))
    assert response.status_code == 302
    assert response.url == reverse("workorders:order_detail", args=[world.order.pk])
    visit = Visit.objects.get(work_order=world.order)
    assert (visit.planned_start, visit.is_pinned, visit.engineer) == (at(world.monday, "09:00"), True, world.engineer)


def test_errors_are_shown_next_to_their_field_and_nothing_is_saved(client_for, world):
    client = client_for(world.dispatcher)
    response = client.post(visit_url(world.order), form_data(world, start="06:00"))
    assert response.status_code == 200
    error = f'<p class="error" id="visit-{world.order.pk}-planned_start_error">Outside engineer&#x27;s shift.</p>'
    assert error in response.content.decode()
    response = client.post(visit_url(world.order), form_data(world, window_start=f"{world.monday:%Y-%m-%d}T10:00"))
    assert "Give both ends of the time window, or neither." in response.content.decode()
    assert not Visit.objects.exists()


def test_htmx_post_returns_the_panel(client_for, world):
    response = client_for(world.dispatcher).post(visit_url(world.order), form_data(world), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'id="visit-panel"' in response.content.decode()
    assert "<html" not in response.content.decode()
    assert Visit.objects.filter(work_order=world.order).count() == 1


def test_stale_form_is_refused_on_the_page(client_for, world):
    client = client_for(world.dispatcher)
    client.post(visit_url(world.order), form_data(world))
    response = client.post(visit_url(world.order), form_data(world, start="14:00", version=0))
    assert "changed by someone else" in response.content.decode()
    assert Visit.objects.get().planned_start == at(world.monday, "09:00")


@pytest.mark.parametrize(
    "who, status",
    [("customer_user_a", 403), ("customer_user_z", 404), ("provider_admin", 404), ("second", 404), ("agent", 403)],
)
def test_others_cannot_plan_through_the_page(client_for, world, who, status):
    response = client_for(getattr(world, who)).post(visit_url(world.order), form_data(world))
    assert response.status_code == status
    assert not Visit.objects.exists()


# Absences


def absence_data(world, engineer=None, start="08:00", end="12:00"):
    return {
        "engineer": (engineer or world.engineer).pk,
        "kind": "leave",
        "starts_at": f"{world.monday:%Y-%m-%d}T{start}",
        "ends_at": f"{world.monday:%Y-%m-%d}T{end}",
        "note": "dentist",
    }


def test_dispatcher_creates_an_absence_and_is_warned_of_visits(client_for, world):
    services.schedule_visit(world.order, actor=world.dispatcher, planned_start=at(world.monday, "09:00"))
    client = client_for(world.dispatcher)
    response = client.post("/schedule/absences/", absence_data(world), follow=True)
    body = response.content.decode()
    assert Absence.objects.filter(engineer=world.engineer, note="dentist").count() == 1
    assert world.order.number in body and "need another slot" in body


def test_absence_end_before_start_is_a_field_error(client_for, world):
    response = client_for(world.dispatcher).post("/schedule/absences/", absence_data(world, start="12:00", end="08:00"))
    assert response.status_code == 200 and "The absence must end after it starts." in response.content.decode()
    assert not Absence.objects.exists()


def test_absence_list_filters_and_engineer_sees_only_his_own(client_for, world):
    mine = services.create_absence(
        actor=world.dispatcher,
        engineer=world.engineer,
        kind="training",
        starts_at=at(world.monday, "08:00"),
        ends_at=at(world.monday, "10:00"),
        note="mine",
    )
    services.create_absence(
        actor=world.dispatcher,
        engineer=world.second,
        kind="leave",
        starts_at=at(world.monday, "08:00"),
        ends_at=at(world.monday, "10:00"),
        note="theirs",
    )
    dispatcher = client_for(world.dispatcher)
    body = dispatcher.get("/schedule/absences/", {"engineer": world.second.pk}).content.decode()
    assert "theirs" in body and "mine" not in body
    next_day = world.monday + dt.timedelta(days=1)
    assert "theirs" not in dispatcher.get("/schedule/absences/", {"day": f"{next_day:%Y-%m-%d}"}).content.decode()
    engineer = client_for(world.engineer)
    body = engineer.get("/schedule/absences/").content.decode()
    assert "mine" in body and "theirs" not in body and 'name="starts_at"' not in body
    # An engineer can neither create nor delete.
    assert engineer.post("/schedule/absences/", absence_data(world)).status_code == 403
    assert engineer.post(f"/schedule/absences/{mine.pk}/delete/").status_code == 403
    assert Absence.objects.count() == 2


@pytest.mark.parametrize("who", ["customer_user_a", "provider_admin", "agent"])
def test_absences_page_is_closed_to_others(client_for, world, who):
    absence = services.create_absence(
        actor=world.dispatcher,
        engineer=world.engineer,
        kind="leave",
        starts_at=at(world.monday, "08:00"),
        ends_at=at(world.monday, "10:00"),
    )
    client = client_for(getattr(world, who))
    assert client.get("/schedule/absences/").status_code == 403
    assert client.post(f"/schedule/absences/{absence.pk}/delete/").status_code == 404
    assert Absence.objects.filter(pk=absence.pk).exists()


def test_dispatcher_deletes_an_absence(client_for, world):
    absence = services.create_absence(
        actor=world.dispatcher,
        engineer=world.engineer,
        kind="leave",
        starts_at=at(world.monday, "08:00"),
        ends_at=at(world.monday, "10:00"),
    )
    assert client_for(world.dispatcher).post(f"/schedule/absences/{absence.pk}/delete/").status_code == 302
    assert not Absence.objects.exists()


# Durations


def test_durations_page(client_for, world):
    client = client_for(world.dispatcher)
    assert client.post("/schedule/durations/", {"service_type": "repair", "minutes": 100}).status_code == 302
    client.post("/schedule/durations/", {"service_type": "repair", "product_model": world.model.pk, "minutes": 200})
    assert set(DurationDefault.objects.values_list("product_model", "minutes")) == {(None, 100), (world.model.pk, 200)}
    body = client.get("/schedule/durations/").content.decode()
    assert "IM-200" in body and "200" in body
    response = client.post("/schedule/durations/", {"service_type": "repair", "minutes": 0})
    assert response.status_code == 200 and DurationDefault.objects.count() == 2
    default = DurationDefault.objects.get(product_model=world.model)
    client.post(f"/schedule/durations/{default.pk}/delete/")
    assert DurationDefault.objects.count() == 1


@pytest.mark.parametrize("who", ["engineer", "agent", "customer_user_a", "provider_admin"])
def test_durations_page_is_for_schedulers(client_for, world, who):
    client = client_for(getattr(world, who))
    assert client.get("/schedule/durations/").status_code == 403
    assert client.post("/schedule/durations/", {"service_type": "repair", "minutes": 10}).status_code == 403
    assert not DurationDefault.objects.exists()


# The engineer's schedule


def test_my_schedule_lists_my_visits_today_and_ahead(client_for, world):
    profile(world.engineer, hours=EVERY_DAY)
    profile(world.second, hours=EVERY_DAY)
    today = timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    services.schedule_visit(
        world.order, actor=world.dispatcher, planned_start=at(tomorrow, "14:00"), duration_minutes=60
    )
    theirs = order_for(world, engineer=world.second)
    services.schedule_visit(theirs, actor=world.dispatcher, planned_start=at(tomorrow, "09:00"))
    far = order_for(world, engineer=world.engineer)
    services.schedule_visit(far, actor=world.dispatcher, planned_start=at(today + dt.timedelta(days=9), "09:00"))
    services.create_absence(
        actor=world.dispatcher,
        engineer=world.engineer,
        kind="training",
        starts_at=at(tomorrow, "08:00"),
        ends_at=at(tomorrow, "10:00"),
    )
    response = client_for(world.engineer).get("/schedule/me/")
    body = response.content.decode()
    assert response.status_code == 200
    assert world.order.number in body and f"/m/orders/{world.order.pk}/" in body and "14:00–15:00" in body
    assert "港口路88号" in body and "Customer A" in body
    assert theirs.number not in body and far.number not in body
    assert "Training" in body and "08:00–12:00" in body


@pytest.mark.parametrize("who", ["dispatcher", "customer_user_a", "provider_admin"])
def test_my_schedule_is_for_engineers(client_for, world, who):
    assert client_for(getattr(world, who)).get("/schedule/me/").status_code == 403


def test_phone_home_links_to_my_schedule(client_for, world):
    assert "/schedule/me/" in client_for(world.engineer).get("/m/").content.decode()
