"""The phone pages in a real headless Chromium at phone size: location from navigator.geolocation
(emulated), the signature drawn on the canvas with the pointer, the visit completed."""

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from fieldservice.field.models import Signature
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import WorkOrder, WorkOrderEvent
from tests.browser.conftest import phone_browser  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_for(browser, condition, timeout=15):
    try:
        return WebDriverWait(browser, timeout).until(condition)
    except Exception:
        browser.save_screenshot("/tmp/fsm-field-browser-failure.png")
        raise


def status_is(order, status):
    return lambda _browser: WorkOrder.objects.get(pk=order.pk).status == status


def click(browser, selector):
    element = browser.find_element(By.CSS_SELECTOR, selector)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def test_engineer_walks_a_visit_on_the_phone(phone_browser, live_server, visit):  # noqa: F811
    browser = phone_browser
    base = live_server.url
    order = visit.order
    browser.execute_cdp_cmd("Browser.grantPermissions", {"origin": base, "permissions": ["geolocation"]})
    browser.execute_cdp_cmd(
        "Emulation.setGeolocationOverride", {"latitude": 29.8700, "longitude": 121.5500, "accuracy": 8}
    )

    browser.get(base + "/login/")
    browser.find_element(By.ID, "id_username").send_keys("engineer")
    browser.find_element(By.ID, "id_password").send_keys("pw-for-tests-1")
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for(browser, ec.url_to_be(base + "/m/"))

    browser.get(base + "/m/")
    assert order.number in browser.page_source and "uri.amap.com/marker" in browser.page_source
    click(browser, f"form[action$='/m/assignments/{visit.assignment.pk}/accept/'] button")
    wait_for(browser, ec.url_to_be(f"{base}/m/orders/{order.pk}/"))
    assert WorkOrder.objects.get(pk=order.pk).status == WorkOrderStatus.ACCEPTED

    click(browser, "#travel button[type=submit]")
    wait_for(browser, status_is(order, WorkOrderStatus.TRAVELLING))
    wait_for(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "#check-in button[type=submit]")))
    click(browser, "#check-in button[type=submit]")
    wait_for(browser, status_is(order, WorkOrderStatus.ON_SITE))
    event = WorkOrderEvent.objects.get(work_order=order, action="check_in")
    assert 0.5 < event.payload["distance_km"] < 0.7 and event.payload["accuracy"] == 8.0
    wait_for(browser, ec.presence_of_element_located((By.ID, "check-in-result")))
    browser.save_screenshot("/tmp/fsm-field-on-site.png")

    Select(browser.find_element(By.ID, "id_resolution_type")).select_by_value("repair")
    browser.find_element(By.ID, "id_fault_cause").send_keys("冷却器堵塞")
    browser.find_element(By.ID, "id_actions_taken").send_keys("清洗冷却器")
    browser.find_element(By.ID, "id_labour_hours").send_keys("1.5")
    click(browser, "#work button[type=submit]")
    wait_for(browser, lambda _b: WorkOrder.objects.get(pk=order.pk).resolution_type == "repair")

    # An empty pad is not sent; a drawn one is.
    wait_for(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "[data-signature-pad] canvas")))
    browser.find_element(By.ID, "id_signer_name").send_keys("王经理")
    click(browser, "#signature button[type=submit]")
    wait_for(browser, ec.alert_is_present()).accept()
    assert not Signature.objects.exists()
    canvas = browser.find_element(By.CSS_SELECTOR, "[data-signature-pad] canvas")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", canvas)
    ActionChains(browser).move_to_element_with_offset(canvas, -80, -20).click_and_hold().move_by_offset(
        60, 30
    ).move_by_offset(60, -30).move_by_offset(40, 20).release().perform()
    click(browser, "#signature button[type=submit]")
    wait_for(browser, lambda _b: Signature.objects.exists())
    signature = Signature.objects.get()
    assert signature.signer_name == "王经理" and signature.attachment.content_type == "image/png"

    wait_for(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "#complete button[type=submit]")))
    browser.save_screenshot("/tmp/fsm-field-signed.png")
    click(browser, "#complete button[type=submit]")
    wait_for(browser, status_is(order, WorkOrderStatus.COMPLETED))
    wait_for(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "#report a")))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_completed_visit_shows_its_photos_and_signature_on_the_phone(
    phone_browser,  # noqa: F811
    live_server,
    visit,
    language,
):
    """The images really load in the browser (an <img> of a URL that 404s is a broken image)."""
    import os
    from urllib.parse import urlsplit

    from django.urls import reverse

    from fieldservice.field import services
    from tests.field.conftest import png_file, ready_to_complete

    ready_to_complete(visit)
    services.add_photo(visit.order, actor=visit.engineer, file=png_file("second.png", size=(80, 60)))
    services.complete_visit(visit.order, actor=visit.engineer)
    browser, base = phone_browser, live_server.url
    # The sign-in switches to the language the user chose under My account.
    type(visit.engineer).objects.filter(pk=visit.engineer.pk).update(language=language)
    browser.get(base + "/login/")
    browser.find_element(By.ID, "id_username").send_keys("engineer")
    browser.find_element(By.ID, "id_password").send_keys("pw-for-tests-1")
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for(browser, ec.url_to_be(base + "/m/"))

    browser.get(f"{base}/m/orders/{visit.order.pk}/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == language
    images = browser.find_elements(By.CSS_SELECTOR, "#photos img, #signature img")
    scoped = reverse("workorders:attachment", args=[0]).removesuffix("0/")
    assert len(images) == 3
    for image in images:
        # The live server serves /media/ (a real deployment does not), so check where the src points.
        src = urlsplit(image.get_attribute("src")).path
        assert src.startswith(scoped), src
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", image)
        wait_for(browser, lambda _b, image=image: browser.execute_script("return arguments[0].complete", image))
        assert browser.execute_script("return arguments[0].naturalWidth", image) > 0, image.get_attribute("src")
    assert browser.find_element(By.ID, "work-record").is_displayed()
    # FSM_SCREENSHOTS=<dir> keeps what the engineer sees, for a person to look at.
    folder = os.environ.get("FSM_SCREENSHOTS")
    if folder:
        for anchor in ("work-record", "photos"):
            browser.execute_script(f"document.getElementById('{anchor}').scrollIntoView(); window.scrollBy(0, -70);")
            browser.save_screenshot(os.path.join(folder, f"phone-{language}-{anchor}.png"))
