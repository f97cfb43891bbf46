import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fieldservice.inventory import services
from fieldservice.inventory.models import Part
from tests import factories


def test_parts_keeper_creates_a_part_with_a_normalised_number(personas):
    part = services.create_part(actor=personas.parts_keeper, part_number=" ab-12 ", name=" Filter ", unit="set")
    assert (part.part_number, part.name, part.unit) == ("AB-12", "Filter", "set")


def test_part_numbers_are_unique(personas):
    factories.part(part_number="AB-12")
    with pytest.raises(ValidationError) as excinfo:
        services.create_part(actor=personas.admin, part_number="ab-12", name="Copy")
    assert set(excinfo.value.message_dict) == {"part_number"}


def test_unknown_unit_is_refused(personas):
    with pytest.raises(ValidationError) as excinfo:
        services.create_part(actor=personas.admin, part_number="X-1", name="X", unit="barrel")
    assert set(excinfo.value.message_dict) == {"unit"}


@pytest.mark.parametrize("who", ["agent", "engineer", "dispatcher", "provider_admin", "customer_user_a"])
def test_only_parts_keepers_and_admins_change_parts(personas, who):
    part = factories.part(name="Original")
    with pytest.raises(PermissionDenied):
        services.create_part(actor=getattr(personas, who), part_number="NO-1", name="No")
    with pytest.raises(PermissionDenied):
        services.update_part(part, actor=getattr(personas, who), name="Hacked")
    part.refresh_from_db()
    assert part.name == "Original"
    assert not Part.objects.filter(part_number="NO-1").exists()


def test_update_part(personas):
    part = factories.part(name="Old")
    services.update_part(part, actor=personas.parts_keeper, name="New", is_active=False)
    part.refresh_from_db()
    assert (part.name, part.is_active) == ("New", False)
