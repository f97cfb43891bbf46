import re
from io import BytesIO

import pytest
from django.urls import NoReverseMatch, reverse
from openpyxl import load_workbook

from fieldservice.customers.models import Contact, Customer, Site
from tests import factories

LIST = "/customers/"


def listed(response) -> list[int]:
    """The customers a list page links to, in order."""
    return [int(pk) for pk in re.findall(r'href="/customers/(\d+)/"', response.content.decode())]


@pytest.fixture
def world(personas):
    personas.contact_a = factories.contact(personas.customer_a, name="Li Na", phone="13800138000")
    personas.site_a = factories.site(personas.customer_a, name="Plant A", city="Ningbo")
    personas.contact_z = factories.contact(personas.customer_z, name="Zhou Jie", phone="13900139000")
    personas.site_z = factories.site(personas.customer_z, name="Plant Z")
    return personas


# List


def test_anonymous_users_are_sent_to_sign_in(client, world):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_agent_sees_every_customer_and_the_new_button(client_for, world):
    response = client_for(world.agent).get(LIST)
    assert response.status_code == 200
    assert sorted(listed(response)) == sorted([world.customer_a.pk, world.customer_z.pk])
    assert reverse("customers:create") in response.content.decode()


def test_engineer_sees_no_new_button_and_may_not_open_the_create_page(client_for, world):
    client = client_for(world.engineer)
    response = client.get(LIST)
    assert response.status_code == 200
    assert len(listed(response)) == 2
    assert reverse("customers:create") not in response.content.decode()
    before = Customer.objects.count()
    assert client.get(reverse("customers:create")).status_code == 403
    assert (
        client.post(reverse("customers:create"), {"name": "Nope", "kind": "company", "tier": "standard"}).status_code
        == 403
    )
    assert Customer.objects.count() == before


@pytest.mark.parametrize("who", ["customer_user_a", "provider_admin", "provider_engineer"])
def test_outsiders_list_only_their_customer(client_for, world, who):
    response = client_for(getattr(world, who)).get(LIST)
    assert listed(response) == [world.customer_a.pk]
    assert "Customer Z" not in response.content.decode()
    assert reverse("customers:create") not in response.content.decode()


def test_search_by_contact_phone_and_name(client_for, world):
    client = client_for(world.agent)
    assert listed(client.get(LIST, {"q": "139 0013 9000"})) == [world.customer_z.pk]
    assert listed(client.get(LIST, {"q": "li na"})) == [world.customer_a.pk]
    empty = client.get(LIST, {"q": "no such customer"})
    assert listed(empty) == []
    assert "No customers match your search." in empty.content.decode()


def test_filters_by_tier_kind_and_provider(client_for, world):
    factories.customer(name="Person P", kind="person", tier="strategic")
    client = client_for(world.agent)
    assert [Customer.objects.get(pk=pk).name for pk in listed(client.get(LIST, {"tier": "strategic"}))] == ["Person P"]
    assert [Customer.objects.get(pk=pk).name for pk in listed(client.get(LIST, {"kind": "person"}))] == ["Person P"]
    assert listed(client.get(LIST, {"service_provider": world.provider.pk})) == [world.customer_a.pk]
    # A tampered filter value is ignored, not an error page.
    assert len(listed(client.get(LIST, {"tier": "gold"}))) == 3


def test_provider_filter_offers_only_providers_the_user_may_see(client_for, world):
    agent_page = client_for(world.agent).get(LIST).content.decode()
    assert "Provider B" in agent_page and "Provider C" in agent_page
    provider_page = client_for(world.provider_admin).get(LIST).content.decode()
    assert "Provider C" not in provider_page
    # Filtering by a provider outside one's scope shows nothing new.
    response = client_for(world.provider_admin).get(LIST, {"service_provider": world.other_provider.pk})
    assert listed(response) == [world.customer_a.pk]


def test_empty_state(client_for, personas):
    Customer.objects.all().delete()
    response = client_for(personas.agent).get(LIST)
    assert "No customers yet." in response.content.decode()


def test_pagination(client_for, personas):
    for number in range(28):
        factories.customer(name=f"Bulk {number:02d}")
    client = client_for(personas.agent)
    first = client.get(LIST)
    second = client.get(LIST, {"page": 2})
    assert len(listed(first)) == 25
    assert len(listed(second)) == 5
    assert not set(listed(first)) & set(listed(second))
    assert "Page 1 of 2" in first.content.decode()


def test_htmx_request_gets_only_the_results(client_for, world):
    response = client_for(world.agent).get(LIST, {"q": "Customer Z"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "<html" not in body
    assert 'name="q"' not in body
    assert listed(response) == [world.customer_z.pk]


def test_search_box_works_with_and_without_javascript(client_for, world):
    body = client_for(world.agent).get(LIST).content.decode()
    form = re.search(r"<form[^>]*role=\"search\"[^>]*>", body).group(0)
    assert 'method="get"' in form and f'action="{LIST}"' in form
    search = re.search(r'<input type="search"[^>]*>', body, re.S).group(0)
    assert 'hx-target="#results"' in search
    assert 'hx-trigger="keyup changed delay:300ms, search"' in search
    assert 'hx-push-url="true"' in search
    assert 'id="results"' in body


def test_export_matches_the_filtered_list(client_for, world):
    response = client_for(world.agent).get(LIST, {"q": "Customer A", "export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Code", "Name", "Kind")
    assert "Service provider" in rows[0]
    assert len(rows) == 2
    assert rows[1][:3] == (world.customer_a.code, "Customer A", "Company")
    assert rows[1][rows[0].index("Service provider")] == "Provider B"
    assert rows[1][rows[0].index("Sites")] == 1


def test_export_is_scoped(client_for, world):
    response = client_for(world.customer_user_a).get(LIST, {"export": "xlsx"})
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [row[1] for row in rows[1:]] == ["Customer A"]


# Detail


def test_detail_shows_contacts_sites_with_coordinates_and_history(client_for, world):
    response = client_for(world.agent).get(f"/customers/{world.customer_a.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Li Na" in body and "+8613800138000" in body
    assert "Plant A" in body and "29.868336" in body and "121.543990" in body
    assert 'id="event-log"' in body
    assert "Zhou Jie" not in body and "Plant Z" not in body
    assert reverse("customers:edit", args=[world.customer_a.pk]) in body


def test_detail_lists_the_customers_machines(client_for, world):
    try:
        reverse("assets:equipment_detail", args=[1])
    except NoReverseMatch:
        pytest.skip("assets:equipment_detail is not built yet")
    mine = factories.equipment(world.customer_a, site=world.site_a)
    theirs = factories.equipment(world.customer_z)
    body = client_for(world.provider_admin).get(f"/customers/{world.customer_a.pk}/").content.decode()
    assert mine.serial_number in body
    assert reverse("assets:equipment_detail", args=[mine.pk]) in body
    assert theirs.serial_number not in body


@pytest.mark.parametrize("who", ["customer_user_a", "provider_admin", "other_provider_admin"])
def test_detail_of_someone_elses_customer_is_404(client_for, world, who):
    assert client_for(getattr(world, who)).get(f"/customers/{world.customer_z.pk}/").status_code == 404


def test_readers_see_no_change_links(client_for, world):
    body = client_for(world.provider_admin).get(f"/customers/{world.customer_a.pk}/").content.decode()
    assert "Li Na" in body
    assert reverse("customers:edit", args=[world.customer_a.pk]) not in body
    assert reverse("customers:contact_create", args=[world.customer_a.pk]) not in body


# Create and edit a customer


def test_create_customer_through_the_form(client_for, world):
    response = client_for(world.agent).post(
        reverse("customers:create"),
        {"name": "Hangzhou Moulds", "kind": "company", "tier": "key", "service_provider": world.provider.pk},
        follow=True,
    )
    customer = Customer.objects.get(name="Hangzhou Moulds")
    assert response.redirect_chain[-1][0] == f"/customers/{customer.pk}/"
    assert customer.tier == "key" and customer.service_provider == world.provider
    assert "Customer Hangzhou Moulds created." in response.content.decode()


def test_a_service_error_is_shown_next_to_its_field_and_nothing_is_created(client_for, world):
    before = Customer.objects.count()
    response = client_for(world.agent).post(
        reverse("customers:create"),
        {"code": world.customer_a.code, "name": "Copycat", "kind": "company", "tier": "standard"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    error = re.search(r'<p class="error" id="id_code_error">([^<]*)</p>', body)
    assert error and world.customer_a.code in error.group(1)
    assert 'value="Copycat"' in body
    assert Customer.objects.count() == before


def test_edit_customer_through_the_form(client_for, world):
    url = reverse("customers:edit", args=[world.customer_z.pk])
    client = client_for(world.agent)
    form = client.get(url).content.decode()
    assert 'value="Customer Z"' in form
    response = client.post(url, {"name": "Zeta", "kind": "person", "tier": "standard", "is_active": "on"})
    assert response.status_code == 302
    world.customer_z.refresh_from_db()
    assert (world.customer_z.name, world.customer_z.kind) == ("Zeta", "person")


def test_provider_cannot_edit_customers(client_for, world):
    client = client_for(world.provider_admin)
    data = {"name": "Hijacked", "kind": "company", "tier": "standard"}
    # Customer A is served by the provider, so it is visible (403); Customer Z is not (404).
    assert client.post(reverse("customers:edit", args=[world.customer_a.pk]), data).status_code == 403
    assert client.post(reverse("customers:edit", args=[world.customer_z.pk]), data).status_code == 404
    world.customer_a.refresh_from_db()
    world.customer_z.refresh_from_db()
    assert (world.customer_a.name, world.customer_z.name) == ("Customer A", "Customer Z")


# Contacts


def test_add_contact_through_the_form(client_for, world):
    url = reverse("customers:contact_create", args=[world.customer_z.pk])
    response = client_for(world.agent).post(url, {"name": "Sun Li", "phone": "139 1234 5678", "email": ""})
    assert response.status_code == 302
    assert world.customer_z.contacts.get(name="Sun Li").phone == "+8613912345678"


def test_a_bad_phone_is_shown_on_the_phone_field(client_for, world):
    url = reverse("customers:contact_create", args=[world.customer_z.pk])
    before = Contact.objects.count()
    response = client_for(world.agent).post(url, {"name": "Sun Li", "phone": "12345", "email": "nope"})
    body = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'id="id_phone_error">[^<]*12345', body)
    assert Contact.objects.count() == before


def test_edit_contact_through_the_form(client_for, world):
    url = reverse("customers:contact_edit", args=[world.contact_a.pk])
    response = client_for(world.agent).post(
        url, {"name": "Li Na", "phone": "13800138000", "title": "Plant manager", "is_primary": "on"}
    )
    assert response.status_code == 302
    world.contact_a.refresh_from_db()
    assert world.contact_a.title == "Plant manager"


def test_delete_contact_asks_then_removes_on_post(client_for, world):
    url = reverse("customers:contact_delete", args=[world.contact_a.pk])
    client = client_for(world.agent)
    confirm = client.get(url)
    assert confirm.status_code == 200 and 'method="post"' in confirm.content.decode()
    assert Contact.objects.filter(pk=world.contact_a.pk).exists()
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{world.customer_a.pk}/"
    assert not Contact.objects.filter(pk=world.contact_a.pk).exists()


@pytest.mark.parametrize(("who", "status"), [("provider_admin", 403), ("customer_user_z", 404), ("engineer", 403)])
def test_outsiders_cannot_remove_contacts(client_for, world, who, status):
    client = client_for(getattr(world, who))
    assert client.post(reverse("customers:contact_delete", args=[world.contact_a.pk])).status_code == status
    edit = client.post(
        reverse("customers:contact_edit", args=[world.contact_a.pk]), {"name": "X", "phone": "13800138000"}
    )
    assert edit.status_code == status
    world.contact_a.refresh_from_db()
    assert world.contact_a.name == "Li Na"


# Sites


def test_add_site_through_the_form(client_for, world):
    url = reverse("customers:site_create", args=[world.customer_a.pk])
    response = client_for(world.agent).post(
        url,
        {
            "name": "Warehouse",
            "address": "8 Port Road",
            "latitude": "30.1",
            "longitude": "121.2",
            "contact": world.contact_a.pk,
        },
    )
    assert response.status_code == 302
    site = world.customer_a.sites.get(name="Warehouse")
    assert str(site.latitude) == "30.100000" and site.contact == world.contact_a


def test_out_of_range_latitude_is_shown_on_its_field(client_for, world):
    url = reverse("customers:site_create", args=[world.customer_a.pk])
    before = Site.objects.count()
    response = client_for(world.agent).post(
        url, {"name": "Warehouse", "address": "8 Port Road", "latitude": "91", "longitude": "121"}
    )
    assert response.status_code == 200
    assert re.search(r'id="id_latitude_error">[^<]*90', response.content.decode())
    assert Site.objects.count() == before


def test_a_site_contact_of_another_customer_is_refused(client_for, world):
    url = reverse("customers:site_create", args=[world.customer_a.pk])
    before = Site.objects.count()
    response = client_for(world.agent).post(
        url, {"name": "Warehouse", "address": "8 Port Road", "contact": world.contact_z.pk}
    )
    assert response.status_code == 200
    assert 'id="id_contact_error"' in response.content.decode()
    assert Site.objects.count() == before


def test_edit_site_and_cross_tenant(client_for, world):
    url = reverse("customers:site_edit", args=[world.site_z.pk])
    data = {"name": "Plant Z2", "address": "Road 9", "latitude": "", "longitude": "", "is_active": "on"}
    assert client_for(world.provider_admin).post(url, data).status_code == 404
    assert client_for(world.customer_user_a).get(url).status_code == 404
    world.site_z.refresh_from_db()
    assert world.site_z.name == "Plant Z"
    assert client_for(world.agent).post(url, data).status_code == 302
    world.site_z.refresh_from_db()
    assert world.site_z.name == "Plant Z2" and world.site_z.latitude is None


# Admin


def test_admin_pages_render_and_code_is_fixed_on_change(client_for, world):
    root = factories.system_user()
    root.is_staff = True
    root.save()
    client = client_for(root)
    assert client.get("/admin/customers/customer/", {"q": "Li Na"}).status_code == 200
    assert client.get("/admin/customers/contact/").status_code == 200
    assert client.get("/admin/customers/site/").status_code == 200
    add = client.get("/admin/customers/customer/add/").content.decode()
    assert 'name="code"' in add
    change = client.get(f"/admin/customers/customer/{world.customer_a.pk}/change/").content.decode()
    assert world.customer_a.code in change
    assert 'name="code"' not in change and 'name="organisation"' not in change
    assert 'name="contacts-0-phone"' in change and 'name="sites-0-name"' in change
