"""An inspection's four steps in a real headless Chromium: the product-line owner (a dispatcher)
starts it for a site and sends it; the customer approves on the follow link on his phone; the
engineer records a finding with a photo on the phone-sized inspection page; the owner sends the
report; the customer confirms it with his name; the owner closes the inspection. Pages are in
Chinese: elements are found by id, name and CSS only."""

import tempfile
from io import BytesIO

import pytest
from PIL import Image, ImageDraw
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from fieldservice.maintenance.models import Finding, Inspection
from fieldservice.maintenance.models.inspections import InspectionStatus
from tests.conftest import personas  # noqa: F401
from tests.maintenance.inspection_data import world  # noqa: F401

from .test_service_loop import click, sign_in, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
S = InspectionStatus


def _status_is(status):
    return lambda _browser: Inspection.objects.get().status == status


def _photo_path() -> str:
    image = Image.new("RGB", (60, 40), "white")
    ImageDraw.Draw(image).line([(2, 2), (57, 37)], fill="black", width=3)
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    handle = tempfile.NamedTemporaryFile(suffix=".png", delete=False)  # noqa: SIM115 - the browser reads it later
    handle.write(buffer.getvalue())
    handle.close()
    return handle.name


def test_an_inspection_walks_its_four_steps(world, live_server, browser, phone_browser):  # noqa: F811
    base = live_server.url
    desk, phone = browser, phone_browser

    # 1. The owner starts the inspection for the site and sends it.
    sign_in(desk, base, "dispatcher")
    desk.get(f"{base}/maintenance/inspections/new/")
    Select(desk.find_element(By.ID, "id_site")).select_by_value(str(world.site.pk))
    click(desk, "main form button[type=submit]")
    wait_for(desk, ec.presence_of_element_located((By.ID, "create-inspection")))
    Select(desk.find_element(By.ID, "id_template")).select_by_value(str(world.template.pk))
    Select(desk.find_element(By.ID, "id_engineers")).select_by_value(str(world.engineer.pk))
    desk.find_element(By.ID, "id_title").send_keys("Spring check")
    click(desk, "#create-inspection")
    wait_for(desk, ec.presence_of_element_located((By.ID, "move-send")))
    inspection = Inspection.objects.get()
    assert inspection.machines.count() == 2
    click(desk, "#move-send")
    wait_for(desk, _status_is(S.SENT))
    follow = wait_for(desk, ec.presence_of_element_located((By.ID, "follow-link"))).get_attribute("href")

    # 2. The customer approves on the follow link, on his phone, without signing in.
    phone.get(follow)
    phone.find_element(By.ID, "id_approve-name").send_keys("王经理")
    click(phone, "#approve-inspection")
    wait_for(phone, _status_is(S.APPROVED))

    # 3. The engineer records a finding on the phone-sized inspection page.
    sign_in(phone, base, world.engineer.username)
    click(phone, f"#inspection-link-{inspection.pk}")
    wait_for(phone, ec.presence_of_element_located((By.ID, "save-finding")))
    Select(phone.find_element(By.ID, "id_severity")).select_by_value("medium")
    phone.find_element(By.ID, "id_title").send_keys("安全门限位开关松动")
    Select(phone.find_element(By.ID, "id_disposition")).select_by_value("fixed")
    phone.find_element(By.ID, "id_action_taken").send_keys("紧固并测试联锁")
    phone.find_element(By.ID, "id_photo").send_keys(_photo_path())
    click(phone, "#save-finding")
    wait_for(phone, lambda _b: Finding.objects.exists())
    wait_for(phone, _status_is(S.IN_PROGRESS))
    assert Finding.objects.get().photo is not None
    wait_for(phone, ec.presence_of_element_located((By.ID, f"finding-{Finding.objects.get().pk}")))

    # 4. The owner sends the report, the customer confirms it, the owner closes the inspection.
    desk.get(f"{base}/maintenance/inspections/{inspection.pk}/")
    click(desk, "#move-send_report")
    wait_for(desk, _status_is(S.REPORTED))
    phone.delete_all_cookies()
    phone.get(follow)
    phone.find_element(By.ID, "id_confirm-name").send_keys("王经理")
    click(phone, "#confirm-report")
    wait_for(phone, _status_is(S.CONFIRMED))
    wait_for(phone, ec.presence_of_element_located((By.ID, "confirmed")))
    desk.get(f"{base}/maintenance/inspections/{inspection.pk}/")
    click(desk, "#move-close")
    wait_for(desk, _status_is(S.CLOSED))
    assert Inspection.objects.get().confirmed_by_name == "王经理"
