"""Where signing in lands: an engineer (and nothing else) on his phone work list, everyone else
on the desk's start page."""

import pytest
from django.test import Client
from django.urls import reverse

from fieldservice.accounts.choices import Role
from tests import factories

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


def sign_in(username: str) -> Client:
    client = Client(HTTP_USER_AGENT=PHONE)
    response = client.post(reverse("login"), {"username": username, "password": "pw-for-tests-1"}, follow=True)
    client.landed = response.redirect_chain[-1][0] if response.redirect_chain else None
    client.page = response
    return client


@pytest.mark.parametrize("who", ["engineer", "provider_engineer"])
def test_an_engineer_lands_on_his_work_list(personas, who):
    client = sign_in(getattr(personas, who).username)
    assert client.landed == reverse("field:today")
    assert client.page.status_code == 200
    assert client.get(reverse("home")).url == reverse("field:today")


@pytest.mark.parametrize("who", ["dispatcher", "agent", "provider_admin", "customer_user_a"])
def test_everyone_else_lands_on_the_start_page(personas, who):
    client = sign_in(getattr(personas, who).username)
    assert client.page.status_code == 200
    assert client.page.request["PATH_INFO"] == reverse("home")


def test_an_engineer_who_also_dispatches_keeps_the_desk(personas):
    both = factories.user(Role.ENGINEER, Role.DISPATCHER, username="both")
    client = sign_in(both.username)
    assert client.page.request["PATH_INFO"] == reverse("home")
