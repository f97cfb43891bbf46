"""Every crossing of billing, table-driven: each persona asks for the other party's objects through
every read and every write of the API, the desk and phone pages and the follow link, and gets the
exact status its role deserves; a refused write changes nothing; customers, engineers and providers
never see our internal costs or margins.

The world: customer A (served by provider B; its order led by B's engineer) and customer Z (served
by nobody; its order led by our engineer), each with fee lines, a sent quotation, an issued bill with
a payment and an invoice request, and a margin row; March statements of provider B, provider C, our
engineer and another engineer of ours; a settlement rule. It is built once per test (a few tests,
each looping over its table; mismatches are collected so one run shows them all)."""

import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from fieldservice.billing.choices import FeeKind, FeeSource, Payer
from fieldservice.billing.models import (
    Bill,
    FeeLine,
    InvoiceRequest,
    OrderMargin,
    Payment,
    Quotation,
    QuotationVersion,
    SettlementRule,
    Statement,
    StatementLine,
)
from fieldservice.billing.services import charges, margins
from fieldservice.billing.services import quotations as quotation_services
from fieldservice.billing.services import settlement as settlement_services
from fieldservice.core.models import Event
from fieldservice.dispatch.models import Assignment
from tests import factories
from tests.billing.settlement_data import MARCH, closed_order

pytestmark = pytest.mark.django_db

API = "/api/v1/billing"
JSON = "application/json"
PERSONAS = (
    "admin",
    "agent",
    "dispatcher",
    "director",
    "parts_keeper",
    "engineer",
    "provider_admin",
    "provider_engineer",
    "other_provider_admin",
    "customer_user_a",
    "customer_user_z",
)
BACK_OFFICE = {"admin", "agent", "director"}  # VIEW_BILLING / MANAGE_BILLING
SETTLERS = {"admin", "director"}  # MANAGE_SETTLEMENT
UNIT_COST = Decimal("123.45")  # an internal cost figure no outsider may see
LINE_COST = Decimal("246.90")


# The world ----------------------------------------------------------------------------------------


def _fee(order, amount, *, kind=FeeKind.LABOUR, payer=Payer.CUSTOMER):
    return FeeLine.objects.create(
        work_order=order,
        kind=kind,
        description=f"{kind} line",
        quantity=Decimal("2"),
        unit_price=Decimal(amount) / 2,
        amount=Decimal(amount),
        unit_cost=UNIT_COST,
        cost=LINE_COST,
        payer=payer,
        source=FeeSource.OFFICE,
    )


def _side(p, customer, *, engineer, provider=None, customer_user):
    order = factories.work_order(customer, actor=p.agent)
    Assignment.objects.create(work_order=order, engineer=engineer, provider=provider, role="lead", status="accepted")
    fee = _fee(order, "600.00")
    _fee(order, "800.00", kind=FeeKind.TRAVEL, payer=Payer.WARRANTY)
    quotation = quotation_services.create_quotation(
        order,
        actor=p.agent,
        lines=[
            {
                "kind": FeeKind.SERVICE,
                "description": "Hydraulic flush",
                "quantity": "1",
                "unit_price": "900.00",
                "unit_cost": str(UNIT_COST),
            }
        ],
        valid_until=timezone.localdate() + dt.timedelta(days=14),
        tax_rate="13",
    )
    quotation_services.send_quotation(quotation, actor=p.agent)
    bill = charges.issue_bill(charges.draft_bill(order, actor=p.agent), actor=p.agent)
    payment = charges.record_payment(bill, actor=p.agent, amount="100.00", method="bank_transfer", reference="T-1")
    invoice = charges.request_invoice(bill, actor=customer_user, title=customer.name, tax_number="91330206MA2AXXXX1X")
    order.refresh_from_db()
    return {
        "order": order,
        "fee": fee,
        "quotation": quotation,
        "bill": bill,
        "payment": payment,
        "invoice": invoice,
        "token": order.request.follow_token,
    }


@pytest.fixture
def world(personas):
    p = personas
    p.other_engineer = factories.user("engineer", organisation=p.own, username="other_engineer")
    a = _side(p, p.customer_a, engineer=p.provider_engineer, provider=p.provider, customer_user=p.customer_user_a)
    z = _side(p, p.customer_z, engineer=p.engineer, customer_user=p.customer_user_z)
    margins.refresh([a["order"].pk, z["order"].pk])
    d = p.director
    rule = settlement_services.create_rule(actor=d, name="Engineers", basis="per_order", rate="50")
    settlement_services.create_rule(actor=d, name="B", basis="per_order", rate="80", provider=p.provider)
    settlement_services.create_rule(actor=d, name="C", basis="per_order", rate="70", provider=p.other_provider)
    closed_order(provider=p.provider)
    closed_order(provider=p.other_provider)
    closed_order(engineer=p.engineer)
    closed_order(engineer=p.other_engineer)
    settlement_services.generate_statements(actor=d, period_start=MARCH[0], period_end=MARCH[1])
    statements = {
        "stmt_b": Statement.objects.get(provider=p.provider),
        "stmt_c": Statement.objects.get(provider=p.other_provider),
        "stmt_eng": Statement.objects.get(engineer=p.engineer),
        "stmt_other_eng": Statement.objects.get(engineer=p.other_engineer),
    }
    p.objects = {f"{name}_a": obj for name, obj in a.items()} | {f"{name}_z": obj for name, obj in z.items()}
    p.objects |= statements
    p.objects |= {f"line_{key[5:]}": s.lines.order_by("pk").first() for key, s in statements.items()}
    p.objects["rule"] = rule
    return p


def snapshot() -> str:
    """Everything a billing write could change, as one digest."""
    rows = [
        list(FeeLine.objects.order_by("pk").values_list("pk", "amount", "unit_price", "cost", "payer", "is_void")),
        list(Quotation.objects.order_by("pk").values_list("pk", "status", "version", "total")),
        QuotationVersion.objects.count(),
        list(Bill.objects.order_by("pk").values_list("pk", "status", "total", "paid")),
        list(Payment.objects.order_by("pk").values_list("pk", "amount")),
        list(InvoiceRequest.objects.order_by("pk").values_list("pk", "status", "invoice_number")),
        list(Statement.objects.order_by("pk").values_list("pk", "status", "total", "payment_reference")),
        list(StatementLine.objects.order_by("pk").values_list("pk", "status", "amount", "statement_id")),
        list(SettlementRule.objects.order_by("pk").values_list("pk", "name", "rate", "is_active")),
        OrderMargin.objects.count(),
        Event.objects.count(),
    ]
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


def _clients(p, *, api: bool):
    from fieldservice.accounts.services import create_api_token

    clients = {}
    for name in PERSONAS:
        user = getattr(p, name)
        if api:
            _token, plain = create_api_token(user, actor=user, name="crossings")
            clients[name] = Client(headers={"Authorization": f"Bearer {plain}"})
        else:
            client = Client()
            client.force_login(user)
            clients[name] = client
    return clients


def _call(client, method, url, data=None, *, api: bool):
    if method == "get":
        return client.get(url)
    if method == "patch":
        return client.patch(url, json.dumps(data or {}), content_type=JSON)
    if api:
        return client.post(url, json.dumps(data or {}), content_type=JSON)
    return client.post(url, data or {})


def _attempt(client, method, url, data, *, api: bool, before: str | None = None):
    """The request in a savepoint rolled back after: a write that is allowed leaves the world as
    it was for the next persona; a refused one must not have changed anything before it. `before`:
    the world's snapshot, when the caller took it already (it is the same after every rollback)."""
    before = before or snapshot()
    with transaction.atomic():
        response = _call(client, method, url, data, api=api)
        changed = snapshot() != before
        transaction.set_rollback(True)
    return response, changed


def _ids(p) -> dict:
    ids = {name: getattr(obj, "pk", obj) for name, obj in p.objects.items()}
    ids["valid_until"] = (timezone.localdate() + dt.timedelta(days=10)).isoformat()
    for side in "az":
        ids[f"settled_order_{side}"] = p.objects[f"order_{side}"].pk
    for key in ("b", "c", "eng", "other_eng"):
        ids[f"line_order_{key}"] = p.objects[f"line_{key}"].work_order_id
    return ids


QUOTE_LINES = [{"kind": "service", "description": "Flush", "quantity": "1", "unit_price": "50"}]

# (method, path, body) per side; {order}, {fee}, ... are the side's objects.
API_READS = [
    ("get", "/work-orders/{order}/fee-lines", None),
    ("get", "/quotations/{quotation}", None),
    ("get", "/quotations/{quotation}/pdf", None),
    ("get", "/bills/{bill}", None),
    ("get", "/margins/orders/{order}", None),
]
API_WRITES = [
    ("post", "/work-orders/{order}/fee-lines", {"kind": "other", "description": "Toll", "unit_price": "10"}),
    ("post", "/fee-lines/{fee}/correct", {"reason": "typo", "unit_price": "10"}),
    ("post", "/fee-lines/{fee}/void", {"reason": "typo"}),
    ("post", "/work-orders/{order}/price", None),
    (
        "post",
        "/quotations",
        {"work_order": "{order}", "lines": QUOTE_LINES, "valid_until": "{valid_until}", "tax_rate": "13"},
    ),
    (
        "post",
        "/quotations/{quotation}/revise",
        {"lines": QUOTE_LINES, "valid_until": "{valid_until}", "tax_rate": "13"},
    ),
    ("post", "/quotations/{quotation}/send", None),
    ("post", "/quotations/{quotation}/approve", {"version": 1}),
    ("post", "/quotations/{quotation}/decline", {"version": 1, "reason": "too dear"}),
    ("post", "/quotations/{quotation}/void", {"reason": "wrong"}),
    ("post", "/bills", {"work_order": "{order}"}),
    ("post", "/bills/{bill}/issue", {}),
    ("post", "/bills/{bill}/write-off", {"reason": "gone"}),
    ("post", "/bills/{bill}/payments", {"amount": "10", "method": "cash"}),
    ("post", "/bills/{bill}/invoice-requests", {"title": "X Co", "tax_number": "91330206MA2AXXXX1X"}),
    ("post", "/invoice-requests/{invoice}/issue", {"invoice_number": "INV-9"}),
    ("post", "/invoice-requests/{invoice}/reject", {"reason": "no"}),
]
STATEMENT_CALLS = [
    ("get", "/statements/{stmt}", None),
    ("post", "/statements/{stmt}/confirm", None),
    ("post", "/statements/{stmt}/approve", None),
    ("post", "/statements/{stmt}/settle", {"payment_reference": "PAY-1"}),
    ("post", "/statement-lines/{line}/dispute", {"reason": "count again"}),
    ("post", "/statement-lines/{line}/correct", {"amount": "1", "reason": "count again"}),
    ("post", "/adjustments", {"work_order": "{line_order}", "amount": "1", "reason": "late"}),
]
GLOBAL_CALLS = [
    ("get", "/settlement-rules/{rule}", None),
    ("patch", "/settlement-rules/{rule}", {"rate": "1"}),
    ("post", "/settlement-rules/{rule}/deactivate", None),
    ("post", "/settlement-rules", {"name": "X", "basis": "per_order", "rate": "1"}),
    ("post", "/statements/generate", {"period_start": "2026-04-01", "period_end": "2026-04-30"}),
]


def _fill(value, names: dict):
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in names:
            return names[value[1:-1]]
        return value.format(**names)
    if isinstance(value, dict):
        return {key: _fill(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, names) for item in value]
    return value


def _api_cases(ids):
    for side in "az":
        names = {key[: -len(side) - 1]: value for key, value in ids.items() if key.endswith(f"_{side}")} | ids
        for method, path, body in API_READS + API_WRITES:
            yield f"{method} {path} [{side}]", method, _fill(path, names), _fill(body, names)
    for key in ("b", "c", "eng", "other_eng"):
        names = ids | {"stmt": ids[f"stmt_{key}"], "line": ids[f"line_{key}"], "line_order": ids[f"line_order_{key}"]}
        for method, path, body in STATEMENT_CALLS:
            yield f"{method} {path} [{key}]", method, _fill(path, names), _fill(body, names)
    for method, path, body in GLOBAL_CALLS:
        yield f"{method} {path}", method, _fill(path, ids), _fill(body, ids)


PAGE_SIDE = [
    ("get", "/billing/bills/{bill}/", None),
    ("get", "/billing/quotations/{quotation}/", None),
    ("get", "/billing/quotations/{quotation}/pdf/", None),
    ("get", "/billing/quotations/{quotation}/revise/", None),
    ("get", "/billing/quotations/new/{order}/", None),
    ("get", "/billing/orders/{order}/fees/add/", None),
    ("get", "/billing/orders/{order}/fees/other/", None),
    ("get", "/billing/fees/{fee}/correct/", None),
    ("get", "/billing/fees/{fee}/void/", None),
    ("post", "/billing/fees/{fee}/void/", {"reason": "typo"}),
    (
        "post",
        "/billing/orders/{order}/fees/add/",
        {"kind": "other", "description": "Toll", "unit_price": "10", "quantity": "1"},
    ),
    ("post", "/billing/orders/{order}/price/", {}),
    ("post", "/billing/orders/{order}/bill/", {}),
    ("post", "/billing/bills/{bill}/issue/", {}),
    ("post", "/billing/bills/{bill}/payments/", {"amount": "10", "method": "cash"}),
    ("post", "/billing/bills/{bill}/write-off/", {"reason": "gone"}),
    ("post", "/billing/invoice-requests/{invoice}/issue/", {"invoice_number": "INV-9"}),
    ("post", "/billing/invoice-requests/{invoice}/reject/", {"reason": "no"}),
    ("post", "/billing/quotations/{quotation}/send/", {}),
    ("post", "/billing/quotations/{quotation}/void/", {"reason": "wrong"}),
    ("post", "/billing/quotations/{quotation}/decision/", {"decision": "approve", "version": "1", "signer_name": "Li"}),
    ("post", "/billing/quotations/{quotation}/phone-decline/", {"reason": "too dear", "version": "1"}),
]
PAGE_STATEMENT = [
    ("get", "/billing/statements/{stmt}/", None),
    ("get", "/billing/my-statements/{stmt}/", None),
    ("post", "/billing/statements/{stmt}/confirm/", {}),
    ("post", "/billing/statements/{stmt}/approve/", {}),
    ("post", "/billing/statements/{stmt}/settle/", {"payment_reference": "PAY-1"}),
    ("post", "/billing/statement-lines/{line}/dispute/", {"reason": "count again"}),
    ("post", "/billing/statement-lines/{line}/correct/", {"amount": "1", "reason": "count again"}),
]
PAGE_GLOBAL = [
    ("get", "/billing/bills/", None),
    ("get", "/billing/receivables/", None),
    ("get", "/billing/quotations/", None),
    ("get", "/billing/margins/", None),
    ("get", "/billing/margins/contracts/", None),
    ("get", "/billing/margins/customers/", None),
    ("get", "/billing/margins/engineers/", None),
    ("get", "/billing/statements/", None),
    ("get", "/billing/my-statements/", None),
    ("get", "/billing/settlement-rules/", None),
    ("get", "/billing/settlement-rules/new/", None),
    ("get", "/billing/settlement-rules/{rule}/edit/", None),
    ("post", "/billing/settlement-rules/{rule}/deactivate/", {}),
    ("post", "/billing/statements/generate/", {"period_start": "2026-04-01", "period_end": "2026-04-30"}),
]


def _page_cases(ids):
    for side in "az":
        names = {key[: -len(side) - 1]: value for key, value in ids.items() if key.endswith(f"_{side}")} | ids
        for method, path, body in PAGE_SIDE:
            yield f"{method} {path} [{side}]", method, _fill(path, names), body
    for key in ("b", "c", "eng", "other_eng"):
        names = ids | {"stmt": ids[f"stmt_{key}"], "line": ids[f"line_{key}"]}
        for method, path, body in PAGE_STATEMENT:
            yield f"{method} {path} [{key}]", method, _fill(path, names), body
    for method, path, body in PAGE_GLOBAL:
        yield f"{method} {path}", method, _fill(path, ids), body


# The status each persona gets, in the order of PERSONAS:
#   admin agent dispatcher director parts_keeper engineer provider_admin provider_engineer
#   other_provider_admin customer_user_a customer_user_z
# [a]/[z]: customer A's objects (its order led by provider B's engineer) or customer Z's (led by our
# engineer); [b]/[c]/[eng]/[other_eng]: the statement of provider B, provider C, our engineer, another
# engineer of ours. 2xx/3xx: allowed (the write is rolled back after); 404: not yours, or no such
# object; 403: yours to see but not to do, or no right to this part of billing at all. A POST page
# that answers 302 for a refused move (its message on the page) must have written nothing either.
EXPECTED = {
    "get /work-orders/{order}/fee-lines [a]": "200 200 404 200 404 404 200 200 404 404 404",
    "get /quotations/{quotation} [a]": "200 200 404 200 404 404 200 200 404 200 404",
    "get /quotations/{quotation}/pdf [a]": "200 200 404 200 404 404 200 200 404 200 404",
    "get /bills/{bill} [a]": "200 200 403 200 403 403 403 403 403 200 404",
    "get /margins/orders/{order} [a]": "200 200 403 200 403 403 403 403 403 403 403",
    "post /work-orders/{order}/fee-lines [a]": "201 201 404 201 404 404 403 422 404 404 404",
    "post /fee-lines/{fee}/correct [a]": "200 200 404 200 404 404 403 403 404 404 404",
    "post /fee-lines/{fee}/void [a]": "200 200 404 200 404 404 403 403 404 404 404",
    "post /work-orders/{order}/price [a]": "200 200 404 200 404 404 403 403 404 404 404",
    "post /quotations [a]": "409 409 403 409 403 422 403 409 422 403 422",
    "post /quotations/{quotation}/revise [a]": "200 200 404 200 404 404 403 200 404 403 404",
    "post /quotations/{quotation}/send [a]": "409 409 404 409 404 404 403 409 404 403 404",
    "post /quotations/{quotation}/approve [a]": "200 200 404 200 404 404 403 403 404 200 404",
    "post /quotations/{quotation}/decline [a]": "200 200 404 200 404 404 403 403 404 200 404",
    "post /quotations/{quotation}/void [a]": "200 200 404 200 404 404 403 200 404 403 404",
    "post /bills [a]": "409 409 403 409 403 404 403 403 404 403 404",
    "post /bills/{bill}/issue [a]": "409 409 404 409 404 404 404 404 404 403 404",
    "post /bills/{bill}/write-off [a]": "200 200 404 200 404 404 404 404 404 403 404",
    "post /bills/{bill}/payments [a]": "201 201 404 201 404 404 404 404 404 403 404",
    "post /bills/{bill}/invoice-requests [a]": "409 409 404 409 404 404 404 404 404 409 404",
    "post /invoice-requests/{invoice}/issue [a]": "200 200 404 200 404 404 404 404 404 403 404",
    "post /invoice-requests/{invoice}/reject [a]": "200 200 404 200 404 404 404 404 404 403 404",
    "get /work-orders/{order}/fee-lines [z]": "200 200 404 200 404 200 404 404 404 404 404",
    "get /quotations/{quotation} [z]": "200 200 404 200 404 200 404 404 404 404 200",
    "get /quotations/{quotation}/pdf [z]": "200 200 404 200 404 200 404 404 404 404 200",
    "get /bills/{bill} [z]": "200 200 403 200 403 403 403 403 403 404 200",
    "get /margins/orders/{order} [z]": "200 200 403 200 403 403 403 403 403 403 403",
    "post /work-orders/{order}/fee-lines [z]": "201 201 404 201 404 422 404 404 404 404 404",
    "post /fee-lines/{fee}/correct [z]": "200 200 404 200 404 403 404 404 404 404 404",
    "post /fee-lines/{fee}/void [z]": "200 200 404 200 404 403 404 404 404 404 404",
    "post /work-orders/{order}/price [z]": "200 200 404 200 404 403 404 404 404 404 404",
    "post /quotations [z]": "409 409 403 409 403 409 422 422 422 422 403",
    "post /quotations/{quotation}/revise [z]": "200 200 404 200 404 200 404 404 404 404 403",
    "post /quotations/{quotation}/send [z]": "409 409 404 409 404 409 404 404 404 404 403",
    "post /quotations/{quotation}/approve [z]": "200 200 404 200 404 403 404 404 404 404 200",
    "post /quotations/{quotation}/decline [z]": "200 200 404 200 404 403 404 404 404 404 200",
    "post /quotations/{quotation}/void [z]": "200 200 404 200 404 200 404 404 404 404 403",
    "post /bills [z]": "409 409 403 409 403 403 404 404 404 404 403",
    "post /bills/{bill}/issue [z]": "409 409 404 409 404 404 404 404 404 404 403",
    "post /bills/{bill}/write-off [z]": "200 200 404 200 404 404 404 404 404 404 403",
    "post /bills/{bill}/payments [z]": "201 201 404 201 404 404 404 404 404 404 403",
    "post /bills/{bill}/invoice-requests [z]": "409 409 404 409 404 404 404 404 404 404 409",
    "post /invoice-requests/{invoice}/issue [z]": "200 200 404 200 404 404 404 404 404 404 403",
    "post /invoice-requests/{invoice}/reject [z]": "200 200 404 200 404 404 404 404 404 404 403",
    "get /statements/{stmt} [b]": "200 404 404 200 404 404 200 404 404 404 404",
    "post /statements/{stmt}/confirm [b]": "403 404 404 403 404 404 200 404 404 404 404",
    "post /statements/{stmt}/approve [b]": "200 404 404 200 404 404 403 404 404 404 404",
    "post /statements/{stmt}/settle [b]": "409 404 404 409 404 404 403 404 404 404 404",
    "post /statement-lines/{line}/dispute [b]": "403 404 404 403 404 404 200 404 404 404 404",
    "post /statement-lines/{line}/correct [b]": "200 404 404 200 404 404 403 404 404 404 404",
    "post /adjustments [b]": "409 403 403 409 403 403 403 403 403 403 403",
    "get /statements/{stmt} [c]": "200 404 404 200 404 404 404 404 200 404 404",
    "post /statements/{stmt}/confirm [c]": "403 404 404 403 404 404 404 404 200 404 404",
    "post /statements/{stmt}/approve [c]": "200 404 404 200 404 404 404 404 403 404 404",
    "post /statements/{stmt}/settle [c]": "409 404 404 409 404 404 404 404 403 404 404",
    "post /statement-lines/{line}/dispute [c]": "403 404 404 403 404 404 404 404 200 404 404",
    "post /statement-lines/{line}/correct [c]": "200 404 404 200 404 404 404 404 403 404 404",
    "post /adjustments [c]": "409 403 403 409 403 403 403 403 403 403 403",
    "get /statements/{stmt} [eng]": "200 404 404 200 404 200 404 404 404 404 404",
    "post /statements/{stmt}/confirm [eng]": "403 404 404 403 404 200 404 404 404 404 404",
    "post /statements/{stmt}/approve [eng]": "200 404 404 200 404 403 404 404 404 404 404",
    "post /statements/{stmt}/settle [eng]": "409 404 404 409 404 403 404 404 404 404 404",
    "post /statement-lines/{line}/dispute [eng]": "403 404 404 403 404 200 404 404 404 404 404",
    "post /statement-lines/{line}/correct [eng]": "200 404 404 200 404 403 404 404 404 404 404",
    "post /adjustments [eng]": "409 403 403 409 403 403 403 403 403 403 403",
    "get /statements/{stmt} [other_eng]": "200 404 404 200 404 404 404 404 404 404 404",
    "post /statements/{stmt}/confirm [other_eng]": "403 404 404 403 404 404 404 404 404 404 404",
    "post /statements/{stmt}/approve [other_eng]": "200 404 404 200 404 404 404 404 404 404 404",
    "post /statements/{stmt}/settle [other_eng]": "409 404 404 409 404 404 404 404 404 404 404",
    "post /statement-lines/{line}/dispute [other_eng]": "403 404 404 403 404 404 404 404 404 404 404",
    "post /statement-lines/{line}/correct [other_eng]": "200 404 404 200 404 404 404 404 404 404 404",
    "post /adjustments [other_eng]": "409 403 403 409 403 403 403 403 403 403 403",
    "get /settlement-rules/{rule}": "200 403 403 200 403 403 403 403 403 403 403",
    "patch /settlement-rules/{rule}": "200 403 403 200 403 403 403 403 403 403 403",
    "post /settlement-rules/{rule}/deactivate": "200 403 403 200 403 403 403 403 403 403 403",
    "post /settlement-rules": "201 403 403 201 403 403 403 403 403 403 403",
    "post /statements/generate": "200 403 403 200 403 403 403 403 403 403 403",
    "get /billing/bills/{bill}/ [a]": "200 200 403 200 403 403 403 403 403 403 403",
    "get /billing/quotations/{quotation}/ [a]": "200 200 404 200 404 404 200 200 404 200 404",
    "get /billing/quotations/{quotation}/pdf/ [a]": "200 200 404 200 404 404 200 200 404 200 404",
    "get /billing/quotations/{quotation}/revise/ [a]": "200 200 404 200 404 404 403 200 404 403 404",
    "get /billing/quotations/new/{order}/ [a]": "200 200 403 200 403 404 403 200 404 403 404",
    "get /billing/orders/{order}/fees/add/ [a]": "200 200 404 200 404 404 403 403 404 404 404",
    "get /billing/orders/{order}/fees/other/ [a]": "403 403 404 403 404 404 403 200 404 404 404",
    "get /billing/fees/{fee}/correct/ [a]": "200 200 404 200 404 404 403 403 404 404 404",
    "get /billing/fees/{fee}/void/ [a]": "200 200 404 200 404 404 403 403 404 404 404",
    "post /billing/fees/{fee}/void/ [a]": "302 302 404 302 404 404 403 403 404 404 404",
    "post /billing/orders/{order}/fees/add/ [a]": "302 302 404 302 404 404 403 403 404 404 404",
    "post /billing/orders/{order}/price/ [a]": "302 302 404 302 404 404 403 403 404 404 404",
    "post /billing/orders/{order}/bill/ [a]": "302 302 403 302 403 403 403 403 403 403 403",
    "post /billing/bills/{bill}/issue/ [a]": "302 302 403 302 403 403 403 403 403 403 403",
    "post /billing/bills/{bill}/payments/ [a]": "302 302 403 302 403 403 403 403 403 403 403",
    "post /billing/bills/{bill}/write-off/ [a]": "302 302 403 302 403 403 403 403 403 403 403",
    "post /billing/invoice-requests/{invoice}/issue/ [a]": "302 302 403 302 403 403 403 403 403 403 403",
    "post /billing/invoice-requests/{invoice}/reject/ [a]": "302 302 403 302 403 403 403 403 403 403 403",
    "post /billing/quotations/{quotation}/send/ [a]": "302 302 404 302 404 404 403 302 404 403 404",
    "post /billing/quotations/{quotation}/void/ [a]": "302 302 404 302 404 404 403 302 404 403 404",
    "post /billing/quotations/{quotation}/decision/ [a]": "302 302 404 302 404 404 403 403 404 403 404",
    "post /billing/quotations/{quotation}/phone-decline/ [a]": "404 404 404 404 404 404 404 302 404 404 404",
    "get /billing/bills/{bill}/ [z]": "200 200 403 200 403 403 403 403 403 403 403",
    "get /billing/quotations/{quotation}/ [z]": "200 200 404 200 404 200 404 404 404 404 200",
    "get /billing/quotations/{quotation}/pdf/ [z]": "200 200 404 200 404 200 404 404 404 404 200",
    "get /billing/quotations/{quotation}/revise/ [z]": "200 200 404 200 404 200 404 404 404 404 403",
    "get /billing/quotations/new/{order}/ [z]": "200 200 403 200 403 200 404 404 404 404 403",
    "get /billing/orders/{order}/fees/add/ [z]": "200 200 404 200 404 403 404 404 404 404 404",
    "get /billing/orders/{order}/fees/other/ [z]": "403 403 404 403 404 200 404 404 404 404 404",
    "get /billing/fees/{fee}/correct/ [z]": "200 200 404 200 404 403 404 404 404 404 404",
    "get /billing/fees/{fee}/void/ [z]": "200 200 404 200 404 403 404 404 404 404 404",
    "post /billing/fees/{fee}/void/ [z]": "302 302 404 302 404 403 404 404 404 404 404",
    "post /billing/orders/{order}/fees/add/ [z]": "302 302 404 302 404 403 404 404 404 404 404",
    "post /billing/orders/{order}/price/ [z]": "302 302 404 302 404 403 404 404 404 404 404",
    "post /billing/orders/{order}/bill/ [z]": "302 302 403 302 403 403 403 403 403 403 403",
    "post /billing/bills/{bill}/issue/ [z]": "302 302 403 302 403 403 403 403 403 403 403",
    "post /billing/bills/{bill}/payments/ [z]": "302 302 403 302 403 403 403 403 403 403 403",
    "post /billing/bills/{bill}/write-off/ [z]": "302 302 403 302 403 403 403 403 403 403 403",
    "post /billing/invoice-requests/{invoice}/issue/ [z]": "302 302 403 302 403 403 403 403 403 403 403",
    "post /billing/invoice-requests/{invoice}/reject/ [z]": "302 302 403 302 403 403 403 403 403 403 403",
    "post /billing/quotations/{quotation}/send/ [z]": "302 302 404 302 404 302 404 404 404 404 403",
    "post /billing/quotations/{quotation}/void/ [z]": "302 302 404 302 404 302 404 404 404 404 403",
    "post /billing/quotations/{quotation}/decision/ [z]": "302 302 404 302 404 403 404 404 404 404 403",
    "post /billing/quotations/{quotation}/phone-decline/ [z]": "404 404 404 404 404 302 404 404 404 404 404",
    "get /billing/statements/{stmt}/ [b]": "200 404 404 200 404 404 200 404 404 404 404",
    "get /billing/my-statements/{stmt}/ [b]": "302 404 404 302 404 404 302 404 404 404 404",
    "post /billing/statements/{stmt}/confirm/ [b]": "403 404 404 403 404 404 302 404 404 404 404",
    "post /billing/statements/{stmt}/approve/ [b]": "302 404 404 302 404 404 403 404 404 404 404",
    "post /billing/statements/{stmt}/settle/ [b]": "302 404 404 302 404 404 403 404 404 404 404",
    "post /billing/statement-lines/{line}/dispute/ [b]": "403 404 404 403 404 404 302 404 404 404 404",
    "post /billing/statement-lines/{line}/correct/ [b]": "302 404 404 302 404 404 403 404 404 404 404",
    "get /billing/statements/{stmt}/ [c]": "200 404 404 200 404 404 404 404 200 404 404",
    "get /billing/my-statements/{stmt}/ [c]": "302 404 404 302 404 404 404 404 302 404 404",
    "post /billing/statements/{stmt}/confirm/ [c]": "403 404 404 403 404 404 404 404 302 404 404",
    "post /billing/statements/{stmt}/approve/ [c]": "302 404 404 302 404 404 404 404 403 404 404",
    "post /billing/statements/{stmt}/settle/ [c]": "302 404 404 302 404 404 404 404 403 404 404",
    "post /billing/statement-lines/{line}/dispute/ [c]": "403 404 404 403 404 404 404 404 302 404 404",
    "post /billing/statement-lines/{line}/correct/ [c]": "302 404 404 302 404 404 404 404 403 404 404",
    "get /billing/statements/{stmt}/ [eng]": "200 404 404 200 404 200 404 404 404 404 404",
    "get /billing/my-statements/{stmt}/ [eng]": "302 404 404 302 404 200 404 404 404 404 404",
    "post /billing/statements/{stmt}/confirm/ [eng]": "403 404 404 403 404 302 404 404 404 404 404",
    "post /billing/statements/{stmt}/approve/ [eng]": "302 404 404 302 404 403 404 404 404 404 404",
    "post /billing/statements/{stmt}/settle/ [eng]": "302 404 404 302 404 403 404 404 404 404 404",
    "post /billing/statement-lines/{line}/dispute/ [eng]": "403 404 404 403 404 302 404 404 404 404 404",
    "post /billing/statement-lines/{line}/correct/ [eng]": "302 404 404 302 404 403 404 404 404 404 404",
    "get /billing/statements/{stmt}/ [other_eng]": "200 404 404 200 404 404 404 404 404 404 404",
    "get /billing/my-statements/{stmt}/ [other_eng]": "302 404 404 302 404 404 404 404 404 404 404",
    "post /billing/statements/{stmt}/confirm/ [other_eng]": "403 404 404 403 404 404 404 404 404 404 404",
    "post /billing/statements/{stmt}/approve/ [other_eng]": "302 404 404 302 404 404 404 404 404 404 404",
    "post /billing/statements/{stmt}/settle/ [other_eng]": "302 404 404 302 404 404 404 404 404 404 404",
    "post /billing/statement-lines/{line}/dispute/ [other_eng]": "403 404 404 403 404 404 404 404 404 404 404",
    "post /billing/statement-lines/{line}/correct/ [other_eng]": "302 404 404 302 404 404 404 404 404 404 404",
    "get /billing/bills/": "200 200 403 200 403 403 403 403 403 403 403",
    "get /billing/receivables/": "200 200 403 200 403 403 403 403 403 403 403",
    "get /billing/quotations/": "200 200 403 200 403 403 403 403 403 403 403",
    "get /billing/margins/": "200 200 403 200 403 403 403 403 403 403 403",
    "get /billing/margins/contracts/": "200 200 403 200 403 403 403 403 403 403 403",
    "get /billing/margins/customers/": "200 200 403 200 403 403 403 403 403 403 403",
    "get /billing/margins/engineers/": "200 200 403 200 403 403 403 403 403 403 403",
    "get /billing/statements/": "200 403 403 200 403 200 200 200 200 403 403",
    "get /billing/my-statements/": "200 403 403 200 403 200 200 200 200 403 403",
    "get /billing/settlement-rules/": "200 403 403 200 403 403 403 403 403 403 403",
    "get /billing/settlement-rules/new/": "200 403 403 200 403 403 403 403 403 403 403",
    "get /billing/settlement-rules/{rule}/edit/": "200 404 404 200 404 404 404 404 404 404 404",
    "post /billing/settlement-rules/{rule}/deactivate/": "302 404 404 302 404 404 404 404 404 404 404",
    "post /billing/statements/generate/": "302 403 403 302 403 403 403 403 403 403 403",
}


def _check(world, cases, *, api: bool) -> list[str]:
    clients = _clients(world, api=api)
    problems = []
    before = snapshot()
    for label, method, url, body in cases:
        expected = EXPECTED[label].split()
        for name, want in zip(PERSONAS, expected, strict=True):
            response, changed = _attempt(
                clients[name], method, (API if api else "") + url, body, api=api, before=before
            )
            got = str(response.status_code)
            if got != want:
                problems.append(f"{label} as {name}: {got}, expected {want}")
            if changed and (response.status_code >= 400 or want >= "400"):
                problems.append(f"{label} as {name}: refused ({got}) but the database changed")
    return problems


def test_every_api_operation_as_every_persona(world):
    problems = _check(world, _api_cases(_ids(world)), api=True)
    assert problems == []


def test_every_page_as_every_persona(world):
    problems = _check(world, _page_cases(_ids(world)), api=False)
    assert problems == []


def _items(response) -> list:
    return response.json()["items"]


def test_lists_hold_only_what_each_may_see(world):
    p, ids = world, _ids(world)
    clients = _clients(p, api=True)
    a_and_z = lambda key: {ids[f"{key}_a"], ids[f"{key}_z"]}  # noqa: E731
    statements = {ids[key] for key in ("stmt_b", "stmt_c", "stmt_eng", "stmt_other_eng")}
    nobody = dict.fromkeys(PERSONAS, 403)
    expected = {
        "/bills": nobody
        | dict.fromkeys(BACK_OFFICE, a_and_z("bill"))
        | {"customer_user_a": {ids["bill_a"]}, "customer_user_z": {ids["bill_z"]}},
        "/quotations": dict.fromkeys(PERSONAS, set())
        | dict.fromkeys(BACK_OFFICE, a_and_z("quotation"))
        | dict.fromkeys(("provider_admin", "provider_engineer", "customer_user_a"), {ids["quotation_a"]})
        | dict.fromkeys(("engineer", "customer_user_z"), {ids["quotation_z"]}),
        "/statements": nobody
        | dict.fromkeys(SETTLERS, statements)
        | {
            "engineer": {ids["stmt_eng"]},
            "provider_admin": {ids["stmt_b"]},
            "provider_engineer": set(),
            "other_provider_admin": {ids["stmt_c"]},
        },
        "/receivables": nobody
        | dict.fromkeys(BACK_OFFICE, {p.customer_a.pk, p.customer_z.pk})
        | {"customer_user_a": {p.customer_a.pk}, "customer_user_z": {p.customer_z.pk}},
        "/settlement-rules": nobody | dict.fromkeys(SETTLERS, set(SettlementRule.objects.values_list("pk", flat=True))),
        "/adjustments": nobody | dict.fromkeys(SETTLERS, set()),
        "/margins/orders": nobody | dict.fromkeys(BACK_OFFICE, None),
        "/margins/customers": nobody | dict.fromkeys(BACK_OFFICE, None),
        "/margins/engineers": nobody | dict.fromkeys(BACK_OFFICE, None),
        "/margins/contracts": nobody | dict.fromkeys(BACK_OFFICE, None),
    }
    problems = []
    for path, by_persona in expected.items():
        for name in PERSONAS:
            want = by_persona[name]
            response = clients[name].get(API + path)
            if want == 403:
                if response.status_code != 403:
                    problems.append(f"{path} as {name}: {response.status_code}, expected 403")
                continue
            if response.status_code != 200:
                problems.append(f"{path} as {name}: {response.status_code}, expected 200")
                continue
            if want is not None:
                key = "customer" if path == "/receivables" else "id"
                got = {item[key] for item in _items(response)}
                if got != want:
                    problems.append(f"{path} as {name}: {sorted(got)}, expected {sorted(want)}")
    assert problems == []


# Our costs, the estimated profit and the margins: the figures of the world (UNIT_COST, LINE_COST,
# the quotation's profit 900 − 123.45, the order's cost 2 × 246.90) as any page or answer would
# print them.
COST_FIGURES = ("123.45", "246.9", "776.55", "493.8")
COST_KEYS = {"cost", "unit_cost", "profit", "margin", "margin_percent", "parts_cost", "labour_cost"}


def _cost_values(data) -> list:
    """Every value under a cost key, anywhere in a JSON answer."""
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key in COST_KEYS and value is not None:
                found.append((key, value))
            found += _cost_values(value)
    elif isinstance(data, list):
        for item in data:
            found += _cost_values(item)
    return found


def test_costs_and_margins_never_reach_outsiders(world):
    ids = _ids(world)
    api = _clients(world, api=True)
    pages = _clients(world, api=False)
    answers = [API + "/quotations", API + "/bills", API + "/statements"]
    screens = ["/billing/quotations/", "/billing/bills/", "/billing/statements/", "/m/"]
    for side in "az":
        answers += [
            API + f"/work-orders/{ids['order_' + side]}/fee-lines",
            API + f"/quotations/{ids['quotation_' + side]}",
            API + f"/bills/{ids['bill_' + side]}",
        ]
        screens += [
            f"/billing/quotations/{ids['quotation_' + side]}/",
            f"/billing/bills/{ids['bill_' + side]}/",
            f"/billing/fees/{ids['fee_' + side]}/void/",
            f"/orders/{ids['order_' + side]}/",
            f"/m/orders/{ids['order_' + side]}/",
            f"/r/{ids['token_' + side]}/",
        ]
    for key in ("b", "c", "eng", "other_eng"):
        answers.append(API + f"/statements/{ids['stmt_' + key]}")
        screens += [f"/billing/statements/{ids['stmt_' + key]}/", f"/billing/my-statements/{ids['stmt_' + key]}/"]
    problems = []
    read = {}
    for name in PERSONAS:
        for url in answers + screens:
            response = (api if url.startswith(API) else pages)[name].get(url)
            if response.status_code != 200:
                continue
            body = response.content.decode()
            read[(name, url)] = body
            figures = [figure for figure in COST_FIGURES if figure in body]
            values = _cost_values(response.json()) if url.startswith(API) else []
            # The exception by design (issue 14: the author of a quotation sees its estimated
            # profit): our own engineer on the order, on the quotation's page; never a partner's.
            author = name == "engineer" and url == f"/billing/quotations/{ids['quotation_z']}/"
            if name in BACK_OFFICE or author:
                continue
            if figures or values:
                problems.append(f"{url} as {name}: {figures} {values}")
    assert problems == []
    # The figures are there for the back office (the check above looks for the right strings).
    fee_lines = json.loads(read[("agent", API + f"/work-orders/{ids['order_a']}/fee-lines")])["items"]
    assert {line["cost"] for line in fee_lines} == {str(LINE_COST)}
    assert "776.55" in read[("agent", f"/billing/quotations/{ids['quotation_a']}/")]
    assert "776.55" in read[("engineer", f"/billing/quotations/{ids['quotation_z']}/")]
    assert ("provider_engineer", f"/billing/quotations/{ids['quotation_a']}/") in read


def test_a_follow_link_reaches_only_its_own_orders(world):
    """The follow link of A's request with Z's order or quotation: "not found", nothing written."""
    ids = _ids(world)
    client = Client()
    token = ids["token_a"]
    own, other = ids["order_a"], ids["order_z"]
    cases = [
        ("post", f"/r/{token}/orders/{other}/pay/", {"method": "wechat_pay"}),
        ("post", f"/r/{token}/orders/{other}/invoice/", {"title": "X", "tax_number": "91330206MA2AXXXX1X"}),
        ("post", f"/r/{token}/orders/{other}/evaluation/", {"overall": 5}),
        ("get", f"/r/{token}/orders/{other}/report.pdf", None),
        ("post", f"/r/{token}/orders/{own}/quotations/{ids['quotation_z']}/approve/", {"version": "1"}),
        ("post", f"/r/{token}/orders/{own}/quotations/{ids['quotation_z']}/decline/", {"version": "1", "reason": "x"}),
        ("get", f"/r/{token}/orders/{own}/quotations/{ids['quotation_z']}/quotation.pdf", None),
        ("post", f"/r/{token}/orders/{other}/quotations/{ids['quotation_z']}/approve/", {"version": "1"}),
        ("get", f"/r/{token}/orders/{other}/quotations/{ids['quotation_z']}/quotation.pdf", None),
        ("get", f"/r/{token}x/", None),
    ]
    for odd in (0, 2**31, 2**63, 10**20):
        cases += [
            ("post", f"/r/{token}/orders/{odd}/pay/", {"method": "wechat_pay"}),
            ("post", f"/r/{token}/orders/{own}/quotations/{odd}/approve/", {"version": "1"}),
        ]
    problems = []
    for method, url, body in cases:
        response, changed = _attempt(client, method, url, body, api=False)
        if response.status_code != 404 or changed:
            problems.append(f"{method} {url}: {response.status_code}{' (wrote)' if changed else ''}")
    assert problems == []
    other_number = world.objects["order_z"].number
    page = client.get(f"/r/{token}/").content.decode()
    assert world.objects["order_a"].number in page and other_number not in page


def test_ids_nobody_has_answer_404_never_500(world):
    """Every one-object lookup with an id no row has (0, past 32 bits, past 64 bits): 404 on pages,
    404 or 422 (out of the documented range) in the API; as the administrator, who sees everything."""
    import re

    ids = _ids(world)
    api = _clients(world, api=True)["admin"]
    pages = _clients(world, api=False)["admin"]
    problems = []
    for odd in (0, 2**31, 2**63, 10**20):
        for cases, client, allowed, prefix in (
            (_api_cases(ids), api, {"404", "422"}, API),
            (_page_cases(ids), pages, {"404"}, ""),
        ):
            for label, method, url, body in cases:
                bent = re.sub(r"/\d+", f"/{odd}", url, count=1)
                if bent == url:
                    continue  # no id in the path (a list, a create)
                response = _call(client, method, prefix + bent, body, api=client is api)
                if str(response.status_code) not in allowed:
                    problems.append(f"{label} with {odd}: {response.status_code}")
        for url in (f"/billing/quotations/{ids['quotation_a']}/", f"/billing/quotations/{ids['quotation_a']}/pdf/"):
            response = pages.get(url, {"version": odd})
            if response.status_code not in (200, 404):
                problems.append(f"{url}?version={odd}: {response.status_code}")
    assert problems == []


def test_without_signing_in_nothing(world):
    """Anonymous: every page sends to the sign-in page, every API operation answers 401; nothing written."""
    ids = _ids(world)
    client = Client()
    problems = []
    before = snapshot()
    for label, method, url, body in _page_cases(ids):
        response, changed = _attempt(client, method, url, body, api=False, before=before)
        if response.status_code != 302 or not response["Location"].startswith("/login/") or changed:
            problems.append(f"{label}: {response.status_code}")
    for label, method, url, body in _api_cases(ids):
        response, changed = _attempt(client, method, API + url, body, api=True, before=before)
        if response.status_code != 401 or changed:
            problems.append(f"{label}: {response.status_code}")
    assert problems == []


def test_a_status_moves_only_by_its_verb(world):
    """No body sets a status (or a rule's activity): the field is named in a 422, nothing written."""
    ids = _ids(world)
    client = _clients(world, api=True)["admin"]
    valid_until = ids["valid_until"]
    cases = [
        ("post", "/bills", {"work_order": ids["order_z"], "status": "paid"}, "status"),
        ("post", f"/bills/{ids['bill_a']}/issue", {"status": "paid"}, "status"),
        ("post", f"/bills/{ids['bill_a']}/payments", {"amount": "1", "method": "cash", "paid": "9999"}, "paid"),
        (
            "post",
            f"/quotations/{ids['quotation_a']}/revise",
            {"lines": QUOTE_LINES, "valid_until": valid_until, "tax_rate": "13", "status": "approved"},
            "status",
        ),
        ("post", f"/fee-lines/{ids['fee_a']}/correct", {"reason": "x", "is_void": True}, "is_void"),
        ("post", f"/statements/{ids['stmt_b']}/settle", {"payment_reference": "R", "status": "settled"}, "status"),
        ("patch", f"/settlement-rules/{ids['rule']}", {"is_active": False}, "is_active"),
    ]
    problems = []
    before = snapshot()
    for method, path, body, field in cases:
        response, changed = _attempt(client, method, API + path, body, api=True, before=before)
        named = response.status_code == 422 and any(field in error["loc"] for error in response.json()["detail"])
        if not named or changed:
            problems.append(f"{method} {path}: {response.status_code} {response.content[:200]!r}")
    assert problems == []


def test_an_engineer_does_not_write_our_cost(world):
    """An engineer's own line takes its cost by default (what he paid for another cost, nothing for
    a service item): a typed internal cost, which he may not even see, is not taken."""
    ids = _ids(world)
    body = {"kind": "service", "description": "Flush", "unit_price": "50", "unit_cost": "99999"}
    for name, order in (("engineer", ids["order_z"]), ("provider_engineer", ids["order_a"])):
        client = _clients(world, api=True)[name]
        response = client.post(f"{API}/work-orders/{order}/fee-lines", json.dumps(body), content_type=JSON)
        assert response.status_code == 201, response.content
        assert response.json()["cost"] is None
        line = FeeLine.objects.get(pk=response.json()["id"])
        assert line.unit_cost != Decimal("99999") and line.cost != Decimal("99999")


def test_a_partners_engineer_does_not_write_our_cost_into_a_quotation(world):
    ids = _ids(world)
    line = QUOTE_LINES[0] | {"unit_cost": "99999"}
    body = {"lines": [line], "valid_until": ids["valid_until"], "tax_rate": "13"}
    client = _clients(world, api=True)["provider_engineer"]
    response = client.post(f"{API}/quotations/{ids['quotation_a']}/revise", json.dumps(body), content_type=JSON)
    assert response.status_code == 200, response.content
    version = QuotationVersion.objects.get(quotation_id=ids["quotation_a"], number=2)
    assert version.cost != Decimal("99999") and version.lines.get().unit_cost != Decimal("99999")
