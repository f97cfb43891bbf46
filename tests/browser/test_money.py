"""Money in a real headless Chromium, as the issue's "done when" walks it: a warranty order is priced
at zero for the customer and shows its internal cost; the agent writes a quotation for a chargeable
repair and revises it (version 2, version 1 still readable) and sends it; the customer approves
version 2 through the follow link; the visit is completed; the agent issues the bill; the customer
pays with WeChat Pay through the sandbox provider; the director generates the month's statements;
the partner provider disputes a line in its portal; the director corrects it, approves and settles.
Pages are in Chinese: elements are found by id, name and CSS only.

`FSM_SHOTS=/some/dir` also saves screenshots of the pages along the way (for a person to look at);
the test does not need them."""

import datetime as dt
import os
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from fieldservice.billing.choices import (
    BillStatus,
    FeeKind,
    FeeSource,
    OnlinePaymentStatus,
    Payer,
    PaymentMethod,
    QuotationStatus,
    StatementLineStatus,
    StatementStatus,
)
from fieldservice.billing.models import Bill, FeeLine, OnlinePayment, Payment, Quotation, Statement, StatementLine
from fieldservice.billing.services import settlement as settlement_services
from fieldservice.contracts.choices import PriceItemKind
from fieldservice.contracts.models import PriceListItem
from fieldservice.dispatch.assignments.services import accept_assignment, assign_provider_engineer, dispatch_to_provider
from fieldservice.field import services as field_services
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.services.intake import create_work_order
from fieldservice.workorders.services.lifecycle import close_work_order
from tests import factories
from tests.billing.conftest import accept, png_file, prices, visit  # noqa: F401
from tests.conftest import personas  # noqa: F401

from .test_service_loop import click, sign_in, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("FSM_SHOTS", "")


def shot(browser, name):
    """A screenshot for a person, only when FSM_SHOTS names a directory."""
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        size = browser.get_window_size()
        full = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(size["width"], max(size["height"], min(full + 100, 6000)))
        browser.save_screenshot(os.path.join(SHOTS, f"{name}.png"))
        browser.set_window_size(size["width"], size["height"])


def text_of(browser, selector) -> str:
    return wait_for(browser, ec.presence_of_element_located((By.CSS_SELECTOR, selector))).text


def amounts_in(browser, selector) -> str:
    """The text with amounts written without grouping (Chinese writes ¥2147.00, English ¥2,147.00)."""
    return text_of(browser, selector).replace(",", "")


def set_value(browser, selector, value):
    """A date input's value, whatever the browser's locale shows in it."""
    element = browser.find_element(By.CSS_SELECTOR, selector)
    browser.execute_script("arguments[0].value = arguments[1];", element, value)


def fill(browser, selector, value):
    element = browser.find_element(By.CSS_SELECTOR, selector)
    element.clear()
    element.send_keys(value)


def money_walk_world(p):
    """`p` (the personas, the visit and the price list) with: our engineer accepted the chargeable
    repair; a machine in warranty whose order the provider's engineer has done and the desk closed;
    settlement rules for engineers and for the provider; parts with a moving-average cost."""
    from fieldservice.accounts.models import User
    from fieldservice.inventory.models import Part

    User.objects.update(language="zh-hans")  # everyone reads the pages in Chinese

    Part.objects.filter(pk=p.motor.pk).update(average_cost=Decimal("700.00"))
    PriceListItem.objects.create(
        price_list=p.price_list, kind=PriceItemKind.SERVICE, name="液压系统冲洗", unit_price=Decimal("800.00")
    )
    accept(p)

    today = timezone.localdate()
    p.warranty_machine = factories.equipment(
        p.customer_cn,
        actor=p.agent,
        product_model=p.model,
        serial_number="SN-宁波-0002",
        site=p.site_cn,
        warranty_starts_on=today - dt.timedelta(days=100),
        warranty_ends_on=today + dt.timedelta(days=265),
    )
    request = factories.service_request(
        p.customer_cn, actor=p.agent, equipment=p.warranty_machine, description="保修期内：合模异响"
    )
    p.warranty_order = create_work_order(request, actor=p.agent)
    assignment = dispatch_to_provider(p.warranty_order, actor=p.dispatcher, provider=p.provider)
    assign_provider_engineer(assignment, actor=p.provider_admin, engineer=p.provider_engineer)
    accept_assignment(assignment, actor=p.provider_engineer)
    order = p.warranty_order
    field_services.check_in(order, actor=p.provider_engineer, latitude="29.868", longitude="121.544", accuracy=12)
    field_services.record_work(
        order,
        actor=p.provider_engineer,
        resolution_type="repair",
        fault_cause="合模机构润滑不足",
        actions_taken="润滑并调整合模机构",
        labour_hours="2",
    )
    # The provider's engineer fits two seals from his van: our parts, at their moving-average cost.
    factories.fill_van(p.provider_engineer, p.seal, 5)
    Part.objects.filter(pk=p.seal.pk).update(average_cost=Decimal("12.50"))
    field_services.use_part(order, actor=p.provider_engineer, part=p.seal, quantity=2)
    field_services.capture_signature(
        order, actor=p.provider_engineer, image_file=png_file("sig.png"), signer_name="王经理"
    )
    field_services.complete_visit(order, actor=p.provider_engineer)
    close_work_order(order, actor=p.agent)
    order.refresh_from_db()

    settlement_services.create_rule(actor=p.director, name="本公司工程师", basis="per_order", rate="50")
    settlement_services.create_rule(
        actor=p.director, name="合作服务商 B", basis="per_order", rate="300", provider=p.provider
    )
    return p


def test_a_repair_is_quoted_approved_billed_paid_and_its_provider_settled(
    browser,
    phone_browser,
    live_server,
    prices,  # noqa: F811 (the imported fixture)
):
    p = money_walk_world(prices)
    base = live_server.url
    desk, phone = browser, phone_browser
    order, warranty_order = p.order, p.warranty_order
    today = timezone.localdate()

    # 1. The warranty order: nothing for the customer to pay, our internal cost beside it.
    warranty_lines = list(FeeLine.objects.filter(work_order=warranty_order, is_void=False))
    assert warranty_lines and {line.payer for line in warranty_lines} == {Payer.WARRANTY}
    assert sum(line.cost for line in warranty_lines) > 0  # the seals it used
    assert {line.kind for line in warranty_lines} >= {FeeKind.LABOUR, FeeKind.PART}
    sign_in(desk, base, "director")
    desk.get(base + reverse("workorders:order_detail", args=[warranty_order.pk]))
    fees_panel = amounts_in(desk, "#fees")
    assert amounts_in(desk, "#fees .fee-totals dd:first-of-type") == "¥0.00"
    for line in warranty_lines:
        assert desk.find_element(By.ID, f"fee-{line.pk}").is_displayed()
    assert f"{sum(line.cost for line in warranty_lines):.2f}" in fees_panel
    shot(desk, "01-warranty-order-fees")

    # 2. The agent writes a quotation for the chargeable repair from the order's page.
    sign_in(desk, base, "agent")
    desk.get(base + reverse("workorders:order_detail", args=[order.pk]))
    click(desk, f"#quotations a[href$='{reverse('billing:quotation_create', args=[order.pk])}']")
    wait_for(desk, ec.presence_of_element_located((By.ID, "id_part_0")))
    desk.find_element(By.ID, "id_part_0").send_keys("MOTOR-1")
    fill(desk, "#id_quantity_0", "1")
    desk.find_element(By.CSS_SELECTOR, "#id_kind_1 option[value='service']").click()
    desk.find_element(By.ID, "id_description_1").send_keys("液压系统冲洗")
    fill(desk, "#id_quantity_1", "1")
    set_value(desk, "#id_valid_until", (today + dt.timedelta(days=10)).isoformat())
    fill(desk, "#id_tax_rate", "13")
    click(desk, "button[name=preview]")
    wait_for(desk, ec.presence_of_element_located((By.ID, "preview-profit")))
    click(desk, "form button.primary[type=submit]")
    wait_for(desk, lambda _b: Quotation.objects.filter(work_order=order).exists())
    quotation = Quotation.objects.get(work_order=order)
    detail = reverse("billing:quotation_detail", args=[quotation.pk])
    wait_for(desk, lambda b: b.current_url.endswith(detail))
    assert (quotation.version, quotation.total) == (1, Decimal("2260.00"))  # (1200 + 800) × 1.13

    # It changes: 100 off the flush, a new version; the first stays readable.
    click(desk, f"a[href$='{reverse('billing:quotation_revise', args=[quotation.pk])}']")
    wait_for(desk, ec.presence_of_element_located((By.ID, "id_discount_1")))
    assert desk.find_element(By.ID, "id_part_0").get_attribute("value") == "MOTOR-1"  # the last version's rows
    fill(desk, "#id_discount_1", "100")
    click(desk, "form button.primary[type=submit]")
    wait_for(desk, lambda _b: Quotation.objects.get(pk=quotation.pk).version == 2)
    wait_for(desk, lambda b: b.current_url.endswith(detail))
    quotation.refresh_from_db()
    assert quotation.total == Decimal("2147.00")  # (1200 + 800 − 100) × 1.13
    assert "2147.00" in amounts_in(desk, "#totals")
    shot(desk, "02-quotation-detail-v2")
    desk.get(base + detail + "?version=1")
    assert "2260.00" in amounts_in(desk, "#totals")
    assert desk.find_element(By.CSS_SELECTOR, "p.warn[role=status]").is_displayed()  # replaced by version 2
    desk.get(base + detail)
    click(desk, f"form[action$='{reverse('billing:quotation_send', args=[quotation.pk])}'] button[type=submit]")
    wait_for(desk, lambda _b: Quotation.objects.get(pk=quotation.pk).status == QuotationStatus.SENT)

    # 3. The customer, with no login, approves version 2 through the follow link.
    follow = base + reverse("portal:follow", args=[order.request.follow_token])
    phone.delete_all_cookies()
    phone.get(follow)
    card = f"#quotation-{quotation.pk}"
    assert "2147.00" in amounts_in(phone, card)
    shot(phone, "03-follow-quotation-phone")
    if SHOTS:
        desk.delete_all_cookies()
        desk.get(follow)
        text_of(desk, card)
        shot(desk, "03-follow-quotation")
        sign_in(desk, base, "agent")
    approve = f"{card} form[action$='/approve/']"
    assert phone.find_element(By.CSS_SELECTOR, f"{approve} input[name=version]").get_attribute("value") == "2"
    phone.find_element(By.CSS_SELECTOR, f"{approve} input[name=signer_name]").send_keys("王经理")
    click(phone, f"{approve} button[type=submit]")
    wait_for(phone, lambda _b: Quotation.objects.get(pk=quotation.pk).status == QuotationStatus.APPROVED)
    quotation.refresh_from_db()
    assert (quotation.decided_version, quotation.signer_name) == (2, "王经理")
    from_quotation = FeeLine.objects.filter(work_order=order, source=FeeSource.QUOTATION, is_void=False)
    assert sorted((line.kind, line.amount) for line in from_quotation) == [
        (FeeKind.PART, Decimal("1200.00")),
        (FeeKind.SERVICE, Decimal("700.00")),
    ]
    assert {line.payer for line in from_quotation} == {Payer.CUSTOMER}

    # 4. The engineer completes the visit (the phone's steps have their own browser test); his
    # phone's order page shows the fees.
    field_services.check_in(order, actor=p.engineer, latitude="29.868", longitude="121.544", accuracy=12)
    field_services.record_work(
        order,
        actor=p.engineer,
        resolution_type="replace_part",
        fault_cause="伺服电机烧毁",
        actions_taken="更换伺服电机，冲洗液压系统",
        labour_hours="3",
    )
    field_services.capture_signature(order, actor=p.engineer, image_file=png_file("sig.png"), signer_name="王经理")
    field_services.complete_visit(order, actor=p.engineer)
    order.refresh_from_db()
    assert order.status == WorkOrderStatus.COMPLETED
    assert FeeLine.objects.filter(work_order=order, source=FeeSource.QUOTATION, is_void=False).count() == 2
    if SHOTS:
        sign_in(phone, base, "engineer")
        phone.get(base + reverse("field:order", args=[order.pk]))
        text_of(phone, "h1")
        shot(phone, "04-engineer-phone-order")

    # 5. The agent draws up the bill from the order's chargeable lines and issues it.
    desk.get(base + reverse("workorders:order_detail", args=[order.pk]))
    text_of(desk, "#fees")
    shot(desk, "05-repair-order-fees")
    click(desk, "#draft-bill")
    wait_for(desk, lambda _b: Bill.objects.filter(work_order=order).exists())
    bill = Bill.objects.get(work_order=order)
    wait_for(desk, lambda b: b.current_url.endswith(reverse("billing:bill_detail", args=[bill.pk])))
    click(desk, "#issue button[type=submit]")
    wait_for(desk, lambda _b: Bill.objects.get(pk=bill.pk).status == BillStatus.ISSUED)
    bill.refresh_from_db()
    chargeable = sum(
        (line.amount for line in FeeLine.objects.filter(work_order=order, payer=Payer.CUSTOMER, is_void=False)),
        Decimal(0),
    )
    # The quotation's lines carry its 13 % tax, which the customer approved; the visit's own lines none.
    quoted = sum(
        (line.amount for line in FeeLine.objects.filter(work_order=order, source="quotation", is_void=False)),
        Decimal(0),
    )
    assert bill.tax == (quoted * Decimal("0.13")).quantize(Decimal("0.01")) > 0
    assert bill.total == chargeable + bill.tax and bill.open_amount == bill.total
    if SHOTS:
        desk.get(base + reverse("billing:receivables"))
        text_of(desk, "h1")
        shot(desk, "08-receivables")

    # 6. The customer pays with WeChat Pay from the follow link, through the sandbox provider.
    phone.delete_all_cookies()
    phone.get(follow)
    click(phone, f"#bill-{bill.pk} form.pay button[name=method][value='{PaymentMethod.WECHAT_PAY}']")
    wait_for(phone, ec.presence_of_element_located((By.ID, "pay-form")))
    assert amounts_in(phone, "#amount") == f"¥{bill.total:.2f}"
    shot(phone, "06-sandbox-pay")
    click(phone, "#pay-form button[type=submit]")
    wait_for(phone, lambda _b: Bill.objects.get(pk=bill.pk).status == BillStatus.PAID)
    wait_for(phone, lambda b: b.current_url.startswith(follow))
    payment = Payment.objects.get(bill=bill)
    assert (payment.method, payment.amount) == (PaymentMethod.WECHAT_PAY, bill.total)
    online = OnlinePayment.objects.get(bill=bill)
    assert online.status == OnlinePaymentStatus.SUCCEEDED and payment.reference == online.gateway_reference
    desk.get(base + reverse("billing:bill_detail", args=[bill.pk]))
    assert amounts_in(desk, "#bill-open") == "¥0.00"
    shot(desk, "07-bill-detail")

    # 7. The desk closes the repair; the director generates this month's statements.
    close_work_order(order, actor=p.agent)
    sign_in(desk, base, "director")
    desk.get(base + reverse("billing:statement_list"))
    set_value(desk, "#generate-form #id_period_start", today.replace(day=1).isoformat())
    set_value(desk, "#generate-form #id_period_end", today.isoformat())
    click(desk, "#generate-form button[type=submit]")
    wait_for(desk, lambda _b: Statement.objects.filter(provider=p.provider).exists())
    assert Statement.objects.filter(engineer=p.engineer).exists()
    statement = Statement.objects.get(provider=p.provider)
    line = StatementLine.objects.get(statement=statement)
    assert (line.work_order_id, line.amount) == (warranty_order.pk, Decimal("300.00"))
    desk.get(base + reverse("billing:statement_list"))
    text_of(desk, "main table")
    shot(desk, "09-statement-list")

    # 8. The provider's admin disputes the line in its portal.
    sign_in(desk, base, "provider_admin")
    desk.get(base + reverse("billing:statement_list"))
    click(desk, f"a[href$='{reverse('billing:statement_detail', args=[statement.pk])}']")
    dispute = f"#line-{line.pk} form[action$='/dispute/']"
    wait_for(desk, ec.presence_of_element_located((By.CSS_SELECTOR, dispute)))
    desk.find_element(By.CSS_SELECTOR, f"{dispute} input[name=reason]").send_keys("夜间加急，应按 350 元结算")
    click(desk, f"{dispute} button[type=submit]")
    wait_for(desk, lambda _b: StatementLine.objects.get(pk=line.pk).status == StatementLineStatus.DISPUTED)
    assert Statement.objects.get(pk=statement.pk).status == StatementStatus.DISPUTED
    shot(desk, "10-statement-detail-provider")

    # 9. The director corrects it, approves and settles with the bank's reference.
    sign_in(desk, base, "director")
    desk.get(base + reverse("billing:statement_detail", args=[statement.pk]))
    correct = f"#line-{line.pk} form[action$='/correct/']"
    fill(desk, f"{correct} input[name=amount]", "350.00")
    desk.find_element(By.CSS_SELECTOR, f"{correct} input[name=reason]").send_keys("核实为夜间加急")
    click(desk, f"{correct} button[type=submit]")
    wait_for(desk, lambda _b: StatementLine.objects.get(pk=line.pk).status == StatementLineStatus.CORRECTED)
    wait_for(desk, ec.presence_of_element_located((By.ID, "approve-statement")))
    click(desk, "#approve-statement")
    wait_for(desk, lambda _b: Statement.objects.get(pk=statement.pk).status == StatementStatus.APPROVED)
    wait_for(desk, ec.presence_of_element_located((By.CSS_SELECTOR, "#settle-form input[name=payment_reference]")))
    desk.find_element(By.CSS_SELECTOR, "#settle-form input[name=payment_reference]").send_keys("CMB-20261207-0001")
    click(desk, "#settle-form button[type=submit]")
    wait_for(desk, lambda _b: Statement.objects.get(pk=statement.pk).status == StatementStatus.SETTLED)
    shot(desk, "11-statement-detail-settled")
    statement.refresh_from_db()
    line.refresh_from_db()
    assert (statement.total, statement.payment_reference) == (Decimal("350.00"), "CMB-20261207-0001")
    assert (line.amount, line.original_amount) == (Decimal("350.00"), Decimal("300.00"))
    assert line.dispute_reason and line.correction_reason == "核实为夜间加急"
    if SHOTS:
        desk.get(base + reverse("billing:margin_orders"))
        text_of(desk, "h1")
        shot(desk, "12-margins")
        # Two of the pages in English, for the translators to compare.
        from fieldservice.accounts.models import User

        User.objects.filter(username="director").update(language="en")
        sign_in(desk, base, "director")
        desk.get(base + reverse("workorders:order_detail", args=[order.pk]))
        text_of(desk, "#fees")
        shot(desk, "en-05-repair-order-fees")
        desk.get(base + reverse("billing:statement_detail", args=[statement.pk]))
        text_of(desk, "#lines")
        shot(desk, "en-11-statement-detail-settled")
