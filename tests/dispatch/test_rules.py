"""Rule conditions and area boundaries: validation names the field; matching and point-in-polygon."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fieldservice.accounts.models import ServiceArea
from fieldservice.core.geo import point_in_polygon, validate_polygon
from fieldservice.core.models import Event
from fieldservice.dispatch.models import DispatchRule
from fieldservice.dispatch.rules import services as rule_services
from fieldservice.dispatch.rules.conditions import AreaShape, validate_conditions

SQUARE = [[121.0, 29.0], [122.0, 29.0], [122.0, 30.0], [121.0, 30.0], [121.0, 29.0]]


def fields_of(error):
    return set(error.value.message_dict)


@pytest.mark.parametrize(
    ("polygon", "code"),
    [
        ([[121.0, 29.0], [122.0, 29.0], [122.0, 30.0], [121.0, 30.5]], "not_closed"),
        ([[121.0, 29.0], [122.0, 29.0], [121.0, 29.0]], "too_short"),
        ([[181.0, 29.0], [122.0, 29.0], [122.0, 30.0], [181.0, 29.0]], "out_of_range"),
        ([[121.0, 91.0], [122.0, 29.0], [122.0, 30.0], [121.0, 91.0]], "out_of_range"),
        ([["a", 29.0], [122.0, 29.0], [122.0, 30.0], ["a", 29.0]], "invalid"),
        ("not a list", "invalid"),
    ],
)
def test_a_bad_polygon_is_refused_on_the_polygon_field(polygon, code):
    with pytest.raises(ValidationError) as error:
        validate_polygon(polygon)
    assert fields_of(error) == {"polygon"}
    assert error.value.error_dict["polygon"][0].code == code


def test_point_in_polygon_inside_outside_and_on_the_edge():
    assert point_in_polygon(121.5, 29.5, SQUARE)
    assert not point_in_polygon(122.5, 29.5, SQUARE)
    assert point_in_polygon(121.0, 29.5, SQUARE)  # on the edge
    # A concave ring: the notch is outside.
    ring = [[0, 0], [4, 0], [4, 4], [2, 2], [0, 4], [0, 0]]
    assert point_in_polygon(1, 1, ring) and not point_in_polygon(2, 3, ring)


def test_an_area_with_a_boundary_uses_it_and_one_without_uses_the_names(db):
    drawn = AreaShape.of(ServiceArea(pk=1, name="x", province="Zhejiang", polygon=SQUARE))
    assert drawn.contains(29.5, 121.5, "", "", "")
    assert not drawn.contains(31.0, 121.5, "Zhejiang", "Ningbo", "")  # coordinates win over names
    named = AreaShape.of(ServiceArea(pk=2, name="y", province="Zhejiang", city="Ningbo"))
    assert named.contains(None, None, "Zhejiang", "Ningbo City", "")
    assert not named.contains(None, None, "Zhejiang", "Hangzhou", "")


def test_an_unknown_condition_field_is_named(db):
    with pytest.raises(ValidationError) as error:
        validate_conditions({"colour": ["red"]})
    assert fields_of(error) == {"conditions.colour"}
    assert "colour" in error.value.message_dict["conditions.colour"][0]


def test_a_bad_condition_value_names_its_field(db):
    with pytest.raises(ValidationError) as error:
        validate_conditions({"priority": ["urgent", "sometimes"]})
    assert fields_of(error) == {"conditions.priority"}
    with pytest.raises(ValidationError) as error:
        validate_conditions({"area": [999999]})
    assert fields_of(error) == {"conditions.area"}


def test_creating_a_rule_with_an_unknown_field_names_it_and_saves_nothing(personas):
    with pytest.raises(ValidationError) as error:
        rule_services.create_rule(actor=personas.admin, name="X", colour="red")
    assert fields_of(error) == {"colour"}
    with pytest.raises(ValidationError) as error:
        rule_services.create_rule(actor=personas.admin, name="X", weights={"luck": 3})
    assert fields_of(error) == {"weights.luck"}
    assert not DispatchRule.objects.exists()


def test_fixed_needs_a_named_target(personas):
    with pytest.raises(ValidationError) as error:
        rule_services.create_rule(actor=personas.admin, name="X", strategy="fixed", target_kind="anyone")
    assert fields_of(error) == {"strategy"}
    with pytest.raises(ValidationError) as error:
        rule_services.create_rule(actor=personas.admin, name="X", strategy="fixed", target_kind="engineer")
    assert fields_of(error) == {"target_engineer"}


def test_rules_are_numbered_and_move(personas):
    a = rule_services.create_rule(actor=personas.dispatcher, name="A")
    b = rule_services.create_rule(actor=personas.dispatcher, name="B")
    assert (a.position, b.position) == (1, 2)
    rule_services.move_rule(b, actor=personas.dispatcher, direction="up")
    assert list(DispatchRule.objects.values_list("name", flat=True)) == ["B", "A"]
    assert Event.objects.filter(action="moved").exists()


@pytest.mark.parametrize("who", ["agent", "engineer", "provider_admin", "customer_user_a", "director"])
def test_only_rule_managers_change_rules(personas, who):
    rule = rule_services.create_rule(actor=personas.admin, name="A")
    user = getattr(personas, who)
    with pytest.raises(PermissionDenied):
        rule_services.update_rule(rule, actor=user, name="B")
    with pytest.raises(PermissionDenied):
        rule_services.create_rule(actor=user, name="C")
    assert list(DispatchRule.objects.values_list("name", flat=True)) == ["A"]


def test_setting_an_area_boundary_validates_and_records(personas):
    area = ServiceArea.objects.create(name="Ningbo")
    with pytest.raises(ValidationError) as error:
        rule_services.set_area_polygon(area, actor=personas.admin, polygon=SQUARE[:-1])
    assert fields_of(error) == {"polygon"}
    area.refresh_from_db()
    assert area.polygon == []
    rule_services.set_area_polygon(area, actor=personas.admin, polygon=SQUARE)
    area.refresh_from_db()
    assert area.polygon == SQUARE


def test_a_malformed_stored_boundary_falls_back_to_the_names(db):
    broken = ServiceArea(pk=3, name="z", city="Ningbo", polygon=[["x", 1], [2, 3]])
    shape = AreaShape.of(broken)
    assert shape.ring == ()
    assert shape.contains(29.5, 121.5, "Zhejiang", "Ningbo", "")
