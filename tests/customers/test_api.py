import pytest
from django.test import Client

from fieldservice.accounts.services import create_api_token, revoke_api_token
from fieldservice.customers.models import Contact, Customer, Site
from tests import factories

API = "/api/v1"


@pytest.fixture
def world(personas):
    personas.contact_a = factories.contact(personas.customer_a, name="Li Na", phone="13800138000")
    personas.site_a = factories.site(personas.customer_a, name="Plant A", city="Ningbo")
    personas.contact_z = factories.contact(personas.customer_z, name="Zhou Jie", phone="13900139000")
    personas.site_z = factories.site(personas.customer_z, name="Plant Z", city="Suzhou")
    return personas


def field_errors(response) -> dict[str, str]:
    assert response.status_code == 422, response.content
    return {tuple(item["loc"])[-1]: item["msg"] for item in response.json()["detail"]}


# Customers: list


def test_list_customers_is_paginated(api_client_for, personas):
    for number in range(51):
        factories.customer(name=f"Bulk {number:02d}")
    client = api_client_for(personas.agent)
    first = client.get(f"{API}/customers").json()
    second = client.get(f"{API}/customers", {"page": 2}).json()
    assert first["count"] == 53
    assert len(first["items"]) == 50
    assert len(second["items"]) == 3
    assert not {c["id"] for c in first["items"]} & {c["id"] for c in second["items"]}


def test_list_customers_output(api_client_for, world):
    items = api_client_for(world.agent).get(f"{API}/customers", {"service_provider": world.provider.pk}).json()["items"]
    assert items == [
        {
            "id": world.customer_a.pk,
            "code": world.customer_a.code,
            "name": "Customer A",
            "kind": "company",
            "tier": "standard",
            "industry": "",
            "organisation": world.customer_a.organisation_id,
            "service_provider": world.provider.pk,
            "service_provider_name": "Provider B",
            "account_owner": None,
            "notes": "",
            "is_active": True,
            "created_at": items[0]["created_at"],
        }
    ]


def test_list_customers_filters_and_search(api_client_for, world):
    factories.customer(name="Person P", kind="person", tier="key")
    client = api_client_for(world.agent)

    def names(**params):
        return [c["name"] for c in client.get(f"{API}/customers", params).json()["items"]]

    assert names(kind="person") == ["Person P"]
    assert names(tier="key") == ["Person P"]
    assert names(q="13900139000") == ["Customer Z"]
    assert names(q="li na") == ["Customer A"]
    assert names(tier="standard", q="customer") == ["Customer A", "Customer Z"]


@pytest.mark.parametrize(("who", "expected"), [("provider_engineer", ["Customer A"]), ("other_provider_admin", [])])
def test_list_customers_is_scoped(api_client_for, world, who, expected):
    response = api_client_for(getattr(world, who)).get(f"{API}/customers")
    assert [c["name"] for c in response.json()["items"]] == expected


# Customers: create


def test_create_customer(api_client_for, world):
    response = api_client_for(world.agent).post(
        f"{API}/customers",
        {
            "name": "Hangzhou Moulds",
            "tier": "key",
            "service_provider": world.provider.pk,
            "account_owner": world.agent.pk,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    customer = Customer.objects.get(pk=body["id"])
    assert (customer.name, customer.tier, customer.service_provider, customer.account_owner) == (
        "Hangzhou Moulds",
        "key",
        world.provider,
        world.agent,
    )
    assert body["code"] == customer.code and body["service_provider"] == world.provider.pk


def test_create_customer_is_idempotent(api_client_for, world):
    client = api_client_for(world.agent)
    before = Customer.objects.count()
    headers = {"Idempotency-Key": "create-hangzhou-1"}
    first = client.post(f"{API}/customers", {"name": "Hangzhou"}, content_type="application/json", headers=headers)
    second = client.post(f"{API}/customers", {"name": "Hangzhou"}, content_type="application/json", headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] == second.json()["id"]
    assert Customer.objects.count() == before + 1
    third = client.post(f"{API}/customers", {"name": "Hangzhou"}, content_type="application/json")
    assert third.json()["id"] != first.json()["id"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "Acme", "kind": "robot"}, "kind"),
        ({"name": "Acme", "service_provider": 999999}, "service_provider"),
        ({"name": "Acme", "account_owner": 999999}, "account_owner"),
    ],
)
def test_create_customer_field_errors(api_client_for, world, payload, field):
    before = Customer.objects.count()
    response = api_client_for(world.agent).post(f"{API}/customers", payload, content_type="application/json")
    assert set(field_errors(response)) == {field}
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert Customer.objects.count() == before


def test_a_non_provider_organisation_is_not_a_service_provider(api_client_for, world):
    response = api_client_for(world.agent).post(
        f"{API}/customers", {"name": "Acme", "service_provider": world.own.pk}, content_type="application/json"
    )
    assert set(field_errors(response)) == {"service_provider"}


@pytest.mark.parametrize("who", ["dispatcher", "engineer", "provider_admin", "customer_user_a"])
def test_roles_that_may_not_change_get_403(api_client_for, world, who):
    before = Customer.objects.count()
    response = api_client_for(getattr(world, who)).post(
        f"{API}/customers", {"name": "Nope", "service_provider": 999999}, content_type="application/json"
    )
    assert response.status_code == 403
    assert Customer.objects.count() == before


# Customers: get and patch


def test_get_customer_across_tenants_is_404(api_client_for, world):
    assert api_client_for(world.customer_user_a).get(f"{API}/customers/{world.customer_a.pk}").status_code == 200
    assert api_client_for(world.customer_user_a).get(f"{API}/customers/{world.customer_z.pk}").status_code == 404
    assert api_client_for(world.provider_admin).get(f"{API}/customers/{world.customer_z.pk}").status_code == 404


def test_patch_changes_only_the_fields_sent(api_client_for, world):
    world.customer_z.industry = "Plastics"
    world.customer_z.save()
    response = api_client_for(world.agent).patch(
        f"{API}/customers/{world.customer_z.pk}", {"tier": "strategic"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    world.customer_z.refresh_from_db()
    assert (world.customer_z.tier, world.customer_z.industry, world.customer_z.name) == (
        "strategic",
        "Plastics",
        "Customer Z",
    )


def test_patch_can_clear_the_provider_but_not_null_the_name(api_client_for, world):
    client = api_client_for(world.agent)
    url = f"{API}/customers/{world.customer_a.pk}"
    assert client.patch(url, {"name": None}, content_type="application/json").status_code == 422
    assert client.patch(url, {"is_active": None}, content_type="application/json").status_code == 422
    response = client.patch(url, {"service_provider": None}, content_type="application/json")
    assert response.json()["service_provider"] is None
    world.customer_a.refresh_from_db()
    assert world.customer_a.service_provider is None and world.customer_a.name == "Customer A"
    assert world.customer_a.is_active


def test_patch_unknown_provider_is_422(api_client_for, world):
    response = api_client_for(world.agent).patch(
        f"{API}/customers/{world.customer_z.pk}", {"service_provider": 999999}, content_type="application/json"
    )
    assert set(field_errors(response)) == {"service_provider"}


@pytest.mark.parametrize(
    ("who", "status"), [("provider_admin", 403), ("other_provider_admin", 404), ("customer_user_z", 404)]
)
def test_patch_by_outsiders(api_client_for, world, who, status):
    response = api_client_for(getattr(world, who)).patch(
        f"{API}/customers/{world.customer_a.pk}", {"name": "Hijacked"}, content_type="application/json"
    )
    assert response.status_code == status
    world.customer_a.refresh_from_db()
    assert world.customer_a.name == "Customer A"


# Contacts


def test_list_and_add_contacts(api_client_for, world):
    client = api_client_for(world.agent)
    url = f"{API}/customers/{world.customer_a.pk}/contacts"
    response = client.post(
        url, {"name": "Wu", "phone": "139 1234 5678", "is_primary": True}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["phone"] == "+8613912345678"
    contacts = client.get(url).json()
    assert [c["name"] for c in contacts] == ["Wu", "Li Na"]  # primary first
    assert [c["is_primary"] for c in contacts] == [True, False]


def test_bad_phone_is_422_on_phone(api_client_for, world):
    before = Contact.objects.count()
    response = api_client_for(world.agent).post(
        f"{API}/customers/{world.customer_a.pk}/contacts",
        {"name": "Wu", "phone": "12345"},
        content_type="application/json",
    )
    errors = field_errors(response)
    assert set(errors) == {"phone"} and "12345" in errors["phone"]
    assert response.json()["detail"][0]["loc"] == ["body", "phone"]
    assert Contact.objects.count() == before


def test_contacts_across_tenants(api_client_for, world):
    client = api_client_for(world.provider_admin)
    assert client.get(f"{API}/customers/{world.customer_z.pk}/contacts").status_code == 404
    assert (
        client.patch(f"{API}/contacts/{world.contact_z.pk}", {"name": "X"}, content_type="application/json").status_code
        == 404
    )
    assert client.delete(f"{API}/contacts/{world.contact_z.pk}").status_code == 404
    assert client.delete(f"{API}/contacts/{world.contact_a.pk}").status_code == 403
    assert (
        client.post(
            f"{API}/customers/{world.customer_a.pk}/contacts",
            {"name": "X", "phone": "13800138111"},
            content_type="application/json",
        ).status_code
        == 403
    )
    assert (
        Contact.objects.filter(pk__in=[world.contact_a.pk, world.contact_z.pk], name__in=["Li Na", "Zhou Jie"]).count()
        == 2
    )
    assert Contact.objects.count() == 2


def test_patch_and_delete_contact(api_client_for, world):
    client = api_client_for(world.agent)
    response = client.patch(f"{API}/contacts/{world.contact_a.pk}", {"title": "Boss"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["title"] == "Boss"
    assert response.json()["phone"] == "+8613800138000"
    response = client.patch(f"{API}/contacts/{world.contact_a.pk}", {"email": "bad"}, content_type="application/json")
    assert set(field_errors(response)) == {"email"}
    assert client.delete(f"{API}/contacts/{world.contact_a.pk}").status_code == 204
    assert not Contact.objects.filter(pk=world.contact_a.pk).exists()


# Sites


def test_list_sites_filters(api_client_for, world):
    factories.site(world.customer_a, name="Plant A2", city="Suzhou", latitude=None, longitude=None)
    client = api_client_for(world.agent)

    def names(**params):
        return sorted(s["name"] for s in client.get(f"{API}/sites", params).json()["items"])

    assert names() == ["Plant A", "Plant A2", "Plant Z"]
    assert names(customer=world.customer_a.pk) == ["Plant A", "Plant A2"]
    assert names(city="suzhou") == ["Plant A2", "Plant Z"]
    assert names(q="Customer Z") == ["Plant Z"]
    assert api_client_for(world.provider_admin).get(f"{API}/sites").json()["count"] == 2


def test_site_output_has_float_coordinates_or_null(api_client_for, world):
    bare = factories.site(world.customer_a, name="Bare", latitude=None, longitude=None)
    client = api_client_for(world.agent)
    body = client.get(f"{API}/sites/{world.site_a.pk}").json()
    assert body["latitude"] == pytest.approx(29.868336) and isinstance(body["latitude"], float)
    assert body["customer"] == world.customer_a.pk and body["customer_code"] == world.customer_a.code
    bare_body = client.get(f"{API}/sites/{bare.pk}").json()
    assert bare_body["latitude"] is None and bare_body["longitude"] is None


def test_create_site(api_client_for, world):
    response = api_client_for(world.agent).post(
        f"{API}/customers/{world.customer_a.pk}/sites",
        {
            "name": "Warehouse",
            "address": "8 Port Road",
            "latitude": 30.1,
            "longitude": 121.2,
            "contact": world.contact_a.pk,
        },
        content_type="application/json",
        headers={"Idempotency-Key": "site-1"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["contact"] == world.contact_a.pk
    assert world.customer_a.sites.get(name="Warehouse").latitude is not None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"latitude": 91, "longitude": 120}, "latitude"),
        ({"latitude": 30}, "longitude"),
        ({"latitude": "north", "longitude": 120}, "latitude"),
        ({"name": "Plant A"}, "name"),
        ({"contact": 999999}, "contact"),
    ],
)
def test_create_site_field_errors(api_client_for, world, payload, field):
    before = Site.objects.count()
    response = api_client_for(world.agent).post(
        f"{API}/customers/{world.customer_a.pk}/sites",
        {"name": "Warehouse", "address": "8 Port Road", **payload},
        content_type="application/json",
    )
    assert set(field_errors(response)) == {field}
    assert Site.objects.count() == before


def test_a_site_contact_from_another_customer_is_422(api_client_for, world):
    response = api_client_for(world.agent).post(
        f"{API}/customers/{world.customer_a.pk}/sites",
        {"name": "Warehouse", "address": "8 Port Road", "contact": world.contact_z.pk},
        content_type="application/json",
    )
    assert set(field_errors(response)) == {"contact"}


def test_patch_site(api_client_for, world):
    client = api_client_for(world.agent)
    response = client.patch(f"{API}/sites/{world.site_a.pk}", {"latitude": 31.5}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["latitude"] == pytest.approx(31.5)
    assert response.json()["longitude"] == pytest.approx(121.54399)
    response = client.patch(f"{API}/sites/{world.site_a.pk}", {"latitude": 91}, content_type="application/json")
    assert set(field_errors(response)) == {"latitude"}
    world.site_a.refresh_from_db()
    assert str(world.site_a.latitude) == "31.500000"


def test_sites_across_tenants(api_client_for, world):
    outsider = api_client_for(world.customer_user_a)
    assert outsider.get(f"{API}/sites/{world.site_z.pk}").status_code == 404
    assert (
        outsider.patch(f"{API}/sites/{world.site_z.pk}", {"name": "X"}, content_type="application/json").status_code
        == 404
    )
    assert (
        outsider.patch(f"{API}/sites/{world.site_a.pk}", {"name": "X"}, content_type="application/json").status_code
        == 403
    )
    assert (
        outsider.post(
            f"{API}/customers/{world.customer_z.pk}/sites",
            {"name": "X", "address": "Y"},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert [s["name"] for s in outsider.get(f"{API}/sites").json()["items"]] == ["Plant A"]
    world.site_a.refresh_from_db()
    world.site_z.refresh_from_db()
    assert (world.site_a.name, world.site_z.name) == ("Plant A", "Plant Z")
    assert Site.objects.count() == 2


# Authentication


def test_token_auth(personas):
    token, plain = create_api_token(personas.agent, actor=personas.agent, name="laptop")
    client = Client(headers={"Authorization": f"Bearer {plain}"})
    assert client.get(f"{API}/customers").status_code == 200
    revoke_api_token(token, actor=personas.agent)
    assert client.get(f"{API}/customers").status_code == 401
    assert Client(headers={"Authorization": "Bearer fsm_unknown"}).get(f"{API}/customers").status_code == 401
    assert Client().get(f"{API}/customers").status_code == 401
    before = Customer.objects.count()
    response = client.post(f"{API}/customers", {"name": "Nope"}, content_type="application/json")
    assert response.status_code == 401
    assert Customer.objects.count() == before
