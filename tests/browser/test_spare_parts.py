"""Spare parts in a real headless Chromium, as the issue's "done when" walks them: the parts keeper
receives a heater band into the central warehouse; the engineer, on site with a phone, asks for it
from the job's page; the keeper approves and ships it by carrier; the engineer confirms receipt,
sees it in his stock, fits it in place of the machine's burnt one and owes the one he took off;
he returns it and hands it over; the keeper receives it and sends it back to the factory. The
ledger adds up at the end. Pages are in Chinese: elements are found by id, name and CSS only."""

from decimal import Decimal

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from fieldservice.accounts.choices import Role
from fieldservice.dispatch.assignments.services import accept_assignment, dispatch_to_engineer
from fieldservice.field import services as field_services
from fieldservice.field.models import PartUsage
from fieldservice.inventory import services as inventory_services
from fieldservice.inventory.choices import (
    DefectStatus,
    FactoryReturnStatus,
    Grade,
    TransferKind,
    TransferStatus,
)
from fieldservice.inventory.models import DefectivePart, FactoryReturn, StockBalance, Transfer
from fieldservice.workorders.services.intake import create_work_order
from tests import factories

from .test_service_loop import click, sign_in, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def held(warehouse, part, grade=Grade.GOOD) -> Decimal:
    return sum(
        (b.on_hand for b in StockBalance.objects.filter(warehouse=warehouse, part=part, grade=grade)), Decimal(0)
    )


def transfer_status(pk, status):
    return lambda _browser: Transfer.objects.get(pk=pk).status == status


def text_of(browser, selector) -> str:
    return wait_for(browser, ec.presence_of_element_located((By.CSS_SELECTOR, selector))).text


@pytest.fixture
def world():
    admin = factories.system_user()
    own = factories.own_company()
    factories.user(Role.PARTS_KEEPER, organisation=own, username="keeper")
    dispatcher = factories.user(Role.DISPATCHER, organisation=own, username="dispatcher")
    engineer = factories.user(Role.ENGINEER, organisation=own, username="engineer", display_name="陈工")
    central = factories.warehouse(own, code="WH-NB", name="宁波中心仓", kind="central")
    heater = factories.part(part_number="HB-50", name="加热圈 Φ50")
    model = factories.product_model(code="HR-250", name="伺服节能注塑机", bom=[(heater, 1)])
    customer = factories.customer(actor=admin, name="宁波甬江塑料有限公司")
    site = factories.site(customer, name="北仑厂区", latitude=Decimal("29.868336"), longitude=Decimal("121.543990"))
    machine = factories.equipment(customer, product_model=model, serial_number="HR250-0001", site=site)
    request = factories.service_request(customer, equipment=machine, description="第三段料筒温度升不上去")
    order = create_work_order(request, actor=admin)
    assignment = dispatch_to_engineer(order, actor=dispatcher, engineer=engineer)
    accept_assignment(assignment, actor=engineer)
    field_services.check_in(order, actor=engineer, latitude="29.868", longitude="121.544", accuracy=12)
    order.refresh_from_db()
    return {"engineer": engineer, "central": central, "heater": heater, "machine": machine, "order": order}


def test_a_part_goes_from_the_warehouse_to_the_machine_and_the_old_one_back_to_the_factory(
    browser, phone_browser, live_server, world
):
    base = live_server.url
    desk, phone = browser, phone_browser
    central, heater, machine, order = world["central"], world["heater"], world["machine"], world["order"]
    engineer = world["engineer"]

    # 1. The keeper receives five heater bands into the central warehouse.
    sign_in(desk, base, "keeper")
    desk.get(base + reverse("inventory:receive"))
    Select(desk.find_element(By.ID, "id_warehouse")).select_by_value(str(central.pk))
    desk.find_element(By.ID, "id_part").send_keys("HB-50")
    desk.find_element(By.ID, "id_quantity").send_keys("5")
    desk.find_element(By.ID, "id_reference").send_keys("PO-2026-001")
    click(desk, "form.panel button[type=submit]")
    wait_for(desk, lambda b: b.current_url.endswith(reverse("inventory:warehouse_detail", args=[central.pk])))
    assert held(central, heater) == 5
    assert "HB-50" in text_of(desk, "main")
    desk.get(base + reverse("inventory:stock_list"))
    row = text_of(desk, "main table")
    assert "WH-NB" in row and "HB-50" in row and "加热圈 Φ50" in row

    # 2. The engineer, on site, does not carry the part: he asks for it from the job's page.
    sign_in(phone, base, "engineer")
    phone.get(base + reverse("field:order", args=[order.pk]))
    click(phone, "#not-in-stock a[href*='/my-stock/request/']")
    wait_for(phone, ec.presence_of_element_located((By.ID, "id_source")))
    assert phone.find_element(By.ID, "id_part_0").get_attribute("value") == "HB-50"  # filled in from the job
    Select(phone.find_element(By.ID, "id_source")).select_by_value(str(central.pk))
    quantity = phone.find_element(By.ID, "id_quantity_0")
    quantity.clear()
    quantity.send_keys("2")
    click(phone, "form.m-step button[type=submit]")
    wait_for(phone, lambda _b: Transfer.objects.filter(kind=TransferKind.REQUISITION).exists())
    requisition = Transfer.objects.get(kind=TransferKind.REQUISITION)
    assert requisition.work_order_number == order.number and requisition.urgent
    assert requisition.destination == inventory_services.van_for(engineer)
    wait_for(phone, ec.presence_of_element_located((By.ID, f"transfer-{requisition.pk}")))
    assert requisition.number in phone.find_element(By.ID, f"transfer-{requisition.pk}").text

    # 3. The keeper approves it and ships it by carrier with a tracking number.
    desk.get(base + reverse("inventory:transfer_detail", args=[requisition.pk]))
    assert "HB-50" in text_of(desk, "#transfer-lines")
    click(desk, "#approve button[type=submit]")
    wait_for(desk, transfer_status(requisition.pk, TransferStatus.APPROVED))
    wait_for(desk, ec.presence_of_element_located((By.CSS_SELECTOR, "#ship #id_carrier")))
    Select(desk.find_element(By.CSS_SELECTOR, "#ship #id_delivery")).select_by_value("ship")
    desk.find_element(By.CSS_SELECTOR, "#ship #id_carrier").send_keys("顺丰速运")
    desk.find_element(By.CSS_SELECTOR, "#ship #id_tracking_number").send_keys("SF1234567890")
    click(desk, "#ship button[type=submit]")
    wait_for(desk, transfer_status(requisition.pk, TransferStatus.SHIPPED))
    wait_for(desk, lambda b: "SF1234567890" in b.find_element(By.CSS_SELECTOR, "main").text)
    assert held(central, heater) == 3

    # 4. The engineer confirms receipt and sees the part in his stock.
    phone.get(base + reverse("inventory:van_requests"))
    card = f"#transfer-{requisition.pk}"
    click(phone, f"{card} form[action$='/receive/'] button[type=submit]")
    wait_for(phone, transfer_status(requisition.pk, TransferStatus.RECEIVED))
    van = inventory_services.van_for(engineer)
    assert held(van, heater) == 2
    phone.get(base + reverse("inventory:van_stock"))
    assert "HB-50" in text_of(phone, "#good-stock")

    # He fits one in place of the machine's burnt heater band: the old one is a part he owes.
    phone.get(base + reverse("field:order", args=[order.pk]))
    assert "HB-50" in text_of(phone, "#my-stock")
    fitted = machine.fitted_parts.get(part=heater)
    Select(phone.find_element(By.ID, "id_replaces")).select_by_value(str(fitted.pk))
    quantity = phone.find_element(By.ID, "id_quantity")
    quantity.clear()
    quantity.send_keys("1")
    phone.find_element(By.ID, "id_new_serial").send_keys("HB-2026-777")
    click(phone, "#parts form[action$='/parts/'] button[type=submit]")
    wait_for(phone, lambda _b: PartUsage.objects.filter(work_order=order).exists())
    wait_for(phone, lambda _b: DefectivePart.objects.filter(engineer=engineer).exists())
    defect = DefectivePart.objects.get(engineer=engineer)
    assert (defect.part, defect.status, defect.work_order_number) == (heater, DefectStatus.OWED, order.number)
    assert held(van, heater) == 1 and held(van, heater, Grade.DEFECTIVE) == 1

    phone.get(base + reverse("inventory:my_defects"))
    owed = text_of(phone, f"#owed-{defect.pk}")
    assert "HB-50" in owed and order.number in owed

    # He returns it to the central warehouse and hands it over.
    phone.get(base + reverse("inventory:van_return"))
    Select(phone.find_element(By.ID, "id_destination")).select_by_value(str(central.pk))
    click(phone, f"input[name=defects][value='{defect.pk}']")
    click(phone, "form.m-step button[type=submit]")
    wait_for(phone, lambda _b: Transfer.objects.filter(kind=TransferKind.RETURN).exists())
    back = Transfer.objects.get(kind=TransferKind.RETURN)
    assert back.status == TransferStatus.APPROVED  # a return starts approved: it only has to go
    wait_for(phone, ec.presence_of_element_located((By.CSS_SELECTOR, f"#transfer-{back.pk} form[action$='/ship/']")))
    click(phone, f"#transfer-{back.pk} form[action$='/ship/'] button[type=submit]")
    wait_for(phone, transfer_status(back.pk, TransferStatus.SHIPPED))
    defect.refresh_from_db()
    assert defect.status == DefectStatus.RETURNING

    # 5. The keeper receives the return, then sends the defective part to the factory.
    desk.get(base + reverse("inventory:transfer_detail", args=[back.pk]))
    assert "HB-50" in text_of(desk, "#transfer-lines")
    click(desk, "#receive button[type=submit]")
    wait_for(desk, transfer_status(back.pk, TransferStatus.RECEIVED))
    defect.refresh_from_db()
    assert defect.status == DefectStatus.RETURNED and defect.warehouse == central
    assert held(central, heater, Grade.DEFECTIVE) == 1

    desk.get(base + reverse("inventory:factory_return_create") + f"?warehouse={central.pk}")
    assert order.number in text_of(desk, f"#defect-{defect.pk}")
    click(desk, f"input[name=defect][value='{defect.pk}']")
    click(desk, "form.panel button[type=submit]")
    wait_for(desk, lambda _b: FactoryReturn.objects.exists())
    rma = FactoryReturn.objects.get()
    wait_for(desk, lambda b: b.current_url.endswith(reverse("inventory:factory_return_detail", args=[rma.pk])))
    assert rma.number in text_of(desk, "h1")
    assert "HB-50" in text_of(desk, "#lines")
    ship_form = "form[action$='/ship/']"
    desk.find_element(By.CSS_SELECTOR, f"{ship_form} #id_carrier").send_keys("德邦物流")
    desk.find_element(By.CSS_SELECTOR, f"{ship_form} #id_tracking_number").send_keys("DB-778899")
    click(desk, f"{ship_form} button[type=submit]")
    wait_for(desk, lambda _b: FactoryReturn.objects.get(pk=rma.pk).status == FactoryReturnStatus.SHIPPED)
    wait_for(desk, lambda b: "DB-778899" in b.find_element(By.CSS_SELECTOR, "main").text)

    # 6. The ledger adds up: 5 in, 2 out to the van, 1 fitted, 1 left in the van; the old one gone.
    assert inventory_services.drift() == []
    defect.refresh_from_db()
    assert defect.status == DefectStatus.AT_FACTORY
    rma.refresh_from_db()
    assert (rma.status, rma.carrier, rma.tracking_number) == (FactoryReturnStatus.SHIPPED, "德邦物流", "DB-778899")
    assert held(central, heater) == 3 and held(central, heater, Grade.DEFECTIVE) == 0
    assert held(van, heater) == 1 and held(van, heater, Grade.DEFECTIVE) == 0
    phone.get(base + reverse("inventory:my_defects"))
    text_of(phone, "h1")
    assert f'id="owed-{defect.pk}"' not in phone.page_source  # nothing owed any more
