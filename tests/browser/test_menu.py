"""The grouped desk menu in a real browser: a group opens on a click and leads to its pages, one
group is open at a time, and on a phone the menu hides behind one button."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from fieldservice.accounts.choices import Role
from tests import factories
from tests.browser.test_foundation import sign_in, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _group(browser, label):
    return next(g for g in browser.find_elements(By.CSS_SELECTOR, "#mainnav details") if g.text.startswith(label))


def test_a_menu_group_opens_and_leads_to_its_page_on_the_desk(browser, live_server):
    factories.user(Role.ADMINISTRATOR, username="boss", language="zh-hans")
    base = live_server.url
    sign_in(browser, base, "boss")
    equipment_link = browser.find_element(By.CSS_SELECTOR, "#mainnav a[href='/assets/equipment/']")
    assert not equipment_link.is_displayed()  # folded into its group
    _group(browser, "设备与保养").find_element(By.TAG_NAME, "summary").click()
    wait_for(browser, ec.visibility_of(equipment_link))
    _group(browser, "设置").find_element(By.TAG_NAME, "summary").click()
    assert browser.find_element(By.CSS_SELECTOR, "#mainnav a[href='/webhooks/']").text == "Webhook 推送"
    assert not equipment_link.is_displayed()  # one group at a time
    _group(browser, "设备与保养").find_element(By.TAG_NAME, "summary").click()
    wait_for(browser, ec.element_to_be_clickable(equipment_link)).click()
    wait_for(browser, ec.url_to_be(base + "/assets/equipment/"))
    assert "active" in _group(browser, "设备与保养").get_attribute("class")


def test_on_a_phone_the_menu_opens_from_one_button(phone_browser, live_server):
    browser = phone_browser
    # Headless Chromium keeps windows at least 500 px wide; emulate the phone's 390 px screen.
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
    )
    factories.user(Role.DISPATCHER, username="disp", language="zh-hans")
    base = live_server.url
    sign_in(browser, base, "disp")
    nav = browser.find_element(By.ID, "mainnav")
    assert not nav.is_displayed()
    toggle = browser.find_element(By.ID, "nav-toggle")
    assert toggle.text == "菜单"
    toggle.click()
    wait_for(browser, ec.visibility_of(nav))
    assert toggle.get_attribute("aria-expanded") == "true"
    _group(browser, "调度").find_element(By.TAG_NAME, "summary").click()
    board = browser.find_element(By.CSS_SELECTOR, "#mainnav a[href='/board/']")
    width = browser.execute_script("return document.documentElement.clientWidth")
    assert width <= 400
    assert board.rect["x"] + board.rect["width"] <= width  # fits the phone's width
    board.click()
    wait_for(browser, ec.url_to_be(base + "/board/"))
