"""Knowledge pages: list and search, detail, editing, publishing, drafting from an order, and
the suggestion fragment for the agent console."""

import pytest
from django.urls import reverse

from fieldservice.knowledge import services
from fieldservice.knowledge.choices import ArticleStatus
from fieldservice.knowledge.models import Article

LIST = reverse("knowledge:list")
SUGGEST = reverse("knowledge:suggest")


@pytest.fixture
def articles(world):
    def make(title, publish=True, **fields):
        fields.setdefault("symptoms", "Oil temperature alarm")
        fields.setdefault("solution", "Clean the cooler")
        article = services.create_article(actor=world.agent, title=title, **fields)
        return services.publish_article(article, actor=world.agent) if publish else article

    return {
        "oil": make("液压油温过高报警", symptoms="液压油温过高报警，油温70度", solution="清洗冷却器"),
        "belt": make("Drive belt slipping", symptoms="Squeal at start", solution="Tension the belt"),
        "draft": make("Secret draft about oil", publish=False),
    }


@pytest.mark.parametrize(("who", "status"), [("engineer", 200), ("director", 200), ("customer_user_a", 403)])
def test_who_may_read(client_for, articles, world, who, status):
    client = client_for(getattr(world, who))
    assert client.get(LIST).status_code == status
    assert client.get(reverse("knowledge:detail", args=[articles["belt"].pk])).status_code == status
    assert client.get(SUGGEST, {"q": "belt"}).status_code == status


def test_engineers_never_see_drafts(client_for, articles, world):
    client = client_for(world.engineer)
    body = client.get(LIST).content.decode()
    assert "Drive belt slipping" in body and "Secret draft" not in body
    assert "Secret draft" not in client.get(LIST, {"q": "oil"}).content.decode()
    assert client.get(reverse("knowledge:detail", args=[articles["draft"].pk])).status_code == 404
    assert client.get(reverse("knowledge:edit", args=[articles["belt"].pk])).status_code == 403


def test_the_list_searches_and_filters(client_for, articles, world):
    client = client_for(world.agent)
    response = client.get(LIST, {"q": "油温过高"})
    assert [a.title for a in response.context["objects"]] == ["液压油温过高报警"]
    response = client.get(LIST, {"status": "draft"})
    assert [a.title for a in response.context["objects"]] == ["Secret draft about oil"]
    response = client.get(LIST, {"q": "oil", "status": "published"})
    assert "Secret draft about oil" not in [a.title for a in response.context["objects"]]
    assert client.get(LIST, {"export": "xlsx"}).status_code == 200


def test_the_suggest_fragment(client_for, articles, world):
    client = client_for(world.engineer)
    response = client.get(SUGGEST, {"q": "油温过高"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert "液压油温过高报警" in body
    assert reverse("knowledge:detail", args=[articles["oil"].pk]) in body
    assert "<mark>" in body
    assert "Drive belt" not in body and "Secret draft" not in body
    assert client.get(SUGGEST, {"q": ""}).content.decode().strip() == ""
    assert client.get(SUGGEST).content.decode().strip() == ""
    assert client.get(SUGGEST, {"q": "nothing like this"}).content.decode().strip() == ""


def test_the_suggest_fragment_shows_at_most_five(client_for, world):
    for number in range(7):
        article = services.create_article(
            actor=world.agent, title=f"Pump noise {number}", symptoms="pump noise", solution="x"
        )
        services.publish_article(article, actor=world.agent)
    body = client_for(world.agent).get(SUGGEST, {"q": "pump noise", "fault_category": "abc"}).content.decode()
    assert body.count("<li>") == 5


def test_an_agent_writes_edits_and_publishes(client_for, world):
    client = client_for(world.agent)
    response = client.post(reverse("knowledge:create"), {"title": ""})
    assert response.status_code == 200 and not Article.objects.exists()
    response = client.post(
        reverse("knowledge:create"), {"title": "Door switch", "symptoms": "Door alarm", "solution": ""}
    )
    article = Article.objects.get()
    assert response.url == reverse("knowledge:detail", args=[article.pk])
    # Publishing without a solution sends the editor back to the form with the reason.
    response = client.post(reverse("knowledge:publish", args=[article.pk]), follow=True)
    assert "A published article needs this." in response.content.decode()
    article.refresh_from_db()
    assert article.status == ArticleStatus.DRAFT
    client.post(
        reverse("knowledge:edit", args=[article.pk]),
        {"title": "Door switch", "symptoms": "Door alarm", "solution": "Adjust the switch"},
    )
    client.post(reverse("knowledge:publish", args=[article.pk]))
    article.refresh_from_db()
    assert (article.solution, article.status) == ("Adjust the switch", ArticleStatus.PUBLISHED)


def test_from_order_opens_the_new_draft_and_then_the_same_one(client_for, make_order, world):
    order = make_order("closed")
    client = client_for(world.agent)
    url = reverse("knowledge:from_order", args=[order.pk])
    response = client.post(url)
    article = Article.objects.get(source_order=order)
    assert response.status_code == 302 and response.url == reverse("knowledge:edit", args=[article.pk])
    response = client.post(url)
    assert response.url == reverse("knowledge:edit", args=[article.pk])
    assert Article.objects.count() == 1


def test_from_order_refuses_an_open_order(client_for, make_order, world):
    order = make_order("completed")
    response = client_for(world.agent).post(reverse("knowledge:from_order", args=[order.pk]), follow=True)
    assert "only closed work orders become articles" in response.content.decode()
    assert not Article.objects.exists()


def test_from_order_is_for_editors_only(client_for, make_order, world):
    order = make_order("closed")
    url = reverse("knowledge:from_order", args=[order.pk])
    assert client_for(world.engineer).post(url).status_code == 403
    assert client_for(world.customer_user_a).post(url).status_code == 403
    assert client_for(world.agent).get(url).status_code == 405
    assert not Article.objects.exists()
