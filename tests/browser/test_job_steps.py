"""The engineer walks a checklist on a phone-sized window, one step at a time: a number outside its
range is flagged as he types it, refused without a comment, saved with one; the rest answered, the
visit completes (each answer its own POST, through htmx)."""

import os

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from fieldservice.field import services
from fieldservice.field.models import JobStep
from fieldservice.workorders.choices import WorkOrderStatus
from tests.browser.conftest import phone_browser  # noqa: F401 - the fixture
from tests.conftest import personas  # noqa: F401 - the fixture
from tests.field.conftest import on_site, png_file, record, visit  # noqa: F401 - the fixture

from .test_service_loop import click, order_status, sign_in, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def visible(browser, selector):
    return ec.visibility_of_element_located((By.CSS_SELECTOR, selector))


def test_the_engineer_walks_a_checklist_on_the_phone(phone_browser, live_server, visit):  # noqa: F811
    p = visit
    browser = phone_browser
    template = services.create_job_template(
        actor=p.admin,
        name="注塑机年度保养",
        service_type="repair",
        product_model=p.model,
        steps=[
            {"kind": "number", "title": "液压油温", "unit": "℃", "min_value": "30", "max_value": "55"},
            {"kind": "yes_no", "title": "安全门联锁正常"},
            {"kind": "choice", "title": "油位", "choices": ["高", "正常", "低"]},
            {"kind": "scan", "title": "扫描铭牌"},
        ],
    )
    services.set_order_template(p.order, actor=p.dispatcher, template=template)
    oil, door, level, plate = p.order.job_steps.order_by("position")
    on_site(p)
    record(p)
    services.capture_signature(p.order, actor=p.engineer, image_file=png_file("sig.png"), signer_name="王经理")

    sign_in(browser, live_server.url, "engineer")
    browser.get(f"{live_server.url}/m/orders/{p.order.pk}/")
    # One by one: the first open step only.
    wait_for(browser, visible(browser, f"#step-{oil.pk}"))
    assert not browser.find_element(By.ID, f"step-{door.pk}").is_displayed()

    field = browser.find_element(By.ID, f"value-{oil.pk}")
    field.send_keys("70")
    wait_for(browser, visible(browser, f"#step-{oil.pk} [data-range-flag]"))  # flagged as typed
    click(browser, f"#step-{oil.pk} button[type=submit]")
    wait_for(browser, visible(browser, f"#comment-{oil.pk}_error"))  # refused: a comment is needed
    if os.environ.get("FSM_SCREENSHOTS"):
        browser.save_screenshot(f"{os.environ['FSM_SCREENSHOTS']}/job-step-refused.png")
    assert JobStep.objects.get(pk=oil.pk).answered_at is None
    browser.find_element(By.ID, f"comment-{oil.pk}").send_keys("冷却水阀门半开")
    click(browser, f"#step-{oil.pk} button[type=submit]")
    wait_for(browser, lambda _b: JobStep.objects.get(pk=oil.pk).answered_at is not None)
    saved = JobStep.objects.get(pk=oil.pk)
    assert saved.out_of_range and saved.comment == "冷却水阀门半开"

    # Saved, the walk moves on to the next step.
    wait_for(browser, visible(browser, f"#step-{door.pk}"))
    click(browser, f"#step-{door.pk} button[value=yes]")
    wait_for(browser, visible(browser, f"#step-{level.pk}"))
    click(browser, f"#step-{level.pk} input[value='正常']")
    click(browser, f"#step-{level.pk} button[type=submit]")
    wait_for(browser, visible(browser, f"#step-{plate.pk}"))
    browser.find_element(By.ID, f"value-{plate.pk}").send_keys("SN-宁波-0001")
    click(browser, f"#step-{plate.pk} button[type=submit]")
    wait_for(browser, lambda _b: JobStep.objects.get(pk=plate.pk).answered_at is not None)
    assert JobStep.objects.get(pk=door.pk).value_bool is True
    assert JobStep.objects.get(pk=level.pk).value_text == "正常"

    # The list shows every step, the out-of-range one marked.
    click(browser, "[data-mode-button=list]")
    wait_for(browser, visible(browser, f"#step-{oil.pk}.out-of-range"))
    if os.environ.get("FSM_SCREENSHOTS"):
        browser.save_screenshot(f"{os.environ['FSM_SCREENSHOTS']}/job-steps-list.png")

    click(browser, "#complete button[type=submit]")
    wait_for(browser, order_status(p.order.pk, WorkOrderStatus.COMPLETED))
