"""Fee lines on the pages: the desk panel (payer and reason beside each line, costs for the back
office), the office's add / correct / remove forms, the engineer's phone (no costs, a cost with
its receipt), and outsiders kept out."""

from decimal import Decimal

import pytest
from django.urls import reverse

from fieldservice.billing.choices import FeeKind, FeeSource
from fieldservice.billing.models import FeeLine
from fieldservice.core.models import Event
from tests.billing.conftest import complete, png_file

pytestmark = pytest.mark.django_db


def order_page(client, order):
    return client.get(reverse("workorders:order_detail", args=[order.pk])).content.decode()


def test_the_desk_panel_shows_payer_reason_and_costs_to_the_back_office(prices, client_for):
    p = prices
    order = complete(p)
    page = order_page(client_for(p.agent), order)
    assert 'id="fees"' in page
    assert "Chargeable: No warranty or contract covers this machine" in page
    assert "Internal cost" in page and "Margin" in page
    assert "¥1,941.00" in page  # what the customer pays
    assert reverse("billing:fee_add", args=[order.pk]) in page


def test_the_engineer_sees_lines_without_costs(prices, client_for):
    p = prices
    order = complete(p)
    client = client_for(p.engineer)
    phone = client.get(reverse("field:order", args=[order.pk])).content.decode()
    assert 'id="fees"' in phone and "Call-out fee" in phone
    assert "Internal cost" not in phone and "Our cost" not in phone
    assert reverse("billing:other_cost", args=[order.pk]) in phone


def test_outsiders_see_no_panel_and_cannot_post(prices, client_for):
    p = prices
    order = complete(p)
    line = FeeLine.objects.filter(work_order=order).first()
    count = FeeLine.objects.count()
    for outsider in (p.other_engineer, p.customer_user_z, p.other_provider_admin):
        client = client_for(outsider)
        assert 'id="fees"' not in order_page(client, order)
        answer = client.post(
            reverse("billing:fee_add", args=[order.pk]),
            {"kind": "other", "description": "x", "quantity": "1", "unit_price": "1"},
        )
        assert answer.status_code in (403, 404)
        answer = client.post(
            reverse("billing:other_cost", args=[order.pk]),
            {"description": "x", "unit_price": "1", "receipt": png_file()},
        )
        assert answer.status_code in (403, 404)
        answer = client.post(reverse("billing:fee_void", args=[line.pk]), {"reason": "x"})
        assert answer.status_code in (403, 404)
        assert client.post(reverse("billing:order_price", args=[order.pk])).status_code in (403, 404)
    # The engineer on the order reads but may not use the office's forms.
    engineer = client_for(p.engineer)
    assert engineer.get(reverse("billing:fee_correct", args=[line.pk])).status_code == 403
    assert FeeLine.objects.count() == count
    line.refresh_from_db()
    assert not line.is_void


def test_the_office_adds_corrects_and_removes_a_line(prices, client_for):
    p = prices
    order = complete(p)
    client = client_for(p.agent)
    response = client.post(
        reverse("billing:fee_add", args=[order.pk]),
        {"kind": "service", "description": "Hydraulic flush", "quantity": "1", "unit_price": "800.00"},
    )
    assert response.status_code == 302
    line = FeeLine.objects.get(description="Hydraulic flush")
    assert line.source == FeeSource.OFFICE and line.amount == Decimal("800.00")
    bad = client.post(
        reverse("billing:fee_correct", args=[line.pk]),
        {**_correct_form(line), "discount": "900", "reason": "Goodwill"},
    )
    assert bad.status_code == 200 and "cannot be more than the line" in bad.content.decode()
    line.refresh_from_db()
    assert line.discount == 0
    response = client.post(
        reverse("billing:fee_correct", args=[line.pk]),
        {**_correct_form(line), "discount": "100", "reason": "Goodwill"},
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.amount == Decimal("700.00")
    assert Event.objects.get(action="fee_corrected", object_pk=str(line.pk)).note == "Goodwill"
    response = client.post(reverse("billing:fee_void", args=[line.pk]), {"reason": "Not done"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.is_void and line.void_reason == "Not done"
    assert "Not done" in order_page(client, order)


def _correct_form(line) -> dict:
    return {
        "description": line.description,
        "quantity": str(line.quantity.normalize()),
        "unit": line.unit,
        "unit_price": str(line.unit_price),
        "discount": str(line.discount),
        "unit_cost": str(line.unit_cost.normalize()),
        "payer": line.payer,
        "payer_reason": line.payer_reason,
    }


def test_a_bad_amount_on_the_office_form_is_shown_and_nothing_written(prices, client_for):
    p = prices
    order = complete(p)
    count = FeeLine.objects.count()
    response = client_for(p.agent).post(
        reverse("billing:fee_add", args=[order.pk]),
        {"kind": "service", "description": "Flush", "quantity": "0", "unit_price": "-3"},
    )
    assert response.status_code == 200
    assert "The quantity must be more than zero." in response.content.decode()
    assert FeeLine.objects.count() == count


def test_the_engineer_adds_a_cost_with_its_receipt_on_the_phone(prices, client_for):
    p = prices
    order = complete(p)
    client = client_for(p.engineer)
    url = reverse("billing:other_cost", args=[order.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"description": "Toll", "unit_price": "-5", "receipt": png_file()})
    assert bad.status_code == 200 and "cannot be negative" in bad.content.decode()
    assert not FeeLine.objects.filter(kind=FeeKind.OTHER).exists()
    photos = order.attachments.count()
    assert photos == order.attachments.count()
    response = client.post(url, {"description": "Toll G15", "unit_price": "45.00", "receipt": png_file("r.png")})
    assert response.status_code == 302 and response["Location"] == reverse("field:order", args=[order.pk])
    line = FeeLine.objects.get(kind=FeeKind.OTHER)
    assert line.source == FeeSource.ENGINEER and line.receipt is not None and line.amount == Decimal("45.00")
    assert order.attachments.count() == photos + 1
