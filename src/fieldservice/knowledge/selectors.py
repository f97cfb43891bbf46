"""Who may read which articles, and the search that ranks them.

The search is plain `icontains` per term, summed with Case/When, so it behaves the same on
SQLite and PostgreSQL. Chinese is written without spaces, so a run of Chinese characters is
cut into overlapping pairs (油温过高 → 油温, 温过, 过高): a phrasing that shares most pairs with
an article ranks it high without a word list."""

import re

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.knowledge.choices import ArticleStatus
from fieldservice.knowledge.models import Article
from fieldservice.workorders.models import FaultCategory

SEARCH_FIELDS = ("title", "symptoms", "cause", "solution")
SEARCH_LIMIT = 20
SUGGEST_LIMIT = 5
MAX_TERMS = 24
# Weights: a term in the title counts more than one in the text; the order's own fault
# category more than its parent or children.
TITLE_WEIGHT = 2
TEXT_WEIGHT = 1
SAME_CATEGORY_BOOST = 3
RELATED_CATEGORY_BOOST = 1
SNIPPET_RADIUS = 30

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{CJK}]+|[^\W{CJK}_]+", re.UNICODE)
_IS_CJK = re.compile(rf"[{CJK}]")
# Words that would match nearly every article.
STOP_WORDS = frozenset(
    {"a", "an", "and", "are", "be", "by", "do", "does", "for", "from", "has", "have", "in", "is", "it", "its"}
    | {"not", "no", "of", "on", "or", "the", "to", "was", "when", "with", "的", "了", "是", "在", "和"}
)


def articles_for(actor: User) -> QuerySet[Article]:
    """Editors see drafts too; other readers (engineers, dispatchers, partners) only what is
    published; customers nothing."""
    articles = Article.objects.select_related("fault_category__parent", "product_model", "created_by")
    if not can(actor, Capability.VIEW_KNOWLEDGE):
        return articles.none()
    if can(actor, Capability.MANAGE_KNOWLEDGE) and actor.is_own_staff:
        return articles
    return articles.filter(status=ArticleStatus.PUBLISHED)


def get_article_for(actor: User, pk: int) -> Article:
    return get_object_or_404(articles_for(actor), pk=pk)


def filter_articles(
    articles: QuerySet[Article],
    *,
    fault_category: int | None = None,
    product_model: int | None = None,
    status: str | None = None,
) -> QuerySet[Article]:
    """The list filters. A category also finds the articles filed under its sub-categories."""
    if fault_category:
        articles = articles.filter(Q(fault_category_id=fault_category) | Q(fault_category__parent_id=fault_category))
    if product_model:
        articles = articles.filter(product_model_id=product_model)
    if status:
        articles = articles.filter(status=status)
    return articles


def search_terms(text: str) -> list[str]:
    """Words for spaced scripts (lower-cased); for Chinese, character pairs (a lone character
    stays itself). Duplicates dropped, order kept."""
    terms: list[str] = []
    for token in _TOKEN.findall((text or "").lower()):
        if _IS_CJK.match(token):
            pieces = [token] if len(token) == 1 else [token[i : i + 2] for i in range(len(token) - 1)]
        elif len(token) > 1:
            pieces = [token]
        else:
            pieces = []  # a lone letter or digit matches everything
        for piece in pieces:
            if piece not in terms and piece not in STOP_WORDS:
                terms.append(piece)
    return terms[:MAX_TERMS]


def _term_score(term: str):
    in_text = Q()
    for name in SEARCH_FIELDS[1:]:
        in_text |= Q(**{f"{name}__icontains": term})
    return Case(
        When(title__icontains=term, then=Value(TITLE_WEIGHT)),
        When(in_text, then=Value(TEXT_WEIGHT)),
        default=Value(0),
        output_field=IntegerField(),
    )


def _category_boost(category: FaultCategory):
    related = Q(fault_category__parent_id=category.pk)
    if category.parent_id:
        related |= Q(fault_category_id=category.parent_id) | Q(fault_category__parent_id=category.parent_id)
    return Case(
        When(fault_category_id=category.pk, then=Value(SAME_CATEGORY_BOOST)),
        When(related, then=Value(RELATED_CATEGORY_BOOST)),
        default=Value(0),
        output_field=IntegerField(),
    )


def search_articles(
    actor: User,
    text: str,
    fault_category: FaultCategory | None = None,
    *,
    articles: QuerySet[Article] | None = None,
    limit: int = SEARCH_LIMIT,
) -> list[Article]:
    """The best `limit` articles the actor may read for `text`, best first. Each has `score`,
    `matches` (how many terms it contains) and `snippet` (HTML with the first match marked).
    Empty text finds nothing. `articles` narrows the candidates (the list page's filters)."""
    terms = search_terms(text)
    if not terms:
        return []
    candidates = articles if articles is not None else articles_for(actor)
    candidates = candidates.filter(pk__in=articles_for(actor).values("pk"))
    matches = sum((_term_score(term) for term in terms[1:]), _term_score(terms[0]))
    hits = [
        Case(When(_any_field(term), then=Value(1)), default=Value(0), output_field=IntegerField()) for term in terms
    ]
    found = candidates.annotate(
        matches=sum(hits[1:], hits[0]),
        score=matches + (_category_boost(fault_category) if fault_category is not None else Value(0)),
    ).filter(matches__gt=0)
    results = list(found.order_by("-score", "-matches", "-updated_at", "-pk")[:limit])
    for article in results:
        article.snippet = snippet(article, terms)
    return results


def _any_field(term: str) -> Q:
    condition = Q()
    for name in SEARCH_FIELDS:
        condition |= Q(**{f"{name}__icontains": term})
    return condition


def snippet(article: Article, terms: list[str]) -> SafeString:
    """A short piece of the article around the first term found, the term marked; from the
    symptoms, cause or solution first (the title is shown anyway)."""
    for name in (*SEARCH_FIELDS[1:], "title"):
        text = " ".join((getattr(article, name) or "").split())
        lowered = text.lower()
        positions = [(lowered.find(term), term) for term in terms if term in lowered]
        if not positions:
            continue
        start, term = min(positions)
        begin, end = max(0, start - SNIPPET_RADIUS), min(len(text), start + len(term) + SNIPPET_RADIUS)
        return mark_safe(  # noqa: S308 - every piece is escaped
            ("…" if begin else "")
            + escape(text[begin:start])
            + "<mark>"
            + escape(text[start : start + len(term)])
            + "</mark>"
            + escape(text[start + len(term) : end])
            + ("…" if end < len(text) else "")
        )
    return mark_safe("")  # noqa: S308
