"""The import page and `core.importing`: preview (dry run), apply all-or-nothing or skipping bad rows."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from fieldservice.assets.models import Equipment
from fieldservice.core import importing
from fieldservice.core.models import Event
from fieldservice.customers.models import Contact, Customer, Site
from tests import factories

URL = "/import/"
ALL = importing.ImportMode.ALL_OR_NOTHING
SKIP = importing.ImportMode.SKIP_INVALID


def csv_upload(rows, name="data.csv", encoding="utf-8-sig"):
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return SimpleUploadedFile(name, text.getvalue().encode(encoding), content_type="text/csv")


def xlsx_upload(rows, name="data.xlsx"):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def counts():
    return {
        "customers": Customer.objects.count(),
        "contacts": Contact.objects.count(),
        "sites": Site.objects.count(),
        "equipment": Equipment.objects.count(),
        "events": Event.objects.count(),
    }


def preview(client, kind, upload, mode=ALL):
    return client.post(URL, {"kind": kind, "file": upload, "mode": mode})


def apply(client, preview_response, mode=None):
    form = preview_response.context["apply_form"]
    return client.post(URL, {"token": form.initial["token"], "mode": mode or form.initial["mode"]})


def errors_by_row(result):
    return {row.number: [(error.column, error.message) for error in row.errors] for row in result.rows if row.errors}


@pytest.fixture
def catalogue(personas):
    part = factories.part(part_number="HR-SCREW-40", name="Screw 40")
    model = factories.product_model(code="HR-160", name="HR-160 servo", bom=[(part, 1)], default_warranty_months=18)
    customer = factories.customer(actor=personas.admin, name="Ningbo Plastics", code="NB-0001")
    site = factories.site(customer, actor=personas.admin, name="Plant 1")
    return {"model": model, "customer": customer, "site": site, "part": part}


CUSTOMER_HEADER = [
    "code",
    "Name",
    "kind",
    "tier",
    "industry",
    "contact name",
    "contact phone",
    "contact email",
    "provider",
]


def test_csv_preview_writes_nothing_and_apply_creates_rows_with_events(personas, client_for):
    client = client_for(personas.agent)
    upload = csv_upload(
        [
            CUSTOMER_HEADER,
            [
                "yy-01",
                "Yuyao Moulding",
                "company",
                "key",
                "plastics",
                "Li Na",
                "139 5741 2345",
                "LI@example.com",
                "Provider B",
            ],
            ["", "Wang Wei", "person", "", "", "", "", "", ""],
        ]
    )
    before = counts()
    response = preview(client, "customers", upload)
    assert response.status_code == 200
    result = response.context["result"]
    assert (result.total, result.ok_count, result.error_count, result.applied) == (2, 2, 0, False)
    assert [row.number for row in result.rows] == [2, 3]
    assert counts() == before

    response = apply(client, response)
    assert response.context["result"].applied
    yuyao = Customer.objects.get(code="YY-01")
    assert (yuyao.kind, yuyao.tier, yuyao.service_provider) == ("company", "key", personas.provider)
    contact = yuyao.contacts.get()
    assert (contact.name, contact.phone, contact.email, contact.is_primary) == (
        "Li Na",
        "+8613957412345",
        "li@example.com",
        True,
    )
    person = Customer.objects.get(name="Wang Wei")
    assert person.kind == "person" and person.tier == "standard" and not person.contacts.exists()
    created = Event.objects.filter(action="created", actor=personas.agent)
    assert created.filter(object_pk=str(yuyao.pk), content_type__model="customer").exists()
    assert created.filter(object_pk=str(contact.pk), content_type__model="contact").exists()
    assert counts()["customers"] == before["customers"] + 2


def test_xlsx_with_chinese_headers_and_date_cells(personas, client_for, catalogue):
    client = client_for(personas.agent)
    upload = xlsx_upload(
        [
            ["型号*", "序列号*", "批次", "客户编码*", "地点名称", "安装日期", "保修结束"],
            ["hr-160", "A001", "2024-B05", "nb-0001", "Plant 1", dt.datetime(2024, 5, 10), None],
            ["HR-160", 20240002, "2024-B05", "NB-0001", None, "2024/6/1", "2026-06-30"],
        ]
    )
    response = preview(client, "equipment", upload)
    assert response.context["result"].ok_count == 2
    apply(client, response)
    first = Equipment.objects.get(serial_number="A001")
    assert (first.customer, first.site, first.lot_number) == (catalogue["customer"], catalogue["site"], "2024-B05")
    assert (first.installed_on, first.warranty_ends_on) == (dt.date(2024, 5, 10), dt.date(2025, 11, 10))
    assert list(first.fitted_parts.values_list("part__part_number", flat=True)) == ["HR-SCREW-40"]
    second = Equipment.objects.get(serial_number="20240002")
    assert (second.installed_on, second.warranty_ends_on, second.site) == (
        dt.date(2024, 6, 1),
        dt.date(2026, 6, 30),
        None,
    )
    assert Event.objects.filter(object_pk=str(second.pk), action="created", actor=personas.agent).exists()


def test_preview_lists_each_bad_row_with_its_column_and_reason_and_writes_nothing(personas, client_for, catalogue):
    client = client_for(personas.agent)
    before = counts()

    customers = preview(
        client,
        "customers",
        csv_upload(
            [
                CUSTOMER_HEADER,
                ["", "Good Co", "", "", "", "Zhao", "13957412345", "", ""],
                ["", "Bad Phone Co", "", "", "", "Qian", "12345", "", ""],
                ["", "Odd Co", "", "", "", "", "", "", "Nobody Services"],
            ]
        ),
    ).context["result"]
    assert errors_by_row(customers) == {
        3: [("contact phone", "“12345” is not a valid phone number.")],
        4: [("provider", "No service provider called “Nobody Services”.")],
    }

    sites = preview(
        client,
        "sites",
        csv_upload(
            [
                ["customer code", "site name", "address", "latitude", "longitude"],
                ["NB-0001", "Plant 2", "Beilun", "29.9", "121.8"],
                ["XX-404", "Plant 3", "Beilun", "29.9", "121.8"],
                ["NB-0001", "Plant 4", "Beilun", "200", "121.8"],
            ]
        ),
    ).context["result"]
    assert errors_by_row(sites) == {
        3: [("customer code", "No customer with code “XX-404”.")],
        4: [("latitude", "Latitude must be between -90 and 90.")],
    }

    equipment = preview(
        client,
        "equipment",
        csv_upload(
            [
                ["model code", "serial", "customer code", "installed on"],
                ["HR-160", "S-1", "NB-0001", "2024-01-15"],
                ["HR-160", "S-1", "NB-0001", "2024-01-16"],
                ["HR-160", "S-2", "NB-0001", "2025-13-01"],
                ["HR-999", "S-3", "NB-0001", ""],
            ]
        ),
    ).context["result"]
    assert errors_by_row(equipment) == {
        3: [("serial", "Serial number S-1 already exists for model HR-160.")],
        4: [("installed on", "“2025-13-01” is not a valid date; write it as YYYY-MM-DD.")],
        5: [("model code", "No product model with code “HR-999”.")],
    }
    assert (equipment.ok_count, equipment.error_count) == (1, 3)
    assert counts() == before


def test_the_page_shows_the_bad_rows_with_the_column_as_written_in_the_file(personas, client_for):
    upload = csv_upload([["客户名称", "联系人", "联系电话"], ["坏电话公司", "钱", "12345"]])
    response = preview(client_for(personas.agent), "customers", upload)
    html = response.content.decode()
    assert "联系电话" in html and "“12345” is not a valid phone number." in html
    assert "1 rows: 0 valid, 1 with errors." in html


def test_all_or_nothing_apply_with_one_bad_row_writes_nothing(personas, client_for, catalogue):
    client = client_for(personas.agent)
    upload = csv_upload(
        [["model code", "serial", "customer code"], ["HR-160", "G-1", "NB-0001"], ["HR-160", "G-1", "NB-0001"]]
    )
    before = counts()
    response = apply(client, preview(client, "equipment", upload, ALL))
    result = response.context["result"]
    assert not result.applied and result.created_count == 0 and result.error_count == 1
    assert "Nothing was imported" in response.content.decode()
    assert counts() == before


def test_skip_mode_writes_exactly_the_good_rows(personas, client_for, catalogue):
    client = client_for(personas.agent)
    upload = csv_upload(
        [
            ["model code", "serial", "customer code"],
            ["HR-160", "K-1", "NB-0001"],
            ["HR-160", "K-1", "NB-0001"],
            ["HR-160", "K-2", "NO-SUCH"],
            ["HR-160", "K-3", "NB-0001"],
        ]
    )
    before = counts()
    response = apply(client, preview(client, "equipment", upload, ALL), mode=SKIP)
    result = response.context["result"]
    assert result.applied and result.created_count == 2
    assert sorted(Equipment.objects.values_list("serial_number", flat=True)) == ["K-1", "K-3"]
    assert counts()["equipment"] == before["equipment"] + 2
    # One created event per machine, none for the skipped rows.
    assert counts()["events"] == before["events"] + 2


def test_apply_reads_the_stored_file_not_a_new_upload(personas, client_for, catalogue):
    client = client_for(personas.agent)
    response = preview(
        client, "sites", csv_upload([["customer code", "site name", "address"], ["NB-0001", "East", "x"]])
    )
    token = response.context["apply_form"].initial["token"]
    other = csv_upload([["customer code", "site name", "address"], ["NB-0001", "Smuggled", "x"]])
    client.post(URL, {"token": token, "mode": ALL, "file": other, "kind": "sites"})
    assert list(catalogue["customer"].sites.order_by("name").values_list("name", flat=True)) == ["East", "Plant 1"]
    # The token is spent: applying again imports nothing more.
    again = client.post(URL, {"token": token, "mode": ALL}, follow=True)
    assert "no longer waiting" in again.content.decode()
    assert catalogue["customer"].sites.count() == 2


def test_another_users_preview_cannot_be_applied(personas, client_for, catalogue):
    response = preview(
        client_for(personas.agent),
        "sites",
        csv_upload([["customer code", "site name", "address"], ["NB-0001", "W", "x"]]),
    )
    token = response.context["apply_form"].initial["token"]
    before = counts()
    client_for(personas.admin).post(URL, {"token": token, "mode": ALL})
    assert counts() == before


@pytest.mark.parametrize("who", ["dispatcher", "director", "engineer", "provider_admin", "customer_user_a"])
def test_users_without_the_import_capability_get_403(personas, client_for, who):
    client = client_for(getattr(personas, who))
    before = counts()
    assert client.get(URL).status_code == 403
    assert client.get(reverse("site:import_template", args=["customers"])).status_code == 403
    upload = csv_upload([["name"], ["Sneaky Co"]])
    assert preview(client, "customers", upload, SKIP).status_code == 403
    assert counts() == before


def test_a_provider_cannot_import_sites_for_a_customer_it_cannot_see(personas, catalogue):
    # The page refuses providers (above); the import logic also only resolves codes the user may see.
    upload = csv_upload(
        [
            ["customer code", "site name", "address"],
            [personas.customer_z.code, "Hidden plant", "x"],
            [personas.customer_a.code, "Served plant", "x"],
        ]
    )
    before = counts()
    result = importing.run_import(personas.provider_admin, "sites", upload, SKIP, dry_run=False)
    assert errors_by_row(result) == {
        2: [("customer code", f"No customer with code “{personas.customer_z.code}”.")],
        3: [(None, "You may not import this row.")],
    }
    assert counts() == before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("customers.xls", b"\xd0\xcf\x11\xe0", "Upload an Excel workbook (.xlsx) or a CSV file (.csv)."),
        ("customers.txt", b"name\nA\n", "Upload an Excel workbook (.xlsx) or a CSV file (.csv)."),
        ("customers.xlsx", b"PK\x03\x04 not really a workbook", "The file is not a valid Excel workbook (.xlsx)."),
        ("customers.csv", b"nmae\nA\n", "Unknown columns: \u201cnmae\u201d."),
        ("customers.csv", b"industry\nplastics\n", "Required columns are missing: \u201cname\u201d."),
        ("customers.csv", b"", "The submitted file is empty."),
        ("customers.csv", b"name\n", "The file has column names but no rows."),
    ],
)
def test_unusable_files_are_rejected_with_a_field_error(personas, client_for, name, content, message):
    before = counts()
    response = preview(client_for(personas.agent), "customers", SimpleUploadedFile(name, content))
    assert response.status_code == 200
    assert "result" not in response.context
    assert any(message in error for error in response.context["form"].errors["file"])
    assert counts() == before


def test_files_over_5_mb_are_rejected(personas, client_for):
    big = SimpleUploadedFile("big.csv", b"name\n" + b"x" * (5 * 1024 * 1024))
    response = preview(client_for(personas.agent), "customers", big)
    assert "The file is too big" in response.context["form"].errors["file"][0]


def test_a_gb18030_csv_with_chinese_names_imports(personas, client_for):
    client = client_for(personas.agent)
    upload = csv_upload(
        [
            ["客户编码", "客户名称", "类型", "等级", "行业", "联系人", "联系电话", "服务商"],
            ["ZJ-88", "慈溪市恒达塑料制品有限公司", "公司", "战略", "注塑", "陈静", "13805741234", "Provider B"],
        ],
        encoding="gb18030",
    )
    assert upload.read().startswith("客户编码".encode("gb18030"))
    upload.seek(0)
    apply(client, preview(client, "customers", upload))
    customer = Customer.objects.get(code="ZJ-88")
    assert (customer.name, customer.tier, customer.industry) == ("慈溪市恒达塑料制品有限公司", "strategic", "注塑")
    assert customer.contacts.get().name == "陈静"


def test_utf8_csv_without_bom_and_semicolons(personas, client_for, catalogue):
    upload = SimpleUploadedFile(
        "s.csv", "客户编码;地点名称;地址;纬度;经度\r\nNB-0001;二厂;余姚市;30.04;121.15\r\n".encode()
    )
    client = client_for(personas.agent)
    apply(client, preview(client, "sites", upload))
    site = catalogue["customer"].sites.get(name="二厂")
    assert (site.latitude, site.longitude) == (Decimal("30.040000"), Decimal("121.150000"))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("kind", ["customers", "sites", "equipment"])
def test_the_downloaded_template_imports_as_it_is(personas, client_for, language, kind):
    part = factories.part()
    factories.product_model(code="HR-160", bom=[(part, 1)])
    if kind != "customers":  # the examples tell one story: customer NB-0001, its site, a machine there
        customer = factories.customer(actor=personas.admin, code="NB-0001")
    if kind == "equipment":
        factories.site(customer, actor=personas.admin, name="Plant 1" if language == "en" else "一厂")
    client = client_for(personas.agent)
    client.cookies["django_language"] = language
    response = client.get(reverse("site:import_template", args=[kind]))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 2
    if language == "zh-hans":
        assert any("\u4e00" <= ch <= "\u9fff" for ch in str(sheet.cell(1, 2).value))
    upload = SimpleUploadedFile(f"{kind}.xlsx", response.content)
    result = preview(client, kind, upload).context["result"]
    assert (result.ok_count, result.error_count) == (1, 0), errors_by_row(result)


def test_unknown_template_kind_is_404(personas, client_for):
    assert client_for(personas.agent).get("/import/template/parts.xlsx").status_code == 404


def test_the_page_documents_the_columns(personas, client_for):
    html = client_for(personas.agent).get(URL).content.decode()
    for header in ("contact phone", "联系电话", "serial", "序列号", "latitude", "纬度"):
        assert header in html


def test_row_numbers_match_the_spreadsheet_even_after_blank_rows(personas, catalogue):
    upload = xlsx_upload(
        [["customer code", "site name", "address"], [], ["NB-0001", "", "x"], [None, None], ["NB-0001", "S", "x"]]
    )
    result = importing.run_import(personas.agent, "sites", upload, ALL, dry_run=True)
    assert [(row.number, row.ok) for row in result.rows] == [(3, False), (5, True)]
    assert errors_by_row(result) == {3: [("site name", "This field is required.")]}


def test_anonymous_users_are_sent_to_sign_in(db, client):
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
