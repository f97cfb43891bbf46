import pytest
from django.contrib.contenttypes.models import ContentType

from fieldservice.core.models import Event
from fieldservice.customers import services
from tests import factories


def events_of(obj):
    return Event.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_pk=str(obj.pk))


def test_a_change_records_only_the_fields_that_changed(personas):
    customer = personas.customer_a
    services.update_customer(customer, actor=personas.agent, name="Customer A Ltd", tier="key")
    event = events_of(customer).filter(action="updated").get()
    assert event.actor == personas.agent
    assert event.changes == {"name": ["Customer A", "Customer A Ltd"], "tier": ["Standard", "Key account"]}


def test_saving_without_changes_records_nothing(personas):
    before = events_of(personas.customer_a).count()
    services.update_customer(personas.customer_a, actor=personas.agent, name="Customer A")
    assert events_of(personas.customer_a).count() == before


def test_events_cannot_be_edited_or_deleted(personas):
    event = events_of(personas.customer_a).first()
    event.note = "tampered"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        Event.objects.filter(pk=event.pk).update(note="tampered")
    with pytest.raises(TypeError):
        Event.objects.filter(pk=event.pk).delete()


def test_child_events_point_to_their_parent(personas):
    site = factories.site(personas.customer_a, actor=personas.agent)
    event = events_of(site).get()
    assert event.related_object_pk == str(personas.customer_a.pk)
    assert event.changes["name"] == [None, site.name]
