"""Articles: editors write and publish them; a closed work order drafts one, once."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fieldservice.core.errors import DomainError
from fieldservice.core.models import Event
from fieldservice.knowledge import selectors, services
from fieldservice.knowledge.choices import ArticleStatus
from fieldservice.knowledge.models import Article
from tests import factories


@pytest.fixture
def oil_temp(world):
    parent = factories.fault_category("hydraulics", name="液压系统")
    return factories.fault_category("oil-temp", name="油温过高", parent=parent)


def test_an_agent_writes_a_draft_and_publishes_it(world):
    article = services.create_article(
        actor=world.agent, title="  Belt slipping ", symptoms="Squeal", solution="Tension the belt"
    )
    assert (article.title, article.status, article.created_by) == ("Belt slipping", ArticleStatus.DRAFT, world.agent)
    published = services.publish_article(article, actor=world.agent)
    assert published.status == ArticleStatus.PUBLISHED and published.published_at is not None
    assert Event.objects.filter(object_pk=str(article.pk), action="published").exists()
    with pytest.raises(DomainError) as excinfo:
        services.publish_article(article, actor=world.agent)
    assert excinfo.value.code == "already_published"


def test_a_title_is_required(world):
    with pytest.raises(ValidationError) as excinfo:
        services.create_article(actor=world.agent, title=" ")
    assert set(excinfo.value.error_dict) == {"title"}
    assert not Article.objects.exists()


@pytest.mark.parametrize("missing", ["symptoms", "solution"])
def test_publishing_needs_symptoms_and_solution(world, missing):
    fields = {"symptoms": "Squeal", "solution": "Tension the belt", missing: ""}
    article = services.create_article(actor=world.agent, title="Belt", **fields)
    with pytest.raises(ValidationError) as excinfo:
        services.publish_article(article, actor=world.agent)
    assert set(excinfo.value.error_dict) == {missing}
    article.refresh_from_db()
    assert article.status == ArticleStatus.DRAFT


def test_a_published_article_cannot_lose_its_solution(world):
    article = services.create_article(actor=world.agent, title="Belt", symptoms="Squeal", solution="Tension")
    services.publish_article(article, actor=world.agent)
    with pytest.raises(ValidationError):
        services.update_article(article, actor=world.agent, solution="")
    article.refresh_from_db()
    assert article.solution == "Tension"
    services.update_article(article, actor=world.agent, solution="Tension or replace")
    article.refresh_from_db()
    assert article.solution == "Tension or replace"


@pytest.mark.parametrize("who", ["engineer", "director", "dispatcher", "customer_user_a", "provider_admin"])
def test_only_editors_change_articles(world, who):
    actor = getattr(world, who)
    with pytest.raises(PermissionDenied):
        services.create_article(actor=actor, title="Mine")
    article = services.create_article(actor=world.agent, title="Belt", symptoms="Squeal", solution="Tension")
    with pytest.raises(PermissionDenied):
        services.update_article(article, actor=actor, title="Changed")
    with pytest.raises(PermissionDenied):
        services.publish_article(article, actor=actor)
    article.refresh_from_db()
    assert (article.title, article.status) == ("Belt", ArticleStatus.DRAFT)


def test_drafts_are_for_editors_and_customers_read_nothing(world):
    draft = services.create_article(actor=world.agent, title="Draft", symptoms="s", solution="s")
    published = services.publish_article(
        services.create_article(actor=world.agent, title="Done", symptoms="s", solution="s"), actor=world.agent
    )
    assert set(selectors.articles_for(world.agent)) == {draft, published}
    assert set(selectors.articles_for(world.admin)) == {draft, published}
    for reader in ("engineer", "director", "dispatcher", "provider_admin", "provider_engineer"):
        assert set(selectors.articles_for(getattr(world, reader))) == {published}, reader
    assert set(selectors.articles_for(world.customer_user_a)) == set()


def test_a_closed_order_drafts_an_article(world, make_order, oil_temp):
    order = make_order(
        "closed",
        fault_category=oil_temp,
        description="Oil temperature alarm after two hours",
        fault_cause="Cooler blocked",
        actions_taken="Cleaned the cooler",
    )
    article = services.article_from_order(order, actor=world.agent)
    assert article.status == ArticleStatus.DRAFT
    assert article.source_order == order
    assert "油温过高" in article.title and "Injection moulder 200" in article.title
    assert (article.symptoms, article.cause, article.solution) == (
        "Oil temperature alarm after two hours",
        "Cooler blocked",
        "Cleaned the cooler",
    )
    assert (article.fault_category, article.product_model) == (oil_temp, world.model)


def test_an_order_drafts_one_article_only(world, make_order):
    order = make_order("closed")
    first = services.article_from_order(order, actor=world.agent)
    with pytest.raises(services.ArticleExistsError) as excinfo:
        services.article_from_order(order, actor=world.agent)
    assert excinfo.value.article == first
    assert excinfo.value.code == "article_exists"
    assert f"#{first.pk}" in excinfo.value.message
    assert Article.objects.filter(source_order=order).count() == 1


@pytest.mark.parametrize("until", ["new", "on_site", "completed"])
def test_only_closed_orders_become_articles(world, make_order, until):
    order = make_order(until)
    with pytest.raises(DomainError) as excinfo:
        services.article_from_order(order, actor=world.agent)
    assert excinfo.value.code == "not_closed"
    assert not Article.objects.exists()


def test_engineers_cannot_draft_from_orders(world, make_order):
    with pytest.raises(PermissionDenied):
        services.article_from_order(make_order("closed"), actor=world.wang)
    assert not Article.objects.exists()
