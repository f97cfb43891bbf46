"""The foundation walked as a person would, in headless Chromium: sign in, create a customer,
a site and a machine, open the machine's public QR page, switch the language and back."""

import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from fieldservice.accounts.choices import Role
from fieldservice.assets.models import Equipment
from fieldservice.customers.models import Customer
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_for(browser, condition, timeout=10):
    try:
        return WebDriverWait(browser, timeout).until(condition)
    except Exception:
        browser.save_screenshot("/tmp/fsm-browser-failure.png")
        raise


def submit(browser):
    browser.find_element(By.CSS_SELECTOR, "main form button.primary[type=submit]").click()


def sign_in(browser, base_url, username):
    browser.get(base_url + "/login/")
    browser.find_element(By.ID, "id_username").send_keys(username)
    browser.find_element(By.ID, "id_password").send_keys("pw-for-tests-1")
    submit(browser)
    wait_for(browser, ec.url_to_be(base_url + "/"))


def test_agent_registers_a_machine_and_opens_its_qr_page(browser, live_server, settings):
    settings.FSM_PUBLIC_BASE_URL = live_server.url
    factories.user(Role.AGENT, username="agent", language="zh-hans")
    model = factories.product_model(code="HR-250", name="伺服注塑机 HR-250", bom=[(factories.part(), 2)])
    base = live_server.url

    sign_in(browser, base, "agent")
    assert "客户" in browser.page_source  # Chinese by default (the browser asks for zh-CN)

    # A customer
    browser.get(base + "/customers/new/")
    browser.find_element(By.ID, "id_name").send_keys("宁波甬江塑料有限公司")
    submit(browser)
    wait_for(browser, ec.url_matches(r"/customers/\d+/$"))
    customer = Customer.objects.get(name="宁波甬江塑料有限公司")
    assert "宁波甬江塑料有限公司" in browser.page_source

    # A site, with a bad latitude first: the error shows next to the field, nothing is saved
    browser.find_element(By.CSS_SELECTOR, f"a[href$='/customers/{customer.pk}/sites/new/']").click()
    browser.find_element(By.ID, "id_name").send_keys("北仑厂区")
    browser.find_element(By.ID, "id_address").send_keys("宁波市北仑区明州路 88 号")
    browser.find_element(By.ID, "id_latitude").send_keys("129.9")
    browser.find_element(By.ID, "id_longitude").send_keys("121.84")
    submit(browser)
    error = wait_for(browser, ec.presence_of_element_located((By.CSS_SELECTOR, ".has-error .error")))
    assert "90" in error.text
    assert not customer.sites.exists()
    latitude = browser.find_element(By.ID, "id_latitude")
    latitude.clear()
    latitude.send_keys("29.9")
    submit(browser)
    wait_for(browser, ec.url_matches(rf"/customers/{customer.pk}/$"))
    site = customer.sites.get()
    assert "北仑厂区" in browser.page_source

    # A machine at that site
    browser.get(base + "/assets/equipment/new/")
    Select(browser.find_element(By.ID, "id_product_model")).select_by_value(str(model.pk))
    browser.find_element(By.ID, "id_serial_number").send_keys("HR250-2026-0001")
    browser.find_element(By.ID, "id_lot_number").send_keys("2026-B11")
    Select(browser.find_element(By.ID, "id_customer")).select_by_value(str(customer.pk))
    wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, f"#id_site option[value='{site.pk}']"))
    Select(browser.find_element(By.ID, "id_site")).select_by_value(str(site.pk))
    # A date input's typing order follows the browser's locale; set the ISO value as a picker does.
    browser.execute_script("arguments[0].value = '2026-03-01'", browser.find_element(By.ID, "id_installed_on"))
    submit(browser)
    wait_for(browser, ec.url_matches(r"/assets/equipment/\d+/$"))
    machine = Equipment.objects.get(serial_number="HR250-2026-0001")
    assert machine.site == site
    assert machine.fitted_parts.count() == 1
    assert str(machine.warranty_ends_on) == "2027-03-01"
    page = browser.page_source
    assert "HR250-2026-0001" in page and "北仑厂区" in page

    # The public page the QR code opens: no sign-in, and nothing about the customer
    public_link = browser.find_element(By.CSS_SELECTOR, f"a[href*='/e/{machine.public_token}/']")
    public_url = public_link.get_attribute("href")
    assert re.search(rf"/e/{machine.public_token}/$", public_url)
    browser.delete_all_cookies()
    browser.get(public_url)
    page = browser.page_source
    assert "HR250-2026-0001" in page and "HR-250" in page
    assert "宁波甬江塑料有限公司" not in page and "明州路" not in page


def test_language_switches_to_english_and_back(browser, live_server):
    factories.user(Role.AGENT, username="agent", language="zh-hans")
    base = live_server.url
    sign_in(browser, base, "agent")
    browser.get(base + "/customers/")
    assert "客户" in browser.find_element(By.CSS_SELECTOR, "nav.mainnav").text

    Select(browser.find_element(By.ID, "language-select")).select_by_value("en")
    wait_for(browser, lambda b: "Customers" in b.find_element(By.CSS_SELECTOR, "nav.mainnav").text)
    assert browser.current_url.endswith("/customers/")
    assert "客户" not in browser.find_element(By.CSS_SELECTOR, "nav.mainnav").text

    Select(browser.find_element(By.ID, "language-select")).select_by_value("zh-hans")
    wait_for(browser, lambda b: "客户" in b.find_element(By.CSS_SELECTOR, "nav.mainnav").text)
