"""The inspection pages: the desk's list, form and detail, the engineer's phone page, the customer's
follow link (its own token), and the report PDF with its findings in both languages."""

from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from fieldservice.field.choices import ReportLayout
from fieldservice.field.models import JobStep
from fieldservice.maintenance.models import Finding, Inspection
from fieldservice.maintenance.models.inspections import InspectionStatus
from fieldservice.maintenance.services import inspections as services
from tests.field.conftest import png_file
from tests.field.test_report import pdf_text
from tests.maintenance.inspection_data import approved, health_check, start

S = InspectionStatus


def test_desk_list_filters_exports_and_hides_other_customers(world, client_for):
    p = world.p
    mine = start(world, title="Spring check")
    client = client_for(p.dispatcher)
    page = client.get(reverse("maintenance:inspection_list"), {"status": "draft", "q": "Spring"})
    assert page.status_code == 200 and f"inspection-{mine.pk}" in page.content.decode()
    assert (
        f"inspection-{mine.pk}"
        not in client.get(reverse("maintenance:inspection_list"), {"status": "sent"}).content.decode()
    )
    export = client.get(reverse("maintenance:inspection_list"), {"export": "xlsx"})
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")
    services.send_inspection(mine, actor=p.dispatcher)
    other = client_for(p.customer_user_z)
    assert f"inspection-{mine.pk}" not in other.get(reverse("maintenance:inspection_list")).content.decode()
    assert other.get(reverse("maintenance:inspection_detail", args=[mine.pk])).status_code == 404
    assert other.get(reverse("maintenance:inspection_pdf", args=[mine.pk])).status_code == 404
    assert "Inspections" in client.get(reverse("maintenance:inspection_list")).content.decode()


def test_create_form_lists_the_sites_machines_and_refuses_no_machines(world, client_for):
    client = client_for(world.p.dispatcher)
    url = reverse("maintenance:inspection_create")
    form = client.get(url, {"site": world.site.pk}).content.decode()
    assert world.machines[0].serial_number in form and world.elsewhere.serial_number not in form
    refused = client.post(url, {"site": world.site.pk, "template": world.template.pk, "owner": world.p.dispatcher.pk})
    assert refused.status_code == 200 and not Inspection.objects.exists()
    done = client.post(
        url,
        {
            "site": world.site.pk,
            "template": world.template.pk,
            "owner": world.p.dispatcher.pk,
            "equipment": [world.machines[1].pk],
            "engineers": [world.engineer.pk],
        },
    )
    inspection = Inspection.objects.get()
    assert done.status_code == 302 and [m.equipment for m in inspection.machines.all()] == [world.machines[1]]
    assert client_for(world.p.agent).get(url).status_code == 403


def test_detail_moves_and_a_refused_move_says_why(world, client_for):
    inspection = start(world)
    client = client_for(world.p.dispatcher)
    detail = client.get(reverse("maintenance:inspection_detail", args=[inspection.pk])).content.decode()
    assert 'id="move-send"' in detail and 'id="inspection-steps"' in detail
    client.post(reverse("maintenance:inspection_move", args=[inspection.pk, "send"]))
    inspection.refresh_from_db()
    assert inspection.status == S.SENT
    response = client.post(reverse("maintenance:inspection_move", args=[inspection.pk, "close"]), follow=True)
    inspection.refresh_from_db()
    assert inspection.status == S.SENT and "cannot be done now" in response.content.decode()


def test_engineer_phone_page_records_a_finding_with_a_photo(world, client_for):
    inspection = approved(world)
    client = client_for(world.engineer)
    today = client.get(reverse("field:today")).content.decode()
    assert f"inspection-link-{inspection.pk}" in today
    line = inspection.machines.first()
    order_page = client.get(reverse("field:order", args=[line.work_order_id])).content.decode()
    assert 'id="inspection-panel"' in order_page
    response = client.post(
        reverse("maintenance:finding_add", args=[inspection.pk]),
        {
            "machine": line.pk,
            "severity": "high",
            "title": "Cracked guard",
            "disposition": "fixed",
            "action_taken": "Guard replaced",
            "photo": png_file(),
        },
    )
    assert response.status_code == 302
    finding = Finding.objects.get()
    assert finding.photo is not None and finding.machine == line
    bad = client.post(
        reverse("maintenance:finding_add", args=[inspection.pk]),
        {"machine": line.pk, "severity": "high", "title": "No disposition"},
    )
    assert bad.status_code == 400 and Finding.objects.count() == 1
    stranger = client_for(world.p.customer_user_z)
    assert stranger.get(reverse("maintenance:inspection_phone", args=[inspection.pk])).status_code == 404


def test_follow_link_approve_then_confirm(world, client):
    inspection = start(world)
    url = reverse("portal:inspection", args=[inspection.follow_token])
    # A draft is not on the link yet; an unknown token is not found.
    assert client.get(url).status_code == 404
    services.send_inspection(inspection, actor=world.p.dispatcher)
    page = client.get(url)
    assert page.status_code == 200 and 'id="approve-inspection"' in page.content.decode()
    assert page["Cache-Control"] == "private, no-store"
    assert client.get(reverse("portal:inspection", args=["x" * 22])).status_code == 404
    refused = client.post(reverse("portal:inspection_action", args=[inspection.follow_token, "approve"]), {})
    assert refused.status_code == 400
    inspection.refresh_from_db()
    assert inspection.status == S.SENT
    client.post(
        reverse("portal:inspection_action", args=[inspection.follow_token, "approve"]), {"approve-name": "Ms Wang"}
    )
    inspection.refresh_from_db()
    assert inspection.status == S.APPROVED and inspection.decided_by_name == "Ms Wang"
    finding = services.record_finding(
        inspection,
        actor=world.engineer,
        machine=inspection.machines.first().pk,
        severity="medium",
        title="Hoses worn",
        disposition="change",
        recommendation="Replace both hoses",
    )
    assert f'id="change-{finding.pk}"' in client.get(url).content.decode()
    client.post(
        reverse("portal:inspection_change", args=[inspection.follow_token, finding.pk]), {"decision": "approve"}
    )
    finding.refresh_from_db()
    assert finding.change_decision == "approved"
    # Confirming before the report is refused.
    early = client.post(
        reverse("portal:inspection_action", args=[inspection.follow_token, "confirm"]), {"confirm-name": "W"}
    )
    assert early.status_code == 302
    inspection.refresh_from_db()
    assert inspection.status == S.IN_PROGRESS
    services.send_report(inspection, actor=world.p.dispatcher)
    pdf = client.get(reverse("portal:inspection_pdf", args=[inspection.follow_token]) + "?lang=en")
    assert pdf.status_code == 200 and "Hoses worn" in pdf_text(pdf.content)
    client.post(
        reverse("portal:inspection_action", args=[inspection.follow_token, "confirm"]), {"confirm-name": "Ms Wang"}
    )
    inspection.refresh_from_db()
    assert inspection.status == S.CONFIRMED and inspection.confirmed_by_name == "Ms Wang"


def test_follow_link_decline_needs_a_reason(world, client):
    inspection = start(world)
    services.send_inspection(inspection, actor=world.p.dispatcher)
    url = reverse("portal:inspection_action", args=[inspection.follow_token, "decline"])
    assert client.post(url, {"decline-reason": ""}).status_code == 400
    client.post(url, {"decline-reason": "Shutdown week"})
    inspection.refresh_from_db()
    assert inspection.status == S.DECLINED and inspection.decline_reason == "Shutdown week"


def test_report_pdf_has_findings_and_answers_in_both_languages(world, client_for):
    inspection = approved(world)
    line = inspection.machines.first()
    JobStep.objects.filter(work_order=line.work_order, position=2).update(
        value_number=Decimal("61"), out_of_range=True, answered_at=timezone.now()
    )
    services.record_finding(
        inspection,
        actor=world.engineer,
        machine=line.pk,
        severity="high",
        title="Pump leaks",
        disposition="repair",
    )
    services.send_report(inspection, actor=world.p.dispatcher)
    client = client_for(world.p.dispatcher)
    url = reverse("maintenance:inspection_pdf", args=[inspection.pk])
    english = pdf_text(client.get(url + "?lang=en").content)
    assert "Inspection report" in english and "Pump leaks" in english and "Repair order" in english
    assert "61" in english and "out of range" in english
    chinese = client.get(url + "?lang=zh-hans")
    assert chinese.status_code == 200 and "Pump leaks" in pdf_text(chinese.content)


def test_certificate_pdf_shows_measured_values_ranges_and_verdict(world, client_for):
    world.template = health_check(layout=ReportLayout.CERTIFICATE)
    inspection = approved(world)
    line = inspection.machines.first()
    JobStep.objects.filter(work_order=line.work_order, position=2).update(
        value_number=Decimal("40"), answered_at=timezone.now()
    )
    services.start_inspection(inspection, actor=world.p.dispatcher)
    services.send_report(inspection, actor=world.p.dispatcher)
    text = pdf_text(
        client_for(world.p.dispatcher)
        .get(reverse("maintenance:inspection_pdf", args=[inspection.pk]) + "?lang=en")
        .content
    )
    assert "Calibration certificate" in text and f"{inspection.number}-01" in text
    assert "20 … 55" in text and "pass" in text
