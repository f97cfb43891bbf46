"""Writing and publishing knowledge articles, and drafting them from closed work orders."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.assets.models import ProductModel
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import record_created, record_event, record_updated, snapshot
from fieldservice.knowledge.choices import ArticleStatus
from fieldservice.knowledge.models import TEXT_MAX_LENGTH, TITLE_MAX_LENGTH, Article
from fieldservice.knowledge.permissions import may_manage_knowledge
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import FaultCategory, WorkOrder

ARTICLE_FIELDS = ["title", "fault_category", "product_model", "symptoms", "cause", "solution"]
TEXT_FIELDS = ("symptoms", "cause", "solution")


class ArticleExistsError(DomainError):
    """The work order already has an article; `article` is it."""

    def __init__(self, article: Article):
        super().__init__(
            "article_exists",
            _("Work order %(number)s already has article #%(id)d “%(title)s”.")
            % {
                "number": article.source_order.number if article.source_order else "",
                "id": article.pk,
                "title": article.title,
            },
        )
        self.article = article


def _check_fields(fields: dict) -> dict:
    cleaned = {}
    for name, value in fields.items():
        if name == "title":
            value = (value or "").strip()
            if not value:
                raise field_error("title", _("This field is required."), "required")
            if len(value) > TITLE_MAX_LENGTH:
                raise field_error("title", _("At most %(n)d characters.") % {"n": TITLE_MAX_LENGTH}, "max_length")
        elif name in TEXT_FIELDS:
            value = (value or "").strip()
            if len(value) > TEXT_MAX_LENGTH:
                raise field_error(name, _("At most %(n)d characters.") % {"n": TEXT_MAX_LENGTH}, "max_length")
        elif name == "fault_category":
            if value is not None and not isinstance(value, FaultCategory):
                raise field_error(name, _("Choose a fault category."), "invalid_choice")
        elif name == "product_model":
            if value is not None and not isinstance(value, ProductModel):
                raise field_error(name, _("Choose a product model."), "invalid_choice")
        else:
            raise field_error(name, _("This field cannot be set here."), "unknown_field")
        cleaned[name] = value
    return cleaned


@transaction.atomic
def create_article(
    *,
    actor: User,
    title: str,
    symptoms: str = "",
    cause: str = "",
    solution: str = "",
    fault_category: FaultCategory | None = None,
    product_model: ProductModel | None = None,
) -> Article:
    """A new draft."""
    require(may_manage_knowledge(actor))
    cleaned = _check_fields(
        {
            "title": title,
            "symptoms": symptoms,
            "cause": cause,
            "solution": solution,
            "fault_category": fault_category,
            "product_model": product_model,
        }
    )
    article = Article.objects.create(created_by=actor, status=ArticleStatus.DRAFT, **cleaned)
    record_created(article, actor=actor, fields=ARTICLE_FIELDS)
    return article


@transaction.atomic
def update_article(article: Article, *, actor: User, **fields) -> Article:
    require(may_manage_knowledge(actor))
    cleaned = _check_fields(fields)
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.status == ArticleStatus.PUBLISHED:
        _check_publishable({**{name: getattr(article, name) for name in TEXT_FIELDS}, **cleaned})
    before = snapshot(article, ARTICLE_FIELDS)
    for name, value in cleaned.items():
        setattr(article, name, value)
    article.save()
    record_updated(article, actor=actor, before=before)
    return article


def _check_publishable(values: dict) -> None:
    # What readers need: what they see and what to do about it.
    for name in ("symptoms", "solution"):
        if not (values.get(name) or "").strip():
            raise field_error(name, _("A published article needs this."), "required")


@transaction.atomic
def publish_article(article: Article, *, actor: User) -> Article:
    require(may_manage_knowledge(actor))
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.status == ArticleStatus.PUBLISHED:
        raise DomainError("already_published", _("This article is already published."))
    _check_publishable({name: getattr(article, name) for name in TEXT_FIELDS})
    Article.objects.filter(pk=article.pk, status=ArticleStatus.DRAFT).update(
        status=ArticleStatus.PUBLISHED, published_at=timezone.now(), updated_at=timezone.now()
    )
    article.refresh_from_db()
    record_event(
        article,
        actor=actor,
        action="published",
        changes={"status": [str(ArticleStatus.DRAFT.label), str(ArticleStatus.PUBLISHED.label)]},
    )
    return article


def _title_for(order: WorkOrder) -> str:
    parts = []
    if order.fault_category_id:
        parts.append(str(order.fault_category))
    if order.equipment_id:
        parts.append(order.equipment.product_model.name)
    return " · ".join(parts)[:TITLE_MAX_LENGTH] or (_("Lessons from work order %(number)s") % {"number": order.number})


@transaction.atomic
def article_from_order(order: WorkOrder, *, actor: User) -> Article:
    """A draft made from what the engineer recorded on a closed order. One per order: a second
    call raises ArticleExistsError pointing to the first."""
    require(may_manage_knowledge(actor))
    order = WorkOrder.objects.select_related("fault_category__parent", "equipment__product_model").get(pk=order.pk)
    if order.status != WorkOrderStatus.CLOSED:
        raise DomainError(
            "not_closed",
            _("Work order %(number)s is %(status)s; only closed work orders become articles.")
            % {"number": order.number, "status": order.get_status_display()},
        )
    existing = Article.objects.select_related("source_order").filter(source_order=order).first()
    if existing is not None:
        raise ArticleExistsError(existing)
    fields = {
        "title": _title_for(order),
        "fault_category": order.fault_category,
        "product_model": order.equipment.product_model if order.equipment_id else None,
        "symptoms": order.description,
        "cause": order.fault_cause,
        "solution": order.actions_taken,
    }
    cleaned = _check_fields(fields)
    try:
        with transaction.atomic():
            article = Article.objects.create(
                created_by=actor, status=ArticleStatus.DRAFT, source_order=order, **cleaned
            )
    except IntegrityError:
        raise ArticleExistsError(Article.objects.select_related("source_order").get(source_order=order)) from None
    record_created(article, actor=actor, fields=ARTICLE_FIELDS, related=order, note=order.number or "")
    return article
