"""The customer-care pages: the list (filters, effect, Excel export), the form with its preview,
the plan page with its moves and letters, "My care tasks"; the menu; and the crossings."""

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from fieldservice.maintenance.models import CarePlan, CareTouch
from tests.maintenance import care_helpers as h

pytestmark = pytest.mark.django_db

BASE = "/maintenance/care/"


def test_the_list_filters_shows_the_effect_and_exports_it(personas, client_for):
    h.key_customers(personas.admin, 2)
    sms = h.running(personas.agent, name="Spring greetings")
    h.plan(personas.agent, name="Anniversary letters", method="letter", occasion="install_anniversary")
    agent = client_for(personas.agent)
    page = agent.get(BASE)
    assert page.status_code == 200
    assert "Spring greetings" in page.text and "Anniversary letters" in page.text
    filtered = agent.get(BASE, {"method": "sms", "status": "running"})
    assert f'id="care-plan-{sms.pk}"' in filtered.text and "Anniversary letters" not in filtered.text
    assert "Anniversary" in agent.get(BASE, {"q": "Anniv"}).text
    export = agent.get(BASE, {"export": "xlsx", "method": "sms"})
    rows = list(load_workbook(BytesIO(export.content)).active.iter_rows(values_only=True))
    header, [row] = rows[0], rows[1:]
    assert row[header.index("Name")] == "Spring greetings"
    assert row[header.index("Customers touched")] == 2


def test_the_form_previews_for_one_customer_and_saves(personas, client_for):
    customer = h.key_customers(personas.admin, 1)[0]
    agent = client_for(personas.agent)
    assert agent.get(f"{BASE}new/").status_code == 200
    data = {
        "name": "Festival SMS",
        "occasion": "festival",
        "method": "sms",
        "target_tiers": ["key"],
        "body": "{{ customer }}，新年好",
        "currency": "CNY",
        "budget": "100",
        "starts_on": "2026-12-20",
        "effect_days": "30",
        "preview_customer": customer.code,
    }
    preview = agent.post(f"{BASE}new/", {**data, "preview": "1"})
    assert preview.status_code == 200
    assert f"{customer.name}，新年好" in preview.text
    assert not CarePlan.objects.exists()
    bad = agent.post(f"{BASE}new/", {**data, "body": "{% if %}"})
    assert bad.status_code == 200 and "Template error" in bad.text and not CarePlan.objects.exists()
    saved = agent.post(f"{BASE}new/", data)
    plan = CarePlan.objects.get()
    assert saved.status_code == 302 and saved["Location"] == f"{BASE}{plan.pk}/"
    assert plan.target_tiers == ["key"]


def test_the_plan_page_moves_the_plan_and_prints_letters(personas, client_for):
    h.key_customers(personas.admin, 2)
    plan = h.plan(personas.agent, method="letter")
    agent = client_for(personas.agent)
    assert agent.get(f"{BASE}{plan.pk}/letters.pdf").status_code == 404  # nothing printed yet
    assert agent.post(f"{BASE}{plan.pk}/close/").status_code == 302
    plan.refresh_from_db()
    assert plan.status == "plan"  # refused, with a message
    agent.post(f"{BASE}{plan.pk}/activate/")
    agent.post(f"{BASE}{plan.pk}/run/")
    plan.refresh_from_db()
    assert plan.status == "running"
    page = agent.get(f"{BASE}{plan.pk}/")
    assert 'id="effect-touched">2<' in page.text and "letters.pdf" in page.text
    assert 'id="care-targets">Key account<' in page.text
    pdf = agent.get(f"{BASE}{plan.pk}/letters.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_my_care_tasks_records_an_outcome(personas, client_for):
    h.key_customers(personas.admin, 1)
    plan = h.running(personas.agent, method="call", participants=[personas.agent.pk])
    touch = CareTouch.objects.get(plan=plan)
    agent = client_for(personas.agent)
    page = agent.get(f"{BASE}tasks/")
    assert f'id="task-{touch.pk}"' in page.text
    agent.post(f"{BASE}tasks/{touch.pk}/outcome/", {"outcome": "reached", "note": "Happy"})
    touch.refresh_from_db()
    assert (touch.outcome, touch.outcome_note) == ("reached", "Happy")
    assert f'id="task-{touch.pk}"' not in agent.get(f"{BASE}tasks/").text  # open ones only
    assert f'id="task-{touch.pk}"' in agent.get(f"{BASE}tasks/", {"show": "all"}).text


def test_the_menu_offers_care_to_care_managers_only(personas, client_for):
    assert "Customer care" in client_for(personas.agent).get("/").text
    assert "Customer care" not in client_for(personas.dispatcher).get("/").text


def test_customers_providers_and_others_see_nothing_of_care(personas, client_for):
    h.key_customers(personas.admin, 1)
    plan = h.running(personas.agent, method="call", participants=[personas.agent.pk])
    touch = CareTouch.objects.get(plan=plan)
    for who in ("dispatcher", "engineer", "provider_admin", "customer_user_a"):
        client = client_for(getattr(personas, who))
        for url in (BASE, f"{BASE}new/", f"{BASE}{plan.pk}/", f"{BASE}{plan.pk}/edit/"):
            assert client.get(url).status_code == 404, (who, url)
        assert client.post(f"{BASE}{plan.pk}/close/").status_code == 404, who
        assert client.post(f"{BASE}tasks/{touch.pk}/outcome/", {"outcome": "reached"}).status_code == 404, who
        assert f'id="task-{touch.pk}"' not in client.get(f"{BASE}tasks/").text
    plan.refresh_from_db()
    touch.refresh_from_db()
    assert (plan.status, touch.outcome) == ("running", "")


def test_an_engineer_with_a_visit_finds_his_care_tasks_from_his_phone(personas, client_for):
    h.key_customers(personas.admin, 1)
    engineer = client_for(personas.engineer)
    assert 'id="care-tasks-link"' not in engineer.get(reverse("field:today")).text
    plan = h.running(personas.agent, method="visit", participants=[personas.engineer.pk])
    assert 'id="care-tasks-link"' in engineer.get(reverse("field:today")).text
    touch = CareTouch.objects.get(plan=plan)
    engineer.post(f"{BASE}tasks/{touch.pk}/outcome/", {"outcome": "lead"})
    touch.refresh_from_db()
    assert touch.outcome == "lead"
