"""Reads of the knowledge base, scoped to who asks.

Who sees what: writers (``kb.edit``) see every article and version; other staff see published
articles (public and internal); customers and visitors see published public articles only.
Manual editions: staff read all, everyone else only those of public manuals.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from aftersales.core.errors import NotFound, PermissionDenied, ValidationFailed
from aftersales.core.models import User
from aftersales.core.paging import keyset_page
from aftersales.core.roles import Capability

from .diff import FieldDiff
from .diff import version_diff as _version_diff
from .models import (
    OPEN_STATUSES,
    Article,
    ArticleVersion,
    Audience,
    Category,
    Manual,
    ManualEdition,
    ManualSection,
    SearchQueryLog,
    TicketArticleUse,
    UseVia,
    VersionStatus,
)

__all__ = [
    "EDITOR_STATUS_FILTERS",
    "article_get_for_user",
    "article_get_public",
    "article_list_for_editor",
    "article_list_public",
    "article_translations",
    "article_versions",
    "can_edit",
    "can_review",
    "categories",
    "edition_get_for_user",
    "manual_get_for_user",
    "manual_outline",
    "manuals_for_user",
    "manuals_with_editions",
    "missing_articles",
    "review_queue",
    "top_problems",
    "version_diff",
    "version_get",
]

EDITOR_STATUS_FILTERS = ("published", "unpublished", "draft", "review", "scheduled", "rejected")


def can_edit(user: Any) -> bool:
    return bool(
        user is not None and getattr(user, "is_authenticated", False) and user.can(Capability.KB_EDIT)
    )


def can_review(user: Any) -> bool:
    return bool(
        user is not None and getattr(user, "is_authenticated", False) and user.can(Capability.KB_REVIEW)
    )


def _is_staff(user: Any) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.is_staff_member or user.is_superuser)
    )


def visible_articles(user: Any) -> QuerySet[Article]:
    articles = Article.objects.all()
    if can_edit(user):
        return articles
    articles = articles.filter(published_version__isnull=False)
    if _is_staff(user):
        return articles
    return articles.filter(audience=Audience.PUBLIC)


def _with_latest(articles: QuerySet[Article]) -> QuerySet[Article]:
    latest = ArticleVersion.objects.filter(article=OuterRef("pk")).order_by("-number")
    open_version = ArticleVersion.objects.filter(
        article=OuterRef("pk"), status__in=sorted(OPEN_STATUSES)
    ).order_by("-number")
    return articles.select_related("category", "published_version").annotate(
        latest_title=Subquery(latest.values("title")[:1]),
        latest_number=Subquery(latest.values("number")[:1]),
        latest_status=Subquery(latest.values("status")[:1]),
        open_status=Subquery(open_version.values("status")[:1]),
        open_number=Subquery(open_version.values("number")[:1]),
    )


@dataclass
class EditorFilters:
    status: str | None = None
    locale: str | None = None
    category_id: int | None = None
    q: str | None = None
    audience: str | None = None


def article_list_for_editor(
    *, user: User, filters: EditorFilters | None = None, cursor: str | None = None, limit: int = 50
) -> tuple[list[Article], str | None]:
    """Articles for the editor console and the API, newest first, keyset-paged."""
    filters = filters or EditorFilters()
    articles = visible_articles(user)
    now = timezone.now()
    status = filters.status
    if status:
        if status not in EDITOR_STATUS_FILTERS:
            raise ValidationFailed(details={"status": "unknown status filter"})
        if status == "published":
            articles = articles.filter(published_version__isnull=False)
        elif status == "unpublished":
            articles = articles.filter(published_version__isnull=True)
        elif status == "scheduled":
            articles = articles.filter(
                versions__status=VersionStatus.PUBLISHED, versions__effective_at__gt=now
            ).distinct()
        elif status == "rejected":
            latest = ArticleVersion.objects.filter(article=OuterRef("pk")).order_by("-number")
            articles = articles.annotate(_latest=Subquery(latest.values("status")[:1])).filter(
                _latest=VersionStatus.REJECTED
            )
        else:
            articles = articles.filter(versions__status=status).distinct()
    if filters.locale:
        articles = articles.filter(locale=filters.locale)
    if filters.category_id:
        articles = articles.filter(category_id=filters.category_id)
    if filters.audience:
        articles = articles.filter(audience=filters.audience)
    if filters.q:
        articles = articles.filter(
            Q(key__icontains=filters.q) | Q(versions__title__icontains=filters.q)
        ).distinct()
    return keyset_page(_with_latest(articles), cursor=cursor, limit=limit)


def article_list_public(
    *, locale: str | None = None, category_id: int | None = None, cursor: str | None = None, limit: int = 50
) -> tuple[list[Article], str | None]:
    articles = Article.objects.filter(published_version__isnull=False, audience=Audience.PUBLIC)
    if locale:
        articles = articles.filter(locale=locale)
    if category_id:
        articles = articles.filter(category_id=category_id)
    return keyset_page(articles.select_related("category", "published_version"), cursor=cursor, limit=limit)


def article_get_for_user(*, user: Any, article_id: int) -> Article:
    article = (
        visible_articles(user)
        .select_related("category", "published_version", "created_by")
        .prefetch_related("tags", "product_models")
        .filter(pk=article_id)
        .first()
    )
    if article is None:
        raise NotFound()
    return article


def article_get_public(*, locale: str, key: str) -> Article:
    """A published public article for the help centre (404 for drafts, internal and unknown keys)."""
    article = (
        Article.objects.select_related("category", "published_version")
        .prefetch_related("tags", "product_models")
        .filter(locale=locale, key=key, audience=Audience.PUBLIC, published_version__isnull=False)
        .first()
    )
    if article is None:
        raise NotFound()
    return article


def article_versions(*, user: Any, article: Article) -> list[ArticleVersion]:
    """Every version for writers; the live one only for everybody else."""
    versions = ArticleVersion.objects.filter(article=article).select_related("author", "reviewer", "based_on")
    if not can_edit(user):
        versions = versions.filter(pk=article.published_version_id or 0)
    return list(versions.order_by("-number"))


def version_get(*, user: Any, article: Article, number: int) -> ArticleVersion:
    version = (
        ArticleVersion.objects.select_related("article", "author", "reviewer", "based_on")
        .filter(article=article, number=number)
        .first()
    )
    if version is None or (not can_edit(user) and version.pk != article.published_version_id):
        raise NotFound()
    return version


def version_diff(a: ArticleVersion, b: ArticleVersion) -> list[FieldDiff]:
    return _version_diff(a, b)


def article_translations(*, article: Article) -> list[Article]:
    return list(
        Article.objects.filter(translation_group=article.translation_group)
        .exclude(pk=article.pk)
        .select_related("published_version")
        .order_by("locale")
    )


def review_queue(*, user: User) -> list[ArticleVersion]:
    if not can_review(user):
        raise PermissionDenied()
    return list(
        ArticleVersion.objects.filter(status=VersionStatus.REVIEW)
        .select_related("article", "author", "article__published_version")
        .order_by("submitted_at", "id")[:200]
    )


def scheduled_versions() -> list[ArticleVersion]:
    return list(
        ArticleVersion.objects.filter(status=VersionStatus.PUBLISHED, effective_at__gt=timezone.now())
        .select_related("article", "reviewer")
        .order_by("effective_at", "id")[:200]
    )


def categories() -> list[Category]:
    return list(Category.objects.select_related("parent").order_by("position", "slug"))


# --- reports ------------------------------------------------------------------------------------


def top_problems(*, since: dt.datetime, until: dt.datetime, limit: int = 20) -> list[dict[str, Any]]:
    """The articles used most on tickets in [since, until): the "TOP-20 frequent problems"."""
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in TicketArticleUse.objects.filter(created_at__gte=since, created_at__lt=until)
        .values("article")
        .annotate(
            total=Count("id"),
            tickets=Count("ticket", distinct=True),
            **{f"via_{via}": Count("id", filter=Q(via=via)) for via in UseVia.values},
        )
        .order_by("-tickets", "-total", "article")[:limit]
    ]
    articles = {
        article.pk: article
        for article in Article.objects.filter(pk__in=[row["article"] for row in rows]).select_related(
            "published_version", "category"
        )
    }
    result = []
    for row in rows:
        article = articles[row["article"]]
        result.append(
            {
                "article": article,
                "title": article.published_version.title if article.published_version else article.key,
                "total": row["total"],
                "tickets": row["tickets"],
                "by_via": {via: row[f"via_{via}"] for via in UseVia.values},
            }
        )
    return result


def missing_articles(
    *, since: dt.datetime, limit: int = 50, locale: str | None = None, until: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Searches that found nothing, grouped by their normalized text, most frequent first."""
    logs = SearchQueryLog.objects.filter(results=0, created_at__gte=since)
    if until is not None:
        logs = logs.filter(created_at__lt=until)
    if locale:
        logs = logs.filter(locale=locale)
    rows = (
        logs.values("normalized", "locale")
        .annotate(count=Count("id"), last_searched=Max("created_at"), example=Max("query"))
        .order_by("-count", "-last_searched", "normalized")[:limit]
    )
    return [dict(row) for row in rows]


# --- manuals ------------------------------------------------------------------------------------


def manuals_for_user(user: Any) -> QuerySet[Manual]:
    manuals = Manual.objects.all()
    if not _is_staff(user):
        manuals = manuals.filter(audience=Audience.PUBLIC)
    return manuals.order_by("slug")


def manuals_with_editions(user: Any) -> list[Manual]:
    """Manuals the user may read, each with ``.edition_list`` (newest first, without the HTML)."""
    editions = ManualEdition.objects.defer("html").order_by("-number")
    return list(
        manuals_for_user(user).prefetch_related(
            Prefetch("editions", queryset=editions, to_attr="edition_list")
        )[:200]
    )


def manual_get_for_user(*, user: Any, slug: str) -> Manual:
    manual = manuals_for_user(user).filter(slug=slug).first()
    if manual is None:
        raise NotFound()
    return manual


def manual_outline(*, manual: Manual) -> list[ManualSection]:
    """Chapters in order, each with ``.ordered_children`` (sections in order)."""
    sections = (
        ManualSection.objects.filter(manual=manual, parent__isnull=True)
        .select_related("article__published_version")
        .prefetch_related(
            Prefetch(
                "children",
                queryset=ManualSection.objects.select_related("article__published_version").order_by(
                    "position", "id"
                ),
                to_attr="ordered_children",
            )
        )
        .order_by("position", "id")
    )
    return list(sections)


def editions_for_manual(*, manual: Manual) -> list[ManualEdition]:
    return list(
        ManualEdition.objects.filter(manual=manual)
        .select_related("published_by")
        .defer("html")
        .order_by("-number")
    )


def edition_get_for_user(*, user: Any, edition_id: int) -> ManualEdition:
    edition = ManualEdition.objects.select_related("manual").filter(pk=edition_id).first()
    if edition is None or (edition.manual.audience != Audience.PUBLIC and not _is_staff(user)):
        raise NotFound()
    return edition
