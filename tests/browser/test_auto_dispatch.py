"""A rule assigns a new order automatically: a dispatcher writes the rule on the rule page, an
agent creates a work order on the request's page, and the order page shows it offered to the
rule's engineer with no one having dispatched it."""

from decimal import Decimal

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from fieldservice.accounts.choices import Role
from fieldservice.accounts.services import save_engineer_profile
from fieldservice.dispatch.models import Assignment, DispatchRule
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import WorkOrder
from tests import factories
from tests.browser.test_service_loop import click, sign_in, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    admin = factories.system_user()
    own = factories.own_company()
    agent = factories.user(Role.AGENT, organisation=own, username="agent")
    factories.user(Role.DISPATCHER, organisation=own, username="dispatcher")
    engineer = factories.user(Role.ENGINEER, organisation=own, username="engineer", display_name="陈工")
    save_engineer_profile(engineer, actor=admin, home_latitude=Decimal("29.87"), home_longitude=Decimal("121.55"))
    # Another engineer who would do as well: the rule, not chance, decides.
    other = factories.user(Role.ENGINEER, organisation=own, username="other", display_name="李工")
    save_engineer_profile(other, actor=admin)
    customer = factories.customer(actor=admin, name="宁波甬江塑料有限公司")
    site = factories.site(customer, name="北仑厂区", latitude=Decimal("29.868336"), longitude=Decimal("121.543990"))
    machine = factories.equipment(customer, site=site)
    request = factories.service_request(customer, actor=agent, equipment=machine, priority="urgent")
    return {"engineer": engineer, "request": request}


def test_a_rule_assigns_a_new_order_automatically(browser, live_server, world):
    base = live_server.url
    engineer = world["engineer"]

    # The dispatcher writes the rule: urgent orders go to 陈工.
    sign_in(browser, base, "dispatcher")
    browser.get(base + "/dispatch/rules/new/")
    browser.find_element(By.ID, "id_name").send_keys("Urgent to Chen")
    Select(browser.find_element(By.ID, "id_target_kind")).select_by_value("engineer")
    Select(browser.find_element(By.ID, "id_target_engineer")).select_by_value(str(engineer.pk))
    Select(browser.find_element(By.ID, "id_strategy")).select_by_value("fixed")
    Select(browser.find_element(By.ID, "id_cond_priority")).select_by_value("urgent")
    click(browser, "#rule-form button[type=submit]")
    wait_for(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "#rules")))
    rule = DispatchRule.objects.get()
    assert rule.conditions == {"priority": ["urgent"]} and rule.target_engineer == engineer

    # The agent creates the work order on the request's page; nobody dispatches it.
    sign_in(browser, base, "agent")
    browser.get(f"{base}/requests/{world['request'].pk}/")
    click(browser, "#create-order button[type=submit]")
    wait_for(browser, lambda _b: WorkOrder.objects.exists())
    order = WorkOrder.objects.get()
    wait_for(browser, lambda _b: WorkOrder.objects.get(pk=order.pk).status == WorkOrderStatus.DISPATCHED)

    assignment = Assignment.objects.get(work_order=order)
    assert (assignment.engineer, assignment.rule, assignment.assigned_by) == (engineer, rule, None)
    browser.get(f"{base}/orders/{order.pk}/")
    assert "陈工" in browser.find_element(By.ID, "assignments").text
    assert "Urgent to Chen" in browser.page_source  # the service log names the rule
