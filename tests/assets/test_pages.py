import datetime as dt
import re
from io import BytesIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook
from PIL import Image

from fieldservice.assets import services
from fieldservice.assets.choices import EquipmentStatus
from fieldservice.assets.models import Equipment, EquipmentDocument, ProductModel
from tests import factories
from tests.assets.images import png_bytes

LIST = "/assets/equipment/"
PDF = b"%PDF-1.4\n%%EOF\n"


def listed(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/assets/equipment/(\d+)/"', response.content.decode())]


def detail(machine) -> str:
    return reverse("assets:equipment_detail", args=[machine.pk])


def snapshot(machine) -> tuple:
    machine = Equipment.objects.get(pk=machine.pk)
    return (
        machine.serial_number,
        machine.status,
        machine.invalidated_reason,
        machine.public_token,
        machine.customer_id,
        machine.site_id,
        machine.documents.count(),
    )


# List


def test_anonymous_users_are_sent_to_sign_in(client, world):
    for url in (LIST, detail(world.machine_a), reverse("assets:equipment_label_png", args=[world.machine_a.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_agent_sees_every_machine_and_the_register_button(client_for, world):
    response = client_for(world.agent).get(LIST)
    assert response.status_code == 200
    assert sorted(listed(response)) == sorted([world.machine_a.pk, world.machine_z.pk])
    assert reverse("assets:equipment_create") in response.content.decode()


@pytest.mark.parametrize("who", ["customer_user_a", "provider_admin", "provider_engineer"])
def test_outsiders_see_only_customer_a_and_no_register_button(client_for, world, who):
    response = client_for(getattr(world, who)).get(LIST)
    assert response.status_code == 200
    assert listed(response) == [world.machine_a.pk]
    body = response.content.decode()
    assert reverse("assets:equipment_create") not in body
    assert "Customer Z" not in body


def test_other_provider_sees_nothing(client_for, world):
    response = client_for(world.other_provider_admin).get(LIST)
    assert response.status_code == 200
    assert listed(response) == []
    assert "No equipment registered yet." in response.content.decode()


def test_customer_filter_offers_only_visible_customers(client_for, world):
    body = client_for(world.customer_user_a).get(LIST).content.decode()
    customer_select = re.search(r'<select name="customer".*?</select>', body, re.S).group(0)
    assert f'<option value="{world.customer_a.pk}">Customer A</option>' in customer_select
    assert "Customer Z" not in customer_select


def test_search_and_filters(client_for, world):
    client = client_for(world.agent)
    other_model = factories.product_model(code="XR-9")
    old = factories.equipment(
        world.customer_z,
        product_model=other_model,
        serial_number="OLD-1",
        warranty_starts_on=dt.date(2020, 1, 1),
        warranty_ends_on=dt.date(2021, 1, 1),
    )
    current = factories.equipment(
        world.customer_a, product_model=other_model, serial_number="NEW-1", installed_on=dt.date.today()
    )
    services.invalidate_equipment(world.machine_z, actor=world.agent, reason="scrapped")
    assert listed(client.get(LIST, {"q": "a-000"})) == [world.machine_a.pk]
    assert listed(client.get(LIST, {"q": "lot-7"})) == [world.machine_a.pk]
    assert sorted(listed(client.get(LIST, {"q": "xr-9"}))) == sorted([old.pk, current.pk])
    assert sorted(listed(client.get(LIST, {"q": "customer z"}))) == sorted([world.machine_z.pk, old.pk])
    assert listed(client.get(LIST, {"status": EquipmentStatus.INVALIDATED})) == [world.machine_z.pk]
    assert sorted(listed(client.get(LIST, {"product_model": other_model.pk}))) == sorted([old.pk, current.pk])
    assert sorted(listed(client.get(LIST, {"customer": world.customer_a.pk}))) == sorted(
        [world.machine_a.pk, current.pk]
    )
    assert listed(client.get(LIST, {"warranty": "expired"})) == [old.pk]
    assert current.pk in listed(client.get(LIST, {"warranty": "in_warranty"}))
    assert old.pk not in listed(client.get(LIST, {"warranty": "in_warranty"}))
    empty = client.get(LIST, {"q": "no-such-thing"})
    assert listed(empty) == []
    assert "No equipment matches this search." in empty.content.decode()


def test_a_customer_filter_for_an_invisible_customer_shows_nothing_of_it(client_for, world):
    response = client_for(world.customer_user_a).get(LIST, {"customer": world.customer_z.pk})
    assert response.status_code == 200
    assert world.machine_z.pk not in listed(response)


def test_htmx_search_returns_only_the_results_partial(client_for, world):
    response = client_for(world.agent).get(LIST, {"q": "A-0001"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="results">')
    assert "<html" not in body
    assert listed(response) == [world.machine_a.pk]


def test_export_has_the_header_and_one_row_per_visible_machine(client_for, world):
    factories.equipment(world.customer_a, product_model=world.model, serial_number="A-0002")
    response = client_for(world.provider_admin).get(LIST, {"export": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("Model code", "Model", "Serial number", "Lot / batch", "Customer")
    assert len(rows) == 1 + 2
    assert {row[2] for row in rows[1:]} == {"A-0001", "A-0002"}
    assert all(row[4] == "Customer A" for row in rows[1:])


def test_export_follows_the_search(client_for, world):
    response = client_for(world.agent).get(LIST, {"export": "xlsx", "q": "Z-0001"})
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [row[2] for row in rows[1:]] == ["Z-0001"]


# Detail


def test_detail_shows_the_machine(client_for, world):
    module = factories.equipment(world.customer_a, product_model=factories.product_model(), parent=world.machine_a)
    response = client_for(world.agent).get(detail(world.machine_a))
    assert response.status_code == 200
    body = response.content.decode()
    for text in (
        "A-0001",
        "LOT-7",
        "Injection moulder 200",
        "Customer A",
        "Plant A",
        "88 Harbour Road",
        "MOTOR-1",
        "BELT-1",
        "Service history",
        "History",
    ):
        assert text in body
    assert detail(module) in body
    assert reverse("assets:equipment_label_svg", args=[world.machine_a.pk]) in body
    assert reverse("assets:equipment_label_png", args=[world.machine_a.pk]) in body
    assert reverse("assets:equipment_invalidate", args=[world.machine_a.pk]) in body
    assert world.machine_a.public_token in body


def test_detail_of_a_module_links_its_machine(client_for, world):
    module = factories.equipment(world.customer_a, product_model=factories.product_model(), parent=world.machine_a)
    body = client_for(world.agent).get(detail(module)).content.decode()
    assert detail(world.machine_a) in body


def test_viewers_get_no_change_actions(client_for, world):
    body = client_for(world.customer_user_a).get(detail(world.machine_a)).content.decode()
    assert reverse("assets:equipment_invalidate", args=[world.machine_a.pk]) not in body
    assert reverse("assets:equipment_edit", args=[world.machine_a.pk]) not in body
    assert reverse("assets:document_add", args=[world.machine_a.pk]) not in body


@pytest.mark.parametrize("who", ["customer_user_a", "provider_admin", "other_provider_admin", "customer_user_z"])
def test_machines_of_other_tenants_are_not_found(client_for, world, who):
    client = client_for(getattr(world, who))
    hidden = world.machine_z if who in ("customer_user_a", "provider_admin") else world.machine_a
    for name in ("equipment_detail", "equipment_label_png", "equipment_label_svg", "equipment_label_print"):
        assert client.get(reverse(f"assets:{name}", args=[hidden.pk])).status_code == 404
    state = snapshot(hidden)
    for name in ("equipment_edit", "equipment_invalidate", "equipment_reinstate", "equipment_renew_token"):
        response = client.post(reverse(f"assets:{name}", args=[hidden.pk]), {"reason": "x", "serial_number": "X"})
        assert response.status_code == 404
    upload = SimpleUploadedFile("m.pdf", PDF)
    assert client.post(reverse("assets:document_add", args=[hidden.pk]), {"file": upload}).status_code == 404
    assert snapshot(hidden) == state


# Register / edit


def register_data(world, **overrides):
    data = {
        "product_model": world.model.pk,
        "serial_number": "NEW-100",
        "lot_number": "L1",
        "customer": world.customer_a.pk,
        "site": world.site_a.pk,
        "parent": "",
        "installed_on": "2025-01-31",
        "warranty_starts_on": "",
        "warranty_ends_on": "",
    }
    data.update(overrides)
    return data


def test_agent_registers_equipment(client_for, world):
    response = client_for(world.agent).post(reverse("assets:equipment_create"), register_data(world))
    machine = Equipment.objects.get(serial_number="NEW-100")
    assert response.status_code == 302
    assert response["Location"] == detail(machine)
    assert (machine.customer, machine.site, machine.warranty_ends_on) == (
        world.customer_a,
        world.site_a,
        dt.date(2026, 1, 31),
    )
    assert machine.fitted_parts.count() == 2


def test_register_form_offers_the_chosen_customers_sites(client_for, world):
    client = client_for(world.agent)
    body = client.get(reverse("assets:equipment_links"), {"customer": world.customer_z.pk}).content.decode()
    assert "Plant Z" in body
    assert "Plant A" not in body
    assert body.lstrip().startswith('<div id="equipment-links">')


def test_a_site_of_another_customer_re_renders_the_form_and_writes_nothing(client_for, world):
    before = Equipment.objects.count()
    response = client_for(world.agent).post(
        reverse("assets:equipment_create"), register_data(world, site=world.site_z.pk)
    )
    assert response.status_code == 200
    assert 'id="id_site_error"' in response.content.decode()
    assert "The site belongs to another customer." in response.content.decode()
    assert Equipment.objects.count() == before


def test_duplicate_serial_is_shown_on_the_serial_field(client_for, world):
    response = client_for(world.agent).post(
        reverse("assets:equipment_create"), register_data(world, serial_number="A-0001")
    )
    assert response.status_code == 200
    assert 'id="id_serial_number_error"' in response.content.decode()


def test_an_invalidated_machine_is_not_offered_as_parent(client_for, world):
    services.invalidate_equipment(world.machine_a, actor=world.agent, reason="scrapped")
    client = client_for(world.agent)
    body = client.get(reverse("assets:equipment_links"), {"customer": world.customer_a.pk}).content.decode()
    parent_select = re.search(r'<select name="parent".*?</select>', body, re.S).group(0)
    assert "A-0001" not in parent_select
    before = Equipment.objects.count()
    response = client.post(reverse("assets:equipment_create"), register_data(world, parent=world.machine_a.pk))
    assert 'id="id_parent_error"' in response.content.decode()
    assert Equipment.objects.count() == before


@pytest.mark.parametrize("who", ["engineer", "dispatcher", "provider_admin", "customer_user_a"])
def test_roles_without_change_capability_may_not_register_or_edit(client_for, world, who):
    client = client_for(getattr(world, who))
    before = Equipment.objects.count()
    assert client.get(reverse("assets:equipment_create")).status_code == 403
    assert client.post(reverse("assets:equipment_create"), register_data(world)).status_code == 403
    assert Equipment.objects.count() == before
    state = snapshot(world.machine_a)
    edit = reverse("assets:equipment_edit", args=[world.machine_a.pk])
    assert client.post(edit, register_data(world, serial_number="HACK")).status_code == 403
    for name in ("equipment_invalidate", "equipment_reinstate", "equipment_renew_token"):
        assert client.post(reverse(f"assets:{name}", args=[world.machine_a.pk]), {"reason": "x"}).status_code == 403
    assert snapshot(world.machine_a) == state


def test_agent_edits_equipment(client_for, world):
    edit = reverse("assets:equipment_edit", args=[world.machine_a.pk])
    client = client_for(world.agent)
    assert client.get(edit).status_code == 200
    response = client.post(edit, register_data(world, serial_number="A-0001-B", site="", product_model=""))
    assert response.status_code == 302
    world.machine_a.refresh_from_db()
    assert (world.machine_a.serial_number, world.machine_a.site) == ("A-0001-B", None)
    assert world.machine_a.product_model == world.model


def test_edit_with_errors_writes_nothing(client_for, world):
    state = snapshot(world.machine_a)
    response = client_for(world.agent).post(
        reverse("assets:equipment_edit", args=[world.machine_a.pk]),
        register_data(world, serial_number="CHANGED", warranty_starts_on="2025-05-01", warranty_ends_on="2025-01-01"),
    )
    assert response.status_code == 200
    assert 'id="id_warranty_ends_on_error"' in response.content.decode()
    assert snapshot(world.machine_a) == state


# Status actions


def test_invalidate_reinstate_and_renew_from_the_page(client_for, world):
    client = client_for(world.agent)
    url = reverse("assets:equipment_invalidate", args=[world.machine_a.pk])
    assert client.post(url, {"reason": "Sold to a dealer"}).status_code == 302
    world.machine_a.refresh_from_db()
    assert world.machine_a.status == EquipmentStatus.INVALIDATED
    again = client.post(url, {"reason": "twice"}, follow=True)
    assert "already invalidated" in again.content.decode()
    assert client.post(reverse("assets:equipment_reinstate", args=[world.machine_a.pk])).status_code == 302
    world.machine_a.refresh_from_db()
    assert world.machine_a.status == EquipmentStatus.REGISTERED
    token = world.machine_a.public_token
    assert client.post(reverse("assets:equipment_renew_token", args=[world.machine_a.pk])).status_code == 302
    world.machine_a.refresh_from_db()
    assert world.machine_a.public_token != token


def test_invalidate_without_reason_shows_the_error(client_for, world):
    response = client_for(world.agent).post(
        reverse("assets:equipment_invalidate", args=[world.machine_a.pk]), {"reason": ""}
    )
    assert response.status_code == 200
    assert 'id="id_reason_error"' in response.content.decode()
    world.machine_a.refresh_from_db()
    assert world.machine_a.status == EquipmentStatus.REGISTERED


def test_status_actions_need_post(client_for, world):
    assert (
        client_for(world.agent).get(reverse("assets:equipment_reinstate", args=[world.machine_a.pk])).status_code == 405
    )


# Documents


def test_upload_and_download_a_document(client_for, world):
    client = client_for(world.agent)
    upload = SimpleUploadedFile("manual.pdf", PDF, content_type="application/pdf")
    response = client.post(
        reverse("assets:document_add", args=[world.machine_a.pk]), {"title": "Manual", "file": upload}
    )
    assert response.status_code == 302
    document = EquipmentDocument.objects.get()
    url = reverse("assets:document_download", args=[world.machine_a.pk, document.pk])
    assert url in client.get(detail(world.machine_a)).content.decode()
    download = client_for(world.customer_user_a).get(url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF


def test_a_rejected_upload_shows_the_error_on_the_file_field(client_for, world):
    upload = SimpleUploadedFile("manual.pdf", b"not really", content_type="application/pdf")
    response = client_for(world.agent).post(
        reverse("assets:document_add", args=[world.machine_a.pk]), {"title": "x", "file": upload}
    )
    assert response.status_code == 200
    assert 'id="id_file_error"' in response.content.decode()
    assert not EquipmentDocument.objects.exists()


@pytest.mark.parametrize("who", ["customer_user_z", "other_provider_admin"])
def test_documents_of_other_tenants_cannot_be_downloaded_or_added(client_for, world, who):
    document = services.add_equipment_document(
        world.machine_a, actor=world.agent, title="Manual", file=ContentFile(PDF, name="m.pdf")
    )
    client = client_for(getattr(world, who))
    assert client.get(reverse("assets:document_download", args=[world.machine_a.pk, document.pk])).status_code == 404
    # The right document id under a machine the user can see is not a way in either.
    upload = SimpleUploadedFile("m.pdf", PDF)
    assert client.post(reverse("assets:document_add", args=[world.machine_a.pk]), {"file": upload}).status_code == 404
    assert EquipmentDocument.objects.count() == 1


def test_a_document_is_only_found_under_its_own_machine(client_for, world):
    document = services.add_equipment_document(
        world.machine_z, actor=world.agent, title="Z manual", file=ContentFile(PDF, name="m.pdf")
    )
    url = reverse("assets:document_download", args=[world.machine_a.pk, document.pk])
    assert client_for(world.customer_user_a).get(url).status_code == 404


# Labels


def test_label_downloads(client_for, world):
    client = client_for(world.provider_engineer)
    png = client.get(reverse("assets:equipment_label_png", args=[world.machine_a.pk]), {"download": "1"})
    assert png["Content-Type"] == "image/png"
    assert png["Content-Disposition"].startswith("attachment;")
    assert Image.open(BytesIO(png.content)).size == (600, 760)
    svg = client.get(reverse("assets:equipment_label_svg", args=[world.machine_a.pk]))
    assert svg["Content-Type"] == "image/svg+xml"
    assert world.machine_a.public_token in svg.content.decode()


# Product models


def test_product_model_list_counts_only_visible_machines(client_for, world):
    body = client_for(world.customer_user_a).get("/assets/models/").content.decode()
    row = re.search(r"IM-200</a></td>.*?</tr>", body, re.S).group(0)
    assert "<td>1</td>" in row
    body = client_for(world.agent).get("/assets/models/").content.decode()
    row = re.search(r"IM-200</a></td>.*?</tr>", body, re.S).group(0)
    assert "<td>2</td>" in row


def test_product_model_export(client_for, world):
    factories.product_model(code="ZZ-1")
    response = client_for(world.agent).get("/assets/models/", {"export": "xlsx"})
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("Model code", "Name", "Product line", "Default warranty (months)", "Machines", "Active")
    assert len(rows) == 1 + ProductModel.objects.count()
    assert ("IM-200", 2) in [(row[0], row[4]) for row in rows[1:]]
    assert "ZZ-1" in [row[0] for row in rows[1:]]


def test_product_model_detail_shows_bom_and_scoped_machine_count(client_for, world):
    url = reverse("assets:product_model_detail", args=[world.model.pk])
    body = client_for(world.provider_admin).get(url).content.decode()
    assert "MOTOR-1" in body and "Servo motor" in body and "2.5" in body
    assert f'?product_model={world.model.pk}">1</a>' in body
    assert reverse("assets:bom_line_add", args=[world.model.pk]) not in body


def test_admin_creates_a_product_model_with_an_image(client_for, world):
    client = client_for(world.admin)
    image = SimpleUploadedFile("press.png", png_bytes(), content_type="image/png")
    response = client.post(
        reverse("assets:product_model_create"),
        {"code": "hp-1", "name": "Hydraulic press", "default_warranty_months": 18, "image": image, "is_active": "on"},
    )
    model = ProductModel.objects.get(code="HP-1")
    assert response["Location"] == reverse("assets:product_model_detail", args=[model.pk])
    assert model.default_warranty_months == 18 and model.image
    image_response = client.get(reverse("assets:product_model_image", args=[model.pk]))
    assert image_response.status_code == 200


def test_a_fake_image_is_refused_on_the_image_field(client_for, world):
    fake = SimpleUploadedFile("x.png", b"hello", content_type="image/png")
    response = client_for(world.admin).post(
        reverse("assets:product_model_create"),
        {"code": "hp-2", "name": "Press", "default_warranty_months": 12, "image": fake},
    )
    assert response.status_code == 200
    assert 'id="id_image_error"' in response.content.decode()
    assert not ProductModel.objects.filter(code="HP-2").exists()


def test_admin_edits_a_product_model(client_for, world):
    response = client_for(world.admin).post(
        reverse("assets:product_model_edit", args=[world.model.pk]),
        {"code": "IM-200", "name": "Injection moulder 200 II", "default_warranty_months": 24},
    )
    assert response.status_code == 302
    world.model.refresh_from_db()
    assert (world.model.name, world.model.default_warranty_months, world.model.is_active) == (
        "Injection moulder 200 II",
        24,
        False,
    )


def test_bom_editor_adds_changes_and_removes_lines(client_for, world):
    client = client_for(world.admin)
    screw = factories.part(part_number="SCREW-1")
    add = reverse("assets:bom_line_add", args=[world.model.pk])
    assert client.post(add, {"part": screw.pk, "quantity": "8"}).status_code == 302
    assert client.post(add, {"part": world.belt.pk, "quantity": "3"}).status_code == 302
    lines = {line.part.part_number: line.quantity for line in world.model.bom_lines.select_related("part")}
    assert lines == {"MOTOR-1": 1, "BELT-1": 3, "SCREW-1": 8}
    response = client.post(add, {"part": screw.pk, "quantity": "0"})
    assert response.status_code == 200
    assert 'id="id_quantity_error"' in response.content.decode()
    remove = reverse("assets:bom_line_remove", args=[world.model.pk, world.motor.pk])
    assert client.post(remove).status_code == 302
    assert sorted(world.model.bom_lines.values_list("part__part_number", flat=True)) == ["BELT-1", "SCREW-1"]
    assert client.post(remove).status_code == 404


@pytest.mark.parametrize(
    "who", ["agent", "dispatcher", "director", "engineer", "parts_keeper", "provider_admin", "customer_user_a"]
)
def test_roles_without_capability_may_not_change_models(client_for, world, who):
    client = client_for(getattr(world, who))
    assert client.get(reverse("assets:product_model_create")).status_code == 403
    assert (
        client.post(
            reverse("assets:product_model_edit", args=[world.model.pk]),
            {"code": "X", "name": "X", "default_warranty_months": 1},
        ).status_code
        == 403
    )
    assert (
        client.post(
            reverse("assets:bom_line_add", args=[world.model.pk]), {"part": world.motor.pk, "quantity": 5}
        ).status_code
        == 403
    )
    assert client.post(reverse("assets:bom_line_remove", args=[world.model.pk, world.motor.pk])).status_code == 403
    world.model.refresh_from_db()
    assert world.model.name == "Injection moulder 200"
    assert world.model.bom_lines.count() == 2
