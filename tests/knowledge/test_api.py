"""The knowledge API: ranked search, reading by role, writing by editors, drafts from orders."""

import pytest

from fieldservice.knowledge import services
from fieldservice.knowledge.models import Article

API = "/api/v1"


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


@pytest.fixture
def articles(world):
    def make(title, publish=True, **fields):
        article = services.create_article(actor=world.agent, title=title, **fields)
        return services.publish_article(article, actor=world.agent) if publish else article

    return {
        "oil": make("Hydraulic oil overheating", symptoms="Oil temperature alarm", solution="Clean the cooler"),
        "belt": make("Drive belt slipping", symptoms="Squeal", solution="Tension the belt"),
        "draft": make("Oil draft", publish=False, symptoms="Oil temperature", solution="?"),
    }


def test_search_ranks_and_hides_drafts_from_engineers(api_client_for, articles, world):
    response = api_client_for(world.engineer).get(f"{API}/articles", {"q": "oil temperature alarm"})
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["title"] for item in items] == ["Hydraulic oil overheating"]
    assert items[0]["score"] > 0
    everything = api_client_for(world.engineer).get(f"{API}/articles").json()
    assert {item["title"] for item in everything["items"]} == {"Hydraulic oil overheating", "Drive belt slipping"}
    assert api_client_for(world.engineer).get(f"{API}/articles/{articles['draft'].pk}").status_code == 404
    agent_titles = {i["title"] for i in api_client_for(world.agent).get(f"{API}/articles").json()["items"]}
    assert "Oil draft" in agent_titles


def test_customers_get_nothing(api_client_for, articles, world):
    client = api_client_for(world.customer_user_a)
    assert client.get(f"{API}/articles").status_code == 403
    assert client.get(f"{API}/articles", {"q": "oil"}).status_code == 403
    assert client.get(f"{API}/articles/{articles['oil'].pk}").status_code == 404


def test_anonymous_calls_are_refused(client, articles):
    assert client.get(f"{API}/articles").status_code == 401


def test_an_agent_creates_an_article(api_client_for, world):
    client = api_client_for(world.agent)
    response = post(client, f"{API}/articles", {"title": "Door switch", "symptoms": "Door alarm", "solution": "x"})
    assert response.status_code == 201
    assert response.json()["status"] == "draft"
    assert post(client, f"{API}/articles", {"title": ""}).status_code == 422
    assert post(client, f"{API}/articles", {"title": "x", "status": "published"}).status_code == 422
    response = post(client, f"{API}/articles", {"title": "x", "fault_category": 999999})
    assert response.status_code == 422
    assert Article.objects.count() == 1
    article_id = Article.objects.get().pk
    assert post(client, f"{API}/articles/{article_id}/publish").json()["status"] == "published"


@pytest.mark.parametrize("who", ["engineer", "director", "customer_user_a"])
def test_others_may_not_write(api_client_for, world, who):
    response = post(api_client_for(getattr(world, who)), f"{API}/articles", {"title": "Mine"})
    assert response.status_code == 403
    assert not Article.objects.exists()


def test_drafting_from_a_work_order(api_client_for, make_order, world):
    closed, open_ = make_order("closed"), make_order("completed")
    client = api_client_for(world.agent)
    response = post(client, f"{API}/work-orders/{closed.pk}/article")
    assert response.status_code == 201
    first = response.json()
    assert first["source_order"] == closed.pk and first["status"] == "draft"
    again = post(client, f"{API}/work-orders/{closed.pk}/article")
    assert again.status_code == 409
    assert again.json()["code"] == "article_exists" and f"#{first['id']}" in again.json()["detail"]
    refused = post(client, f"{API}/work-orders/{open_.pk}/article")
    assert refused.status_code == 409 and refused.json()["code"] == "not_closed"
    assert post(api_client_for(world.customer_user_a), f"{API}/work-orders/{closed.pk}/article").status_code == 403
    assert post(client, f"{API}/work-orders/999999/article").status_code == 404
    assert Article.objects.count() == 1
