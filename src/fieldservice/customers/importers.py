"""Customers and sites from a spreadsheet: their columns and how a row becomes a customer (with its
first contact) or a site. `core.importing` reads the file and runs each row in a savepoint; the
rows go through the same services a form uses, and look up what they name through the importing
user's selectors, so a row can only point at things that user may see."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fieldservice.accounts.selectors import providers_for
from fieldservice.core.importing import Column, Importer, Lookups, Row, call_service
from fieldservice.customers import services as customer_services
from fieldservice.customers.choices import CustomerKind, CustomerTier
from fieldservice.customers.selectors import customers_for, sites_for

CUSTOMER_COLUMNS = (
    Column(
        "code",
        "客户编码",
        aliases=("customer code", "编码", "客户代码", "客户编号"),
        help=gettext_lazy("Leave blank to number the customer automatically."),
        example_en="NB-0001",
    ),
    Column(
        "name",
        "客户名称",
        required=True,
        aliases=("customer name", "名称", "客户"),
        example_en="Ningbo Example Plastics Co., Ltd.",
        example_zh="宁波示例塑料有限公司",
    ),
    Column(
        "kind",
        "类型",
        aliases=("customer kind", "type", "客户类型"),
        help=gettext_lazy("company or person (公司 / 个人); blank means company."),
        example_en="company",
        example_zh="公司",
    ),
    Column(
        "tier",
        "等级",
        aliases=("customer tier", "客户等级", "级别"),
        help=gettext_lazy("strategic, key or standard (战略 / 重点 / 标准); blank means standard."),
        example_en="standard",
        example_zh="标准",
    ),
    Column("industry", "行业", aliases=("所属行业",), example_en="plastics", example_zh="注塑"),
    Column(
        "contact name",
        "联系人",
        aliases=("contact", "联系人姓名"),
        help=gettext_lazy("With a contact phone, adds the customer's first contact."),
        example_en="Zhang Wei",
        example_zh="张伟",
    ),
    Column(
        "contact phone",
        "联系电话",
        aliases=("phone", "mobile", "电话", "手机", "手机号", "联系人电话"),
        help=gettext_lazy("A Chinese mobile or landline number; other countries with their +code."),
        example_en="13957412345",
    ),
    Column(
        "contact email",
        "联系邮箱",
        aliases=("email", "e-mail", "邮箱", "电子邮件"),
        example_en="zhangwei@example.com",
    ),
    Column(
        "provider",
        "服务商",
        aliases=("service provider", "服务商名称"),
        help=gettext_lazy("The name of the service provider organisation that serves the customer, if any."),
    ),
)

SITE_COLUMNS = (
    Column(
        "customer code",
        "客户编码",
        required=True,
        aliases=("客户代码", "客户编号"),
        help=gettext_lazy("The code of an existing customer."),
        example_en="NB-0001",
    ),
    Column(
        "site name",
        "站点名称",
        required=True,
        aliases=("site", "name", "地点", "地点名称", "厂区"),
        example_en="Plant 1",
        example_zh="一厂",
    ),
    Column(
        "address",
        "地址",
        required=True,
        aliases=("详细地址",),
        example_en="No. 1 Example Road, Beilun, Ningbo",
        example_zh="宁波市北仑区示例路1号",
    ),
    Column("province", "省份", aliases=("省",), example_en="Zhejiang", example_zh="浙江省"),
    Column("city", "城市", aliases=("市",), example_en="Ningbo", example_zh="宁波市"),
    Column("district", "区县", aliases=("区", "区/县"), example_en="Beilun", example_zh="北仑区"),
    Column(
        "latitude",
        "纬度",
        aliases=("lat",),
        help=gettext_lazy("Decimal degrees, -90 to 90; give both latitude and longitude or neither."),
        example_en=29.889,
    ),
    Column(
        "longitude",
        "经度",
        aliases=("lng", "lon"),
        help=gettext_lazy("Decimal degrees, -180 to 180."),
        example_en=121.845,
    ),
)

# Service field name -> column, per service call, so a service's error lands on the right column.
CUSTOMER_FIELDS = {
    "code": "code",
    "name": "name",
    "kind": "kind",
    "tier": "tier",
    "industry": "industry",
    "service_provider": "provider",
}
CONTACT_FIELDS = {"name": "contact name", "phone": "contact phone", "email": "contact email"}
SITE_FIELDS = {
    "name": "site name",
    "address": "address",
    "province": "province",
    "city": "city",
    "district": "district",
    "latitude": "latitude",
    "longitude": "longitude",
}

KIND_WORDS = {
    "company": CustomerKind.COMPANY,
    "公司": CustomerKind.COMPANY,
    "企业": CustomerKind.COMPANY,
    "person": CustomerKind.PERSON,
    "个人": CustomerKind.PERSON,
}
TIER_WORDS = {
    "strategic": CustomerTier.STRATEGIC,
    "战略": CustomerTier.STRATEGIC,
    "战略客户": CustomerTier.STRATEGIC,
    "key": CustomerTier.KEY,
    "key account": CustomerTier.KEY,
    "重点": CustomerTier.KEY,
    "重点客户": CustomerTier.KEY,
    "standard": CustomerTier.STANDARD,
    "标准": CustomerTier.STANDARD,
    "普通": CustomerTier.STANDARD,
    "标准客户": CustomerTier.STANDARD,
}


# --- Lookups (also used by the equipment importer) -----------------------------------------


def find_customer(lookups: Lookups, row: Row, column: str):
    code = row.text(column).upper()
    if not code:
        return None
    customer = lookups.get("customer", code, lambda: customers_for(lookups.user).filter(code=code).first())
    if customer is None:
        row.error(column, _("No customer with code “%(code)s”.") % {"code": code})
    return customer


def find_provider(lookups: Lookups, row: Row, column: str):
    name = row.text(column)
    if not name:
        return None
    provider = lookups.get("provider", name, lambda: providers_for(lookups.user).filter(name__iexact=name).first())
    if provider is None:
        row.error(column, _("No service provider called “%(name)s”.") % {"name": name})
    return provider


def find_site(lookups: Lookups, row: Row, column: str, customer):
    name = row.text(column)
    if not name or customer is None:
        return None
    site = sites_for(lookups.user).filter(customer=customer, name=name).first()
    if site is None:
        row.error(
            column,
            _("Customer %(code)s has no site called “%(name)s”.") % {"code": customer.code, "name": name},
        )
    return site


# --- Rows ----------------------------------------------------------------------------------


def _choice(text: str, words: dict[str, str], default: str) -> str:
    if not text:
        return default
    # An unknown word goes to the service as it is, so the service's own message explains it.
    return words.get(text.strip().lower(), text)


def import_customer(user, row: Row, lookups: Lookups):
    name = row.text("name")
    code = row.text("code")
    kind = _choice(row.text("kind"), KIND_WORDS, CustomerKind.COMPANY)
    tier = _choice(row.text("tier"), TIER_WORDS, CustomerTier.STANDARD)
    provider = find_provider(lookups, row, "provider")
    industry = row.text("industry")
    contact_name, phone, email = row.text("contact name"), row.text("contact phone"), row.text("contact email")
    row.check()
    fields = {"name": name, "kind": kind, "tier": tier, "industry": industry, "service_provider": provider}
    if code:
        fields["code"] = code
    customer = call_service(CUSTOMER_FIELDS, customer_services.create_customer, actor=user, **fields)
    if contact_name or phone or email:
        call_service(
            CONTACT_FIELDS,
            customer_services.add_contact,
            customer,
            actor=user,
            name=contact_name,
            phone=phone,
            email=email,
        )
    return customer


def import_site(user, row: Row, lookups: Lookups):
    customer = find_customer(lookups, row, "customer code")
    fields = {key: row.text(column) for key, column in SITE_FIELDS.items()}
    row.check()
    return call_service(SITE_FIELDS, customer_services.create_site, customer, actor=user, **fields)


CUSTOMERS = Importer(
    kind="customers",
    label=gettext_lazy("Customers"),
    columns=CUSTOMER_COLUMNS,
    handler=import_customer,
    summary_columns=("code", "name"),
)
SITES = Importer(
    kind="sites",
    label=gettext_lazy("Sites"),
    columns=SITE_COLUMNS,
    handler=import_site,
    summary_columns=("customer code", "site name"),
)
