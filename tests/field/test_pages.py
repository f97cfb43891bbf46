"""The phone pages: the engineer's list, one visit walked through the forms end to end, and
refusals that show a message and change nothing."""

import base64
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from fieldservice.accounts.choices import Role
from fieldservice.assets.choices import FittedPartSource
from fieldservice.core.models import Event
from fieldservice.field.models import PartUsage, Signature
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import Attachment, WorkOrder, WorkOrderEvent
from tests import factories
from tests.field.conftest import accept, on_site, png_file, ready_to_complete

S = WorkOrderStatus


def url(name, *args):
    return reverse(f"field:{name}", args=args)


def data_url(**kwargs) -> str:
    return "data:image/png;base64," + base64.b64encode(png_file(**kwargs).read()).decode()


def status_of(order) -> str:
    return WorkOrder.objects.get(pk=order.pk).status


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_today_lists_the_offer_with_links_and_answers(visit, client_for):
    response = client_for(visit.engineer).get(url("today"))
    assert response.status_code == 200
    page = response.content.decode()
    assert visit.order.number in page and "宁波精密机械有限公司" in page and "宁波市北仑区港口路88号" in page
    assert (
        "https://uri.amap.com/marker?position=121.54399,29.868336&amp;name=%E5%8C%97%E4%BB%91%E5%B7%A5%E5%8E%82" in page
    )
    assert 'href="geo:29.868336,121.54399?q=29.868336,121.54399(' in page
    assert f'href="tel:{visit.contact_cn.phone}"' in page
    assert url("accept", visit.assignment.pk) in page and url("reject", visit.assignment.pk) in page


def test_today_shows_only_the_engineers_own_orders(visit, client_for):
    page = client_for(visit.other_engineer).get(url("today")).content.decode()
    assert visit.order.number not in page


def test_pages_need_the_field_capability(visit, client_for):
    assert client_for(visit.customer_user_a).get(url("today")).status_code == 403
    assert client_for(visit.agent).get(url("order", visit.order.pk)).status_code == 403


def test_accept_from_the_list(visit, client_for):
    response = client_for(visit.engineer).post(url("accept", visit.assignment.pk))
    assert response.status_code == 302 and response.url == url("order", visit.order.pk)
    assert status_of(visit.order) == S.ACCEPTED


def test_reject_needs_a_reason(visit, client_for):
    client = client_for(visit.engineer)
    response = client.post(url("reject", visit.assignment.pk), {"reason": " "}, follow=True)
    assert "Say why you reject the order." in messages_of(response)
    assert status_of(visit.order) == S.DISPATCHED
    client.post(url("reject", visit.assignment.pk), {"reason": "在外地出差"})
    assert status_of(visit.order) == S.REJECTED
    visit.assignment.refresh_from_db()
    assert (visit.assignment.status, visit.assignment.reason) == ("rejected", "在外地出差")


def test_another_engineer_cannot_open_or_act_on_the_order(visit, client_for):
    on_site(visit)
    client = client_for(visit.other_engineer)
    before = WorkOrderEvent.objects.filter(work_order=visit.order).count()
    assert client.get(url("order", visit.order.pk)).status_code == 404
    assert client.post(url("accept", visit.assignment.pk)).status_code == 404
    assert client.post(url("check_in", visit.order.pk), {}).status_code == 404
    assert client.post(url("record_work", visit.order.pk), {"resolution_type": "repair"}).status_code == 404
    assert client.post(url("complete", visit.order.pk)).status_code == 404
    assert client.get(url("report_pdf", visit.order.pk)).status_code == 404
    assert status_of(visit.order) == S.ON_SITE
    assert WorkOrderEvent.objects.filter(work_order=visit.order).count() == before


def test_the_visit_through_the_forms(visit, client_for, django_capture_on_commit_callbacks):
    client = client_for(visit.engineer)
    order_url = url("order", visit.order.pk)

    page = client.get(order_url).content.decode()
    assert url("accept", visit.assignment.pk) in page and "Start travel" not in page
    client.post(url("accept", visit.assignment.pk))

    page = client.get(order_url).content.decode()
    assert "Start travel" in page and "data-geolocate" in page and "field/field.js" in page
    response = client.post(
        url("start_travel", visit.order.pk), {"travel-latitude": "29.95", "travel-longitude": "121.6"}
    )
    assert response.status_code == 302 and status_of(visit.order) == S.TRAVELLING

    response = client.post(
        url("check_in", visit.order.pk),
        {"checkin-latitude": "29.870000", "checkin-longitude": "121.550000", "checkin-accuracy": "9"},
        follow=True,
    )
    assert "Checked in 0.6 km from the site." in messages_of(response)
    assert status_of(visit.order) == S.ON_SITE
    assert 'id="check-in-result"' in response.content.decode()

    # A bad form shows its errors next to the fields and records nothing.
    response = client.post(url("record_work", visit.order.pk), {"resolution_type": "", "labour_hours": "0"})
    assert response.status_code == 200
    form = response.context["work_form"]
    assert set(form.errors) == {"resolution_type", "fault_cause", "actions_taken", "labour_hours"}
    assert 'id="id_fault_cause_error"' in response.content.decode()
    assert WorkOrder.objects.get(pk=visit.order.pk).resolution_type == ""
    response = client.post(
        url("record_work", visit.order.pk),
        {
            "resolution_type": "replace_part",
            "fault_cause": "冷却器堵塞",
            "actions_taken": "更换电机",
            "labour_hours": "1.5",
        },
    )
    assert response.status_code == 302
    assert WorkOrder.objects.get(pk=visit.order.pk).labour_hours == Decimal("1.50")

    # Parts: replace the fitted motor; find the seal in the catalogue and add it.
    motor = visit.machine.fitted_parts.get(part=visit.motor)
    page = client.get(order_url).content.decode()
    assert f'<option value="{motor.pk}">MOTOR-1 伺服电机 × 1</option>' in page
    response = client.post(
        url("use_part", visit.order.pk), {"replaces": motor.pk, "quantity": "1", "new_serial": "M-77"}
    )
    assert response.status_code == 302
    page = client.get(order_url, {"part_q": "油封"}).content.decode()
    assert f'<option value="{visit.seal.pk}">SEAL-9 油封</option>' in page
    assert part_groups(page)[1] == ("Other parts matching “油封”", ["SEAL-9 油封"])
    response = client.post(url("use_part", visit.order.pk), {"part": visit.seal.pk, "quantity": "0", "part_q": "油封"})
    assert response.status_code == 200 and "quantity" in response.context["part_form"].errors
    client.post(url("use_part", visit.order.pk), {"part": visit.seal.pk, "quantity": "2", "part_q": "油封"})
    assert list(PartUsage.objects.values_list("part__part_number", "quantity")) == [
        ("MOTOR-1", Decimal("1.000")),
        ("SEAL-9", Decimal("2.000")),
    ]

    # Photos from the camera, several at once.
    page = client.get(order_url).content.decode()
    assert 'accept="image/*"' in page and 'capture="environment"' in page and "multiple" in page
    response = client.post(url("add_photos", visit.order.pk), {"photos": [png_file("a.png"), png_file("b.png")]})
    assert response.status_code == 302
    assert Attachment.objects.filter(work_order=visit.order, kind="photo").count() == 2

    # Completing before the customer signed is refused with a message; nothing changes.
    response = client.post(url("complete", visit.order.pk), follow=True)
    assert "The customer must sign before the visit is completed." in messages_of(response)
    assert status_of(visit.order) == S.ON_SITE

    page = client.get(order_url).content.decode()
    assert "<canvas" in page and "data-signature-pad" in page
    response = client.post(url("capture_signature", visit.order.pk), {"signature": data_url(), "signer_name": "王经理"})
    assert response.status_code == 302
    assert Signature.objects.get().signer_name == "王经理"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("complete", visit.order.pk), follow=True)
    assert "Visit completed. Thank you!" in messages_of(response)
    assert status_of(visit.order) == S.COMPLETED
    assert url("report_pdf", visit.order.pk) in response.content.decode()
    assert visit.machine.fitted_parts.get(part=visit.motor).part_serial_number == "M-77"
    assert visit.machine.fitted_parts.get(part=visit.seal).source == FittedPartSource.ADDED
    assert Event.objects.filter(action="parts_replaced", object_pk=str(visit.machine.pk)).exists()
    assert len(mail.outbox) == 1 and mail.outbox[0].attachments[0][2] == "application/pdf"

    response = client.get(url("report_pdf", visit.order.pk))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")

    page = client.get(url("today")).content.decode()
    assert "Completed today" in page and url("report_pdf", visit.order.pk) in page


def test_check_in_without_location_from_the_page(visit, client_for):
    accept(visit)
    response = client_for(visit.engineer).post(
        url("check_in", visit.order.pk), {"checkin-location_error": "denied"}, follow=True
    )
    assert "Checked in without a location." in messages_of(response)
    event = WorkOrderEvent.objects.get(work_order=visit.order, action="check_in")
    assert event.payload["location_missing"] is True and event.payload["location_error"] == "denied"


def test_check_in_before_accepting_is_refused_on_the_page(visit, client_for):
    response = client_for(visit.engineer).post(url("check_in", visit.order.pk), {}, follow=True)
    assert any("Accept work order" in m for m in messages_of(response))
    assert status_of(visit.order) == S.DISPATCHED


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        ("", "The customer has not signed."),
        ("data:image/gif;base64,R0lGODlh", "The signature must be a PNG or JPEG image."),
        ("data:image/png;base64,@@@", "The signature could not be read."),
        ("data:image/png;base64," + base64.b64encode(b"not a png").decode(), "The file is not an image."),
    ],
)
def test_bad_signatures_are_shown_on_the_form(visit, client_for, signature, message):
    on_site(visit)
    response = client_for(visit.engineer).post(
        url("capture_signature", visit.order.pk), {"signature": signature, "signer_name": "王经理"}
    )
    assert response.status_code == 200
    assert response.context["signature_form"].errors["signature"] == [message]
    assert not Signature.objects.exists()


def test_a_blank_pad_is_refused(visit, client_for):
    on_site(visit)
    response = client_for(visit.engineer).post(
        url("capture_signature", visit.order.pk), {"signature": data_url(ink=False), "signer_name": "王经理"}
    )
    assert response.context["signature_form"].errors["signature"] == ["The signature is empty."]


def test_a_bad_photo_keeps_none_of_the_batch(visit, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    on_site(visit)
    response = client_for(visit.engineer).post(
        url("add_photos", visit.order.pk), {"photos": [png_file("a.png"), SimpleUploadedFile("b.jpg", b"nope")]}
    )
    assert response.status_code == 200
    assert response.context["photo_form"].errors["photos"] == ["The file is not an image."]
    assert not Attachment.objects.filter(work_order=visit.order).exists()


def test_remove_a_part_entry(visit, client_for):
    from fieldservice.field import services

    on_site(visit)
    usage = services.use_part(visit.order, actor=visit.engineer, part=visit.seal, quantity=1)
    assert client_for(visit.other_engineer).post(url("remove_part", visit.order.pk, usage.pk)).status_code == 404
    assert PartUsage.objects.exists()
    client_for(visit.engineer).post(url("remove_part", visit.order.pk, usage.pk))
    assert not PartUsage.objects.exists()


def test_the_report_is_not_ready_before_completion(visit, client_for):
    on_site(visit)
    response = client_for(visit.engineer).get(url("report_pdf", visit.order.pk))
    assert response.status_code == 409
    assert "The service report is not ready" in response.content.decode()


def test_staff_may_download_the_report_customers_use_their_portal(
    visit, client_for, django_capture_on_commit_callbacks
):
    from fieldservice.field import services

    ready_to_complete(visit)
    with django_capture_on_commit_callbacks(execute=False):
        services.complete_visit(visit.order, actor=visit.engineer)
    response = client_for(visit.dispatcher).get(url("report_pdf", visit.order.pk))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    customer_user = factories.user(Role.CUSTOMER, organisation=visit.customer_cn.organisation)
    assert client_for(customer_user).get(url("report_pdf", visit.order.pk)).status_code == 404
    assert client_for(visit.customer_user_z).get(url("report_pdf", visit.order.pk)).status_code == 404


@pytest.mark.parametrize("partial", ["workorders/_service_log.html", "workorders/no_such_partial.html"])
def test_the_order_page_shows_the_service_log(visit, client_for, monkeypatch, partial):
    from fieldservice.field import views

    monkeypatch.setattr(views, "SERVICE_LOG_PARTIAL", partial)
    on_site(visit)
    response = client_for(visit.engineer).get(url("order", visit.order.pk))
    page = response.content.decode()
    assert response.context["service_log_partial"] == (None if "no_such" in partial else partial)
    assert 'id="service-log"' in page
    assert "check in" in page and "dispatch" in page and "dispatcher" in page


# After completion the phone page still shows the whole work record, read-only


def test_the_completed_page_shows_the_work_record(visit, client_for):
    from fieldservice.field import services

    ready_to_complete(visit)
    services.complete_visit(visit.order, actor=visit.engineer)
    response = client_for(visit.engineer).get(url("order", visit.order.pk))
    assert response.status_code == 200
    page = response.content.decode()
    for expected in (
        'id="work-record"',
        "Replace part",  # the resolution
        "冷却器堵塞",  # fault cause
        "清洗冷却器，更换伺服电机",  # work done
        "2.5",  # labour hours
        "MOTOR-1",
        "M-NEW-1",
        "SEAL-9",
        "Signed by 王经理",
    ):
        assert expected in page, expected
    for item in Attachment.objects.filter(work_order=visit.order):
        assert reverse("workorders:attachment", args=[item.pk]) in page
    # Read-only: nothing of the visit can be changed any more.
    for action in ("record_work", "use_part", "add_photos", "capture_signature", "complete"):
        assert url(action, visit.order.pk) not in page, action
    assert "/remove/" not in page


def test_the_work_record_is_not_shown_twice_while_on_site(visit, client_for):
    from tests.field.conftest import record

    on_site(visit)
    record(visit)
    page = client_for(visit.engineer).get(url("order", visit.order.pk)).content.decode()
    assert url("record_work", visit.order.pk) in page and 'id="work-record"' not in page


# The part picker: the machine's BOM first, then the rest of the catalogue by search


def part_groups(page: str, *, with_stock: bool = False) -> list[tuple[str, list[str]]]:
    """(group label, [option texts]) of the part picker, in page order (without the engineer's own
    stock, which comes first, unless `with_stock`)."""
    import re

    select = re.search(r'<select name="part" id="id_part">(.*?)</select>', page, re.S).group(1)
    groups = [
        (label, re.findall(r'<option value="\d+"[^>]*>([^<]*)</option>', body))
        for label, body in re.findall(r'<optgroup label="([^"]*)">(.*?)</optgroup>', select, re.S)
    ]
    return groups if with_stock else [group for group in groups if group[0] != "My stock"]


def test_the_part_picker_offers_the_machines_bom_first(visit, client_for):
    factories.part(part_number="AAA-0", name="Not on this machine")
    on_site(visit)
    client = client_for(visit.engineer)
    page = client.get(url("order", visit.order.pk)).content.decode()
    # Without a search: only the BOM, in a group of its own, and a prompt to search for the rest.
    assert part_groups(page) == [("Parts of this machine (BOM)", ["BELT-1 Drive belt", "MOTOR-1 伺服电机"])]
    assert "Search the catalogue for other parts." in page

    # A search adds the other matching parts below; the BOM stays whole and first.
    page = client.get(url("order", visit.order.pk), {"part_q": "1"}).content.decode()
    assert part_groups(page) == [("Parts of this machine (BOM)", ["BELT-1 Drive belt", "MOTOR-1 伺服电机"])]
    assert "No other part matches the search." in page

    page = client.get(url("order", visit.order.pk), {"part_q": "-"}).content.decode()
    assert part_groups(page) == [
        ("Parts of this machine (BOM)", ["BELT-1 Drive belt", "MOTOR-1 伺服电机"]),
        ("Other parts matching “-”", ["AAA-0 Not on this machine", "SEAL-9 油封"]),
    ]


def test_without_a_machine_the_picker_searches_the_catalogue(visit, client_for):
    WorkOrder.objects.filter(pk=visit.order.pk).update(equipment=None)
    on_site(visit)
    client = client_for(visit.engineer)
    page = client.get(url("order", visit.order.pk)).content.decode()
    assert part_groups(page) == [("Parts catalogue", ["BELT-1 Drive belt", "MOTOR-1 伺服电机", "SEAL-9 油封"])]
    page = client.get(url("order", visit.order.pk), {"part_q": "油封"}).content.decode()
    assert part_groups(page) == [("Parts matching “油封”", ["SEAL-9 油封"])]


def test_a_site_without_coordinates_is_found_by_its_whole_address(visit, client_for):
    # The demo keeps the street in `address` and the region in its own fields: navigation by the
    # street alone would search the whole country.
    from fieldservice.customers.models import Site

    Site.objects.filter(pk=visit.site_cn.pk).update(
        latitude=None, longitude=None, province="浙江省", city="宁波市", district="北仑区", address="港口路88号"
    )
    page = client_for(visit.engineer).get(url("today")).content.decode()
    assert "浙江省宁波市北仑区港口路88号" in page
    assert "https://uri.amap.com/search?keyword=%E6%B5%99%E6%B1%9F%E7%9C%81" in page


# The engineer's own stock on the parts form


def test_the_picker_offers_my_stock_first_and_a_request_link_for_what_i_lack(visit, client_for):
    from fieldservice.inventory.choices import Tracking

    sensor = factories.part(part_number="SENSOR-1", name="Sensor", tracking=Tracking.SERIAL)
    factories.fill_van(visit.engineer, sensor, 2, serials="S-1 S-2", source=visit.store)
    lacking = factories.part(part_number="PUMP-1", name="Pump")
    on_site(visit)
    page = client_for(visit.engineer).get(url("order", visit.order.pk), {"part_q": "PUMP"}).content.decode()
    assert part_groups(page, with_stock=True)[0] == (
        "My stock",
        ["BELT-1 Drive belt · 10", "MOTOR-1 伺服电机 · 5", "SEAL-9 油封 · 10", "SENSOR-1 Sensor · 2"],
    )
    assert "S-1, S-2" in page  # the serials he holds
    link = f"/parts/my-stock/request/?order={visit.order.pk}&amp;number={visit.order.number}&amp;part={lacking.pk}"
    assert link in page and "Request this part" in page
    assert f"part={visit.seal.pk}" not in page  # he carries seals: no request link


def test_a_scanned_serial_or_part_number_is_resolved_on_the_server(visit, client_for):
    from fieldservice.inventory.choices import Tracking
    from fieldservice.inventory.models import SerialUnit

    sensor = factories.part(part_number="SENSOR-1", tracking=Tracking.SERIAL)
    factories.fill_van(visit.engineer, sensor, 1, serials="S-77", source=visit.store)
    on_site(visit)
    client = client_for(visit.engineer)
    assert client.post(url("use_part", visit.order.pk), {"code": "S-77", "quantity": "1"}).status_code == 302
    usage = PartUsage.objects.get()
    assert (usage.part, usage.new_serial) == (sensor, "S-77")
    assert SerialUnit.objects.get(serial="S-77").warehouse is None
    assert client.post(url("use_part", visit.order.pk), {"code": "PART:seal-9", "quantity": "2"}).status_code == 302
    assert client.post(url("use_part", visit.order.pk), {"code": "SEAL-9", "quantity": "1"}).status_code == 302
    assert list(PartUsage.objects.values_list("part__part_number", "quantity").order_by("pk"))[1:] == [
        ("SEAL-9", Decimal("2")),
        ("SEAL-9", Decimal("1")),
    ]
    response = client.post(url("use_part", visit.order.pk), {"code": "NOTHING", "quantity": "1"})
    assert response.status_code == 200 and "code" in response.context["part_form"].errors


def test_too_few_in_my_stock_shows_the_error_and_the_request_link(visit, client_for):
    on_site(visit)
    response = client_for(visit.engineer).post(
        url("use_part", visit.order.pk), {"part": visit.seal.pk, "quantity": "11"}
    )
    assert response.status_code == 200
    assert "quantity" in response.context["part_form"].errors
    assert f"part={visit.seal.pk}" in response.content.decode()
    assert not PartUsage.objects.exists()
