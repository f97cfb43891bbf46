"""Knowledge base pages, and the suggestion fragment the agent console loads with htmx."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fieldservice.accounts.permissions import Capability, can
from fieldservice.core import panels
from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.core.validation import parse_id
from fieldservice.knowledge import selectors, services
from fieldservice.knowledge.forms import ArticleFilterForm, ArticleForm
from fieldservice.knowledge.models import Article
from fieldservice.knowledge.permissions import may_manage_knowledge
from fieldservice.workorders.selectors import fault_categories, get_work_order_for

ARTICLES = Listing(
    columns=[
        Column(
            gettext_lazy("Title"),
            lambda a: a.title,
            cell="<a href=\"{% url 'knowledge:detail' row.pk %}\">{{ row.title }}</a>"
            '{% if row.snippet %}<br><small class="muted">{{ row.snippet }}</small>{% endif %}',
        ),
        Column(gettext_lazy("Fault category"), lambda a: a.fault_category or "", default="—"),
        Column(gettext_lazy("Product model"), lambda a: a.product_model or "", default="—"),
        Column(
            gettext_lazy("Status"),
            lambda a: a.get_status_display(),
            badge=lambda a: "ok" if a.status == "published" else "warn",
            when="may_manage",
        ),
        Column(gettext_lazy("Symptoms"), lambda a: a.symptoms, page=False),
        Column(gettext_lazy("Cause"), lambda a: a.cause, page=False),
        Column(gettext_lazy("Solution"), lambda a: a.solution, page=False),
        Column(gettext_lazy("Updated"), lambda a: a.updated_at, date="SHORT_DATE_FORMAT"),
    ],
    filter_form=ArticleFilterForm,
    search=gettext_lazy("Symptom, alarm, cause…"),
    empty=gettext_lazy("No articles yet."),
    empty_filtered=gettext_lazy("No articles match this search."),
    export_name="knowledge",
    export_title=gettext_lazy("Knowledge base"),
)
FORM_FIELDS = ["title", "fault_category", "product_model", "symptoms", "cause", "solution"]
# The list shows at most this many search hits, best first.
LIST_SEARCH_LIMIT = 200


def _require_view(user) -> None:
    require(can(user, Capability.VIEW_KNOWLEDGE))


@login_required
def article_list(request):
    _require_view(request.user)
    may_manage = may_manage_knowledge(request.user)
    filter_form = ARTICLES.filters(request, show_status=may_manage)
    filters = filter_form.filters() if request.GET else {}
    articles = selectors.filter_articles(selectors.articles_for(request.user), **filters)
    query = request.GET.get("q", "").strip()
    if query:
        articles = selectors.search_articles(request.user, query, articles=articles, limit=LIST_SEARCH_LIMIT)
    return ARTICLES.render(
        request,
        "knowledge/article_list.html",
        articles,
        filters=filter_form,
        context={"may_manage": may_manage},
    )


@login_required
def suggest(request):
    """Up to five articles for what the agent is typing (htmx fragment); nothing for no text."""
    _require_view(request.user)
    category = None
    category_id = parse_id(request.GET.get("fault_category"))
    if category_id:
        category = fault_categories().filter(pk=category_id).first()
    articles = selectors.search_articles(
        request.user, request.GET.get("q", ""), category, limit=selectors.SUGGEST_LIMIT
    )
    return render(request, "knowledge/_suggest.html", {"articles": articles})


@login_required
def article_detail(request, pk):
    _require_view(request.user)
    article = selectors.get_article_for(request.user, pk)
    return render(
        request,
        "knowledge/article_detail.html",
        {
            "article": article,
            "may_manage": may_manage_knowledge(request.user),
            "panels": panels.render("knowledge.article", request, article),
        },
    )


def _form_page(request, form, article: Article | None):
    return render(request, "knowledge/article_form.html", {"form": form, "article": article})


@login_required
def article_create(request):
    require(may_manage_knowledge(request.user))
    form = ArticleForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            article = services.create_article(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Draft “%(title)s” saved.") % {"title": article.title})
            return redirect("knowledge:detail", pk=article.pk)
    return _form_page(request, form, None)


@login_required
def article_edit(request, pk):
    article = selectors.get_article_for(request.user, pk)
    require(may_manage_knowledge(request.user))
    initial = {name: getattr(article, name) for name in FORM_FIELDS}
    form = ArticleForm(request.POST or None, initial=initial, actor=request.user)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            if changes:
                services.update_article(article, actor=request.user, **changes)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Article “%(title)s” saved.") % {"title": form.cleaned_data["title"]})
            return redirect("knowledge:detail", pk=article.pk)
    return _form_page(request, form, article)


@login_required
@require_POST
def article_publish(request, pk):
    article = selectors.get_article_for(request.user, pk)
    require(may_manage_knowledge(request.user))
    try:
        services.publish_article(article, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("knowledge:edit", pk=pk)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Article “%(title)s” published.") % {"title": article.title})
    return redirect("knowledge:detail", pk=pk)


@login_required
@require_POST
def from_order(request, order_pk):
    """Draft an article from a closed work order and open it for editing."""
    require(may_manage_knowledge(request.user))
    order = get_work_order_for(request.user, order_pk)
    try:
        article = services.article_from_order(order, actor=request.user)
    except services.ArticleExistsError as error:
        messages.info(request, error.message)
        return redirect("knowledge:edit", pk=error.article.pk)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("knowledge:list")
    messages.success(
        request, _("Draft made from work order %(number)s. Check it and publish it.") % {"number": order.number}
    )
    return redirect("knowledge:edit", pk=article.pk)
