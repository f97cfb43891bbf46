"""Day-plan optimisation in a real headless Chromium: a dispatcher starts an optimisation of a small team's
day, watches its progress bar (polled by htmx every second) move while the worker plans, sees the proposal
beside the current plan, and applies it; the visits and assignments are then in the database.

The worker's part runs in the test's own thread (the enqueue is replaced by a no-op, as if no worker had
picked the run up yet), so the page is seen first with the run queued, then running, then done. While the
search runs, its progress callback reads the bar shown in the browser: the test asserts that the browser
showed a value strictly between 0 and 100 with the run running."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from fieldservice.accounts.choices import Role
from fieldservice.accounts.models import ServiceArea, User
from fieldservice.accounts.services import create_team, save_engineer_profile
from fieldservice.dispatch.choices import AssignmentRole
from fieldservice.dispatch.models import Assignment
from fieldservice.planning import services
from fieldservice.planning.choices import RunStatus
from fieldservice.planning.models import PlanningRun
from fieldservice.scheduling.models import Visit
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.services.intake import create_work_order
from tests import factories

from .test_service_loop import click, sign_in, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOURS = {day: [["08:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture
def world():
    admin = factories.system_user()
    own = factories.own_company()
    factories.user(Role.DISPATCHER, organisation=own, username="dispatcher")
    team = create_team(actor=admin, name="东区班组", organisation=own)
    area = ServiceArea.objects.create(name="宁波北仑", city="宁波")
    team.areas.add(area)  # the team's undispatched orders are those at sites in its areas
    engineers = []
    for name, lat, lng in (("陈工", "29.87", "121.55"), ("王工", "29.91", "121.62")):
        person = factories.user(Role.ENGINEER, organisation=own, display_name=name)
        save_engineer_profile(
            person,
            actor=admin,
            team=team,
            home_latitude=Decimal(lat),
            home_longitude=Decimal(lng),
            working_hours=HOURS,
        )
        engineers.append(person)
    customer = factories.customer(actor=admin, name="宁波甬江塑料有限公司")
    orders = []
    for i, (lat, lng) in enumerate((("29.88", "121.57"), ("29.90", "121.60"), ("29.86", "121.53"))):
        site = factories.site(
            customer, actor=admin, name=f"厂区 {i + 1}", city="宁波", latitude=Decimal(lat), longitude=Decimal(lng)
        )
        machine = factories.equipment(customer, actor=admin, site=site)
        request = factories.service_request(customer, actor=admin, equipment=machine)
        orders.append(create_work_order(request, actor=admin))
    return {"team": team, "engineers": engineers, "orders": orders, "day": timezone.localdate() + dt.timedelta(days=2)}


def test_an_optimisation_proposal_is_generated_with_a_visible_progress_bar_and_applied(
    browser, live_server, world, monkeypatch
):
    from fieldservice.dispatch.assignments.services import dispatch_to_engineer

    dispatcher = User.objects.get(username="dispatcher")
    # One order is already the first engineer's: it is part of the team's day through its lead.
    dispatch_to_engineer(world["orders"][0], actor=dispatcher, engineer=world["engineers"][0])
    monkeypatch.setattr(services, "enqueue", lambda run_id: None)  # no worker yet: the run stays queued
    base = live_server.url
    sign_in(browser, base, "dispatcher")
    browser.get(base + "/planning/")
    Select(browser.find_element(By.ID, "id_team")).select_by_value(str(world["team"].pk))
    day = browser.find_element(By.ID, "id_day")
    browser.execute_script("arguments[0].value = arguments[1]", day, world["day"].isoformat())
    budget = browser.find_element(By.ID, "id_time_budget_seconds")
    budget.clear()
    budget.send_keys("4")
    click(browser, "#start-optimisation")
    wait_for(browser, ec.url_matches(r"/planning/runs/\d+/$"))
    run = PlanningRun.objects.get()
    bar = wait_for(browser, ec.visibility_of_element_located((By.ID, "run-progress-bar")))
    assert bar.get_attribute("value") == "0" and run.status == RunStatus.QUEUED
    assert browser.find_element(By.ID, "cancel-run").is_displayed()

    # The worker picks the run up; while it searches, look at what the browser shows.
    seen = []
    real_solve = services.solve

    def watched_solve(problem, **kwargs):
        report = kwargs.pop("progress")

        def progress(state):
            report(state)
            # One script reads both: htmx swaps the fragment every second, so an element found in
            # one call may be gone by the next.
            value, status = browser.execute_script(
                "const bar = document.getElementById('run-progress-bar');"
                "const status = document.getElementById('run-status');"
                "return [bar ? bar.value : null, status ? status.textContent : null];"
            )
            if value is not None:
                seen.append((int(value), status))

        return real_solve(problem, progress=progress, **kwargs)

    monkeypatch.setattr(services, "solve", watched_solve)
    assert services.execute_run(run.pk) == "done"
    assert any(0 < value < 100 for value, _status in seen), seen

    # The page reloads by itself once the run is done and shows the proposal beside the current plan.
    apply_button = wait_for(browser, ec.element_to_be_clickable((By.ID, "apply-run")))
    assert browser.find_element(By.ID, "run-progress-bar").get_attribute("value") == "100"
    assert browser.find_elements(By.CSS_SELECTOR, ".gantt-bar.proposed")
    page = browser.find_element(By.ID, "moves").text
    for order in world["orders"]:
        assert order.number in page
    browser.save_screenshot("/tmp/fsm-day-plan.png")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", apply_button)
    apply_button.click()
    wait_for(browser, lambda _b: PlanningRun.objects.get(pk=run.pk).status == RunStatus.APPLIED)
    wait_for(browser, ec.presence_of_element_located((By.CSS_SELECTOR, ".messages .msg-success")))

    engineers = {e.pk for e in world["engineers"]}
    for order in world["orders"]:
        order = WorkOrder.objects.get(pk=order.pk)
        visit = Visit.objects.get(work_order=order)
        assert visit.engineer_id in engineers
        assert timezone.localtime(visit.planned_start).date() == world["day"]
        lead = Assignment.objects.get(work_order=order, role=AssignmentRole.LEAD, status="offered")
        assert lead.engineer_id == visit.engineer_id
        assert order.status == WorkOrderStatus.DISPATCHED
