"""The public help centre: search, categories, articles with "was this helpful", the standard manual.

No sign-in. Every page lives under ``/help/<locale>/`` and is rendered in that language; customers
only ever see the live published version of public articles.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aftersales.assets.models import ProductModel
from aftersales.core.errors import ApplicationError

from .bot import clean_text, normalize_locale
from .models import (
    Article,
    ArticleFeedback,
    Audience,
    Category,
    Locale,
    Manual,
    ManualEdition,
    SearchSource,
)
from .search import article_search
from .services import article_view_count, feedback_record, search_log
from .view_utils import ensure_session_key, int_or_none, is_htmx, request_user, use_locale

PAGE_SIZE = 10
MAX_QUERY_CHARS = 200
FEEDBACK_SESSION_KEY = "kb_feedback"


def live_articles(locale: str) -> QuerySet[Article]:
    """Public articles with a live version in ``locale`` (drafts and internal articles never show)."""
    return Article.objects.filter(
        locale=locale, audience=Audience.PUBLIC, published_version__isnull=False
    ).select_related("published_version", "category")


def _other_locale(locale: str) -> str:
    return Locale.EN if locale == Locale.ZH_HANS else Locale.ZH_HANS


def _categories(locale: str) -> list[dict[str, Any]]:
    counts = dict(
        live_articles(locale)
        .values_list("category_id")
        .annotate(n=Count("id"))
        .values_list("category_id", "n")
    )
    categories = list(Category.objects.all())
    children: dict[int | None, list[Category]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)

    def total(category: Category) -> int:
        return counts.get(category.pk, 0) + sum(total(child) for child in children.get(category.pk, []))

    return [
        {"category": c, "name": c.name_for(locale), "count": total(c)}
        for c in children.get(None, [])
        if total(c)
    ]


def _base_context(locale: str, **extra: Any) -> dict[str, Any]:
    return {"locale": locale, "other_locale": _other_locale(locale), "nav": "help", **extra}


@require_GET
def help_root(request: HttpRequest) -> HttpResponse:
    return redirect("knowledge:help-home", locale=normalize_locale(get_language()))


@require_GET
def help_home(request: HttpRequest, locale: str) -> HttpResponse:
    locale = use_locale(request, locale)
    articles = live_articles(locale)
    popular = list(articles.order_by("-view_count", "-helpful_count", "key")[:8])
    recent = list(articles.order_by("-published_version__published_at", "-id")[:5])
    manuals = list(
        Manual.objects.filter(locale=locale, audience=Audience.PUBLIC, editions__isnull=False).distinct()
    )
    return render(
        request,
        "knowledge/help/home.html",
        _base_context(
            locale, categories=_categories(locale), popular=popular, recent=recent, manuals=manuals
        ),
    )


def _filter_choices(locale: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    categories = [(c.pk, c.name_for(locale)) for c in Category.objects.all()]
    products = [
        (p.pk, f"{p.code} {p.name_en if locale == Locale.EN and p.name_en else p.name}")
        for p in ProductModel.objects.filter(
            kb_articles__locale=locale,
            kb_articles__audience=Audience.PUBLIC,
            kb_articles__published_version__isnull=False,
        )
        .distinct()
        .order_by("pk")
    ]
    return categories, products


@require_GET
def help_search(request: HttpRequest, locale: str) -> HttpResponse:
    locale = use_locale(request, locale)
    query = clean_text(request.GET.get("q") or "").strip()[:MAX_QUERY_CHARS]
    category_id = int_or_none(request.GET.get("category"))
    product_id = int_or_none(request.GET.get("product"))
    page = int_or_none(request.GET.get("page")) or 1
    page = min(page, 100)
    result = None
    if query:
        result = article_search(
            query=query,
            locale=locale,
            audience="public",
            product_model_id=product_id,
            category_id=category_id,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
        if page == 1:
            search_log(
                query=query,
                locale=locale,
                audience="public",
                results=result.total,
                source=SearchSource.HELP,
                user=request_user(request),
            )
    categories, products = _filter_choices(locale)
    keys = {}
    if result is not None and result.hits:
        keys = dict(
            Article.objects.filter(pk__in=[h.article_id for h in result.hits]).values_list("pk", "key")
        )
    hits = [
        {"hit": hit, "key": keys[hit.article_id]}
        for hit in (result.hits if result else [])
        if hit.article_id in keys
    ]
    names = dict(categories)
    context = _base_context(
        locale,
        query=query,
        result=result,
        hits=hits,
        page=page,
        has_next=bool(result and result.total > page * PAGE_SIZE),
        category_id=category_id,
        product_id=product_id,
        category_choices=categories,
        product_choices=products,
        category_names=names,
    )
    if is_htmx(request):
        return render(request, "knowledge/help/_results.html", context)
    return render(request, "knowledge/help/search.html", context)


@require_GET
def help_category(request: HttpRequest, locale: str, slug: str) -> HttpResponse:
    locale = use_locale(request, locale)
    category = Category.objects.filter(slug=slug).select_related("parent").first()
    if category is None:
        raise Http404(_("No such category."))
    children = list(Category.objects.filter(parent=category))
    ids = [category.pk, *[c.pk for c in children]]
    articles = list(live_articles(locale).filter(category_id__in=ids).order_by("published_version__title"))
    return render(
        request,
        "knowledge/help/category.html",
        _base_context(
            locale,
            category=category,
            category_name=category.name_for(locale),
            parent_name=category.parent.name_for(locale) if category.parent else "",
            children=[{"category": c, "name": c.name_for(locale)} for c in children],
            articles=articles,
            categories=_categories(locale),
        ),
    )


def _article_or_translation(locale: str, key: str) -> tuple[Article | None, str | None]:
    """The live article, or the URL of its translation into ``locale`` (after a language switch)."""
    article = live_articles(locale).filter(key=key).first()
    if article is not None:
        return article, None
    elsewhere = live_articles(_other_locale(locale)).filter(key=key).first()
    if elsewhere is not None:
        translation = live_articles(locale).filter(translation_group=elsewhere.translation_group).first()
        target = translation or elsewhere
        return None, reverse("knowledge:help-article", kwargs={"locale": target.locale, "key": target.key})
    return None, None


def _voted(request: HttpRequest, article: Article) -> ArticleFeedback | None:
    user = request_user(request)
    if user is not None:
        return ArticleFeedback.objects.filter(article=article, user=user).first()
    key = request.session.session_key
    if not key:
        return None
    return ArticleFeedback.objects.filter(article=article, session_key=key, user__isnull=True).first()


@require_GET
def help_article(request: HttpRequest, locale: str, key: str) -> HttpResponse:
    locale = use_locale(request, locale)
    article, elsewhere = _article_or_translation(locale, key)
    if article is None:
        if elsewhere:
            return HttpResponseRedirect(elsewhere)
        raise Http404(_("No such article."))
    version = article.published_version
    assert version is not None
    article_view_count(article=article)
    translation = (
        Article.objects.filter(
            translation_group=article.translation_group,
            audience=Audience.PUBLIC,
            published_version__isnull=False,
        )
        .exclude(pk=article.pk)
        .select_related("published_version")
        .first()
    )
    related = (
        list(
            live_articles(locale)
            .filter(category_id=article.category_id)
            .exclude(pk=article.pk)
            .order_by("-view_count")[:5]
        )
        if article.category_id
        else []
    )
    return render(
        request,
        "knowledge/help/article.html",
        _base_context(
            locale,
            article=article,
            version=version,
            translation=translation,
            related=related,
            category_name=article.category.name_for(locale) if article.category else "",
            vote=_voted(request, article),
        ),
    )


@require_POST
def help_feedback(request: HttpRequest, locale: str, key: str) -> HttpResponse:
    """ "Was this helpful?" — one vote per visitor session (voting again changes the vote)."""
    locale = use_locale(request, locale)
    article = live_articles(locale).filter(key=key).first()
    if article is None:
        raise Http404(_("No such article."))
    answer = request.POST.get("helpful")
    error = ""
    vote = None
    if answer not in ("yes", "no"):
        error = _("Choose yes or no.")
    else:
        try:
            vote = feedback_record(
                article=article,
                helpful=answer == "yes",
                comment=clean_text(request.POST.get("comment") or "").strip(),
                session_key=ensure_session_key(request),
                user=request_user(request),
            )
        except ApplicationError as exc:
            error = "; ".join(str(v) for v in exc.details.values()) or str(exc.message)
    context = _base_context(
        locale, article=article, vote=vote, feedback_error=error, just_voted=vote is not None
    )
    if is_htmx(request):
        return render(request, "knowledge/help/_feedback.html", context)
    return redirect(reverse("knowledge:help-article", kwargs={"locale": locale, "key": key}) + "#feedback")


# --- the standard manual --------------------------------------------------------------------------


def _manual_edition(locale: str, slug: str) -> tuple[Manual, ManualEdition]:
    manual = Manual.objects.filter(slug=slug, audience=Audience.PUBLIC).first()
    edition = manual.editions.order_by("-number").first() if manual is not None else None
    if manual is None or edition is None:
        raise Http404(_("No published edition of this manual."))
    return manual, edition


@require_GET
def help_manuals(request: HttpRequest, locale: str) -> HttpResponse:
    locale = use_locale(request, locale)
    # The reader's language first, then the others (every region reads the same edition).
    found = [
        (manual, manual.editions.order_by("-number").first())
        for manual in Manual.objects.filter(audience=Audience.PUBLIC).order_by("slug")
    ]
    found.sort(key=lambda pair: (pair[0].locale != locale, pair[0].slug))
    manuals = [
        {"manual": manual, "edition": edition, "title": manual.title_for(locale)}
        for manual, edition in found
        if edition is not None
    ]
    return render(request, "knowledge/help/manuals.html", _base_context(locale, manuals=manuals))


@require_GET
def help_manual(request: HttpRequest, locale: str, slug: str) -> HttpResponse:
    locale = use_locale(request, locale)
    manual, edition = _manual_edition(locale, slug)
    editions = list(manual.editions.order_by("-number")[:10])
    return render(
        request,
        "knowledge/help/manual.html",
        _base_context(
            locale,
            manual=manual,
            title=manual.title_for(locale),
            edition=edition,
            editions=editions,
            changes=edition.changes or {},
            outline=_outline_links(edition),
        ),
    )


def _outline_links(edition: ManualEdition) -> list[dict[str, object]]:
    """The edition's outline; entries whose article is still live link to the help-centre page."""
    outline = [entry for entry in (edition.outline or []) if isinstance(entry, dict)]
    ids = [entry["article_id"] for entry in outline if isinstance(entry.get("article_id"), int)]
    live = {
        article.pk: reverse("knowledge:help-article", kwargs={"locale": article.locale, "key": article.key})
        for article in Article.objects.filter(
            pk__in=ids, audience=Audience.PUBLIC, published_version__isnull=False
        )
    }
    return [{**entry, "url": live.get(entry.get("article_id"), "")} for entry in outline]  # type: ignore[arg-type]
