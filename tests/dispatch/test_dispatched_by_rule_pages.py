"""After a rule acts, the order pages say what it did: given to an engineer, to a provider (who
has not named an engineer yet), or put in the grab pool; never "not dispatched yet"."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from fieldservice.dispatch.rules import services as rule_services
from fieldservice.dispatch.rules.autodispatch import auto_dispatch


def rule(world, **fields):
    return rule_services.create_rule(actor=world.dispatcher, name="R", **fields)


def pages(order):
    return [reverse("workorders:order_detail", args=[order.pk]), reverse("dispatch:order", args=[order.pk])]


def visit_lead(body: str) -> str:
    found = re.search(r'<p class="muted" id="visit-lead">(.*?)</p>', body, re.S)
    return found.group(1) if found else ""


@pytest.mark.parametrize("who", ["dispatcher", "admin"])
def test_a_provider_rule_shows_the_provider_not_an_undispatched_order(client_for, world, who):
    rule(world, target_kind="provider", target_provider=world.provider, strategy="fixed")
    auto_dispatch(world.order)
    client = client_for(getattr(world, who))
    for url in pages(world.order):
        body = client.get(url).content.decode()
        assert 'id="not-dispatched"' not in body, url
        assert "Provider B" in body
    body = client.get(pages(world.order)[0]).content.decode()
    # The appointment panel names the provider instead of saying nobody has the order.
    assert "Provider B" in visit_lead(body)


def test_an_engineer_rule_shows_the_engineer(client_for, world):
    rule(world, strategy="nearest")
    auto_dispatch(world.order)
    body = client_for(world.dispatcher).get(pages(world.order)[0]).content.decode()
    assert 'id="not-dispatched"' not in body and visit_lead(body) == ""
    assert str(world.engineer) in body


def shown(client, url) -> str:
    return re.search(r'id="not-dispatched">(.*?)</p>', client.get(url).content.decode(), re.S).group(1)


def test_a_pool_rule_says_the_order_is_in_the_pool_until_when(client_for, world):
    rule(world, action="pool", pool_minutes=60)
    auto_dispatch(world.order)
    until = world.order.pool_offers.get().expires_at
    stamp = timezone.localtime(until).strftime("%Y-%m-%d %H:%M")
    for url in pages(world.order):
        assert stamp in shown(client_for(world.dispatcher), url), url
    # The customer is not told about our pool.
    assert stamp not in shown(client_for(world.customer_user_a), pages(world.order)[0])
