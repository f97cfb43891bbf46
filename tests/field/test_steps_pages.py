"""Job steps on pages and in the API: the template editor, the dispatcher's panel, the phone's
one-POST-per-step answers, and the endpoints, with the crossing lines."""

import base64

import pytest

from fieldservice.field import services
from fieldservice.field.models import JobTemplate
from tests import factories
from tests.field.conftest import on_site, png_file

STEPS = [
    {"kind": "number", "title": "液压油温", "unit": "℃", "min_value": "30", "max_value": "55"},
    {"kind": "yes_no", "title": "安全门正常"},
]


@pytest.fixture
def stepped(visit):
    p = visit
    p.template = services.create_job_template(
        actor=p.admin, name="注塑机年度保养", service_type="repair", product_model=p.model, steps=STEPS
    )
    services.set_order_template(p.order, actor=p.dispatcher, template=p.template)
    p.oil, p.door = p.order.job_steps.order_by("position")
    return p


def test_the_template_editor_lists_creates_and_refuses_bad_steps(visit, client_for):
    p = visit
    admin = client_for(p.admin)
    assert admin.get("/job-templates/").status_code == 200
    response = admin.post(
        "/job-templates/new/",
        {"name": "巡检 Inspection", "service_type": "inspection", "report_layout": "checklist", "is_active": "on"},
    )
    template = JobTemplate.objects.get(name="巡检 Inspection")
    assert response.status_code == 302
    response = admin.post(
        f"/job-templates/{template.pk}/steps/",
        {"kind": "number", "title": "压力", "min_value": "9", "max_value": "3", "required": "on"},
    )
    assert response.status_code == 400
    assert "id_min_value_error" in response.content.decode()
    assert not template.steps.exists()
    admin.post(f"/job-templates/{template.pk}/steps/", {"kind": "choice", "title": "油位", "choices": "高\n正常\n低"})
    step = template.steps.get()
    assert step.choices == ["高", "正常", "低"]
    page = admin.get(f"/job-templates/{template.pk}/").content.decode()
    assert f'id="template-step-{step.pk}"' in page and "step-add" in page
    response = admin.post(f"/job-templates/steps/{step.pk}/", {"kind": "choice", "title": "油位", "choices": "高"})
    assert response.status_code == 200 and "id_choices_error" in response.content.decode()
    step.refresh_from_db()
    assert step.choices == ["高", "正常", "低"]
    listed = admin.get("/job-templates/?q=巡检&service_type=inspection").content.decode()
    assert "巡检 Inspection" in listed
    assert admin.get("/job-templates/?export=xlsx").status_code == 200
    for someone in (p.dispatcher, p.engineer, p.customer_user_a, p.provider_admin):
        assert client_for(someone).get("/job-templates/").status_code == 403
        assert client_for(someone).get(f"/job-templates/{template.pk}/").status_code == 404


def test_the_work_order_page_shows_the_steps_and_the_dispatcher_edits_them(stepped, client_for):
    p = stepped
    dispatcher = client_for(p.dispatcher)
    page = dispatcher.get(f"/orders/{p.order.pk}/").content.decode()
    assert 'id="job-steps"' in page and "液压油温" in page and "order-step-add" in page
    dispatcher.post(f"/job-templates/orders/{p.order.pk}/steps/", {"kind": "scan", "title": "扫描铭牌"})
    assert p.order.job_steps.filter(title="扫描铭牌").exists()
    on_site(p)
    response = dispatcher.post(f"/job-templates/orders/{p.order.pk}/steps/{p.oil.pk}/remove/")
    assert response.status_code == 302
    assert p.order.job_steps.filter(pk=p.oil.pk).exists()
    page = dispatcher.get(f"/orders/{p.order.pk}/").content.decode()
    assert "order-step-add" not in page


def test_the_phone_saves_one_step_per_post_and_flags_out_of_range(stepped, client_for):
    p = stepped
    on_site(p)
    phone = client_for(p.engineer)
    page = phone.get(f"/m/orders/{p.order.pk}/").content.decode()
    assert f'id="step-{p.oil.pk}"' in page and "hx-post" in page
    url = f"/m/orders/{p.order.pk}/steps/{p.oil.pk}/answer/"
    response = phone.post(url, {"value": "70"}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    body = response.content.decode()
    assert f"comment-{p.oil.pk}_error" in body and f'id="step-{p.oil.pk}"' in body
    p.oil.refresh_from_db()
    assert p.oil.answered_at is None
    response = phone.post(url, {"value": "70", "comment": "冷却水不足"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "out of range" in response.content.decode()
    p.oil.refresh_from_db()
    assert p.oil.out_of_range and p.oil.comment == "冷却水不足"
    # Without htmx the form still works: back to the page.
    response = phone.post(f"/m/orders/{p.order.pk}/steps/{p.door.pk}/answer/", {"value": "yes"})
    assert response.status_code == 302
    p.door.refresh_from_db()
    assert p.door.value_bool is True


def test_the_phone_refuses_steps_of_others(stepped, client_for):
    p = stepped
    on_site(p)
    url = f"/m/orders/{p.order.pk}/steps/{p.door.pk}/answer/"
    assert client_for(p.other_engineer).post(url, {"value": "yes"}).status_code == 404
    assert client_for(p.customer_user_a).post(url, {"value": "yes"}).status_code in (403, 404)
    assert client_for(p.provider_engineer).post(url, {"value": "yes"}).status_code in (403, 404)
    # A step of another order through this order's address: 404.
    other = factories.work_order(p.customer_cn, actor=p.agent)
    services.add_order_step(other, actor=p.dispatcher, kind="yes_no", title="x")
    step = other.job_steps.get()
    assert (
        client_for(p.engineer).post(f"/m/orders/{p.order.pk}/steps/{step.pk}/answer/", {"value": "yes"}).status_code
        == 404
    )
    p.door.refresh_from_db()
    step.refresh_from_db()
    assert p.door.answered_at is None and step.answered_at is None


# API ------------------------------------------------------------------------------------------------


def test_the_api_lists_and_answers_steps(stepped, api_client_for):
    p = stepped
    on_site(p)
    api = api_client_for(p.engineer)
    listed = api.get(f"/api/v1/work-orders/{p.order.pk}/steps").json()
    assert [s["title"] for s in listed] == ["液压油温", "安全门正常"]
    url = f"/api/v1/work-orders/{p.order.pk}/steps/{p.oil.pk}/answer"
    response = api.post(url, {"value": "99"}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "comment"]
    response = api.post(url, {"value": "99", "comment": "传感器故障"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["out_of_range"] is True
    response = api.post(url, {"value": "40"}, content_type="application/json")  # the correction overwrites
    assert response.json()["out_of_range"] is False and response.json()["value_number"] == "40.0000"
    assert api_client_for(p.other_engineer).get(f"/api/v1/work-orders/{p.order.pk}/steps").status_code == 404
    assert (
        api_client_for(p.customer_user_z).post(url, {"value": "1"}, content_type="application/json").status_code == 404
    )


def test_the_api_edits_steps_until_check_in_then_409(stepped, api_client_for):
    p = stepped
    api = api_client_for(p.dispatcher)
    response = api.post(
        f"/api/v1/work-orders/{p.order.pk}/steps",
        {"kind": "text", "title": "客户意见"},
        content_type="application/json",
    )
    assert response.status_code == 201
    on_site(p)
    response = api.post(
        f"/api/v1/work-orders/{p.order.pk}/steps", {"kind": "text", "title": "late"}, content_type="application/json"
    )
    assert response.status_code == 409 and response.json()["code"] == "visit_started"
    assert not p.order.job_steps.filter(title="late").exists()


def test_the_api_manages_templates(visit, api_client_for):
    p = visit
    api = api_client_for(p.admin)
    response = api.post(
        "/api/v1/job-templates",
        {
            "name": "校准 Calibration",
            "service_type": "inspection",
            "report_layout": "certificate",
            "steps": [{"kind": "number", "title": "压力", "unit": "MPa", "min_value": "13.5", "max_value": "14.5"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    template_id = response.json()["id"]
    response = api.post(
        f"/api/v1/job-templates/{template_id}/steps",
        {"kind": "choice", "title": "外观", "choices": ["好"]},
        content_type="application/json",
    )
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "choices"]
    assert api.get("/api/v1/job-templates").json()["count"] == 1
    assert api_client_for(p.dispatcher).get("/api/v1/job-templates").json()["count"] == 0
    assert (
        api_client_for(p.dispatcher)
        .post("/api/v1/job-templates", {"name": "x", "service_type": "repair"}, content_type="application/json")
        .status_code
        == 403
    )


def test_a_photo_step_through_the_api(stepped, api_client_for):
    p = stepped
    services.add_order_step(p.order, actor=p.dispatcher, kind="photo", title="拍照")
    step = p.order.job_steps.get(title="拍照")
    on_site(p)
    api = api_client_for(p.engineer)
    url = f"/api/v1/work-orders/{p.order.pk}/steps/{step.pk}/answer-file"
    bad = api.post(url, {"file": png_file("x.png")}, format="multipart")
    assert bad.status_code == 200, bad.content
    step.refresh_from_db()
    assert step.attachment_id is not None


def test_a_signature_step_takes_the_pad_and_refuses_a_blank_one(stepped, client_for):
    p = stepped
    services.add_order_step(p.order, actor=p.dispatcher, kind="signature", title="客户确认签字")
    step = p.order.job_steps.get(kind="signature")
    on_site(p)
    phone = client_for(p.engineer)
    url = f"/m/orders/{p.order.pk}/steps/{step.pk}/answer/"
    blank = "data:image/png;base64," + base64.b64encode(png_file("b.png", ink=False).read()).decode()
    response = phone.post(url, {"signature": blank}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    step.refresh_from_db()
    assert step.answered_at is None
    inked = "data:image/png;base64," + base64.b64encode(png_file("s.png").read()).decode()
    response = phone.post(url, {"signature": inked}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    step.refresh_from_db()
    assert step.attachment.kind == "signature"
