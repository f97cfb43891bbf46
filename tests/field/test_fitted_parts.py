"""The asset functions a completed visit uses to change a machine's fitted parts, and the machine's
360 page showing the change."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from fieldservice.assets import services as asset_services
from fieldservice.assets.choices import FittedPartSource
from fieldservice.assets.models import FittedPart
from fieldservice.field import services
from tests.field.conftest import ready_to_complete


def test_replacing_part_of_a_fitted_quantity_keeps_the_rest(visit):
    belt = visit.machine.fitted_parts.get(part=visit.belt)
    new = asset_services.replace_fitted_part(
        belt, actor=visit.engineer, part=visit.belt, quantity="1", serial_number="B-2"
    )
    belt.refresh_from_db()
    assert belt.quantity == Decimal("1.5") and belt.source == FittedPartSource.BOM
    assert (new.equipment, new.quantity, new.part_serial_number, new.source, new.fitted_on) == (
        visit.machine,
        Decimal("1"),
        "B-2",
        FittedPartSource.REPLACEMENT,
        timezone.localdate(),
    )


def test_replacing_all_of_a_fitted_part_removes_it(visit):
    motor = visit.machine.fitted_parts.get(part=visit.motor)
    asset_services.replace_fitted_part(motor, actor=visit.agent, part=visit.motor, quantity=1)
    assert not FittedPart.objects.filter(pk=motor.pk).exists()
    assert visit.machine.fitted_parts.filter(part=visit.motor).get().source == FittedPartSource.REPLACEMENT


def test_fitting_parts_needs_asset_or_field_rights_and_a_positive_quantity(visit):
    motor = visit.machine.fitted_parts.get(part=visit.motor)
    with pytest.raises(PermissionDenied):
        asset_services.replace_fitted_part(motor, actor=visit.customer_user_a, part=visit.motor, quantity=1)
    with pytest.raises(PermissionDenied):
        asset_services.add_fitted_part(visit.machine, actor=visit.director, part=visit.seal, quantity=1)
    with pytest.raises(ValidationError) as excinfo:
        asset_services.add_fitted_part(visit.machine, actor=visit.agent, part=visit.seal, quantity=0)
    assert list(excinfo.value.error_dict) == ["quantity"]
    with pytest.raises(ValidationError) as excinfo:
        asset_services.add_fitted_part(visit.machine, actor=visit.agent, part=visit.seal, quantity=1, source="magic")
    assert list(excinfo.value.error_dict) == ["source"]
    assert visit.machine.fitted_parts.count() == 2
    assert FittedPart.objects.get(pk=motor.pk).quantity == 1


def test_the_machine_page_shows_the_visit_in_its_history(visit, client_for, django_capture_on_commit_callbacks):
    ready_to_complete(visit)
    with django_capture_on_commit_callbacks(execute=False):
        services.complete_visit(visit.order, actor=visit.engineer)
    page = client_for(visit.agent).get(reverse("assets:equipment_detail", args=[visit.machine.pk])).content.decode()
    assert "parts_replaced" in page or "parts replaced" in page
    assert f"{visit.order.number}: MOTOR-1 → MOTOR-1 #M-NEW-1 ×1; + SEAL-9 ×2" in page
    assert "M-NEW-1" in page  # the fitted parts table lists the new motor with its serial
