"""Sign-in throttling (per account and per client address), the password reset by e-mail, the
notice of a changed password, and the client address behind a trusted proxy."""

import re

import pytest
from django.core import mail
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from fieldservice.accounts.services import create_api_token
from fieldservice.core.clients import client_address

PASSWORD = "pw-for-tests-1"


def sign_in(client, username, password, ip="198.51.100.7"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_right_password_after_a_flood_of_wrong_ones_is_refused(personas):
    client = Client()
    for _ in range(30):
        assert sign_in(client, "agent", "wrong").status_code in {200, 429}
    response = sign_in(client, "agent", PASSWORD)
    assert response.status_code == 429 and not signed_in(client)
    assert "Too many wrong passwords" in response.content.decode()


def test_the_limit_counts_per_account_from_any_address(personas, settings):
    for number in range(settings.AXES_FAILURE_LIMIT):
        sign_in(Client(), "agent", "wrong", ip=f"198.51.100.{number + 10}")
    client = Client()
    assert sign_in(client, "agent", PASSWORD, ip="203.0.113.9").status_code == 429 and not signed_in(client)
    # Other accounts are not affected.
    assert sign_in(client, "dispatcher", PASSWORD, ip="203.0.113.9").status_code == 302 and signed_in(client)


def test_the_limit_counts_per_address_over_any_account(personas, settings):
    names = ["agent", "dispatcher", "director", "keeper", "engineer", "admin"]
    for number in range(settings.AXES_FAILURE_LIMIT):
        sign_in(Client(), names[number % len(names)], "wrong", ip="198.51.100.66")
    client = Client()
    assert sign_in(client, "cust_a", PASSWORD, ip="198.51.100.66").status_code == 429 and not signed_in(client)
    assert sign_in(client, "cust_a", PASSWORD, ip="198.51.100.67").status_code == 302 and signed_in(client)


def test_fewer_failures_than_the_limit_still_sign_in(personas, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "agent", "wrong").status_code == 200
    assert sign_in(client, "agent", PASSWORD).status_code == 302 and signed_in(client)


def test_the_lockout_message_is_translated(personas, settings):
    client = Client(headers={"accept-language": "zh-hans"})
    client.cookies.load({settings.LANGUAGE_COOKIE_NAME: "zh-hans"})
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        response = sign_in(client, "agent", "wrong")
    assert response.status_code == 429
    assert "密码错误次数过多" in response.content.decode()


def test_api_tokens_are_not_throttled(personas, settings):
    _, token = create_api_token(personas.agent, actor=personas.agent, name="erp")
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        sign_in(Client(), "agent", "wrong", ip="127.0.0.1")
    response = Client().get("/api/v1/customers", headers={"authorization": f"Bearer {token}"}, REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200


@override_settings(FSM_PUBLIC_BASE_URL="https://fsm.example.com")
def test_a_password_is_reset_by_e_mail(personas):
    personas.agent.email = "agent@example.com"
    personas.agent.save()
    client = Client()
    page = client.get(reverse("password_reset"))
    assert page.status_code == 200 and "Reset your password" in page.content.decode()
    response = client.post(reverse("password_reset"), {"email": "agent@example.com"}, headers={"host": "localhost"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    (message,) = mail.outbox
    assert message.to == ["agent@example.com"] and "agent" in message.body
    link = re.search(r"https://fsm\.example\.com(/password-reset/\S+/\S+/)", message.body).group(1)
    assert "localhost" not in message.body
    form = client.get(link, follow=True)
    assert form.status_code == 200 and form.context["validlink"]
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "A-new-pass-2024", "new_password2": "A-new-pass-2024"}
    )
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")
    assert sign_in(Client(), "agent", "A-new-pass-2024").status_code == 302
    assert client.get(link, follow=True).context["validlink"] is False  # the link works once


def test_an_unknown_address_gets_the_same_answer_and_no_mail(personas):
    response = Client().post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_reset_pages_render_in_both_languages(personas, settings, language):
    client = Client()
    client.cookies.load({settings.LANGUAGE_COOKIE_NAME: language})
    expected = {"zh-hans": "重置密码", "en": "Reset your password"}[language]
    assert expected in client.get(reverse("password_reset")).content.decode()
    assert reverse("password_reset") in client.get(reverse("login")).content.decode()


def test_a_changed_password_is_told_by_e_mail(personas, client_for):
    personas.agent.email = "agent@example.com"
    personas.agent.save()
    response = client_for(personas.agent).post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "A-new-pass-2024", "new_password2": "A-new-pass-2024"},
    )
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["agent@example.com"] and reverse("password_reset") in message.body


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        ("198.51.100.7", "203.0.113.1", [], "198.51.100.7"),  # no trusted proxy: the header is ignored
        ("10.0.0.2", "203.0.113.1", ["10.0.0.0/8"], "203.0.113.1"),
        ("10.0.0.2", "6.6.6.6, 203.0.113.1", ["10.0.0.0/8"], "203.0.113.1"),  # the left part is the client's word
        ("10.0.0.2", "203.0.113.1, 10.0.0.3", ["10.0.0.0/8"], "203.0.113.1"),  # two proxies
        ("10.0.0.2", "garbage", ["10.0.0.0/8"], "10.0.0.2"),
        ("10.0.0.2", "", ["10.0.0.0/8"], "10.0.0.2"),
    ],
)
def test_the_client_address_believes_only_trusted_proxies(remote, forwarded, trusted, expected):
    import ipaddress

    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(FSM_TRUSTED_PROXIES=[ipaddress.ip_network(n) for n in trusted]):
        assert client_address(request) == expected


def test_reset_links_are_limited_per_address_and_per_client(personas):
    from fieldservice.accounts.services import PASSWORD_RESETS_PER_ADDRESS_PER_HOUR, PASSWORD_RESETS_PER_EMAIL_PER_HOUR

    personas.agent.email = "agent@example.com"
    personas.agent.save()
    client = Client()
    url = reverse("password_reset")
    for _ in range(PASSWORD_RESETS_PER_EMAIL_PER_HOUR):
        assert client.post(url, {"email": "agent@example.com"}, REMOTE_ADDR="198.51.100.7").status_code == 302
    refused = client.post(url, {"email": "Agent@example.com"}, REMOTE_ADDR="198.51.100.8")
    assert refused.status_code == 429 and "Too many reset links" in refused.content.decode()
    assert len(mail.outbox) == PASSWORD_RESETS_PER_EMAIL_PER_HOUR
    # An unknown address is counted alike (the answer tells nothing), and one client cannot go
    # through many addresses either.
    for number in range(PASSWORD_RESETS_PER_ADDRESS_PER_HOUR - 1):
        client.post(url, {"email": f"nobody{number}@example.com"}, REMOTE_ADDR="198.51.100.9")
    answers = [
        client.post(url, {"email": f"other{number}@example.com"}, REMOTE_ADDR="198.51.100.9").status_code
        for number in range(2)
    ]
    assert answers == [302, 429]
