"""HTTP API for the knowledge base (under /api/v1/)."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from fieldservice.accounts.permissions import Capability, can
from fieldservice.assets.selectors import product_models_for
from fieldservice.core.api import Id, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import require
from fieldservice.knowledge import selectors, services
from fieldservice.knowledge.models import Article
from fieldservice.knowledge.permissions import may_manage_knowledge
from fieldservice.workorders.selectors import fault_categories, get_work_order_for

router = Router(tags=["knowledge"])


class ArticleOut(Schema):
    id: int
    title: str
    fault_category: int | None = Field(validation_alias="fault_category_id")
    fault_category_name: str
    product_model: int | None = Field(validation_alias="product_model_id")
    product_model_code: str
    symptoms: str
    cause: str
    solution: str
    status: str
    source_order: int | None = Field(validation_alias="source_order_id")
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None

    @staticmethod
    def resolve_fault_category_name(obj) -> str:
        return str(obj.fault_category) if obj.fault_category_id else ""

    @staticmethod
    def resolve_product_model_code(obj) -> str:
        return obj.product_model.code if obj.product_model_id else ""


class ArticleHitOut(ArticleOut):
    score: int | None = None


class ArticleIn(StrictSchema):
    __model__ = Article
    title: str
    fault_category: Id | None = None
    product_model: Id | None = None
    symptoms: str = ""
    cause: str = ""
    solution: str = ""


class ArticlePatch(StrictSchema):
    __model__ = Article
    title: str = None
    fault_category: Id | None = None
    product_model: Id | None = None
    symptoms: str = None
    cause: str = None
    solution: str = None


def _lookup(queryset, pk, field: str):
    if pk is None:
        return None
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise ValidationError(
            {field: _("No %(field)s with id %(id)s.") % {"field": field.replace("_", " "), "id": pk}},
            code="does_not_exist",
        )
    return obj


def _links(user, data: dict) -> dict:
    if "fault_category" in data:
        data["fault_category"] = _lookup(fault_categories(), data["fault_category"], "fault_category")
    if "product_model" in data:
        data["product_model"] = _lookup(product_models_for(user), data["product_model"], "product_model")
    return data


@router.get("/articles", response=list[ArticleHitOut], summary="Knowledge articles; with q, best matches first")
@paginate(PageNumberPagination, page_size=50)
def list_articles(request, q: str = "", fault_category: Id | None = None, status: str = ""):
    """Without `q`: every article you may read, filtered. With `q`: the best matches (at most
    50), ranked; `fault_category` then also boosts articles of that category."""
    require(can(request.user, Capability.VIEW_KNOWLEDGE))
    articles = selectors.articles_for(request.user)
    if not q.strip():
        return selectors.filter_articles(articles, fault_category=fault_category, status=status or None)
    category = fault_categories().filter(pk=fault_category).first() if fault_category else None
    return selectors.search_articles(
        request.user, q, category, articles=selectors.filter_articles(articles, status=status or None), limit=50
    )


@router.get("/articles/{int:article_id}", response=ArticleOut)
def get_article(request, article_id: Id):
    return selectors.get_article_for(request.user, article_id)


@router.post("/articles", response={201: ArticleOut}, summary="Write a draft article")
@idempotent
def create_article(request, payload: ArticleIn):
    require(may_manage_knowledge(request.user))
    return 201, services.create_article(actor=request.user, **_links(request.user, payload.model_dump()))


@router.patch("/articles/{int:article_id}", response=ArticleOut)
def update_article(request, article_id: Id, payload: ArticlePatch):
    article = selectors.get_article_for(request.user, article_id)
    require(may_manage_knowledge(request.user))
    fields = _links(request.user, payload.model_dump(exclude_unset=True))
    return services.update_article(article, actor=request.user, **fields)


@router.post("/articles/{int:article_id}/publish", response=ArticleOut)
def publish_article(request, article_id: Id):
    article = selectors.get_article_for(request.user, article_id)
    return services.publish_article(article, actor=request.user)


@router.post(
    "/work-orders/{int:order_id}/article",
    response={201: ArticleOut},
    summary="Draft an article from a closed work order (409 if it has one: the message names it)",
)
def article_from_order(request, order_id: Id):
    require(may_manage_knowledge(request.user))
    order = get_work_order_for(request.user, order_id)
    return 201, services.article_from_order(order, actor=request.user)
