from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import Organisation
from fieldservice.core.models import Event
from fieldservice.customers import services
from fieldservice.customers.models import Contact, Customer, Site
from tests import factories


def events_of(obj, action=None):
    events = Event.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_pk=str(obj.pk))
    return events.filter(action=action) if action else events


def counts():
    return (
        Customer.objects.count(),
        Organisation.objects.count(),
        Contact.objects.count(),
        Site.objects.count(),
        Event.objects.count(),
    )


def fields_of(excinfo) -> set[str]:
    return set(excinfo.value.error_dict)


# Customers


def test_agent_creates_a_numbered_customer_with_its_own_organisation(personas):
    customer = services.create_customer(actor=personas.agent, name="  Ningbo Plastics  ", tier="key")
    assert customer.name == "Ningbo Plastics"
    assert customer.code == f"C{customer.pk:06d}"
    assert customer.organisation.kind == OrganisationKind.CUSTOMER
    assert customer.organisation.name == "Ningbo Plastics"
    event = events_of(customer, "created").get()
    assert event.actor == personas.agent
    assert event.changes["name"] == [None, "Ningbo Plastics"]


def test_a_given_code_is_upper_cased_and_must_be_free(personas):
    customer = services.create_customer(actor=personas.agent, name="Acme", code="acme-01")
    assert customer.code == "ACME-01"
    before = counts()
    with pytest.raises(ValidationError) as excinfo:
        services.create_customer(actor=personas.agent, name="Acme 2", code="Acme-01")
    assert fields_of(excinfo) == {"code"}
    assert counts() == before


def test_automatic_numbering_skips_codes_typed_by_hand(personas):
    next_pk = Customer.objects.order_by("-pk").first().pk + 1
    typed = services.create_customer(actor=personas.agent, name="Typed", code=f"C{next_pk:06d}")
    numbered = services.create_customer(actor=personas.agent, name="Numbered")
    assert numbered.code != typed.code
    assert numbered.code.startswith("C")


def test_customers_may_share_a_name_but_their_organisations_do_not(personas):
    first = services.create_customer(actor=personas.agent, name="Wang Wei", code="W1", kind="person")
    # A customer whose name is what the clash suffix would produce.
    services.create_customer(actor=personas.agent, name="Wang Wei (W2)", code="X9")
    second = services.create_customer(actor=personas.agent, name="Wang Wei", code="W2", kind="person")
    names = {first.organisation.name, second.organisation.name}
    assert first.organisation.name == "Wang Wei"
    assert len(names) == 2
    assert second.organisation.name.startswith("Wang Wei (W2")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Acme", "kind": "robot"}, "kind"),
        ({"name": "Acme", "tier": "gold"}, "tier"),
        ({"name": "Acme", "code": "x" * 33}, "code"),
        ({"name": "Acme", "colour": "red"}, "colour"),
    ],
)
def test_bad_customer_fields_are_named_and_nothing_is_written(personas, fields, field):
    before = counts()
    with pytest.raises(ValidationError) as excinfo:
        services.create_customer(actor=personas.agent, **fields)
    assert fields_of(excinfo) == {field}
    assert counts() == before


def test_the_service_provider_must_be_a_provider(personas):
    before = counts()
    with pytest.raises(ValidationError) as excinfo:
        services.create_customer(actor=personas.agent, name="Acme", service_provider=personas.own)
    assert fields_of(excinfo) == {"service_provider"}
    assert counts() == before


def test_the_account_owner_must_be_our_staff(personas):
    with pytest.raises(ValidationError) as excinfo:
        services.create_customer(actor=personas.agent, name="Acme", account_owner=personas.provider_admin)
    assert fields_of(excinfo) == {"account_owner"}
    customer = services.create_customer(actor=personas.agent, name="Acme", account_owner=personas.agent)
    assert customer.account_owner == personas.agent


@pytest.mark.parametrize(
    "who", ["dispatcher", "director", "engineer", "provider_admin", "provider_engineer", "customer_user_a"]
)
def test_only_staff_who_may_change_customers_create_them(personas, who):
    before = counts()
    with pytest.raises(PermissionDenied):
        services.create_customer(actor=getattr(personas, who), name="Sneaky")
    assert counts() == before


def test_update_customer_renames_its_organisation_and_records_the_change(personas):
    customer = personas.customer_z
    services.update_customer(customer, actor=personas.agent, name="Zeta Ltd", service_provider=personas.provider)
    customer.refresh_from_db()
    assert customer.name == "Zeta Ltd"
    assert customer.organisation.name == "Zeta Ltd"
    assert customer.service_provider == personas.provider
    assert events_of(customer, "updated").get().changes["name"] == ["Customer Z", "Zeta Ltd"]


def test_update_customer_keeps_codes_unique_and_present(personas):
    with pytest.raises(ValidationError) as excinfo:
        services.update_customer(personas.customer_z, actor=personas.agent, code=personas.customer_a.code.lower())
    assert fields_of(excinfo) == {"code"}
    with pytest.raises(ValidationError) as excinfo:
        services.update_customer(personas.customer_z, actor=personas.agent, code="  ")
    assert fields_of(excinfo) == {"code"}
    personas.customer_z.refresh_from_db()
    assert personas.customer_z.code != personas.customer_a.code and personas.customer_z.code


def test_providers_and_customers_cannot_update_customers(personas):
    for who in (personas.provider_admin, personas.customer_user_a, personas.dispatcher):
        with pytest.raises(PermissionDenied):
            services.update_customer(personas.customer_a, actor=who, name="Hijacked")
    personas.customer_a.refresh_from_db()
    assert personas.customer_a.name == "Customer A"


# Contacts


def test_first_contact_becomes_primary_and_phone_is_normalised(personas):
    first = services.add_contact(personas.customer_a, actor=personas.agent, name="Li Na", phone="138 0013 8000")
    second = services.add_contact(personas.customer_a, actor=personas.agent, name="Zhao Lei", phone="13800138001")
    assert first.phone == "+8613800138000"
    assert first.is_primary is True
    assert second.is_primary is False
    assert events_of(first, "created").exists()
    # The customer's history shows its contacts' events too.
    assert Event.objects.filter(related_object_pk=str(personas.customer_a.pk), object_pk=str(first.pk)).exists()


def test_a_new_primary_contact_takes_over(personas):
    first = factories.contact(personas.customer_a)
    second = services.add_contact(
        personas.customer_a, actor=personas.agent, name="Boss", phone="13900139000", is_primary=True
    )
    first.refresh_from_db()
    assert second.is_primary and not first.is_primary
    services.update_contact(first, actor=personas.agent, is_primary=True)
    second.refresh_from_db()
    assert personas.customer_a.contacts.filter(is_primary=True).get() == first


def test_the_primary_contact_cannot_just_be_switched_off(personas):
    contact = factories.contact(personas.customer_a)
    with pytest.raises(ValidationError) as excinfo:
        services.update_contact(contact, actor=personas.agent, is_primary=False)
    assert fields_of(excinfo) == {"is_primary"}
    contact.refresh_from_db()
    assert contact.is_primary


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": ""}, "phone"),
        ({"email": "not-an-address"}, "email"),
        ({"name": ""}, "name"),
        ({"wechat_id": "w" * 65}, "wechat_id"),
    ],
)
def test_bad_contact_fields_are_named_and_nothing_is_written(personas, fields, field):
    fields = {"name": "Li Na", "phone": "13800138000", **fields}
    before = counts()
    with pytest.raises(ValidationError) as excinfo:
        services.add_contact(personas.customer_a, actor=personas.agent, **fields)
    assert fields_of(excinfo) == {field}
    assert counts() == before


def test_a_phone_number_is_used_once_per_customer(personas):
    services.add_contact(personas.customer_a, actor=personas.agent, name="Li Na", phone="13800138000")
    before = counts()
    with pytest.raises(ValidationError) as excinfo:
        services.add_contact(personas.customer_a, actor=personas.agent, name="Li Na 2", phone="+86 138-0013-8000")
    assert fields_of(excinfo) == {"phone"}
    assert counts() == before
    # Another customer may have the same person.
    services.add_contact(personas.customer_z, actor=personas.agent, name="Li Na", phone="13800138000")
    other = services.add_contact(personas.customer_a, actor=personas.agent, name="Wu", phone="13800138002")
    with pytest.raises(ValidationError) as excinfo:
        services.update_contact(other, actor=personas.agent, phone="13800138000")
    assert fields_of(excinfo) == {"phone"}


def test_email_is_lower_cased(personas):
    contact = services.add_contact(
        personas.customer_a, actor=personas.agent, name="Li", phone="13800138000", email=" Li.Na@Example.COM "
    )
    assert contact.email == "li.na@example.com"


def test_removing_the_primary_contact_promotes_another(personas):
    primary = factories.contact(personas.customer_a, name="Alpha")
    factories.contact(personas.customer_a, name="Zulu")
    bravo = factories.contact(personas.customer_a, name="Bravo")
    pk = primary.pk
    services.remove_contact(primary, actor=personas.agent)
    assert not Contact.objects.filter(pk=pk).exists()
    assert personas.customer_a.contacts.filter(is_primary=True).get() == bravo
    deleted = Event.objects.get(object_pk=str(pk), action="deleted")
    assert deleted.related_object_pk == str(personas.customer_a.pk)


def test_removing_a_site_contact_leaves_the_site(personas):
    contact = factories.contact(personas.customer_a)
    site = factories.site(personas.customer_a, contact=contact)
    services.remove_contact(contact, actor=personas.agent)
    site.refresh_from_db()
    assert site.contact is None


def test_providers_cannot_touch_contacts(personas):
    contact = factories.contact(personas.customer_a)
    before = counts()
    with pytest.raises(PermissionDenied):
        services.add_contact(personas.customer_a, actor=personas.provider_admin, name="X", phone="13800138009")
    with pytest.raises(PermissionDenied):
        services.update_contact(contact, actor=personas.provider_admin, name="X")
    with pytest.raises(PermissionDenied):
        services.remove_contact(contact, actor=personas.customer_user_a)
    assert counts() == before
    contact.refresh_from_db()
    assert contact.name != "X"


# Sites


def test_create_site_keeps_six_decimals(personas):
    site = services.create_site(
        personas.customer_a,
        actor=personas.agent,
        name="Plant 1",
        address="1 Harbour Road",
        latitude="29.8683361",
        longitude=121.54399,
    )
    site.refresh_from_db()
    assert site.latitude == Decimal("29.868336")
    assert site.longitude == Decimal("121.543990")
    assert events_of(site, "created").get().related_object_pk == str(personas.customer_a.pk)


@pytest.mark.parametrize(
    ("coordinates", "field"),
    [
        ({"latitude": 91, "longitude": 120}, "latitude"),
        ({"latitude": -90.5, "longitude": 120}, "latitude"),
        ({"latitude": 30, "longitude": 181}, "longitude"),
        ({"latitude": 30}, "longitude"),
        ({"longitude": 120}, "latitude"),
        ({"latitude": "north", "longitude": 120}, "latitude"),
    ],
)
def test_bad_coordinates_are_named_and_nothing_is_written(personas, coordinates, field):
    before = counts()
    with pytest.raises(ValidationError) as excinfo:
        services.create_site(personas.customer_a, actor=personas.agent, name="Plant", address="Road 1", **coordinates)
    assert fields_of(excinfo) == {field}
    assert counts() == before


def test_site_names_are_unique_per_customer(personas):
    services.create_site(personas.customer_a, actor=personas.agent, name="Plant 1", address="Road 1")
    before = counts()
    with pytest.raises(ValidationError) as excinfo:
        services.create_site(personas.customer_a, actor=personas.agent, name=" Plant 1 ", address="Road 2")
    assert fields_of(excinfo) == {"name"}
    assert counts() == before
    assert services.create_site(personas.customer_z, actor=personas.agent, name="Plant 1", address="Road 1").pk


def test_a_site_contact_must_belong_to_the_customer(personas):
    stranger = factories.contact(personas.customer_z)
    before = counts()
    with pytest.raises(ValidationError) as excinfo:
        services.create_site(
            personas.customer_a, actor=personas.agent, name="Plant", address="Road 1", contact=stranger
        )
    assert fields_of(excinfo) == {"contact"}
    assert counts() == before


def test_update_site_checks_one_coordinate_against_the_stored_other(personas):
    site = factories.site(personas.customer_a)
    services.update_site(site, actor=personas.agent, latitude="30.5")
    site.refresh_from_db()
    assert site.latitude == Decimal("30.500000")
    assert site.longitude == Decimal("121.543990")
    with pytest.raises(ValidationError) as excinfo:
        services.update_site(site, actor=personas.agent, longitude="")
    assert fields_of(excinfo) == {"longitude"}
    services.update_site(site, actor=personas.agent, latitude="", longitude="")
    site.refresh_from_db()
    assert site.latitude is None and site.longitude is None
    assert events_of(site, "updated").count() == 2


def test_update_site_cannot_take_a_sibling_name(personas):
    factories.site(personas.customer_a, name="North")
    south = factories.site(personas.customer_a, name="South")
    with pytest.raises(ValidationError) as excinfo:
        services.update_site(south, actor=personas.agent, name="North")
    assert fields_of(excinfo) == {"name"}
    south.refresh_from_db()
    assert south.name == "South"


def test_providers_cannot_touch_sites(personas):
    site = factories.site(personas.customer_a)
    before = counts()
    with pytest.raises(PermissionDenied):
        services.create_site(personas.customer_a, actor=personas.provider_admin, name="X", address="Road")
    with pytest.raises(PermissionDenied):
        services.update_site(site, actor=personas.provider_engineer, name="X")
    assert counts() == before
