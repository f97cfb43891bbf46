"""The service desk pages: the agent console, requests and work orders, attachments, the
equipment history tag and the admin."""

import re
from io import BytesIO

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse
from openpyxl import load_workbook

from fieldservice.assets.services import invalidate_equipment
from fieldservice.customers.models import Contact
from fieldservice.workorders.choices import Channel, RequestStatus, WorkOrderStatus
from fieldservice.workorders.models import ServiceRequest, WorkOrder, WorkOrderEvent
from fieldservice.workorders.services import intake, lifecycle
from tests import factories
from tests.workorders.conftest import photo

DESK = reverse("workorders:desk")


def request_pks(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/requests/(\d+)/"', response.content.decode())]


def order_pks(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/orders/(\d+)/"', response.content.decode())]


def desk_form(world, **data) -> dict:
    return {
        "customer": world.customer_a.pk,
        "channel": Channel.PHONE,
        "contact": world.contact_a.pk,
        "equipment": world.machine_a.pk,
        "service_type": "repair",
        "priority": "normal",
        "description": "Mould temperature alarm",
        "action": "file",
        **data,
    }


def unknown_caller(world):
    return intake.report_fault_by_qr(world.machine_a, phone="13700137000", name="Night shift", description="Leak")


# The console


def test_anonymous_users_are_sent_to_sign_in(client, world):
    response = client.get(DESK)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["engineer", "provider_admin", "customer_user_a", "director"])
def test_the_console_is_for_desk_staff_only(client_for, world, who):
    client = client_for(getattr(world, who))
    assert client.get(DESK).status_code == 403
    assert client.post(DESK, desk_form(world)).status_code == 403
    assert not ServiceRequest.objects.exists()


def test_search_by_phone_finds_the_customer_and_the_caller(client_for, world):
    body = client_for(world.agent).get(DESK, {"q": "138 0013 8000"}).content.decode()
    assert "Customer A" in body and "Customer Z" not in body
    # The only match is chosen: its machines, contacts and the form, with the caller picked.
    assert "A-0001" in body and "Li Na" in body
    assert f'<option value="{world.contact_a.pk}" selected>' in body
    assert f'name="customer" value="{world.customer_a.pk}"' in body


def test_search_by_serial_finds_the_machine_and_preselects_it(client_for, world):
    body = client_for(world.agent).get(DESK, {"q": "Z-0001"}).content.decode()
    assert "Customer Z" in body
    assert f'<option value="{world.machine_z.pk}" selected>' in body
    assert "A-0001" not in body


def test_the_console_shows_open_orders_and_recent_requests(client_for, world, work_order):
    order = work_order()
    body = client_for(world.agent).get(DESK, {"customer": world.customer_a.pk}).content.decode()
    assert order.number in body and order.request.number in body


def test_only_registered_machines_are_offered(client_for, world):
    spare = factories.equipment(world.customer_a, product_model=world.model, serial_number="A-OLD")
    invalidate_equipment(spare, actor=world.agent, reason="Scrapped")
    body = client_for(world.agent).get(DESK, {"customer": world.customer_a.pk}).content.decode()
    assert f'<option value="{world.machine_a.pk}"' in body
    assert f'<option value="{spare.pk}"' not in body


def test_filing_a_request_from_the_console(client_for, world):
    fault = factories.fault_category("hydraulics", name="液压系统", name_en="Hydraulics")
    response = client_for(world.agent).post(
        DESK, desk_form(world, fault_category=fault.pk, priority="high", photos=[photo(), photo("b.png")])
    )
    request = ServiceRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("workorders:request_detail", args=[request.pk])
    assert (request.channel, request.status, request.customer, request.contact, request.equipment) == (
        Channel.PHONE,
        RequestStatus.OPEN,
        world.customer_a,
        world.contact_a,
        world.machine_a,
    )
    assert (request.priority, request.fault_category, request.created_by) == ("high", fault, world.agent)
    assert request.attachments.count() == 2


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"description": ""}, "description", "This field is required."),
        ({"equipment": "machine_z"}, "equipment", "The equipment belongs to another customer."),
        ({"contact": "contact_z"}, "contact", "The contact belongs to another customer."),
        ({"reporter_phone": "12"}, "reporter_phone", "is not a valid phone number"),
    ],
    ids=["no-description", "machine-of-another-customer", "contact-of-another-customer", "bad-phone"],
)
def test_field_errors_are_shown_next_to_the_field_and_nothing_is_filed(client_for, world, data, field, message):
    data = {key: getattr(world, value).pk if hasattr(world, str(value)) else value for key, value in data.items()}
    response = client_for(world.agent).post(DESK, desk_form(world, **data))
    assert response.status_code == 200
    error = re.search(rf'<p class="error" id="id_{field}_error">([^<]*)</p>', response.content.decode())
    assert error is not None and message in error.group(1)
    assert not ServiceRequest.objects.exists()


def test_an_invalidated_machine_is_refused_by_the_service(client_for, world):
    invalidate_equipment(world.machine_a, actor=world.agent, reason="Sold")
    response = client_for(world.agent).post(DESK, desk_form(world))
    assert "Only registered equipment can be chosen" in response.content.decode()
    assert not ServiceRequest.objects.exists()


def test_resolved_on_the_phone(client_for, world):
    client = client_for(world.agent)
    response = client.post(DESK, desk_form(world, action="resolve", resolution=""))
    assert "Say how the request was resolved." in response.content.decode()
    assert not ServiceRequest.objects.exists()
    response = client.post(DESK, desk_form(world, action="resolve", resolution="Reset the breaker together"))
    request = ServiceRequest.objects.get()
    assert response.status_code == 302
    assert (request.status, request.resolution_note) == (RequestStatus.RESOLVED, "Reset the breaker together")
    assert not request.work_orders.exists()


def test_a_provider_files_for_a_customer_it_serves_only(client_for, world):
    client = client_for(world.provider_admin)
    url = reverse("workorders:request_new")
    assert client.get(url).status_code == 200
    response = client.post(url, desk_form(world, channel="phone", contact=""))
    request = ServiceRequest.objects.get()
    assert response.status_code == 302
    assert request.channel == Channel.PROVIDER  # providers do not choose the channel
    response = client.post(url, desk_form(world, customer=world.customer_z.pk, equipment="", contact=""))
    assert response.status_code == 200
    assert ServiceRequest.objects.count() == 1


def test_the_new_request_page_reloads_contacts_and_machines_for_the_chosen_customer(client_for, world):
    response = client_for(world.agent).get(
        reverse("workorders:request_new"), {"customer": world.customer_z.pk}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert 'id="request-links"' in body and "<html" not in body
    assert "Z-0001" in body and "A-0001" not in body


# Requests


def test_request_list_is_scoped_filtered_and_exported(client_for, world, service_request):
    mine = service_request()
    theirs = service_request(world.customer_z)
    waiting = unknown_caller(world)
    url = reverse("workorders:request_list")
    assert sorted(request_pks(client_for(world.agent).get(url))) == sorted([mine.pk, theirs.pk, waiting.pk])
    assert sorted(request_pks(client_for(world.customer_user_a).get(url))) == sorted([mine.pk, waiting.pk])
    assert request_pks(client_for(world.customer_user_z).get(url)) == [theirs.pk]
    assert request_pks(client_for(world.agent).get(url, {"status": "unconfirmed"})) == [waiting.pk]
    assert request_pks(client_for(world.agent).get(url, {"q": "137 0013 7000"})) == [waiting.pk]
    assert request_pks(client_for(world.agent).get(url, {"customer": world.customer_z.pk})) == [theirs.pk]
    export = client_for(world.customer_user_a).get(url, {"export": "xlsx"})
    rows = list(load_workbook(BytesIO(export.content)).active.iter_rows(values_only=True))
    assert sorted(row[0] for row in rows[1:]) == sorted([mine.number, waiting.number])


def test_request_detail_shows_data_photos_and_history(client_for, world, service_request):
    request = service_request(photos=[photo()])
    body = client_for(world.agent).get(reverse("workorders:request_detail", args=[request.pk])).content.decode()
    assert request.number in body and "Hydraulic oil temperature alarm" in body
    assert reverse("workorders:attachment", args=[request.attachments.get().pk]) in body
    assert 'id="event-log"' in body


def test_confirming_a_qr_report_from_the_page(client_for, world):
    request = unknown_caller(world)
    client = client_for(world.agent)
    page = client.get(reverse("workorders:request_detail", args=[request.pk])).content.decode()
    assert reverse("workorders:request_confirm", args=[request.pk]) in page
    response = client.post(
        reverse("workorders:request_confirm", args=[request.pk]), {"contact": "", "save_reporter_as_contact": "on"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.OPEN
    assert request.contact == Contact.objects.get(customer=world.customer_a, phone="+8613700137000")
    # Confirming again is an illegal move: a message, and nothing changes.
    response = client.post(
        reverse("workorders:request_confirm", args=[request.pk]), {"contact": world.contact_a.pk}, follow=True
    )
    assert "this is not possible now" in response.content.decode()
    request.refresh_from_db()
    assert request.contact.phone == "+8613700137000"


def test_discard_needs_a_reason(client_for, world, service_request):
    request = service_request()
    url = reverse("workorders:request_discard", args=[request.pk])
    response = client_for(world.agent).post(url, {"reason": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    request.refresh_from_db()
    assert request.status == RequestStatus.OPEN
    client_for(world.agent).post(url, {"reason": "Duplicate"})
    request.refresh_from_db()
    assert request.status == RequestStatus.DISCARDED


def test_creating_a_work_order_from_the_request_page(client_for, world, service_request):
    request = service_request()
    response = client_for(world.agent).post(
        reverse("workorders:request_create_order", args=[request.pk]),
        {
            "site": world.site_a.pk,
            "equipment": world.machine_a.pk,
            "service_type": "repair",
            "priority": "urgent",
            "description": "Replace the heater band",
        },
    )
    order = WorkOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("workorders:order_detail", args=[order.pk])
    assert (order.request, order.priority, order.description) == (request, "urgent", "Replace the heater band")


def test_a_consultation_shows_the_service_error_on_the_order_form(client_for, world, service_request):
    request = service_request(service_type="consultation")
    response = client_for(world.agent).post(
        reverse("workorders:request_create_order", args=[request.pk]),
        {"site": "", "equipment": "", "service_type": "consultation", "priority": "normal", "description": "x"},
    )
    assert "A consultation needs no visit" in response.content.decode()
    assert not WorkOrder.objects.exists()


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("request_confirm", {"save_reporter_as_contact": "on"}),
        ("request_resolve", {"resolution": "x"}),
        ("request_discard", {"reason": "x"}),
        ("request_create_order", {"service_type": "repair", "priority": "normal", "description": "x"}),
    ],
)
def test_customer_a_cannot_see_or_act_on_customer_zs_requests(client_for, world, action, data):
    theirs = intake.report_fault_by_qr(world.machine_z, phone="13700137000", description="Leak")
    client = client_for(world.customer_user_a)
    assert client.get(reverse("workorders:request_detail", args=[theirs.pk])).status_code == 404
    assert client.post(reverse(f"workorders:{action}", args=[theirs.pk]), data).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == RequestStatus.UNCONFIRMED
    assert not WorkOrder.objects.exists()


def test_a_customer_sees_their_request_but_may_not_act_on_it(client_for, world, service_request):
    request = service_request()
    client = client_for(world.customer_user_a)
    body = client.get(reverse("workorders:request_detail", args=[request.pk])).content.decode()
    assert request.number in body
    assert reverse("workorders:request_discard", args=[request.pk]) not in body
    assert client.post(reverse("workorders:request_discard", args=[request.pk]), {"reason": "x"}).status_code == 403
    request.refresh_from_db()
    assert request.status == RequestStatus.OPEN


# Work orders


def test_order_list_is_scoped_and_has_the_to_dispatch_queue(client_for, world, work_order):
    fresh = work_order()
    dispatched = work_order(engineer=world.engineer)
    theirs = work_order(world.customer_z)
    url = reverse("workorders:order_list")
    agent = client_for(world.agent)
    assert sorted(order_pks(agent.get(url))) == sorted([fresh.pk, dispatched.pk, theirs.pk])
    assert sorted(order_pks(agent.get(url, {"status": "to_dispatch"}))) == sorted([fresh.pk, theirs.pk])
    assert order_pks(agent.get(url, {"status": "dispatched"})) == [dispatched.pk]
    assert order_pks(agent.get(url, {"q": "Z-0001"})) == [theirs.pk]
    assert order_pks(client_for(world.engineer).get(url)) == [dispatched.pk]
    assert order_pks(client_for(world.customer_user_z).get(url)) == [theirs.pk]
    export = agent.get(url, {"export": "xlsx", "customer": world.customer_z.pk})
    rows = list(load_workbook(BytesIO(export.content)).active.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == [theirs.number]


def test_order_detail_shows_the_header_assignment_and_timeline(client_for, world, work_order):
    order = work_order(engineer=world.engineer, accepted=True)
    lifecycle.put_on_hold(order, actor=world.engineer, hold_reason="waiting_parts", note="Heater band on order")
    body = client_for(world.dispatcher).get(reverse("workorders:order_detail", args=[order.pk])).content.decode()
    assert order.number in body and "Customer A" in body and "88 Harbour Road" in body
    assert "uri.amap.com/marker?position=121.543990,29.868336" in body
    assert reverse("assets:equipment_detail", args=[world.machine_a.pk]) in body
    assert str(world.engineer) in body and "Lead engineer" in body
    log = body[body.index('id="service-log"') :]
    for text in ("created", "dispatch", "accept", "put on hold", "Accepted → On hold", "Heater band on order"):
        assert text in log, text


def test_hold_and_resume_from_the_page(client_for, world, work_order):
    order = work_order(engineer=world.engineer)
    client = client_for(world.dispatcher)
    response = client.post(reverse("workorders:order_hold", args=[order.pk]), {"hold_reason": "other", "note": ""})
    assert response.status_code == 200 and "Give a reason." in response.content.decode()
    order.refresh_from_db()
    assert order.status == WorkOrderStatus.DISPATCHED
    client.post(reverse("workorders:order_hold", args=[order.pk]), {"hold_reason": "waiting_customer", "note": ""})
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == (WorkOrderStatus.ON_HOLD, "waiting_customer")
    client.post(reverse("workorders:order_resume", args=[order.pk]), {"note": "Customer is back"})
    order.refresh_from_db()
    assert order.status == WorkOrderStatus.DISPATCHED


def test_an_illegal_move_shows_an_error_and_changes_nothing(client_for, world, work_order):
    order = work_order()
    events = WorkOrderEvent.objects.filter(work_order=order).count()
    response = client_for(world.agent).post(
        reverse("workorders:order_close", args=[order.pk]), {"note": ""}, follow=True
    )
    body = response.content.decode()
    assert 'class="msg-error"' in body and "cannot be moved" in body
    order.refresh_from_db()
    assert order.status == WorkOrderStatus.NEW
    assert WorkOrderEvent.objects.filter(work_order=order).count() == events


def test_cancel_needs_a_reason_and_ends_the_order(client_for, world, work_order):
    order = work_order(engineer=world.engineer)
    client = client_for(world.agent)
    client.post(reverse("workorders:order_cancel", args=[order.pk]), {"reason": ""})
    order.refresh_from_db()
    assert order.status == WorkOrderStatus.DISPATCHED
    client.post(reverse("workorders:order_cancel", args=[order.pk]), {"reason": "Customer fixed it"})
    order.refresh_from_db()
    assert order.status == WorkOrderStatus.CANCELLED
    body = client.get(reverse("workorders:order_detail", args=[order.pk])).content.decode()
    assert reverse("workorders:order_cancel", args=[order.pk]) not in body


def test_actions_shown_follow_state_and_role(client_for, world, work_order):
    order = work_order()
    agent = client_for(world.agent).get(reverse("workorders:order_detail", args=[order.pk])).content.decode()
    assert reverse("workorders:order_cancel", args=[order.pk]) in agent
    assert reverse("workorders:order_hold", args=[order.pk]) not in agent  # NEW orders are not held
    assert reverse("workorders:order_close", args=[order.pk]) not in agent


def test_engineers_see_only_orders_given_to_them(client_for, world, work_order):
    mine = work_order(engineer=world.engineer)
    other = work_order()
    client = client_for(world.engineer)
    assert client.get(reverse("workorders:order_detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("workorders:order_detail", args=[other.pk])).status_code == 404
    assert (
        client.post(reverse("workorders:order_hold", args=[other.pk]), {"hold_reason": "waiting_parts"}).status_code
        == 404
    )
    assert client_for(world.dispatcher).get(reverse("workorders:order_detail", args=[other.pk])).status_code == 200
    other.refresh_from_db()
    assert other.status == WorkOrderStatus.NEW
    assert client.get(DESK).status_code == 403


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("order_hold", {"hold_reason": "waiting_parts"}),
        ("order_resume", {}),
        ("order_cancel", {"reason": "x"}),
        ("order_close", {}),
    ],
)
def test_customer_a_cannot_see_or_act_on_customer_zs_orders(client_for, world, work_order, action, data):
    theirs = work_order(world.customer_z, engineer=world.engineer)
    events = WorkOrderEvent.objects.filter(work_order=theirs).count()
    client = client_for(world.customer_user_a)
    assert client.get(reverse("workorders:order_detail", args=[theirs.pk])).status_code == 404
    assert client.post(reverse(f"workorders:{action}", args=[theirs.pk]), data).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == WorkOrderStatus.DISPATCHED
    assert WorkOrderEvent.objects.filter(work_order=theirs).count() == events


def test_a_customer_may_view_but_not_cancel_their_order(client_for, world, work_order):
    order = work_order()
    client = client_for(world.customer_user_a)
    assert client.get(reverse("workorders:order_detail", args=[order.pk])).status_code == 200
    assert client.post(reverse("workorders:order_cancel", args=[order.pk]), {"reason": "x"}).status_code == 403
    order.refresh_from_db()
    assert order.status == WorkOrderStatus.NEW


# Attachments


def test_attachments_are_served_only_to_those_who_see_their_request(client_for, world, service_request):
    request = service_request(photos=[photo()])
    url = reverse("workorders:attachment", args=[request.attachments.get().pk])
    response = client_for(world.customer_user_a).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    for outsider in (world.customer_user_z, world.engineer, world.other_provider_admin):
        assert client_for(outsider).get(url).status_code == 404


def test_the_assigned_engineer_sees_the_request_photos(client_for, world, service_request):
    request = service_request(photos=[photo()])
    order = intake.create_work_order(request, actor=world.agent)
    url = reverse("workorders:attachment", args=[request.attachments.get().pk])
    assert client_for(world.engineer).get(url).status_code == 404
    from fieldservice.dispatch.assignments.services import dispatch_to_engineer

    dispatch_to_engineer(order, actor=world.dispatcher, engineer=world.engineer)
    assert client_for(world.engineer).get(url).status_code == 200
    assert url in client_for(world.engineer).get(reverse("workorders:order_detail", args=[order.pk])).content.decode()


# The equipment history tag


def render_history(user, equipment) -> str:
    request = RequestFactory().get("/")
    request.user = user
    template = Template("{% load workorders_tags %}{% equipment_service_history equipment %}")
    return template.render(Context({"request": request, "equipment": equipment}))


def test_equipment_history_lists_the_machines_orders_for_the_viewer(world, work_order):
    order = work_order()
    assert order.number in render_history(world.agent, world.machine_a)
    assert order.number in render_history(world.customer_user_a, world.machine_a)
    assert order.number not in render_history(world.customer_user_z, world.machine_a)
    assert order.number not in render_history(world.engineer, world.machine_a)
    assert order.number not in render_history(world.agent, world.machine_z)


# Admin


@pytest.mark.parametrize(
    "name",
    ["workorders_faultcategory", "workorders_servicerequest", "workorders_workorder", "workorders_workorderevent"],
)
def test_admin_lists_render(client, world, work_order, django_user_model, name):
    work_order()
    client.force_login(django_user_model.objects.create_superuser("site-admin", password="pw-for-tests-1"))
    assert client.get(reverse(f"admin:{name}_changelist"), {"q": "SR"}).status_code == 200


def test_admin_change_pages_keep_status_and_log_read_only(client, world, work_order, django_user_model):
    order = work_order()
    client.force_login(django_user_model.objects.create_superuser("site-admin", password="pw-for-tests-1"))
    body = client.get(reverse("admin:workorders_workorder_change", args=[order.pk])).content.decode()
    assert 'name="status"' not in body
    assert "events-0-action" not in body  # the log inline has no inputs
    response = client.get(reverse("admin:workorders_servicerequest_change", args=[order.request.pk]))
    assert response.status_code == 200 and 'name="status"' not in response.content.decode()
    event = WorkOrderEvent.objects.filter(work_order=order).first()
    assert client.get(reverse("admin:workorders_workorderevent_delete", args=[event.pk])).status_code == 403
    assert client.get(reverse("admin:workorders_workorder_add")).status_code == 403


# Links to the other desks' pages, when they exist


def optional(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def test_the_console_asks_the_knowledge_base_while_typing(client_for, world):
    body = client_for(world.agent).get(DESK, {"customer": world.customer_a.pk}).content.decode()
    suggest = optional("knowledge:suggest")
    assert (f'hx-get="{suggest}"' in body) is bool(suggest)
    assert ('id="suggestions"' in body) is bool(suggest)


def test_dispatch_link_for_dispatchers_on_orders_to_dispatch(client_for, world, work_order):
    order = work_order()
    dispatch = optional("dispatch:order", order.pk)
    page = client_for(world.dispatcher).get(reverse("workorders:order_detail", args=[order.pk])).content.decode()
    assert (f'href="{dispatch}"' in page) is bool(dispatch)
    page = client_for(world.agent).get(reverse("workorders:order_detail", args=[order.pk])).content.decode()
    assert not dispatch or f'href="{dispatch}"' not in page  # agents do not dispatch


def test_closing_a_completed_order_and_its_report_link(client_for, world, work_order):
    order = work_order(engineer=world.engineer, accepted=True)
    lifecycle.transition(order, "check_in", actor=world.engineer)
    lifecycle.transition(order, "complete", actor=world.engineer)
    client = client_for(world.agent)
    page = client.get(reverse("workorders:order_detail", args=[order.pk])).content.decode()
    report = optional("field:report_pdf", order.pk)
    assert (f'href="{report}"' in page) is bool(report)
    assert reverse("workorders:order_close", args=[order.pk]) in page
    response = client.post(reverse("workorders:order_close", args=[order.pk]), {"note": "Report checked"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == WorkOrderStatus.CLOSED
    assert WorkOrderEvent.objects.filter(work_order=order, action="close", note="Report checked").exists()


def test_a_request_from_an_unknown_sender_gets_its_customer_then_confirmation(client_for, world):
    # Set-up: what the mailbox files for a sender who is nobody's contact.
    request = ServiceRequest.objects.create(
        number="SR-MAIL-2", channel=Channel.EMAIL, status=RequestStatus.UNCONFIRMED, description="Stopped"
    )
    client = client_for(world.agent)
    page = client.get(reverse("workorders:request_detail", args=[request.pk])).content.decode()
    assert reverse("workorders:request_assign_customer", args=[request.pk]) in page
    assert reverse("workorders:request_confirm", args=[request.pk]) not in page
    url = reverse("workorders:request_assign_customer", args=[request.pk])
    response = client.post(url, {"customer": world.customer_a.pk, "equipment": world.machine_z.pk})
    assert "The equipment belongs to another customer." in response.content.decode()
    request.refresh_from_db()
    assert request.customer is None
    client.post(url, {"customer": world.customer_a.pk, "equipment": world.machine_a.pk})
    request.refresh_from_db()
    assert (request.customer, request.equipment) == (world.customer_a, world.machine_a)
    client.post(reverse("workorders:request_confirm", args=[request.pk]), {"contact": world.contact_a.pk})
    request.refresh_from_db()
    assert (request.status, request.contact) == (RequestStatus.OPEN, world.contact_a)


def test_the_order_export_has_engineer_fault_category_hours_and_sla_result(
    client_for, world, work_order, service_request
):
    """What a service manager sums up in Excel: who did it, what was wrong, how long it took and
    whether the SLA was kept; columns from dispatch and sla come in through the export's hook."""
    from decimal import Decimal

    from fieldservice.dispatch.assignments.services import accept_assignment, dispatch_to_engineer
    from fieldservice.field import services as field_services

    fault = factories.fault_category("oil-hot", name="油温过高", name_en="Oil too hot")
    done = intake.create_work_order(service_request(fault_category=fault), actor=world.agent)
    accept_assignment(dispatch_to_engineer(done, actor=world.dispatcher, engineer=world.engineer), actor=world.engineer)
    field_services.check_in(done, actor=world.engineer, latitude=None, longitude=None)
    field_services.record_work(
        done,
        actor=world.engineer,
        resolution_type="remote_fix",
        fault_cause="Cooler blocked",
        actions_taken="Cleaned the cooler",
        labour_hours="2.5",
    )
    field_services.complete_visit(done, actor=world.engineer)
    waiting = work_order()
    url = reverse("workorders:order_list")

    def export(language):
        response = client_for(world.agent).get(url, {"export": "xlsx"}, headers={"accept-language": language})
        rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
        return rows[0], {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}

    header, rows = export("en")
    assert {"Engineer", "Fault category", "Labour hours", "SLA result"} <= set(header)
    assert rows[done.number]["Engineer"] == str(world.engineer)
    assert rows[done.number]["Fault category"] == "Oil too hot"
    assert Decimal(str(rows[done.number]["Labour hours"])) == Decimal("2.5")
    assert rows[done.number]["SLA result"] == "Met"  # every target met within minutes
    assert rows[waiting.number]["Engineer"] in ("", None)
    assert rows[waiting.number]["SLA result"] == "Running"
    header, rows = export("zh-hans")
    assert {"工程师", "故障分类", "工时", "SLA 结果"} <= set(header)
    assert rows[done.number]["故障分类"] == "油温过高"
    assert rows[done.number]["SLA 结果"] == "已达成"
