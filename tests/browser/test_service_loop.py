"""The whole service loop in a real headless Chromium, as the issue describes it: a customer
reports a fault with a photo from the machine's QR page; an agent confirms it; a dispatcher
dispatches it; the engineer on a phone-sized screen accepts, travels, checks in, replaces a part,
gets a signature and completes; the customer downloads the PDF and rates the visit; the machine's
page shows the order in its history and the new part among its fitted parts."""

import io
import time
import urllib.request
from decimal import Decimal

import pytest
from PIL import Image
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from fieldservice.accounts.choices import Role
from fieldservice.accounts.models import User
from fieldservice.assets.choices import FittedPartSource
from fieldservice.feedback.models import Evaluation
from fieldservice.field.models import PartUsage, Signature
from fieldservice.workorders.choices import RequestStatus, WorkOrderStatus
from fieldservice.workorders.models import ServiceRequest, WorkOrder
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_for(browser, condition, timeout=15):
    try:
        return WebDriverWait(browser, timeout).until(condition)
    except Exception:
        browser.save_screenshot("/tmp/fsm-loop-failure.png")
        raise


def click(browser, selector, attempts=5):
    """Click what `selector` finds now. A page that is still being replaced (a form's redirect, an
    htmx swap) can drop the element between the find and the click: find it again then."""
    for attempt in range(attempts):
        try:
            element = browser.find_element(By.CSS_SELECTOR, selector)
            browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
            element.click()
            return
        except StaleElementReferenceException:
            if attempt == attempts - 1:
                raise
            time.sleep(0.2)


def sign_in(browser, base, username):
    browser.delete_all_cookies()
    browser.get(base + "/login/")
    browser.find_element(By.ID, "id_username").send_keys(username)
    browser.find_element(By.ID, "id_password").send_keys("pw-for-tests-1")
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    # Engineers land on their work list, everyone else on the start page.
    wait_for(browser, lambda b: b.current_url in (base + "/", base + "/m/"))


def order_status(order_id, status):
    return lambda _browser: WorkOrder.objects.get(pk=order_id).status == status


@pytest.fixture
def world(tmp_path):
    admin = factories.system_user()
    own = factories.own_company()
    factories.user(Role.AGENT, organisation=own, username="agent")
    factories.user(Role.DISPATCHER, organisation=own, username="dispatcher")
    engineer = factories.user(Role.ENGINEER, organisation=own, username="engineer", display_name="陈工")
    from fieldservice.accounts.services import save_engineer_profile

    save_engineer_profile(
        engineer, actor=admin, home_latitude=Decimal("29.87"), home_longitude=Decimal("121.55"), home_address="宁波"
    )
    heater = factories.part(part_number="HB-50", name="加热圈 Φ50")
    factories.fill_van(engineer, heater, 2)  # the part he fits comes out of his van
    model = factories.product_model(code="HR-250", name="伺服节能注塑机", bom=[(heater, 1)])
    customer = factories.customer(actor=admin, name="宁波甬江塑料有限公司")
    site = factories.site(
        customer,
        name="北仑厂区",
        address="宁波市北仑区明州路 88 号",
        latitude=Decimal("29.868336"),
        longitude=Decimal("121.543990"),
    )
    machine = factories.equipment(customer, product_model=model, serial_number="HR250-0001", site=site)
    photo = tmp_path / "fault.jpg"
    Image.new("RGB", (64, 48), "orange").save(photo, format="JPEG")
    return {"machine": machine, "photo": str(photo), "heater": heater}


def test_the_whole_service_loop(browser, phone_browser, live_server, settings, world):
    settings.FSM_PUBLIC_BASE_URL = live_server.url
    base = live_server.url
    machine = world["machine"]

    # 1. The customer scans the QR code and reports the fault with a photo (no sign-in).
    phone = phone_browser
    phone.get(f"{base}/e/{machine.public_token}/")
    assert "HR250-0001" in phone.page_source and "宁波甬江塑料有限公司" not in phone.page_source
    phone.find_element(By.ID, "id_phone").send_keys("13900001111")
    phone.find_element(By.ID, "id_name").send_keys("刘师傅")
    phone.find_element(By.ID, "id_description").send_keys("第三段料筒温度升不上去")
    phone.find_element(By.ID, "id_photos").send_keys(world["photo"])
    click(phone, "form.qr-report button[type=submit]")
    follow_link = wait_for(phone, ec.presence_of_element_located((By.CSS_SELECTOR, "a[href*='/r/']")))
    follow_url = follow_link.get_attribute("href")
    request = ServiceRequest.objects.get()
    assert request.status == RequestStatus.UNCONFIRMED  # an unknown phone number waits for an agent
    assert request.attachments.count() == 1

    # 2. The agent confirms it, saving the reporter as a contact, and creates the work order.
    sign_in(browser, base, "agent")
    browser.get(f"{base}/requests/{request.pk}/")
    click(browser, "#confirm input[name=save_reporter_as_contact]")
    click(browser, "#confirm button[type=submit]")
    wait_for(browser, lambda _b: ServiceRequest.objects.get(pk=request.pk).status == RequestStatus.OPEN)
    wait_for(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "#create-order button[type=submit]")))
    click(browser, "#create-order button[type=submit]")
    wait_for(browser, lambda _b: WorkOrder.objects.exists())
    order = WorkOrder.objects.get()
    assert order.equipment == machine and order.site == machine.site

    # 3. The dispatcher gives it to the engineer.
    sign_in(browser, base, "dispatcher")
    browser.get(f"{base}/dispatch/orders/{order.pk}/")
    form = "form:has(input[name=action][value=dispatch_engineer])"
    engineer = User.objects.get(username="engineer")
    Select(browser.find_element(By.CSS_SELECTOR, f"{form} select[name=engineer]")).select_by_value(str(engineer.pk))
    click(browser, f"{form} button[type=submit]")
    wait_for(browser, order_status(order.pk, WorkOrderStatus.DISPATCHED))

    # 4. The engineer works the visit on the phone.
    phone.execute_cdp_cmd("Browser.grantPermissions", {"origin": base, "permissions": ["geolocation"]})
    phone.execute_cdp_cmd(
        "Emulation.setGeolocationOverride", {"latitude": 29.8684, "longitude": 121.5441, "accuracy": 10}
    )
    sign_in(phone, base, "engineer")
    phone.get(base + "/m/")
    click(phone, "form[action*='/accept/'] button")
    wait_for(phone, order_status(order.pk, WorkOrderStatus.ACCEPTED))
    click(phone, "#travel button[type=submit]")
    wait_for(phone, order_status(order.pk, WorkOrderStatus.TRAVELLING))
    wait_for(phone, ec.presence_of_element_located((By.CSS_SELECTOR, "#check-in button[type=submit]")))
    click(phone, "#check-in button[type=submit]")
    wait_for(phone, order_status(order.pk, WorkOrderStatus.ON_SITE))

    Select(phone.find_element(By.ID, "id_resolution_type")).select_by_value("replace_part")
    phone.find_element(By.ID, "id_fault_cause").send_keys("加热圈烧断")
    phone.find_element(By.ID, "id_actions_taken").send_keys("更换加热圈，校验温控")
    phone.find_element(By.ID, "id_labour_hours").send_keys("2")
    click(phone, "#work button[type=submit]")
    wait_for(phone, lambda _b: WorkOrder.objects.get(pk=order.pk).resolution_type == "replace_part")

    fitted = machine.fitted_parts.get()
    Select(phone.find_element(By.ID, "id_replaces")).select_by_value(str(fitted.pk))
    quantity = phone.find_element(By.ID, "id_quantity")
    quantity.clear()
    quantity.send_keys("1")
    phone.find_element(By.ID, "id_new_serial").send_keys("HB-2026-777")
    click(phone, "#parts form[action$='/parts/'] button[type=submit]")
    wait_for(phone, lambda _b: PartUsage.objects.filter(work_order=order).exists())

    wait_for(phone, ec.presence_of_element_located((By.CSS_SELECTOR, "[data-signature-pad] canvas")))
    phone.find_element(By.ID, "id_signer_name").send_keys("刘师傅")
    canvas = phone.find_element(By.CSS_SELECTOR, "[data-signature-pad] canvas")
    phone.execute_script("arguments[0].scrollIntoView({block: 'center'});", canvas)
    ActionChains(phone).move_to_element_with_offset(canvas, -80, -20).click_and_hold().move_by_offset(
        60, 30
    ).move_by_offset(60, -30).release().perform()
    click(phone, "#signature button[type=submit]")
    # The signature's page load replaces the page the complete button is found on.
    wait_for(phone, lambda _b: Signature.objects.filter(work_order=order).exists())
    wait_for(phone, ec.presence_of_element_located((By.CSS_SELECTOR, "#complete button[type=submit]")))
    click(phone, "#complete button[type=submit]")
    wait_for(phone, order_status(order.pk, WorkOrderStatus.COMPLETED))

    # 5. The customer follows the private link, downloads the report and rates the visit.
    phone.delete_all_cookies()
    phone.get(follow_url)
    pdf_link = wait_for(phone, ec.presence_of_element_located((By.CSS_SELECTOR, "a[href$='report.pdf']")))
    with urllib.request.urlopen(pdf_link.get_attribute("href")) as response:  # noqa: S310 - the live test server
        assert response.headers["Content-Type"] == "application/pdf"
        assert io.BytesIO(response.read()).read(5) == b"%PDF-"
    for name, score in (("overall", 5), ("timeliness", 4), ("attitude", 5), ("quality", 5)):
        click(phone, f"form.rating input[name={name}][value='{score}']")
    click(phone, "form.rating button[type=submit]")
    wait_for(phone, lambda _b: Evaluation.objects.exists())
    assert Evaluation.objects.get().overall == 5

    # 6. The machine's page: the order in its history, the new heater band among its parts.
    sign_in(browser, base, "agent")
    browser.get(f"{base}/assets/equipment/{machine.pk}/")
    history = browser.find_element(By.ID, "service-history").text
    assert order.number in history
    assert machine.fitted_parts.filter(source=FittedPartSource.REPLACEMENT, part_serial_number="HB-2026-777").exists()
    assert "HB-2026-777" in browser.page_source
