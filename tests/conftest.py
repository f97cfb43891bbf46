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
def postgres_only():
    """Skips the test on SQLite: transactions that really run at once, worker processes sharing the
    test database, and deferred constraints are PostgreSQL's (CI runs the suite on both)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (concurrent transactions, worker processes)")


def pytest_collection_modifyitems(items):
    # The `postgres` marker (`-m postgres`, `-m "not postgres"`) follows the fixture, so a test says
    # that it needs PostgreSQL once.
    for item in items:
        if "postgres_only" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


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


@pytest.fixture(autouse=True)
def language_of_the_settings():
    """Each test starts in the default language: a request or command in an earlier test of the same
    worker leaves its language active in the thread, and labels written to the log would follow it."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


# What the outgoing-HTTP guard sees as a public address in tests: names under example.com resolve
# to it, and nothing ever connects to it (see offline_network).
PUBLIC_TEST_ADDRESS = "93.184.215.14"


@pytest.fixture(autouse=True)
def offline_network(monkeypatch):
    """Tests never use real DNS nor leave this machine: example.com names resolve to a public
    address without a lookup, and a connection anywhere but loopback fails at once."""
    import ipaddress
    import socket

    from fieldservice.core import http

    def resolve(host, port):
        if host == "example.com" or host.endswith(".example.com"):
            return [PUBLIC_TEST_ADDRESS]
        if host == "localhost":
            return ["127.0.0.1"]
        # Numeric forms (2130706433, 0x7f.1) as the system resolver reads them; no name is looked up.
        infos = socket.getaddrinfo(host, port, flags=socket.AI_NUMERICHOST, type=socket.SOCK_STREAM)
        return [info[4][0] for info in infos]

    real_open = http.open_socket

    def open_socket(address, port, timeout, source_address=None):
        if not ipaddress.ip_address(address.split("%")[0]).is_loopback:
            raise ConnectionRefusedError(f"tests do not connect to {address}")
        return real_open(address, port, timeout, source_address)

    monkeypatch.setattr(http, "resolve", resolve)
    monkeypatch.setattr(http, "open_socket", open_socket)


def pytest_terminal_summary(terminalreporter):
    """Print the figures tests record as `summary` properties (e.g. how many API operations the
    schemathesis run covered): a test's own print is lost when it runs in an xdist worker."""
    lines = [
        value
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        if report.when == "call"
        for name, value in report.user_properties
        if name == "summary"
    ]
    if lines:
        terminalreporter.section("figures")
        for line in lines:
            terminalreporter.write_line(line)
