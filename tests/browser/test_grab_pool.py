"""The grab pool on a phone-sized Chromium: an engineer opens the pool from his work page, sees
the orders with their distance, is told when another engineer was quicker, grabs one, and finds
it among his orders."""

from decimal import Decimal

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from fieldservice.accounts.choices import Role
from fieldservice.accounts.services import save_engineer_profile
from fieldservice.pool import services
from fieldservice.pool.choices import OfferStatus
from fieldservice.pool.models import PoolOffer
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import WorkOrder
from tests import factories
from tests.browser.test_service_loop import click, sign_in, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    admin = factories.system_user()
    own = factories.own_company()
    dispatcher = factories.user(Role.DISPATCHER, organisation=own, username="dispatcher")
    engineer = factories.user(Role.ENGINEER, organisation=own, username="engineer", display_name="陈工")
    rival = factories.user(Role.ENGINEER, organisation=own, username="rival", display_name="王工")
    for person in (engineer, rival):
        save_engineer_profile(person, actor=admin, home_latitude=Decimal("29.87"), home_longitude=Decimal("121.55"))
    customer = factories.customer(actor=admin, name="宁波甬江塑料有限公司")
    orders = []
    for name in ("北仑厂区", "镇海厂区"):
        site = factories.site(customer, name=name, latitude=Decimal("29.868336"), longitude=Decimal("121.543990"))
        orders.append(factories.work_order(customer, equipment=factories.equipment(customer, site=site)))
    offers = [services.publish_to_pool(order, actor=dispatcher) for order in orders]
    return {"engineer": engineer, "rival": rival, "orders": orders, "offers": offers}


def test_an_engineer_grabs_a_pool_order_on_the_phone(phone_browser, live_server, world):
    phone, base = phone_browser, live_server.url
    taken, wanted = world["offers"]
    sign_in(phone, base, "engineer")
    phone.get(base + "/m/")
    click(phone, "#pool-link")
    wait_for(phone, ec.presence_of_element_located((By.ID, f"offer-{wanted.pk}")))
    card = phone.find_element(By.ID, f"offer-{wanted.pk}").text
    assert wanted.work_order.number in card and "0.6 km" in card
    # No sideways scrolling (headless Chromium's window is a little wider than the 390 asked).
    assert phone.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")

    # Another engineer is quicker with the first order while the page is open.
    services.grab(PoolOffer.objects.get(pk=taken.pk), actor=world["rival"])
    click(phone, f"#offer-{taken.pk} form button[type=submit]")
    error = wait_for(phone, ec.presence_of_element_located((By.CSS_SELECTOR, ".messages .msg-error")))
    assert error.text  # told in words, in the page's language, that the order is gone
    assert not phone.find_elements(By.ID, f"offer-{taken.pk}")
    assert PoolOffer.objects.get(pk=taken.pk).grabbed_by == world["rival"]

    click(phone, f"#offer-{wanted.pk} form button[type=submit]")
    wait_for(phone, lambda _b: WorkOrder.objects.get(pk=wanted.work_order_id).status == WorkOrderStatus.ACCEPTED)
    wait_for(phone, ec.url_to_be(f"{base}/m/orders/{wanted.work_order_id}/"))
    offer = PoolOffer.objects.get(pk=wanted.pk)
    assert (offer.status, offer.grabbed_by) == (OfferStatus.AWARDED, world["engineer"])

    phone.get(base + "/m/")
    wait_for(phone, ec.presence_of_element_located((By.ID, f"order-{wanted.work_order_id}")))
    assert not phone.find_elements(By.ID, f"order-{taken.work_order_id}")
