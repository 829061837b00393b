"""Knowledge base endpoints (``/api/v1/kb``).

Like the whole API these need a bearer token: there is no anonymous API. Visitors read the
public help centre pages instead (the same published articles, rendered by the web layer). A token
of a customer sees published public articles and public manuals only; staff see published
articles (internal too); writers (``kb.edit``) see every version; reviewers (``kb.review``)
publish, reject, roll back, unpublish and publish manual editions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from aftersales.core.api_schemas import (
    ERROR_RESPONSES,
    NonEmptyText120,
    NonEmptyText200,
    NonEmptyText2000,
    StrictSchema,
    Text40,
    Text60,
    Text80,
    Text100,
    Text120,
    Text200,
    Text500,
    Text2000,
    Text200000,
)
from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.core.models import User
from aftersales.core.roles import public_name
from aftersales.shell.views import api_user

from . import selectors, services
from .downloads import edition_html_response, edition_pdf_response
from .models import Article, ArticleVersion, Category, Manual, ManualEdition
from .selectors import EditorFilters

router = Router(tags=["knowledge"])
ERRORS = ERROR_RESPONSES

Id = Path(..., gt=0, lt=2**62)
Number = Path(..., gt=0, lt=2**31)
LocaleIn = Literal["zh-hans", "en"]


# --- schemas ------------------------------------------------------------------------------------


class CategoryOut(Schema):
    id: int
    slug: str
    name_zh: str
    name_en: str
    parent_id: int | None


class VersionSummaryOut(Schema):
    id: int
    number: int
    status: str
    title: str
    change_note: str
    author: str | None
    reviewer: str | None
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    reviewed_at: dt.datetime | None
    published_at: dt.datetime | None
    effective_at: dt.datetime | None
    based_on: int | None


class VersionOut(VersionSummaryOut):
    summary: str
    body: str
    review_note: str
    updated_at: dt.datetime


class ArticleOut(Schema):
    id: int
    key: str
    locale: str
    translation_group: str
    audience: str
    category: CategoryOut | None
    tags: list[str]
    product_models: list[str]
    title: str
    published_version: VersionOut | None
    helpful_count: int
    not_helpful_count: int
    view_count: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ArticleListItemOut(Schema):
    id: int
    key: str
    locale: str
    audience: str
    category_id: int | None
    title: str
    published_number: int | None
    latest_number: int | None
    latest_status: str | None
    updated_at: dt.datetime


class ArticlePageOut(Schema):
    items: list[ArticleListItemOut]
    next_cursor: str | None


class VersionListOut(Schema):
    items: list[VersionSummaryOut]


class ArticleIn(StrictSchema):
    locale: LocaleIn
    key: NonEmptyText120
    title: NonEmptyText200
    body: Text200000 = ""
    summary: Text500 = ""
    category: int | None = Field(default=None, gt=0, lt=2**62)
    tags: list[Text60] = Field(default_factory=list, max_length=30)
    audience: Literal["public", "internal"] = "public"
    translation_of: int | None = Field(default=None, gt=0, lt=2**62)


class ArticlePatchIn(StrictSchema):
    category: int | None = Field(default=None, gt=0, lt=2**62)
    clear_category: bool = False
    tags: list[Text60] | None = Field(default=None, max_length=30)
    audience: Literal["public", "internal"] | None = None


class DraftIn(StrictSchema):
    title: NonEmptyText200
    body: Text200000 = ""
    summary: Text500 = ""
    change_note: Text500 = ""
    expected_updated_at: dt.datetime | None = Field(
        default=None, description="the draft's updated_at as read; a newer save by someone else is a 409"
    )


class PublishIn(StrictSchema):
    effective_at: dt.datetime | None = Field(
        default=None, description="when it takes effect (with a time zone); empty or past = now"
    )


class RejectIn(StrictSchema):
    note: NonEmptyText2000


class RollbackIn(StrictSchema):
    to_version: int = Field(..., gt=0, lt=2**31, description="the number of the version to restore")


class FeedbackIn(StrictSchema):
    helpful: bool
    comment: Text2000 = ""


class FeedbackOut(Schema):
    id: int
    helpful: bool
    helpful_count: int
    not_helpful_count: int


class SegmentOut(Schema):
    kind: str
    text: str


class DiffLineOut(Schema):
    kind: str
    old_number: int | None
    new_number: int | None
    segments: list[SegmentOut]


class FieldDiffOut(Schema):
    name: str
    changed: bool
    lines: list[DiffLineOut]


class DiffOut(Schema):
    from_version: int
    to_version: int
    fields: list[FieldDiffOut]


class ManualOut(Schema):
    id: int
    slug: str
    title: str
    title_zh: str
    title_en: str
    locale: str
    audience: str
    latest_edition: str | None


class ManualListOut(Schema):
    items: list[ManualOut]


class EditionOut(Schema):
    id: int
    number: int
    label: str
    published_at: dt.datetime
    published_by: str | None
    changes: dict[str, Any]
    article_versions: dict[str, Any]
    html_url: str
    pdf_url: str


class EditionListOut(Schema):
    items: list[EditionOut]


class EditionIn(StrictSchema):
    label: Text40 = ""


class CategoryListOut(Schema):
    items: list[CategoryOut]


# --- helpers ------------------------------------------------------------------------------------


def _name(user: User | None, reader: User) -> str | None:
    if user is None:
        return None
    return str(user) if _is_staff_reader(reader) else public_name(user)


def _is_staff_reader(reader: User) -> bool:
    return bool(reader.is_active and (reader.is_staff_member or reader.is_superuser))


def version_summary_out(reader: User, version: ArticleVersion) -> dict[str, Any]:
    """A customer reads the published text, not the writers' logins or their notes to each other."""
    staff = _is_staff_reader(reader)
    return {
        "id": version.pk,
        "number": version.number,
        "status": version.status,
        "title": version.title,
        "change_note": version.change_note if staff else "",
        "author": _name(version.author, reader),
        "reviewer": _name(version.reviewer, reader),
        "created_at": version.created_at,
        "submitted_at": version.submitted_at,
        "reviewed_at": version.reviewed_at,
        "published_at": version.published_at,
        "effective_at": version.effective_at,
        "based_on": version.based_on.number if version.based_on is not None else None,
    }


def version_out(reader: User, version: ArticleVersion) -> dict[str, Any]:
    return {
        **version_summary_out(reader, version),
        "summary": version.summary,
        "body": version.body,
        "review_note": version.review_note if _is_staff_reader(reader) else "",
        "updated_at": version.updated_at,
    }


def category_out(category: Category | None) -> dict[str, Any] | None:
    if category is None:
        return None
    return {
        "id": category.pk,
        "slug": category.slug,
        "name_zh": category.name_zh,
        "name_en": category.name_en,
        "parent_id": category.parent_id,
    }


def article_out(reader: User, article: Article) -> dict[str, Any]:
    live = article.published_version
    title = (
        live.title
        if live
        else (article.versions.order_by("-number").values_list("title", flat=True).first() or "")
    )
    return {
        "id": article.pk,
        "key": article.key,
        "locale": article.locale,
        "translation_group": str(article.translation_group),
        "audience": article.audience,
        "category": category_out(article.category),
        "tags": [tag.name for tag in article.tags.all()],
        "product_models": [model.code for model in article.product_models.all()],
        "title": title,
        "published_version": version_out(reader, live) if live else None,
        "helpful_count": article.helpful_count,
        "not_helpful_count": article.not_helpful_count,
        "view_count": article.view_count,
        "created_at": article.created_at,
        "updated_at": article.updated_at,
    }


def _article(request: HttpRequest, article_id: int) -> Article:
    return selectors.article_get_for_user(user=api_user(request), article_id=article_id)


def _version(request: HttpRequest, article: Article, number: int) -> ArticleVersion:
    return selectors.version_get(user=api_user(request), article=article, number=number)


def _category(category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise ValidationFailed(details={"category": "no such category"})
    return category


def edition_out(reader: User, edition: ManualEdition) -> dict[str, Any]:
    base = f"/api/v1/kb/editions/{edition.pk}"
    return {
        "id": edition.pk,
        "number": edition.number,
        "label": edition.label,
        "published_at": edition.published_at,
        "published_by": _name(edition.published_by, reader),
        "changes": edition.changes,
        "article_versions": edition.article_versions,
        "html_url": f"{base}/html",
        "pdf_url": f"{base}/pdf",
    }


def manual_out(manual: Manual) -> dict[str, Any]:
    prefetched = getattr(manual, "edition_list", None)
    if prefetched is not None:
        latest = prefetched[0].label if prefetched else None
    else:
        latest = manual.editions.order_by("-number").values_list("label", flat=True).first()
    return {
        "id": manual.pk,
        "slug": manual.slug,
        "title": manual.title,
        "title_zh": manual.title_zh,
        "title_en": manual.title_en,
        "locale": manual.locale,
        "audience": manual.audience,
        "latest_edition": latest,
    }


# --- articles -----------------------------------------------------------------------------------


@router.get("/categories", response={200: CategoryListOut, **ERRORS}, summary="Knowledge categories")
def list_categories(request: HttpRequest) -> Any:
    return {"items": [category_out(category) for category in selectors.categories()]}


@router.get("/articles", response={200: ArticlePageOut, **ERRORS}, summary="List articles")
def list_articles(
    request: HttpRequest,
    status: Literal["published", "unpublished", "draft", "review", "scheduled", "rejected"] | None = None,
    locale: LocaleIn | None = None,
    category: int | None = Query(None, gt=0, lt=2**62),
    audience: Literal["public", "internal"] | None = None,
    q: Text200 = "",
    cursor: Text100 | None = None,
    limit: int = Query(25, ge=1, le=100),
) -> Any:
    """Writers see every article; others see published ones they may read (customers: public only)."""
    filters = EditorFilters(
        status=status, locale=locale, category_id=category, q=q or None, audience=audience
    )
    page, next_cursor = selectors.article_list_for_editor(
        user=api_user(request), filters=filters, cursor=cursor, limit=limit
    )
    writer = selectors.can_edit(api_user(request))
    items = []
    for article in page:
        live = article.published_version
        items.append(
            {
                "id": article.pk,
                "key": article.key,
                "locale": article.locale,
                "audience": article.audience,
                "category_id": article.category_id,
                "title": (getattr(article, "latest_title", None) if writer else None)
                or (live.title if live else article.key),
                "published_number": live.number if live else None,
                "latest_number": getattr(article, "latest_number", None)
                if writer
                else (live.number if live else None),
                "latest_status": getattr(article, "latest_status", None)
                if writer
                else (live.status if live else None),
                "updated_at": article.updated_at,
            }
        )
    return {"items": items, "next_cursor": next_cursor}


@router.post(
    "/articles", response={201: ArticleOut, **ERRORS}, summary="Create an article (version 1 as a draft)"
)
def create_article(request: HttpRequest, payload: ArticleIn) -> Any:
    user = api_user(request)
    translation_of = None
    if payload.translation_of is not None:
        translation_of = selectors.article_get_for_user(user=user, article_id=payload.translation_of)
    article = services.article_create(
        actor=user,
        locale=payload.locale,
        key=payload.key,
        title=payload.title,
        body=payload.body,
        summary=payload.summary,
        category=_category(payload.category),
        tags=payload.tags,
        audience=payload.audience,
        translation_of=translation_of,
    )
    return Status(
        201, article_out(api_user(request), selectors.article_get_for_user(user=user, article_id=article.pk))
    )


@router.get(
    "/articles/by-key/{locale}/{key}",
    response={200: ArticleOut, **ERRORS},
    summary="Read a published article by key",
)
def read_article_by_key(request: HttpRequest, locale: LocaleIn, key: Text120) -> Any:
    article = Article.objects.filter(locale=locale, key=key).values_list("pk", flat=True).first()
    if article is None:
        raise NotFound()
    return article_out(
        api_user(request), selectors.article_get_for_user(user=api_user(request), article_id=article)
    )


@router.get("/articles/{article_id}", response={200: ArticleOut, **ERRORS}, summary="Read an article")
def read_article(request: HttpRequest, article_id: int = Id) -> Any:
    return article_out(api_user(request), _article(request, article_id))


@router.patch("/articles/{article_id}", response={200: ArticleOut, **ERRORS}, summary="Classify an article")
def patch_article(request: HttpRequest, payload: ArticlePatchIn, article_id: int = Id) -> Any:
    user = api_user(request)
    article = _article(request, article_id)
    kwargs: dict[str, Any] = {"tags": payload.tags, "audience": payload.audience}
    if payload.clear_category:
        kwargs["category"] = None
    elif payload.category is not None:
        kwargs["category"] = _category(payload.category)
    services.article_update(actor=user, article=article, **kwargs)
    return article_out(api_user(request), selectors.article_get_for_user(user=user, article_id=article.pk))


@router.get("/articles/{article_id}/versions", response={200: VersionListOut, **ERRORS}, summary="Versions")
def list_versions(request: HttpRequest, article_id: int = Id) -> Any:
    article = _article(request, article_id)
    versions = selectors.article_versions(user=api_user(request), article=article)
    return {"items": [version_summary_out(api_user(request), version) for version in versions]}


@router.get(
    "/articles/{article_id}/versions/{number}", response={200: VersionOut, **ERRORS}, summary="Read a version"
)
def read_version(request: HttpRequest, article_id: int = Id, number: int = Number) -> Any:
    article = _article(request, article_id)
    return version_out(api_user(request), _version(request, article, number))


@router.put(
    "/articles/{article_id}/draft",
    response={200: VersionOut, **ERRORS},
    summary="Save the working draft (a new version if none is open)",
)
def save_draft(request: HttpRequest, payload: DraftIn, article_id: int = Id) -> Any:
    article = _article(request, article_id)
    version = services.version_save_draft(
        actor=api_user(request),
        article=article,
        title=payload.title,
        body=payload.body,
        summary=payload.summary,
        change_note=payload.change_note,
        expected_updated_at=payload.expected_updated_at,
    )
    return version_out(api_user(request), version)


@router.post(
    "/articles/{article_id}/versions/{number}/submit",
    response={200: VersionOut, **ERRORS},
    summary="Submit for review",
)
def submit_version(request: HttpRequest, article_id: int = Id, number: int = Number) -> Any:
    article = _article(request, article_id)
    return version_out(
        api_user(request),
        services.version_submit(actor=api_user(request), version=_version(request, article, number)),
    )


@router.post(
    "/articles/{article_id}/versions/{number}/publish",
    response={200: VersionOut, **ERRORS},
    summary="Approve and publish (now or at effective_at)",
)
def publish_version(
    request: HttpRequest, payload: PublishIn, article_id: int = Id, number: int = Number
) -> Any:
    article = _article(request, article_id)
    version = services.version_publish(
        actor=api_user(request), version=_version(request, article, number), effective_at=payload.effective_at
    )
    return version_out(api_user(request), version)


@router.post(
    "/articles/{article_id}/versions/{number}/reject", response={200: VersionOut, **ERRORS}, summary="Reject"
)
def reject_version(
    request: HttpRequest, payload: RejectIn, article_id: int = Id, number: int = Number
) -> Any:
    article = _article(request, article_id)
    version = services.version_reject(
        actor=api_user(request), version=_version(request, article, number), note=payload.note
    )
    return version_out(api_user(request), version)


@router.post(
    "/articles/{article_id}/rollback",
    response={200: VersionOut, **ERRORS},
    summary="Publish a new version copying an earlier published one",
)
def rollback_article(request: HttpRequest, payload: RollbackIn, article_id: int = Id) -> Any:
    article = _article(request, article_id)
    target = _version(request, article, payload.to_version)
    return version_out(
        api_user(request),
        services.article_rollback(actor=api_user(request), article=article, to_version=target),
    )


@router.post("/articles/{article_id}/unpublish", response={200: ArticleOut, **ERRORS}, summary="Take offline")
def unpublish_article(request: HttpRequest, article_id: int = Id) -> Any:
    user = api_user(request)
    article = services.article_unpublish(actor=user, article=_article(request, article_id))
    return article_out(api_user(request), selectors.article_get_for_user(user=user, article_id=article.pk))


@router.get(
    "/articles/{article_id}/diff",
    response={200: DiffOut, **ERRORS},
    summary="What changed between two versions",
)
def diff_versions(
    request: HttpRequest,
    article_id: int = Id,
    from_version: int = Query(..., alias="from", gt=0, lt=2**31),
    to_version: int = Query(..., alias="to", gt=0, lt=2**31),
) -> Any:
    article = _article(request, article_id)
    old = _version(request, article, from_version)
    new = _version(request, article, to_version)
    fields = selectors.version_diff(old, new)
    return {
        "from_version": old.number,
        "to_version": new.number,
        "fields": [
            {
                "name": field.name,
                "changed": field.changed,
                "lines": [
                    {
                        "kind": line.kind,
                        "old_number": line.old_number,
                        "new_number": line.new_number,
                        "segments": [{"kind": s.kind, "text": s.text} for s in line.segments],
                    }
                    for line in field.lines
                ],
            }
            for field in fields
        ],
    }


@router.post(
    "/articles/{article_id}/feedback",
    response={200: FeedbackOut, **ERRORS},
    summary="Was this article helpful?",
)
def article_feedback(request: HttpRequest, payload: FeedbackIn, article_id: int = Id) -> Any:
    user = api_user(request)
    article = _article(request, article_id)
    if article.published_version_id is None:
        raise NotFound()
    feedback = services.feedback_record(
        article=article, helpful=payload.helpful, comment=payload.comment, user=user
    )
    article.refresh_from_db(fields=["helpful_count", "not_helpful_count"])
    return {
        "id": feedback.pk,
        "helpful": feedback.helpful,
        "helpful_count": article.helpful_count,
        "not_helpful_count": article.not_helpful_count,
    }


# --- manuals ------------------------------------------------------------------------------------


@router.get("/manuals", response={200: ManualListOut, **ERRORS}, summary="Standard manuals")
def list_manuals(request: HttpRequest) -> Any:
    return {"items": [manual_out(manual) for manual in selectors.manuals_with_editions(api_user(request))]}


@router.get("/manuals/{slug}", response={200: ManualOut, **ERRORS}, summary="Read a manual")
def read_manual(request: HttpRequest, slug: Text80) -> Any:
    return manual_out(selectors.manual_get_for_user(user=api_user(request), slug=slug))


@router.get(
    "/manuals/{slug}/editions", response={200: EditionListOut, **ERRORS}, summary="Published editions"
)
def list_editions(request: HttpRequest, slug: Text80) -> Any:
    manual = selectors.manual_get_for_user(user=api_user(request), slug=slug)
    return {
        "items": [
            edition_out(api_user(request), edition)
            for edition in selectors.editions_for_manual(manual=manual)
        ]
    }


@router.post(
    "/manuals/{slug}/editions",
    response={201: EditionOut, **ERRORS},
    summary="Publish the next edition (reviewers)",
)
def publish_edition(request: HttpRequest, payload: EditionIn, slug: Text80) -> Any:
    user = api_user(request)
    manual = selectors.manual_get_for_user(user=user, slug=slug)
    edition = services.manual_publish_edition(actor=user, manual=manual, label=payload.label)
    return Status(201, edition_out(api_user(request), edition))


_FILE_DOCS = {
    "html": {"200": {"description": "The edition as one HTML document", "content": {"text/html": {}}}},
    "pdf": {"200": {"description": "The edition as PDF", "content": {"application/pdf": {}}}},
}


@router.get(
    "/editions/{edition_id}/html",
    response=ERRORS,
    summary="Download an edition as HTML",
    openapi_extra={"responses": _FILE_DOCS["html"]},
)
def edition_html(request: HttpRequest, edition_id: int = Id) -> Any:
    edition = selectors.edition_get_for_user(user=api_user(request), edition_id=edition_id)
    return edition_html_response(edition)


@router.get(
    "/editions/{edition_id}/pdf",
    response=ERRORS,
    summary="Download an edition as PDF",
    openapi_extra={"responses": _FILE_DOCS["pdf"]},
)
def edition_pdf(request: HttpRequest, edition_id: int = Id) -> Any:
    edition = selectors.edition_get_for_user(user=api_user(request), edition_id=edition_id)
    return edition_pdf_response(edition)
