"""Job steps: templates and their validation, which template an order gets (set-based), the
dispatcher's changes before the visit, the engineer's answers, and completion."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fieldservice.assets.models import MeterReading
from fieldservice.core.errors import DomainError
from fieldservice.field import services
from fieldservice.field.models import JobStep, JobTemplate
from fieldservice.field.services.steps import attach_job_steps, template_for
from fieldservice.workorders.models import WorkOrder
from tests import factories
from tests.field.conftest import accept, on_site, png_file, record

NUMBER = {"kind": "number", "title": "液压油温", "unit": "℃", "min_value": "30", "max_value": "55"}


def make_template(p, name="T", steps=None, **fields):
    fields.setdefault("service_type", "repair")
    return services.create_job_template(actor=p.admin, name=name, steps=steps or [NUMBER], **fields)


def error_fields(excinfo) -> set[str]:
    return set(excinfo.value.error_dict)


# Templates: who, and what is refused ---------------------------------------------------------------


def test_only_an_administrator_manages_templates(visit):
    p = visit
    for someone in (p.dispatcher, p.agent, p.engineer, p.customer_user_a, p.provider_admin):
        with pytest.raises(PermissionDenied):
            services.create_job_template(actor=someone, name="x", service_type="repair")
    assert not JobTemplate.objects.exists()


@pytest.mark.parametrize(
    ("step", "field"),
    [
        ({"kind": "number", "title": "x", "min_value": "10", "max_value": "2"}, "min_value"),
        ({"kind": "choice", "title": "x", "choices": ["only one"]}, "choices"),
        ({"kind": "choice", "title": "x", "choices": ["a", "a"]}, "choices"),
        ({"kind": "yes_no", "title": "x", "min_value": "1"}, "min_value"),
        ({"kind": "text", "title": "x", "unit": "mm"}, "unit"),
        ({"kind": "text", "title": "x", "choices": ["a", "b"]}, "choices"),
        ({"kind": "number", "title": "x", "meter": "cycles"}, "meter"),
        ({"kind": "number", "title": "x", "min_value": "abc"}, "min_value"),
        ({"kind": "teleport", "title": "x"}, "kind"),
        ({"kind": "text", "title": "  "}, "title"),
        ({"kind": "text", "title": "x", "help_url": "javascript:alert(1)"}, "help_url"),
    ],
)
def test_a_bad_step_is_refused_naming_its_field(visit, step, field):
    template = make_template(visit, steps=[{"kind": "instruction", "title": "ok"}])
    with pytest.raises(ValidationError) as excinfo:
        services.add_template_step(template, actor=visit.admin, **step)
    assert field in error_fields(excinfo)
    assert template.steps.count() == 1


def test_a_template_names_a_model_or_a_line_not_both(visit):
    with pytest.raises(ValidationError) as excinfo:
        make_template(visit, product_model=visit.model, product_line="注塑机")
    assert error_fields(excinfo) == {"product_line"}
    assert not JobTemplate.objects.exists()


def test_steps_move_up_and_down_and_are_removed(visit):
    p = visit
    template = make_template(p, steps=[{"kind": "instruction", "title": t} for t in ("一", "二", "三")])
    one, two, three = template.steps.order_by("position")
    services.move_template_step(three, actor=p.admin, direction="up")
    assert [s.title for s in template.steps.order_by("position")] == ["一", "三", "二"]
    services.remove_template_step(one, actor=p.admin)
    assert [s.title for s in template.steps.order_by("position")] == ["三", "二"]
    with pytest.raises(DomainError):
        services.move_template_step(template.steps.order_by("position").first(), actor=p.admin, direction="up")


# Which template an order gets ----------------------------------------------------------------------


def _new_order(p, **request_fields):
    request = factories.service_request(p.customer_cn, actor=p.agent, equipment=p.machine, **request_fields)
    from fieldservice.workorders.services.intake import create_work_order

    return create_work_order(request, actor=p.agent)


def test_the_most_specific_active_template_wins(visit):
    p = visit
    parent = factories.fault_category("hydraulic", name="液压")
    p.fault.parent = parent
    p.fault.save()
    make_template(p, "any")
    make_template(p, "line", product_line=p.model.product_line or "注塑机")
    if not p.model.product_line:
        p.model.product_line = "注塑机"
        p.model.save()
    make_template(p, "other model", product_model=factories.product_model())
    make_template(p, "model", product_model=p.model)
    make_template(p, "parent fault", product_model=p.model, fault_category=parent)
    make_template(p, "fault", product_model=p.model, fault_category=p.fault)
    make_template(p, "other fault", product_model=p.model, fault_category=factories.fault_category())
    make_template(p, "line and fault", product_line=p.model.product_line, fault_category=p.fault)
    order = _new_order(p, fault_category=p.fault)
    assert template_for(order).name == "fault"
    # It got that template's steps when it was created (the hook).
    assert {s.template.name for s in order.job_steps.all()} == {"fault"}
    JobTemplate.objects.filter(name="fault").update(is_active=False)
    assert template_for(order).name == "parent fault"
    JobTemplate.objects.filter(name="parent fault").update(is_active=False)
    assert template_for(order).name == "model"  # the model beats the line, even the line's fault match
    JobTemplate.objects.filter(name="model").update(is_active=False)
    assert template_for(order).name == "line and fault"
    JobTemplate.objects.filter(name="line and fault").update(is_active=False)
    assert template_for(order).name == "line"
    JobTemplate.objects.filter(name="line").update(is_active=False)
    assert template_for(order).name == "any"
    JobTemplate.objects.filter(service_type="repair").update(service_type="maintenance")
    assert template_for(order) is None


def test_an_order_that_has_steps_keeps_them_and_a_template_edit_does_not_change_them(visit):
    p = visit
    template = make_template(p, "model", product_model=p.model)
    order = _new_order(p)
    assert order.job_steps.count() == 1
    services.add_template_step(template, actor=p.admin, kind="text", title="备注")
    assert attach_job_steps([order]) == 0
    assert order.job_steps.count() == 1


def test_attach_is_set_based(visit, django_assert_max_num_queries):
    p = visit
    make_template(p, "model", product_model=p.model, steps=[NUMBER, {"kind": "yes_no", "title": "安全门正常"}])
    other = make_template(p, "explicit", steps=[{"kind": "instruction", "title": "先断电"}])
    orders = [_new_order(p) for _ in range(3)]
    JobStep.objects.all().delete()
    # Many more orders than a page: the same handful of queries.
    many = list(WorkOrder.objects.filter(pk__in=[o.pk for o in orders])) * 1
    fake = [WorkOrder(pk=o.pk) for o in many]
    with django_assert_max_num_queries(5):
        assert attach_job_steps(fake) == 3
    assert JobStep.objects.filter(work_order__in=orders).count() == 6
    JobStep.objects.all().delete()
    with django_assert_max_num_queries(5):
        assert attach_job_steps(fake, other) == 3
    assert set(JobStep.objects.values_list("title", flat=True)) == {"先断电"}


def test_a_named_template_replaces_the_steps_of_creation_unless_one_is_answered(visit):
    """A plan, a campaign or an inspection names its template: it takes the place of the one the
    order got when it was created, but an order someone has started answering keeps its steps."""
    p = visit
    make_template(p, "model", product_model=p.model, steps=[NUMBER, {"kind": "yes_no", "title": "安全门正常"}])
    named = make_template(p, "named", steps=[{"kind": "instruction", "title": "先断电"}])
    fresh, started = _new_order(p), _new_order(p)
    assert fresh.job_steps.count() == started.job_steps.count() == 2
    started.job_steps.filter(position=1).update(answered_at=timezone.now())
    assert attach_job_steps([fresh, started], named) == 1
    assert list(fresh.job_steps.values_list("title", flat=True)) == ["先断电"]
    assert started.job_steps.count() == 2


def test_attach_counts_queries_for_thousands_of_orders(visit):
    p = visit
    make_template(p, "model", product_model=p.model, steps=[NUMBER, {"kind": "yes_no", "title": "安全门正常"}])
    order = _new_order(p)
    JobStep.objects.all().delete()
    # 3,000 orders made set-based (copies of one), as a maintenance run would.
    fields = {f.attname: getattr(order, f.attname) for f in WorkOrder._meta.concrete_fields if not f.primary_key}
    copies = WorkOrder.objects.bulk_create([WorkOrder(**{**fields, "number": f"B{i:06d}"}) for i in range(3000)])
    copies = list(WorkOrder.objects.filter(number__startswith="B"))
    with CaptureQueriesContext(connection) as queries:
        assert attach_job_steps(copies) == 3000
    reads = [q for q in queries.captured_queries if not q["sql"].startswith("INSERT")]
    assert len(reads) <= 4  # the orders having steps, their facts, the templates, their steps
    if connection.vendor == "postgresql":  # one INSERT of 6,000 rows (SQLite caps a statement's parameters)
        assert len(queries) <= 5
    assert JobStep.objects.filter(work_order__in=copies).count() == 6000


# The dispatcher, before the visit -----------------------------------------------------------------


def test_the_dispatcher_edits_steps_until_the_engineer_checks_in(visit):
    p = visit
    make_template(p, "model", product_model=p.model)
    order = _new_order(p)
    step = services.add_order_step(order, actor=p.dispatcher, kind="scan", title="扫描铭牌")
    assert [s.title for s in order.job_steps.order_by("position")] == ["液压油温", "扫描铭牌"]
    services.move_order_step(step, actor=p.dispatcher, direction="up")
    assert [s.title for s in order.job_steps.order_by("position")] == ["扫描铭牌", "液压油温"]
    with pytest.raises(PermissionDenied):
        services.add_order_step(order, actor=p.engineer, kind="text", title="x")
    other = make_template(p, "other", steps=[{"kind": "instruction", "title": "先断电"}])
    assert services.set_order_template(order, actor=p.dispatcher, template=other) == 1
    assert list(order.job_steps.values_list("title", flat=True)) == ["先断电"]
    # p.order (the fixture's, dispatched to our engineer) once he is on site:
    services.set_order_template(p.order, actor=p.dispatcher, template=other)
    on_site(p)
    with pytest.raises(DomainError) as excinfo:
        services.add_order_step(p.order, actor=p.dispatcher, kind="text", title="late")
    assert excinfo.value.code == "visit_started"
    with pytest.raises(DomainError):
        services.remove_order_step(p.order.job_steps.get(), actor=p.dispatcher)
    assert p.order.job_steps.count() == 1


# The engineer's answers -----------------------------------------------------------------------------


@pytest.fixture
def steps(visit):
    p = visit
    template = make_template(
        p,
        "full",
        steps=[
            NUMBER,
            {"kind": "yes_no", "title": "安全门正常"},
            {"kind": "choice", "title": "油位", "choices": ["高", "正常", "低"]},
            {"kind": "photo", "title": "拍照"},
            {"kind": "scan", "title": "扫描铭牌"},
            {"kind": "meter", "title": "运行小时", "unit": "h"},
            {"kind": "text", "title": "备注", "required": False},
        ],
    )
    services.set_order_template(p.order, actor=p.dispatcher, template=template)
    p.steps = {s.title: s for s in p.order.job_steps.all()}
    return p


def test_an_out_of_range_number_needs_a_comment(steps):
    p = steps
    on_site(p)
    oil = p.steps["液压油温"]
    with pytest.raises(ValidationError) as excinfo:
        services.answer_step(oil, actor=p.engineer, value="65")
    assert error_fields(excinfo) == {"comment"}
    oil.refresh_from_db()
    assert oil.answered_at is None
    answered = services.answer_step(oil, actor=p.engineer, value="65", comment="冷却水阀门半开")
    assert answered.out_of_range and answered.value_number == Decimal("65")
    # Corrected within range: no longer flagged, no comment needed.
    answered = services.answer_step(oil, actor=p.engineer, value="45.5")
    assert not answered.out_of_range and answered.value_number == Decimal("45.5")


@pytest.mark.parametrize(
    ("title", "value", "field"),
    [
        ("油位", "满", "value"),
        ("安全门正常", "maybe", "value"),
        ("扫描铭牌", "", "value"),
        ("扫描铭牌", "X" * 65, "value"),
        ("液压油温", "hot", "value"),
        ("拍照", None, "file"),
    ],
)
def test_a_wrong_answer_is_refused_naming_the_field(steps, title, value, field):
    p = steps
    on_site(p)
    with pytest.raises(ValidationError) as excinfo:
        services.answer_step(p.steps[title], actor=p.engineer, value=value)
    assert error_fields(excinfo) == {field}
    assert not p.order.job_steps.filter(answered_at__isnull=False).exists()


def test_a_photo_step_needs_an_image(steps):
    p = steps
    on_site(p)
    step = p.steps["拍照"]
    fake = SimpleUploadedFile("photo.jpg", b"not an image at all", content_type="image/jpeg")
    with pytest.raises(ValidationError) as excinfo:
        services.answer_step(step, actor=p.engineer, file=fake)
    assert error_fields(excinfo) == {"file"}
    assert not p.order.attachments.exists()
    answered = services.answer_step(step, actor=p.engineer, file=png_file("site.png"))
    assert answered.attachment.work_order_id == p.order.pk
    assert answered.attachment.kind == "photo"


def test_a_meter_step_records_the_machines_reading(steps):
    p = steps
    on_site(p)
    services.answer_step(p.steps["运行小时"], actor=p.engineer, value="1520")
    reading = MeterReading.objects.get(equipment=p.machine)
    assert reading.value == Decimal("1520") and reading.source == "engineer" and reading.meter == "operating_hours"
    with pytest.raises(ValidationError) as excinfo:  # counters only go up: named on `value`
        services.answer_step(p.steps["运行小时"], actor=p.engineer, value="1000")
    assert error_fields(excinfo) == {"value"}
    assert MeterReading.objects.filter(equipment=p.machine).count() == 1


def test_only_the_engineer_on_the_order_answers_on_site(steps):
    p = steps
    step = p.steps["安全门正常"]
    accept(p)
    with pytest.raises(DomainError) as excinfo:  # not on site yet
        services.answer_step(step, actor=p.engineer, value="yes")
    assert excinfo.value.code == "not_on_site"
    services.check_in(p.order, actor=p.engineer, latitude="29.868", longitude="121.544")
    for someone in (p.other_engineer, p.dispatcher, p.provider_engineer, p.customer_user_a):
        with pytest.raises(PermissionDenied):
            services.answer_step(step, actor=someone, value="yes")
    step.refresh_from_db()
    assert step.answered_at is None


def test_completion_refuses_while_a_required_step_is_open(steps):
    p = steps
    on_site(p)
    record(p)
    services.capture_signature(p.order, actor=p.engineer, image_file=png_file("sig.png"), signer_name="王经理")
    services.answer_step(p.steps["液压油温"], actor=p.engineer, value="40")
    with pytest.raises(DomainError) as excinfo:
        services.complete_visit(p.order, actor=p.engineer)
    assert excinfo.value.code == "steps_open"
    assert "5" in excinfo.value.message and "安全门正常" in excinfo.value.message
    p.order.refresh_from_db()
    assert p.order.status == "on_site"
    services.answer_steps(
        p.order,
        actor=p.engineer,
        answers=[
            (p.steps["安全门正常"], {"value": "yes"}),
            (p.steps["油位"], {"value": "正常"}),
            (p.steps["拍照"], {"file": png_file("p.png")}),
            (p.steps["扫描铭牌"], {"value": "SN-宁波-0001"}),
            (p.steps["运行小时"], {"value": "100"}),
        ],
    )
    services.complete_visit(p.order, actor=p.engineer)  # the optional text step stays open
    p.order.refresh_from_db()
    assert p.order.status == "completed"
    with pytest.raises(DomainError):  # no corrections once completed
        services.answer_step(p.steps["备注"], actor=p.engineer, value="late")
