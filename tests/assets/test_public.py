import datetime as dt

from django.core.files.base import ContentFile
from django.test import override_settings
from django.urls import reverse

from fieldservice.assets import services
from tests import factories
from tests.assets.images import png_bytes


def public(machine) -> str:
    return reverse("public:equipment", args=[machine.public_token])


def test_public_page_needs_no_login_and_shows_the_machine(client, world):
    response = client.get(public(world.machine_a))
    assert response.status_code == 200
    body = response.content.decode()
    assert "A-0001" in body
    assert "IM-200" in body and "Injection moulder 200" in body
    assert "Report a fault" in body


def test_public_page_reveals_nothing_about_the_owner(client, world):
    factories.contact(world.customer_a, name="Li Na", phone="13800138000")
    sibling = factories.equipment(world.customer_a, product_model=world.model, serial_number="A-SIBLING")
    body = client.get(public(world.machine_a)).content.decode()
    for secret in (
        "Customer A",
        "Plant A",
        "88 Harbour Road",
        "Li Na",
        "13800138000",
        "LOT-7",
        "A-SIBLING",
        world.customer_a.code,
        str(sibling.public_token),
        "Provider B",
    ):
        assert secret not in body, secret


@override_settings(FSM_COMPANY_NAME="Ningbo Machines Ltd")
def test_public_page_shows_the_company_name(client, world):
    assert "Ningbo Machines Ltd" in client.get(public(world.machine_a)).content.decode()


def test_public_page_shows_the_warranty_state(client, world):
    today = dt.date.today()
    in_warranty = factories.equipment(
        world.customer_a,
        product_model=world.model,
        warranty_starts_on=today,
        warranty_ends_on=today + dt.timedelta(days=30),
    )
    expired = factories.equipment(
        world.customer_a,
        product_model=world.model,
        warranty_starts_on=dt.date(2020, 1, 1),
        warranty_ends_on=dt.date(2021, 1, 1),
    )
    body = client.get(public(in_warranty)).content.decode()
    assert f"In warranty until {(today + dt.timedelta(days=30)):%Y-%m-%d}" in body
    assert "Warranty ended on 2021-01-01" in client.get(public(expired)).content.decode()


def test_unknown_token_is_a_friendly_404(client, world):
    response = client.get(reverse("public:equipment", args=["no-such-token"]))
    assert response.status_code == 404
    assert "We do not know this QR code" in response.content.decode()
    assert client.get(reverse("public:equipment_image", args=["no-such-token"])).status_code == 404


def test_a_renewed_token_retires_the_old_label(client, world):
    old_url = public(world.machine_a)
    services.renew_public_token(world.machine_a, actor=world.agent)
    world.machine_a.refresh_from_db()
    assert client.get(old_url).status_code == 404
    assert client.get(public(world.machine_a)).status_code == 200


def test_invalidated_machine_says_it_is_no_longer_registered(client, world):
    services.invalidate_equipment(world.machine_a, actor=world.agent, reason="Customer went bankrupt")
    world.machine_a.refresh_from_db()
    body = client.get(public(world.machine_a)).content.decode()
    assert "no longer registered for service" in body
    assert "bankrupt" not in body


def test_public_image_is_served_by_token(client, world):
    services.update_product_model(world.model, actor=world.admin, image=ContentFile(png_bytes(), name="m.png"))
    url = reverse("public:equipment_image", args=[world.machine_a.public_token])
    assert url in client.get(public(world.machine_a)).content.decode()
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png_bytes()


def test_the_public_page_names_our_company_and_its_service_line(personas, client, settings):
    from fieldservice.accounts.choices import OrganisationKind
    from fieldservice.accounts.models import Organisation

    settings.FSM_COMPANY_NAME = ""
    Organisation.objects.filter(kind=OrganisationKind.OWN).update(name="Hairui Service", phone="+8657486881234")
    machine = factories.equipment(personas.customer_a)
    page = client.get(f"/e/{machine.public_token}/").content.decode()
    assert "Hairui Service" in page
    assert 'href="tel:+8657486881234"' in page
