"""The report shows the job steps' answers in the layout the order's template chose."""

import os
from io import BytesIO

import pytest
from django.utils import translation
from pypdf import PdfReader

from fieldservice.field import report, services
from tests.field.conftest import on_site, png_file, record

STEPS = [
    {"kind": "number", "title": "液压油温 Oil temperature", "unit": "℃", "min_value": "30", "max_value": "55"},
    {"kind": "number", "title": "系统压力 System pressure", "unit": "MPa", "min_value": "13.5", "max_value": "14.5"},
    {"kind": "yes_no", "title": "安全门联锁正常 Safety gate interlock works"},
    {"kind": "choice", "title": "油位 Oil level", "choices": ["高", "正常", "低"]},
    {"kind": "photo", "title": "铭牌照片 Name plate photo"},
    {"kind": "text", "title": "备注 Notes", "required": False},
]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


@pytest.fixture
def answered(visit, django_capture_on_commit_callbacks):
    p = visit

    def complete(layout):
        template = services.create_job_template(
            actor=p.admin, name="注塑机年度保养", service_type="repair", report_layout=layout, steps=STEPS
        )
        services.set_order_template(p.order, actor=p.dispatcher, template=template)
        on_site(p)
        record(p)
        steps = list(p.order.job_steps.order_by("position"))
        services.answer_steps(
            p.order,
            actor=p.engineer,
            answers=[
                (steps[0], {"value": "68", "comment": "冷却水阀门半开 cooling valve half open"}),
                (steps[1], {"value": "14.1"}),
                (steps[2], {"value": "yes"}),
                (steps[3], {"value": "正常"}),
                (steps[4], {"file": png_file("plate.png", size=(120, 80))}),
            ],
        )
        services.capture_signature(p.order, actor=p.engineer, image_file=png_file("sig.png"), signer_name="王经理")
        with django_capture_on_commit_callbacks(execute=False):
            services.complete_visit(p.order, actor=p.engineer)
        return p.order

    return complete


@pytest.mark.parametrize("layout", ["standard", "checklist", "certificate"])
def test_the_report_shows_the_answers_in_its_layout(answered, layout):
    order = answered(layout)
    for language in ("zh-hans", "en"):
        with translation.override(language):
            data = report.render_service_report(order)
        if os.environ.get("FSM_KEEP_REPORTS"):  # to look at them: pdftoppm -png -r 60 …
            with open(f"{os.environ['FSM_KEEP_REPORTS']}/{layout}-{language}.pdf", "wb") as handle:
                handle.write(data)
        text = pdf_text(data)
        # The embedded font draws no ℃: the report writes °C.
        assert "68 °C" in text and "冷却水阀门半开" in text and "14.1 MPa" in text
        with translation.override(language):
            expected = {
                "standard": translation.gettext("Service report"),
                "checklist": translation.gettext("Checklist report"),
                "certificate": translation.gettext("Calibration certificate"),
            }[layout]
        assert expected in text
        if layout == "certificate":
            assert f"CAL-{order.number}" in text
            with translation.override(language):
                failed = translation.pgettext("calibration result", "Fail")
            assert failed in text  # 68 °C is out of range
        else:
            assert "30–55 °C" in text
            with translation.override(language):
                assert translation.gettext("Out of range") in text
