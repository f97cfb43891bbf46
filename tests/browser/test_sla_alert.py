"""Issue 4 in a real headless Chromium: a new urgent order that nobody dispatches raises the
dispatcher's alert in the bell and puts the order on the overdue list once its (shortened)
response deadline has passed."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from fieldservice.accounts.choices import Role
from fieldservice.core import periodic
from fieldservice.notifications.models import Notification
from fieldservice.sla.models import BusinessCalendar, EscalationRule, SlaPolicy, SlaTarget
from fieldservice.workorders.choices import Priority
from fieldservice.workorders.models import WorkOrder
from tests import factories
from tests.browser.test_service_loop import click, sign_in, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    admin = factories.system_user()
    own = factories.own_company()
    factories.user(Role.AGENT, organisation=own, username="agent")
    dispatcher = factories.user(Role.DISPATCHER, organisation=own, username="dispatcher", language="zh-hans")
    customer = factories.customer(actor=admin, name="宁波甬江塑料有限公司")
    factories.site(customer, name="北仑厂区", address="宁波市北仑区明州路 88 号")
    machine = factories.equipment(customer, serial_number="HR250-0007")
    # A round-the-clock policy whose urgent response target is five minutes, and one rule: a
    # breached response alerts the dispatchers.
    SlaPolicy.objects.update(is_default=False, customer_tier="")
    calendar = BusinessCalendar.objects.create(name="Test 24×7")
    policy = SlaPolicy.objects.create(code="test-fast", name="Test fast", calendar=calendar, is_default=True)
    SlaTarget.objects.create(policy=policy, priority=Priority.URGENT, response_minutes=5, resolution_minutes=240)
    EscalationRule.objects.all().delete()
    EscalationRule.objects.create(name="Response breached", target="response", percent_used=100, notify="dispatcher")
    request = factories.service_request(
        customer, actor=admin, equipment=machine, priority=Priority.URGENT, description="料筒加热失灵，停机"
    )
    return {"request": request, "dispatcher": dispatcher}


def bell_count(browser) -> int:
    badges = browser.find_elements(By.CSS_SELECTOR, "#notification-bell [data-unread]")
    return int(badges[0].get_attribute("data-unread")) if badges else 0


def test_an_undispatched_urgent_order_alerts_the_dispatcher(browser, live_server, world):
    base = live_server.url
    request = world["request"]

    # The agent turns the urgent request into a work order.
    sign_in(browser, base, "agent")
    browser.get(f"{base}/requests/{request.pk}/")
    click(browser, "#create-order button[type=submit]")
    wait_for(browser, lambda _b: WorkOrder.objects.exists())
    order = WorkOrder.objects.get()
    assert order.priority == Priority.URGENT and order.sla_policy.code == "test-fast"

    # The dispatcher sees the new order in the bell; nothing is overdue yet.
    sign_in(browser, base, "dispatcher")
    before = bell_count(browser)
    assert before >= 1
    browser.get(f"{base}/sla/overdue/")
    assert order.number not in browser.find_element(By.CSS_SELECTOR, "main").text
    periodic.tick()  # the periodic SLA check, as a worker's scheduler runs it
    assert not Notification.objects.filter(event="sla.breached").exists()

    # Six minutes later nobody has dispatched it; the next check raises the alert.
    with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=True):
        assert "sla.check" in periodic.tick()
        alert = Notification.objects.get(event="sla.breached", recipient=world["dispatcher"])
        assert order.number in alert.title and alert.delivered_at is not None

        browser.get(f"{base}/")
        wait_for(browser, lambda b: bell_count(b) == before + 1)
        click(browser, "#notification-bell")
        wait_for(browser, ec.presence_of_element_located((By.XPATH, f"//main//*[contains(., '{order.number}')]")))
        assert alert.title in browser.find_element(By.CSS_SELECTOR, "main").text

        browser.get(f"{base}/sla/overdue/")
        overdue = browser.find_element(By.CSS_SELECTOR, "main").text
        assert order.number in overdue
