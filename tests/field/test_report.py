"""The service report PDF: a valid PDF whose text (Chinese included) says what was done."""

import os
import shutil
import subprocess
from io import BytesIO

import pytest
from pypdf import PdfReader

from fieldservice.core.fonts import cjk_font_file
from fieldservice.field import report, services
from tests.field.conftest import ready_to_complete, with_helper


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


@pytest.fixture
def completed(visit, django_capture_on_commit_callbacks):
    with_helper(visit)
    ready_to_complete(visit)
    with django_capture_on_commit_callbacks(execute=False):
        services.complete_visit(visit.order, actor=visit.engineer)
    visit.order.refresh_from_db()
    return visit


def test_the_report_says_what_was_done(completed, settings):
    from fieldservice.accounts.models import Organisation

    Organisation.objects.filter(pk=completed.own.pk).update(
        name="宁波海天售后服务部", phone="0574-8888 0000", address="宁波市江北区"
    )
    data = report.render_service_report(completed.order)
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    for expected in (
        "宁波海天售后服务部",
        "0574-8888 0000",
        completed.order.number,
        "宁波精密机械有限公司",
        "宁波市北仑区港口路88号",
        "IM-200",
        "SN-宁波-0001",
        "LOT-7",
        "液压油温度报警",
        "油温过高",
        "Replace part",
        "冷却器堵塞",
        "清洗冷却器",
        "MOTOR-1",
        "伺服电机",
        "M-NEW-1",
        "SEAL-9",
        "2.5",
        "engineer",
        "helper",
        "王经理",
    ):
        assert expected in text, expected


def test_times_are_in_the_local_time_zone(completed, settings):
    import datetime as dt

    from django.utils import timezone

    local = timezone.localtime(completed.order.checked_in_at).strftime("%Y-%m-%d %H:%M")
    utc = completed.order.checked_in_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")
    assert settings.TIME_ZONE == "Asia/Shanghai" and local != utc
    text = pdf_text(report.render_service_report(completed.order))
    assert local in text and utc not in text


def test_the_report_follows_the_active_language(completed):
    from django.utils import translation

    with translation.override("zh-hans"):
        text = pdf_text(report.render_service_report(completed.order))
        label = translation.gettext("Serial number")
    assert label == "序列号"
    assert label in text and "Serial number" not in text
    assert "SN-宁波-0001" in text


def poppler(tool: str) -> str:
    """The path of a poppler-utils tool. CI must have it (./dev installs it); elsewhere the
    test is skipped without it."""
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is missing: install the Debian package poppler-utils")
        pytest.skip(f"{tool} not installed (Debian: poppler-utils)")
    return path


def pdf_fonts(pdf) -> list[dict]:
    """pdffonts' table, one dict per font: name, type, emb."""
    output = subprocess.run([poppler("pdffonts"), str(pdf)], check=True, capture_output=True, text=True).stdout
    lines = output.splitlines()
    header, rule = lines[0], lines[1]
    # Columns are fixed-width: cut each row where the dashes of the rule line break.
    cuts = [0] + [i + 1 for i, char in enumerate(rule) if char == " "] + [len(rule) + 50]
    columns = [header[a:b].strip() for a, b in zip(cuts, cuts[1:], strict=False)]
    return [
        dict(zip(columns, (row[a:b].strip() for a, b in zip(cuts, cuts[1:], strict=False)), strict=False))
        for row in lines[2:]
    ]


@pytest.fixture
def fault_tree(completed):
    """A fault under a parent, so the report shows the "parent › child" path."""
    from tests import factories

    completed.fault.parent = factories.fault_category("hydraulic", name="液压系统")
    completed.fault.save()
    return completed


@pytest.mark.parametrize(("language", "label"), [("zh-hans", "序列号"), ("en", "Serial number")])
def test_every_font_is_embedded_and_chinese_and_symbols_come_back(fault_tree, tmp_path, language, label):
    from django.utils import translation

    pdf = tmp_path / "report.pdf"
    with translation.override(language):
        pdf.write_bytes(report.render_service_report(fault_tree.order))
    fonts = pdf_fonts(pdf)
    assert fonts, "the report uses no font at all?"
    for font in fonts:
        # Not embedded means the reader substitutes whatever it has: boxes for "›" and "·".
        assert font["emb"] == "yes", font
        assert "Helvetica" not in font["name"] and "STSong" not in font["name"], font
    text = subprocess.run(
        [poppler("pdftotext"), "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    for expected in (
        label,
        "宁波精密机械有限公司",
        "液压系统 › 油温过高",
        f"· {fault_tree.order.number}",
        "SN-宁波-0001",
    ):
        assert expected in text, expected


def test_the_font_comes_with_the_python_dependencies(completed, settings):
    """No system font is needed: the report must look the same on any machine ./dev sets up."""
    settings.FSM_REPORT_FONT = ""
    report.report_font.cache_clear()
    try:
        path, _index = cjk_font_file()
        assert not str(path).startswith("/usr/share/fonts")
        assert path.is_file()
        data = report.render_service_report(completed.order)
    finally:
        report.report_font.cache_clear()
    assert b"/FontFile2" in data  # an embedded TrueType font program
    assert "宁波精密机械有限公司" in pdf_text(data)


def test_a_configured_font_that_cannot_be_embedded_is_not_used(completed, settings, caplog):
    settings.FSM_REPORT_FONT = "/nonexistent/font.ttc:0"
    report.report_font.cache_clear()
    try:
        data = report.render_service_report(completed.order)
    finally:
        report.report_font.cache_clear()
    assert "/nonexistent/font.ttc" in caplog.text
    assert b"/FontFile2" in data
    assert "宁波精密机械有限公司" in pdf_text(data)


def test_the_first_page_renders_as_an_image(completed, tmp_path):
    pdftoppm = poppler("pdftoppm")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(report.render_service_report(completed.order))
    subprocess.run([pdftoppm, "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    (page,) = tmp_path.glob("page*.png")
    assert page.read_bytes().startswith(b"\x89PNG") and page.stat().st_size > 5000


def test_a_missing_photo_file_does_not_stop_the_report(completed):
    from fieldservice.field.selectors import photos_of

    photo = photos_of(completed.order).get()
    photo.file.storage.delete(photo.file.name)
    data = report.render_service_report(completed.order)
    assert "宁波精密机械有限公司" in pdf_text(data)


def test_a_remote_fix_report_has_no_signature(visit, django_capture_on_commit_callbacks):
    from tests.field.conftest import on_site, record

    on_site(visit)
    record(visit, resolution_type="remote_fix")
    with django_capture_on_commit_callbacks(execute=False):
        services.complete_visit(visit.order, actor=visit.engineer)
    text = pdf_text(report.render_service_report(visit.order))
    assert "Remote fix" in text and "Not signed" in text and "No parts used" in text


def test_a_superseded_part_keeps_the_old_number_on_the_report(visit, django_capture_on_commit_callbacks):
    from tests import factories
    from tests.field.conftest import on_site, png_file, record

    successor = factories.part(part_number="MOTOR-2", name="新款伺服电机")
    factories.fill_van(visit.engineer, successor, 1, source=visit.store)
    on_site(visit)
    record(visit)
    motor = visit.machine.fitted_parts.get(part=visit.motor)
    services.use_part(visit.order, actor=visit.engineer, part=successor, quantity=1, replaces=motor, new_serial="N2")
    services.capture_signature(visit.order, actor=visit.engineer, image_file=png_file(), signer_name="王经理")
    with django_capture_on_commit_callbacks(execute=False):
        services.complete_visit(visit.order, actor=visit.engineer)
    assert not visit.machine.fitted_parts.filter(part=visit.motor).exists()
    text = pdf_text(report.render_service_report(visit.order))
    assert "MOTOR-2" in text and "新款伺服电机" in text and "MOTOR-1" in text
