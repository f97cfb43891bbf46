"""Personas shared by every test: our staff by role, a partner provider (B) with its people,
and two customer companies (A is served by provider B, Z is not) with a portal user each."""

from types import SimpleNamespace

import pytest
from django.test import Client

from fieldservice.accounts.choices import OrganisationKind, Role
from tests import factories


@pytest.fixture
def personas(db):
    own = factories.own_company()
    provider = factories.organisation(OrganisationKind.PROVIDER, name="Provider B")
    other_provider = factories.organisation(OrganisationKind.PROVIDER, name="Provider C")
    admin = factories.user(Role.ADMINISTRATOR, organisation=own, username="admin")
    customer_a = factories.customer(actor=admin, name="Customer A", service_provider=provider)
    customer_z = factories.customer(actor=admin, name="Customer Z")
    return SimpleNamespace(
        own=own,
        provider=provider,
        other_provider=other_provider,
        admin=admin,
        agent=factories.user(Role.AGENT, organisation=own, username="agent"),
        dispatcher=factories.user(Role.DISPATCHER, organisation=own, username="dispatcher"),
        director=factories.user(Role.DIRECTOR, organisation=own, username="director"),
        parts_keeper=factories.user(Role.PARTS_KEEPER, organisation=own, username="keeper"),
        engineer=factories.user(Role.ENGINEER, organisation=own, username="engineer"),
        provider_admin=factories.user(Role.PROVIDER_ADMIN, organisation=provider, username="provider_admin"),
        provider_engineer=factories.user(Role.ENGINEER, organisation=provider, username="provider_engineer"),
        other_provider_admin=factories.user(
            Role.PROVIDER_ADMIN, organisation=other_provider, username="other_provider_admin"
        ),
        customer_a=customer_a,
        customer_z=customer_z,
        customer_user_a=factories.user(Role.CUSTOMER, organisation=customer_a.organisation, username="cust_a"),
        customer_user_z=factories.user(Role.CUSTOMER, organisation=customer_z.organisation, username="cust_z"),
    )


@pytest.fixture
def client_for():
    """A logged-in test client for a user."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def api_client_for():
    """A client that calls the API with a bearer token of `user`."""
    from fieldservice.accounts.services import create_api_token

    def make(user) -> Client:
        _token, plain = create_api_token(user, actor=user, name="tests")
        return Client(headers={"Authorization": f"Bearer {plain}"})

    return make
