import pytest
from django.http import Http404

from fieldservice.customers import selectors
from tests import factories


@pytest.fixture
def world(personas):
    """Each customer with a contact and a site."""
    personas.contact_a = factories.contact(personas.customer_a, name="Li Na", phone="13800138000")
    personas.contact_z = factories.contact(personas.customer_z, name="Zhou Jie", phone="13900139000")
    personas.site_a = factories.site(personas.customer_a, name="Plant A")
    personas.site_z = factories.site(personas.customer_z, name="Plant Z")
    return personas


def visible(queryset):
    return set(queryset.values_list("pk", flat=True))


@pytest.mark.parametrize("who", ["admin", "agent", "dispatcher", "director", "engineer", "parts_keeper"])
def test_own_staff_see_every_customer_site_and_contact(world, who):
    user = getattr(world, who)
    assert visible(selectors.customers_for(user)) == {world.customer_a.pk, world.customer_z.pk}
    assert visible(selectors.sites_for(user)) == {world.site_a.pk, world.site_z.pk}
    assert visible(selectors.contacts_for(user)) == {world.contact_a.pk, world.contact_z.pk}


@pytest.mark.parametrize("who", ["provider_admin", "provider_engineer", "customer_user_a"])
def test_providers_and_customer_users_see_only_customer_a(world, who):
    user = getattr(world, who)
    assert visible(selectors.customers_for(user)) == {world.customer_a.pk}
    assert visible(selectors.sites_for(user)) == {world.site_a.pk}
    assert visible(selectors.contacts_for(user)) == {world.contact_a.pk}
    assert selectors.get_customer_for(user, world.customer_a.pk) == world.customer_a
    with pytest.raises(Http404):
        selectors.get_customer_for(user, world.customer_z.pk)
    with pytest.raises(Http404):
        selectors.get_site_for(user, world.site_z.pk)
    with pytest.raises(Http404):
        selectors.get_contact_for(user, world.contact_z.pk)


def test_a_provider_serving_no_one_sees_nothing(world):
    user = world.other_provider_admin
    assert not selectors.customers_for(user).exists()
    assert not selectors.sites_for(user).exists()
    assert not selectors.contacts_for(user).exists()
    with pytest.raises(Http404):
        selectors.get_customer_for(user, world.customer_a.pk)


def test_customer_user_z_sees_only_z(world):
    assert visible(selectors.customers_for(world.customer_user_z)) == {world.customer_z.pk}


def test_scope_follows_a_change_of_service_provider(world):
    from fieldservice.customers.services import update_customer

    update_customer(world.customer_z, actor=world.agent, service_provider=world.other_provider)
    assert visible(selectors.customers_for(world.other_provider_admin)) == {world.customer_z.pk}
    assert visible(selectors.sites_for(world.other_provider_admin)) == {world.site_z.pk}
    assert visible(selectors.customers_for(world.provider_admin)) == {world.customer_a.pk}


def test_a_user_without_a_role_sees_nothing(world):
    nobody = factories.user(organisation=world.own)
    assert not selectors.customers_for(nobody).exists()


def test_a_deactivated_user_sees_nothing(world):
    world.agent.is_active = False
    world.agent.save()
    assert not selectors.customers_for(world.agent).exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("customer a", {"customer_a"}),
        ("li na", {"customer_a"}),
        ("13800138000", {"customer_a"}),
        ("138 0013-8000", {"customer_a"}),
        ("1390013", {"customer_z"}),
        ("", {"customer_a", "customer_z"}),
        ("nothing like it", set()),
    ],
)
def test_search_by_name_contact_and_phone(world, text, expected):
    found = visible(selectors.search_customers(world.agent, text))
    assert found == {getattr(world, name).pk for name in expected}


def test_search_by_code_and_without_duplicates(world):
    factories.contact(world.customer_a, name="Li Lei", phone="13800138123")
    found = list(selectors.customer_list_for(world.agent, "Li"))
    assert [c.pk for c in found] == [world.customer_a.pk]
    assert found[0].site_count == 1
    assert visible(selectors.search_customers(world.agent, world.customer_z.code.lower())) == {world.customer_z.pk}


def test_search_stays_inside_the_scope(world):
    assert not selectors.search_customers(world.provider_admin, "Zhou Jie").exists()
    assert not selectors.search_sites(world.provider_admin, "Plant Z").exists()
    assert visible(selectors.search_sites(world.provider_admin, "plant")) == {world.site_a.pk}
