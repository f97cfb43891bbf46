"""The dispatch board in a real headless Chromium: the dispatcher drags a visit on the Gantt (a
real pointer drag), sees the conflict check before saving (a blocking one first, then a free
slot), saves, and the engineer's phone schedule shows the new time."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec

from fieldservice.accounts.choices import Role
from fieldservice.accounts.services import save_engineer_profile
from fieldservice.dispatch.assignments.services import dispatch_to_engineer
from fieldservice.scheduling.models import Visit
from fieldservice.scheduling.services import schedule_visit
from tests import factories
from tests.browser.test_service_loop import click, sign_in, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOUR_PX = 72  # board.js: one hour of the day view


def next_weekday() -> dt.date:
    day = timezone.localdate() + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def at(day, hhmm):
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hours, minutes)))


@pytest.fixture
def planned_visit():
    admin = factories.system_user()
    own = factories.own_company()
    dispatcher = factories.user(Role.DISPATCHER, organisation=own, username="dispatcher")
    engineer = factories.user(Role.ENGINEER, organisation=own, username="engineer", display_name="陈工")
    save_engineer_profile(engineer, actor=admin, home_latitude=Decimal("29.87"), home_longitude=Decimal("121.55"))
    order = factories.work_order(factories.customer(actor=admin, name="宁波甬江塑料有限公司"))
    dispatch_to_engineer(order, actor=dispatcher, engineer=engineer)
    day = next_weekday()
    return schedule_visit(order, actor=dispatcher, planned_start=at(day, "10:00"), duration_minutes=60)


def drag(browser, element, dx):
    ActionChains(browser).click_and_hold(element).move_by_offset(dx // 2, 0).move_by_offset(
        dx - dx // 2, 0
    ).release().perform()


def test_dispatcher_drags_a_visit_and_the_engineer_sees_the_new_time(
    browser, phone_browser, live_server, settings, planned_visit
):
    # Short event streams, so the live server's threads end soon after the test.
    settings.FSM_BOARD_SSE_SECONDS = 3
    base = live_server.url
    visit = planned_visit
    day = timezone.localtime(visit.planned_start).date()

    sign_in(browser, base, "dispatcher")
    browser.get(f"{base}/board/?view=gantt&date={day:%Y-%m-%d}")
    bar_selector = f'.g-bar[data-visit="{visit.pk}"]'
    bar = wait_for(browser, ec.presence_of_element_located((By.CSS_SELECTOR, bar_selector)))
    left_before = bar.location["x"]

    # 1. Dropped in the lunch break: the check blocks the move before anything is saved.
    drag(browser, bar, 2 * HOUR_PX)
    wait_for(browser, ec.visibility_of_element_located((By.CSS_SELECTOR, "#move-panel")))
    wait_for(
        browser, ec.presence_of_element_located((By.CSS_SELECTOR, '#move-conflicts li[data-code="outside_shift"]'))
    )
    assert browser.find_element(By.ID, "move-start").get_attribute("value") == f"{day:%Y-%m-%d} 12:00"
    assert not browser.find_element(By.ID, "move-save").is_enabled()
    click(browser, "#move-cancel")
    assert Visit.objects.get(pk=visit.pk).planned_start == at(day, "10:00")

    # 2. Dropped at 14:00: no conflict; the dispatcher confirms.
    bar = browser.find_element(By.CSS_SELECTOR, bar_selector)
    drag(browser, bar, 4 * HOUR_PX)
    wait_for(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "#move-conflicts li.ok")))
    assert browser.find_element(By.ID, "move-start").get_attribute("value") == f"{day:%Y-%m-%d} 14:00"
    wait_for(browser, ec.element_to_be_clickable((By.ID, "move-save")))
    click(browser, "#move-save")
    wait_for(browser, lambda _b: Visit.objects.get(pk=visit.pk).planned_start == at(day, "14:00"))
    moved = Visit.objects.get(pk=visit.pk)
    assert moved.engineer == visit.engineer and moved.version == visit.version + 1
    # The board redraws the bar at its new place.
    wait_for(browser, ec.invisibility_of_element_located((By.CSS_SELECTOR, "#move-panel")))
    wait_for(
        browser,
        lambda b: b.find_element(By.CSS_SELECTOR, bar_selector).location["x"] >= left_before + 4 * HOUR_PX - 2,
    )

    # 3. The engineer's phone schedule shows the new time.
    sign_in(phone_browser, base, "engineer")
    phone_browser.get(f"{base}/schedule/me/")
    card = wait_for(phone_browser, ec.presence_of_element_located((By.ID, f"visit-{visit.pk}")))
    assert "14:00–15:00" in card.text and "10:00" not in card.text


def test_click_form_and_map_without_reachable_tiles(browser, live_server, settings, planned_visit):
    """The keyboard path (click a bar, type the time, check, save), and a map whose tile server
    cannot be reached: the tiles drop out, the pins and the nearest engineers still work."""
    settings.FSM_BOARD_SSE_SECONDS = 3
    settings.FSM_MAP_TILE_URL = "http://127.0.0.1:9/{z}/{x}/{y}.png"
    base = live_server.url
    visit = planned_visit
    day = timezone.localtime(visit.planned_start).date()

    sign_in(browser, base, "dispatcher")
    browser.get(f"{base}/board/?view=gantt&date={day:%Y-%m-%d}")
    bar = wait_for(browser, ec.element_to_be_clickable((By.CSS_SELECTOR, f'.g-bar[data-visit="{visit.pk}"]')))
    bar.send_keys(Keys.ENTER)
    start = wait_for(browser, ec.visibility_of_element_located((By.ID, "move-start")))
    start.clear()
    start.send_keys(f"{day:%Y-%m-%d} 09:00")
    click(browser, "#move-check")
    wait_for(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "#move-conflicts li.ok")))
    click(browser, "#move-save")
    wait_for(browser, lambda _b: Visit.objects.get(pk=visit.pk).planned_start == at(day, "09:00"))

    click(browser, "#tab-map")
    pin = wait_for(
        browser, ec.presence_of_element_located((By.CSS_SELECTOR, f'.map-order[data-order="{visit.work_order_id}"]'))
    )
    assert browser.find_elements(By.CSS_SELECTOR, ".map-engineer")
    assert "127.0.0.1:9" in browser.find_element(By.ID, "map-credit").text  # the tiles were asked for
    wait_for(browser, lambda b: not b.find_elements(By.CSS_SELECTOR, "image.map-tile"))
    browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", pin)
    item = wait_for(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "#map-panel .nearest li")))
    assert item.get_attribute("data-engineer") == str(visit.engineer_id)
    link = browser.find_element(By.CSS_SELECTOR, "#map-panel a.button")
    assert link.get_attribute("href").endswith(f"/dispatch/orders/{visit.work_order_id}/")


def test_the_board_redraws_itself_when_a_visit_is_planned_elsewhere(browser, live_server, settings, planned_visit):
    settings.FSM_BOARD_SSE_SECONDS = 5
    settings.FSM_BOARD_SSE_POLL_SECONDS = 0.5
    base = live_server.url
    visit = planned_visit
    day = timezone.localtime(visit.planned_start).date()
    sign_in(browser, base, "dispatcher")
    browser.get(f"{base}/board/?view=gantt&date={day:%Y-%m-%d}")
    wait_for(browser, ec.presence_of_element_located((By.CSS_SELECTOR, f'.g-bar[data-visit="{visit.pk}"]')))
    # Someone else plans another order of the engineer's: no reload, the event stream tells the page.
    order = factories.work_order(visit.work_order.customer)
    dispatch_to_engineer(order, actor=visit.created_by, engineer=visit.engineer)
    other = schedule_visit(order, actor=visit.created_by, planned_start=at(day, "15:00"), duration_minutes=60)
    # Well before the 15-second polling fallback would have fetched it.
    wait_for(browser, ec.presence_of_element_located((By.CSS_SELECTOR, f'.g-bar[data-visit="{other.pk}"]')), 8)


def names(browser, selector) -> list[str]:
    return [e.get_attribute("textContent") for e in browser.find_elements(By.CSS_SELECTOR, selector)]


def test_the_map_draws_borders_and_names_offline_and_districts_only_when_zoomed_in(
    browser, live_server, settings, planned_visit
):
    """Issue 10, item 12: with no tile server the map still reads: district borders and names round
    the pins when zoomed in, city names once zoomed out."""
    settings.FSM_MAP_TILE_URL = ""
    base = live_server.url
    day = timezone.localtime(planned_visit.planned_start).date()
    sign_in(browser, base, "dispatcher")
    browser.get(f"{base}/board/?view=map&date={day:%Y-%m-%d}")
    wait_for(browser, ec.presence_of_element_located((By.CSS_SELECTOR, ".map-engineer")))
    # One pin: the map zooms right in, onto the district round the engineer's home in Ningbo.
    wait_for(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "path.map-border-district")))
    labels = names(browser, ".map-label-district")
    assert "鄞州区" in labels
    for _ in range(8):
        click(browser, "#map-zoom-out")
    wait_for(browser, lambda b: "宁波市" in names(b, ".map-label-city"))
    assert not browser.find_elements(By.CSS_SELECTOR, "path.map-border-district")
