"""SLA pages: the overdue list scoped like the work orders, the work-order panel, and the
administrator's settings pages."""

import datetime as dt

import pytest
from django.template import Context, Template
from django.urls import reverse

from fieldservice.sla.models import BusinessCalendar, EscalationRule, Holiday, SlaClock, SlaPolicy
from tests.sla.conftest import THURSDAY_NOON, at, clocks, hold, local

OVERDUE = reverse("sla:overdue")
SETTINGS = reverse("sla:settings")


def listed(client, **params) -> set[tuple[str, str]]:
    with at(THURSDAY_NOON):
        response = client.get(OVERDUE, params)
    assert response.status_code == 200
    return {(clock.work_order.number, clock.kind) for clock in response.context["objects"]}


def snapshot():
    return list(SlaClock.objects.order_by("pk").values_list("pk", "due_at", "met_at", "breached_at", "next_check_at"))


def test_the_overdue_list_for_desk_staff(client_for, overdue):
    o = overdue
    expected = {
        (o.ours.number, "acceptance"),
        (o.ours.number, "arrival"),
        (o.ours.number, "resolution"),
        (o.theirs.number, "acceptance"),
        (o.theirs.number, "arrival"),
        (o.theirs.number, "resolution"),
        (o.waiting.number, "response"),
        (o.waiting.number, "acceptance"),
        (o.waiting.number, "arrival"),
        (o.waiting.number, "resolution"),
        (o.fresh.number, "response"),
    }
    for who in ("dispatcher", "agent", "director", "admin"):
        assert listed(client_for(getattr(o, who))) == expected
    client = client_for(o.dispatcher)
    assert listed(client, state="at_risk") == {(o.fresh.number, "response")}
    assert listed(client, state="breached") == expected - {(o.fresh.number, "response")}
    assert listed(client, target="response") == {(o.waiting.number, "response"), (o.fresh.number, "response")}
    assert listed(client, q=o.ours.number) == {
        (o.ours.number, kind) for kind in ("acceptance", "arrival", "resolution")
    }
    assert listed(client, q="Customer Z", target="response") == {
        (o.waiting.number, "response"),
        (o.fresh.number, "response"),
    }
    with at(THURSDAY_NOON):
        body = client.get(OVERDUE, {"q": o.fresh.number}).content.decode()
        assert "At risk" in body and "10 min" in body  # 12:00 → 13:10 over lunch
        assert client.get(OVERDUE, {"export": "xlsx"}).status_code == 200


def test_the_overdue_list_across_tenants(client_for, overdue):
    o = overdue
    before = snapshot()
    assert {number for number, _kind in listed(client_for(o.engineer))} == {o.ours.number}
    assert {number for number, _kind in listed(client_for(o.provider_admin))} == {o.theirs.number}
    assert listed(client_for(o.other_provider_admin)) == set()
    assert listed(client_for(o.provider_engineer)) == set()
    for who in ("customer_user_a", "customer_user_z"):
        with at(THURSDAY_NOON):
            assert client_for(getattr(o, who)).get(OVERDUE).status_code == 403
    assert snapshot() == before


def test_paused_and_met_clocks_are_not_overdue(client_for, overdue):
    o = overdue
    hold(o, o.ours, local(2026, 3, 11, 10, 30), "waiting_customer")
    assert o.ours.number not in {number for number, _kind in listed(client_for(o.dispatcher))}


def test_an_empty_list(client_for, sla):
    with at(THURSDAY_NOON):
        response = client_for(sla.dispatcher).get(OVERDUE)
    assert "Nothing is overdue or at risk." in response.content.decode()


def test_the_order_panel(overdue):
    o = overdue
    hold(o, o.ours, local(2026, 3, 12, 11), "waiting_customer")
    with at(THURSDAY_NOON):
        html = Template("{% load sla_tags %}{% sla_panel order %}").render(Context({"order": o.ours}))
    assert html.count("<tr class=") == 4
    assert 'class="sla-met"' in html and html.count('class="sla-paused"') == 3
    assert "2026-03-11 11:00" in html  # the response's due time
    assert "Response (dispatched)" in html and "Paused" in html
    found = clocks(o.ours)
    # Paused at 11:00 on Thursday, one business hour after the resolution was due (Thu 10:00).
    assert found["resolution"].paused_at == local(2026, 3, 12, 11)
    assert "1 h 00 min overdue" in html
    with at(THURSDAY_NOON):
        html = Template("{% load sla_tags %}{% sla_panel order %}").render(Context({"order": o.fresh}))
    assert "At risk" in html and "10 min" in html
    o.fresh.sla_clocks.all().delete()
    html = Template("{% load sla_tags %}{% sla_panel order %}").render(Context({"order": o.fresh}))
    assert "No service-level targets for this order." in html


# Settings pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [("admin", 200), ("dispatcher", 403), ("director", 403), ("customer_user_a", 403)]
)
def test_who_may_open_the_settings(client_for, sla, who, status):
    client = client_for(getattr(sla, who))
    china = BusinessCalendar.objects.get(name__startswith="中国")
    pages = [
        SETTINGS,
        reverse("sla:calendar_create"),
        reverse("sla:calendar_detail", args=[china.pk]),
        reverse("sla:calendar_edit", args=[china.pk]),
        reverse("sla:policy_create"),
        reverse("sla:policy_edit", args=[sla.policy.pk]),
        reverse("sla:rule_create"),
        reverse("sla:rule_edit", args=[EscalationRule.objects.first().pk]),
    ]
    for page in pages:
        assert client.get(page).status_code == status, page


def test_others_cannot_post_to_the_settings(client_for, sla, cn_calendar):
    holiday = cn_calendar.holidays.first()
    rule = EscalationRule.objects.first()
    before = (Holiday.objects.count(), EscalationRule.objects.count(), BusinessCalendar.objects.count())
    for who in ("dispatcher", "provider_admin", "customer_user_a"):
        client = client_for(getattr(sla, who))
        posts = [
            (reverse("sla:calendar_create"), {"name": "Mine", "time_zone": "Asia/Shanghai"}),
            (reverse("sla:holiday_add", args=[cn_calendar.pk]), {"date": "2026-03-03", "kind": "holiday", "name": "x"}),
            (reverse("sla:holiday_load", args=[cn_calendar.pk]), {"year": "2026"}),
            (reverse("sla:holiday_delete", args=[holiday.pk]), {}),
            (reverse("sla:rule_delete", args=[rule.pk]), {}),
        ]
        for url, data in posts:
            assert client.post(url, data).status_code == 403, url
    assert (Holiday.objects.count(), EscalationRule.objects.count(), BusinessCalendar.objects.count()) == before


def test_the_settings_page_lists_everything(client_for, sla):
    body = client_for(sla.admin).get(SETTINGS).content.decode()
    for text in (
        "中国工作日 / China working week",
        "24×7",
        "金牌合同 / Gold contract",
        "任一时限超时 / Any target breached",
    ):
        assert text in body
    assert "Around the clock (24×7)" in body


def test_create_and_edit_a_calendar(client_for, sla):
    client = client_for(sla.admin)
    data = {"name": "Weekend shift", "time_zone": "Asia/Shanghai", "saturday": "08:00-12:00, 13:00-17:00"}
    response = client.post(reverse("sla:calendar_create"), data)
    calendar = BusinessCalendar.objects.get(name="Weekend shift")
    assert response.status_code == 302 and response["Location"] == reverse("sla:calendar_detail", args=[calendar.pk])
    assert list(calendar.periods.values_list("weekday", "starts_at", "ends_at")) == [
        (5, dt.time(8), dt.time(12)),
        (5, dt.time(13), dt.time(17)),
    ]
    page = client.get(reverse("sla:calendar_edit", args=[calendar.pk])).content.decode()
    assert 'value="08:00-12:00, 13:00-17:00"' in page
    # Overlap, and text that is no period: each next to its weekday, nothing saved.
    data = {"name": "Renamed", "time_zone": "Asia/Shanghai", "monday": "09:00-13:00, 12:00-18:00", "sunday": "all day"}
    response = client.post(reverse("sla:calendar_edit", args=[calendar.pk]), data)
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"sunday"}
    data["sunday"] = ""
    response = client.post(reverse("sla:calendar_edit", args=[calendar.pk]), data)
    assert response.context["form"].errors.keys() == {"monday"}
    calendar.refresh_from_db()
    assert calendar.name == "Weekend shift" and calendar.periods.count() == 2


def test_holidays_on_the_calendar_page(client_for, sla):
    client = client_for(sla.admin)
    calendar = BusinessCalendar.objects.get(name="24×7")
    detail = reverse("sla:calendar_detail", args=[calendar.pk])
    assert "No holidays for this year." in client.get(detail).content.decode()
    response = client.post(reverse("sla:holiday_load", args=[calendar.pk]), {"year": "2026"})
    assert response.status_code == 302 and calendar.holidays.count() == 39
    page = client.get(detail, {"year": "2026"}).content.decode()
    assert "春节" in page and "Adjusted working day" in page
    add = reverse("sla:holiday_add", args=[calendar.pk])
    response = client.post(add, {"date": "2026-03-12", "kind": "holiday", "name": "Stocktaking"})
    assert response.status_code == 302
    response = client.post(add, {"date": "2026-03-12", "kind": "holiday", "name": "Again"})
    assert response.status_code == 422
    assert "date" in response.context["holiday_form"].errors
    assert calendar.holidays.get(date=dt.date(2026, 3, 12)).name == "Stocktaking"
    holiday = calendar.holidays.get(date=dt.date(2026, 3, 12))
    assert client.post(reverse("sla:holiday_delete", args=[holiday.pk])).status_code == 302
    assert calendar.holidays.count() == 39


def test_edit_a_policy_and_its_targets(client_for, sla, cn_calendar):
    client = client_for(sla.admin)
    url = reverse("sla:policy_edit", args=[sla.policy.pk])
    page = client.get(url)
    assert page.context["form"]["normal_response"].value() == 60
    data = {
        "code": "standard",
        "name": "Standard",
        "calendar": cn_calendar.pk,
        "customer_tier": "standard",
        "is_default": "on",
        "is_active": "on",
        "urgent_response": "15",
        "urgent_resolution": "120",
    }
    assert client.post(url, data).status_code == 302
    urgent = sla.policy.targets.get(priority="urgent")
    assert (urgent.response_minutes, urgent.acceptance_minutes, urgent.resolution_minutes) == (15, None, 120)
    assert sla.policy.targets.get(priority="normal").response_minutes is None
    response = client.post(url, {**data, "customer_tier": "key", "urgent_response": "30"})
    assert response.status_code == 200 and "customer_tier" in response.context["form"].errors
    assert sla.policy.targets.get(priority="urgent").response_minutes == 15
    response = client.post(reverse("sla:policy_create"), {**data, "code": "another", "customer_tier": ""})
    assert response.status_code == 302
    assert SlaPolicy.objects.get(is_default=True).code == "another"


def test_escalation_rules_on_pages(client_for, sla):
    client = client_for(sla.admin)
    data = {"name": "Both", "after_minutes": "30", "percent_used": "80", "notify": "director", "position": "5"}
    response = client.post(reverse("sla:rule_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"after_minutes", "percent_used"}
    assert not EscalationRule.objects.filter(name="Both").exists()
    data = {"name": "Urgent only", "target": "arrival", "percent_used": "50", "priorities": ["urgent"]}
    response = client.post(reverse("sla:rule_create"), {**data, "notify": "account_owner", "is_active": "on"})
    assert response.status_code == 302
    rule = EscalationRule.objects.get(name="Urgent only")
    assert (rule.target, rule.percent_used, rule.priorities, rule.notify) == (
        "arrival",
        50,
        ["urgent"],
        "account_owner",
    )
    edit = reverse("sla:rule_edit", args=[rule.pk])
    response = client.post(edit, {**data, "percent_used": "150", "notify": "director"})
    assert response.context["form"].errors.keys() == {"percent_used"}
    assert client.post(reverse("sla:rule_delete", args=[rule.pk])).status_code == 302
    assert not EscalationRule.objects.filter(pk=rule.pk).exists()
