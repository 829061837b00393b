"""Every write of the knowledge base: articles and the version workflow, categories, feedback,
search logs, articles used on tickets, and the standard manual.

The version workflow: draft → review → published (→ superseded when a later version goes live);
review → rejected. Only holders of ``kb.review`` publish, reject, roll back and unpublish. A version
takes effect at ``effective_at``: at once, or later (scheduled; ``publish_due`` makes it live). The
live version at any moment is the published one with the latest effective time that has come.
Published and superseded versions are history and never change.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from aftersales.assets.models import ProductModel
from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.core.events import publish
from aftersales.core.models import User
from aftersales.core.roles import Capability
from aftersales.core.services import audit_record
from aftersales.core.text import text_problem
from aftersales.tickets.models import Ticket

from . import search
from .checks import KEY_RE, check_text, require
from .events import (
    ArticleCreated,
    ArticleFeedbackRecorded,
    ArticlePublished,
    ArticleUnpublished,
    ArticleUsedOnTicket,
    VersionRejected,
    VersionScheduled,
    VersionSubmitted,
)
from .manual_services import (
    manual_create,
    manual_publish_edition,
    manual_section_add,
    manual_section_move,
    manual_section_remove,
    manual_section_update,
    manual_update,
)
from .models import (
    OPEN_STATUSES,
    Article,
    ArticleFeedback,
    ArticleVersion,
    Audience,
    Category,
    KbTag,
    Locale,
    SearchQueryLog,
    SearchSource,
    TicketArticleUse,
    UseVia,
    VersionStatus,
)

__all__ = [
    "article_create",
    "article_link_translation",
    "article_rollback",
    "article_unpublish",
    "article_update",
    "article_view_count",
    "category_create",
    "category_update",
    "feedback_record",
    "manual_create",
    "manual_publish_edition",
    "manual_section_add",
    "manual_section_move",
    "manual_section_remove",
    "manual_section_update",
    "manual_update",
    "normalize_query",
    "publish_due",
    "search_log",
    "ticket_article_use",
    "version_edit",
    "version_publish",
    "version_reject",
    "version_save_draft",
    "version_submit",
]

TITLE_MAX = 200
SUMMARY_MAX = 500
BODY_MAX = 200_000
NOTE_MAX = 500


# --- checks -------------------------------------------------------------------------------------


def _validate_version_text(*, title: str, summary: str, body: str, change_note: str) -> None:
    errors: dict[str, str] = {}
    check_text(errors, "title", title, max_length=TITLE_MAX, required=True)
    check_text(errors, "summary", summary, max_length=SUMMARY_MAX, required=False)
    check_text(errors, "body", body, max_length=BODY_MAX, required=False)
    check_text(errors, "change_note", change_note, max_length=NOTE_MAX, required=False)
    if errors:
        raise ValidationFailed(details=errors)


def _immutable() -> Conflict:
    return Conflict(
        _("A published version cannot be changed; save a new draft instead."), code="version_immutable"
    )


def _wrong_status(version: ArticleVersion, expected: str) -> Conflict:
    return Conflict(
        _("Version %(number)s is %(status)s; this needs a version that is %(expected)s.")
        % {
            "number": version.number,
            "status": VersionStatus(version.status).label,
            "expected": VersionStatus(expected).label,
        },
        code="version_status",
        details={"status": version.status, "expected": expected},
    )


def _lock_article(article: Article) -> Article:
    """Serialise writers of one article (numbers, the live pointer). SQLite writers queue anyway."""
    locked = Article.objects.select_for_update().filter(pk=article.pk).first()
    if locked is None:
        raise NotFound()
    return locked


def _next_number(article: Article) -> int:
    current = ArticleVersion.objects.filter(article=article).aggregate(top=Max("number"))["top"]
    return int(current or 0) + 1


def _version_snapshot(version: ArticleVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "status": version.status,
        "title": version.title,
        "effective_at": version.effective_at.isoformat() if version.effective_at else None,
    }


def _tags_from_names(names: Iterable[str]) -> list[KbTag]:
    tags: list[KbTag] = []
    seen: set[str] = set()
    for raw in names:
        name = " ".join(str(raw).split())[:60]
        if not name or name.casefold() in seen or text_problem(name):
            continue
        seen.add(name.casefold())
        tag = KbTag.objects.filter(name__iexact=name).first() or KbTag.objects.create(name=name)
        tags.append(tag)
    return tags


# --- articles -----------------------------------------------------------------------------------


@transaction.atomic
def article_create(
    *,
    actor: User | None,
    locale: str,
    key: str,
    title: str,
    body: str,
    summary: str = "",
    category: Category | None = None,
    product_models: Iterable[ProductModel] = (),
    tags: Iterable[str] = (),
    audience: str = Audience.PUBLIC,
    translation_of: Article | None = None,
    change_note: str = "",
) -> Article:
    """A new article in one language with version 1 as a draft."""
    user = require(actor, Capability.KB_EDIT)
    errors: dict[str, str] = {}
    if locale not in Locale.values:
        errors["locale"] = str(_("Choose Chinese or English."))
    if not KEY_RE.match(key or "") or len(key) > 120:
        errors["key"] = str(_("Use lower-case letters, digits and hyphens (at most 120)."))
    if audience not in Audience.values:
        errors["audience"] = str(_("Choose public or internal."))
    if errors:
        raise ValidationFailed(details=errors)
    _validate_version_text(title=title, summary=summary, body=body, change_note=change_note)
    if Article.objects.filter(key=key, locale=locale).exists():
        raise ValidationFailed(details={"key": str(_("An article with this key exists in this language."))})
    group = None
    if translation_of is not None:
        if translation_of.locale == locale:
            raise ValidationFailed(details={"locale": str(_("A translation must be in another language."))})
        group = translation_of.translation_group
        if Article.objects.filter(translation_group=group, locale=locale).exists():
            raise Conflict(
                _("This article already has a translation in that language."), code="translation_exists"
            )
    now = timezone.now()
    fields: dict[str, Any] = {}
    if group is not None:
        fields["translation_group"] = group
    try:
        with transaction.atomic():
            article = Article.objects.create(
                key=key,
                locale=locale,
                category=category,
                audience=audience,
                created_by=user,
                created_at=now,
                updated_at=now,
                **fields,
            )
    except IntegrityError as exc:  # a concurrent create of the same key or translation
        raise Conflict(_("An article with this key exists in this language."), code="duplicate") from exc
    article.product_models.set(list(product_models))
    article.tags.set(_tags_from_names(tags))
    version = ArticleVersion.objects.create(
        article=article,
        number=1,
        title=title,
        summary=summary,
        body=body,
        change_note=change_note,
        author=user,
        created_at=now,
        updated_at=now,
    )
    audit_record(
        actor=user,
        obj=article,
        action="kb.article.create",
        after={
            "key": key,
            "locale": locale,
            "audience": audience,
            "category": category.slug if category else None,
            "translation_of": translation_of.pk if translation_of else None,
            "version": version.number,
            "title": title,
        },
    )
    publish(ArticleCreated(article=article, actor=user))
    return article


_UNSET: Any = object()


@transaction.atomic
def article_update(
    *,
    actor: User | None,
    article: Article,
    category: Category | None = _UNSET,
    product_models: Iterable[ProductModel] | None = None,
    tags: Iterable[str] | None = None,
    audience: str | None = None,
) -> Article:
    """Change an article's classification (the text changes only through versions)."""
    user = require(actor, Capability.KB_EDIT)
    article = _lock_article(article)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    fields: list[str] = []
    if audience is not None and audience != article.audience:
        if audience not in Audience.values:
            raise ValidationFailed(details={"audience": str(_("Choose public or internal."))})
        before["audience"], after["audience"] = article.audience, audience
        article.audience = audience
        fields.append("audience")
    if category is not _UNSET and category != article.category:
        before["category"] = article.category.slug if article.category else None
        after["category"] = category.slug if category else None
        article.category = category
        fields.append("category")
    if product_models is not None:
        new_models = sorted({model.pk for model in product_models})
        old_models = sorted(article.product_models.values_list("pk", flat=True))
        if new_models != old_models:
            article.product_models.set(new_models)
            before["product_models"], after["product_models"] = old_models, new_models
    if tags is not None:
        new_tags = _tags_from_names(tags)
        old_names = sorted(article.tags.values_list("name", flat=True))
        new_names = sorted(tag.name for tag in new_tags)
        if old_names != new_names:
            article.tags.set(new_tags)
            before["tags"], after["tags"] = old_names, new_names
    if not before and not after:
        return article
    article.updated_at = timezone.now()
    article.save(update_fields=[*fields, "updated_at"])
    audit_record(actor=user, obj=article, action="kb.article.update", before=before, after=after)
    # Category, products and audience are search filters: the index must follow.
    search.index_article(article.pk)
    return article


@transaction.atomic
def article_link_translation(*, actor: User | None, article: Article, translation: Article) -> Article:
    """Make ``translation`` (an existing article in another language) a translation of ``article``.

    ``translation`` leaves its old group; ``article``'s group may not have that language yet."""
    user = require(actor, Capability.KB_EDIT)
    if translation.pk == article.pk or translation.locale == article.locale:
        raise ValidationFailed(details={"translation": str(_("A translation must be in another language."))})
    if translation.translation_group == article.translation_group:
        return translation
    if Article.objects.filter(
        translation_group=article.translation_group, locale=translation.locale
    ).exists():
        raise Conflict(
            _("This article already has a translation in that language."), code="translation_exists"
        )
    before = {"translation_group": str(translation.translation_group)}
    Article.objects.filter(pk=translation.pk).update(
        translation_group=article.translation_group, updated_at=timezone.now()
    )
    translation.refresh_from_db()
    audit_record(
        actor=user,
        obj=translation,
        action="kb.article.link_translation",
        before=before,
        after={"translation_group": str(article.translation_group), "translation_of": article.pk},
    )
    return translation


@transaction.atomic
def version_save_draft(
    *,
    actor: User | None,
    article: Article,
    title: str,
    body: str,
    summary: str = "",
    change_note: str = "",
    expected_updated_at: dt.datetime | None = None,
) -> ArticleVersion:
    """Save the article's working text: update its open draft, or start a new draft version.

    A version in review that is edited returns to draft (it must be submitted again). With
    ``expected_updated_at`` the save is refused if someone else saved the draft in between.
    """
    user = require(actor, Capability.KB_EDIT)
    _validate_version_text(title=title, summary=summary, body=body, change_note=change_note)
    article = _lock_article(article)
    now = timezone.now()
    current = ArticleVersion.objects.filter(article=article, status__in=sorted(OPEN_STATUSES)).first()
    if current is not None:
        if expected_updated_at is not None and current.updated_at != expected_updated_at:
            raise Conflict(code="stale_draft")
        before = {"status": current.status, "title": current.title}
        updated = ArticleVersion.objects.filter(
            pk=current.pk, status=current.status, updated_at=current.updated_at
        ).update(
            title=title,
            summary=summary,
            body=body,
            change_note=change_note,
            status=VersionStatus.DRAFT,
            submitted_at=None,
            updated_at=now,
        )
        if updated != 1:
            raise Conflict(code="stale_draft")
        current.refresh_from_db()
        audit_record(
            actor=user,
            obj=current,
            action="kb.version.save_draft",
            before=before,
            after={"status": current.status, "title": title, "change_note": change_note},
        )
        return current
    if expected_updated_at is not None:
        # The editor believed it was editing a draft that was published or rejected meanwhile.
        raise Conflict(code="stale_draft")
    version = ArticleVersion.objects.create(
        article=article,
        number=_next_number(article),
        title=title,
        summary=summary,
        body=body,
        change_note=change_note,
        author=user,
        based_on=article.published_version,
        created_at=now,
        updated_at=now,
    )
    audit_record(
        actor=user,
        obj=version,
        action="kb.version.create",
        after={"number": version.number, "title": title, "based_on": article.published_version_id},
    )
    Article.objects.filter(pk=article.pk).update(updated_at=now)
    return version


@transaction.atomic
def version_edit(
    *,
    actor: User | None,
    version: ArticleVersion,
    title: str,
    body: str,
    summary: str = "",
    change_note: str = "",
) -> ArticleVersion:
    """Edit one given version. Published, superseded and rejected versions are refused."""
    require(actor, Capability.KB_EDIT)
    version = ArticleVersion.objects.select_related("article").get(pk=version.pk)
    if version.is_frozen:
        raise _immutable()
    if version.status == VersionStatus.REJECTED:
        raise Conflict(
            _("A rejected version is kept as it was; save a new draft instead."), code="version_rejected"
        )
    return version_save_draft(
        actor=actor,
        article=version.article,
        title=title,
        body=body,
        summary=summary,
        change_note=change_note,
        expected_updated_at=version.updated_at,
    )


@transaction.atomic
def version_submit(*, actor: User | None, version: ArticleVersion) -> ArticleVersion:
    user = require(actor, Capability.KB_EDIT)
    if version.is_frozen:
        raise _immutable()
    if not version.body.strip():
        raise ValidationFailed(details={"body": str(_("Write the article before submitting it."))})
    now = timezone.now()
    updated = ArticleVersion.objects.filter(pk=version.pk, status=VersionStatus.DRAFT).update(
        status=VersionStatus.REVIEW, submitted_at=now, updated_at=now
    )
    if updated != 1:
        version.refresh_from_db()
        raise _wrong_status(version, VersionStatus.DRAFT)
    version.refresh_from_db()
    audit_record(
        actor=user,
        obj=version,
        action="kb.version.submit",
        before={"status": VersionStatus.DRAFT},
        after={"status": VersionStatus.REVIEW},
    )
    publish(VersionSubmitted(version=version, actor=user))
    return version


@transaction.atomic
def version_reject(*, actor: User | None, version: ArticleVersion, note: str) -> ArticleVersion:
    user = require(actor, Capability.KB_REVIEW)
    errors: dict[str, str] = {}
    check_text(errors, "note", note, max_length=2000, required=True)
    if errors:
        raise ValidationFailed(details=errors)
    if version.is_frozen:
        raise _immutable()
    now = timezone.now()
    updated = ArticleVersion.objects.filter(pk=version.pk, status=VersionStatus.REVIEW).update(
        status=VersionStatus.REJECTED, reviewer=user, reviewed_at=now, review_note=note, updated_at=now
    )
    if updated != 1:
        version.refresh_from_db()
        raise _wrong_status(version, VersionStatus.REVIEW)
    version.refresh_from_db()
    audit_record(
        actor=user,
        obj=version,
        action="kb.version.reject",
        before={"status": VersionStatus.REVIEW},
        after={"status": VersionStatus.REJECTED, "note": note},
    )
    publish(VersionRejected(version=version, actor=user))
    return version


def _make_live(
    *, article: Article, version: ArticleVersion, actor: User | None, now: dt.datetime, rollback: bool = False
) -> ArticleVersion | None:
    """Point the article at ``version``; the one it replaces (and scheduled versions that fell due
    before it but never went live) become superseded. Returns the previous live version."""
    article = _lock_article(article)
    previous = article.published_version
    if previous is not None and previous.pk == version.pk:
        return None
    effective = version.effective_at or now
    stale = ArticleVersion.objects.filter(article=article, status=VersionStatus.PUBLISHED).exclude(
        pk=version.pk
    )
    # A rollback restores that text now: versions still waiting for their date are dropped too.
    to_supersede = stale if rollback else stale.filter(effective_at__lte=effective)
    superseded = sorted(to_supersede.values_list("number", flat=True))
    to_supersede.update(status=VersionStatus.SUPERSEDED, superseded_at=now)
    Article.objects.filter(pk=article.pk).update(published_version=version, updated_at=now)
    article.published_version = version
    audit_record(
        actor=actor,
        obj=article,
        action="kb.article.live",
        before={"version": previous.number if previous else None},
        after={"version": version.number, "superseded": superseded, "rollback": rollback},
    )
    search.index_article(article.pk)
    publish(
        ArticlePublished(article=article, version=version, previous=previous, actor=actor, rollback=rollback)
    )
    return previous


@transaction.atomic
def version_publish(
    *, actor: User | None, version: ArticleVersion, effective_at: dt.datetime | None = None
) -> ArticleVersion:
    """Approve a version in review. It goes live now, or at ``effective_at`` if that is later."""
    user = require(actor, Capability.KB_REVIEW)
    if version.is_frozen:
        raise _immutable()
    now = timezone.now()
    if effective_at is not None and timezone.is_naive(effective_at):
        raise ValidationFailed(details={"effective_at": str(_("Give a time zone with the time."))})
    effective = max(effective_at, now) if effective_at is not None else now
    _lock_article(version.article)
    updated = ArticleVersion.objects.filter(pk=version.pk, status=VersionStatus.REVIEW).update(
        status=VersionStatus.PUBLISHED,
        reviewer=user,
        reviewed_at=now,
        published_at=now,
        effective_at=effective,
        updated_at=now,
    )
    if updated != 1:
        version.refresh_from_db()
        raise _wrong_status(version, VersionStatus.REVIEW)
    version.refresh_from_db()
    scheduled = effective > now
    audit_record(
        actor=user,
        obj=version,
        action="kb.version.schedule" if scheduled else "kb.version.publish",
        before={"status": VersionStatus.REVIEW},
        after={"status": VersionStatus.PUBLISHED, "effective_at": effective.isoformat()},
    )
    if scheduled:
        publish(VersionScheduled(version=version, actor=user))
    else:
        _make_live(article=version.article, version=version, actor=user, now=now)
    return version


@transaction.atomic
def article_rollback(*, actor: User | None, article: Article, to_version: ArticleVersion) -> ArticleVersion:
    """Publish a NEW version whose text copies ``to_version`` (an earlier published one)."""
    user = require(actor, Capability.KB_REVIEW)
    if to_version.article_id != article.pk:
        raise NotFound()
    if not to_version.is_frozen:
        raise Conflict(
            _("Only a version that was published can be restored."),
            code="version_status",
            details={"status": to_version.status},
        )
    article = _lock_article(article)
    if article.published_version_id == to_version.pk:
        raise Conflict(_("This version is already live."), code="already_live")
    now = timezone.now()
    version = ArticleVersion.objects.create(
        article=article,
        number=_next_number(article),
        title=to_version.title,
        summary=to_version.summary,
        body=to_version.body,
        status=VersionStatus.PUBLISHED,
        author=user,
        reviewer=user,
        submitted_at=now,
        reviewed_at=now,
        published_at=now,
        effective_at=now,
        created_at=now,
        updated_at=now,
        based_on=to_version,
        change_note=str(_("Rollback to version %(number)s") % {"number": to_version.number})[:NOTE_MAX],
    )
    audit_record(
        actor=user,
        obj=version,
        action="kb.version.rollback",
        before={"live": article.published_version.number if article.published_version else None},
        after={"number": version.number, "copy_of": to_version.number},
    )
    _make_live(article=article, version=version, actor=user, now=now, rollback=True)
    return version


@transaction.atomic
def article_unpublish(*, actor: User | None, article: Article) -> Article:
    """Take the article offline: its live version becomes superseded (restore it by a rollback)."""
    user = require(actor, Capability.KB_REVIEW)
    article = _lock_article(article)
    live = article.published_version
    if live is None:
        raise Conflict(_("The article is not published."), code="not_published")
    now = timezone.now()
    ArticleVersion.objects.filter(pk=live.pk).update(status=VersionStatus.SUPERSEDED, superseded_at=now)
    Article.objects.filter(pk=article.pk).update(published_version=None, updated_at=now)
    article.published_version = None
    live.refresh_from_db()
    audit_record(
        actor=user,
        obj=article,
        action="kb.article.unpublish",
        before={"version": live.number},
        after={"version": None},
    )
    search.index_article(article.pk)
    publish(ArticleUnpublished(article=article, version=live, actor=user))
    return article


def publish_due(*, now: dt.datetime | None = None, batch: int = 200) -> int:
    """Make scheduled versions whose time has come live; safe to run twice or in parallel."""
    now = now or timezone.now()
    candidates = (
        ArticleVersion.objects.filter(status=VersionStatus.PUBLISHED, effective_at__lte=now)
        .exclude(article__published_version=F("pk"))
        .values_list("article_id", flat=True)
        .distinct()
    )
    article_ids = sorted(set(candidates))[:batch]
    made_live = 0
    for article_id in article_ids:
        made_live += _publish_due_article(article_id=article_id, now=now)
    return made_live


@transaction.atomic
def _publish_due_article(*, article_id: int, now: dt.datetime) -> int:
    article = Article.objects.select_for_update().filter(pk=article_id).first()
    if article is None:
        return 0
    due = (
        ArticleVersion.objects.filter(article=article, status=VersionStatus.PUBLISHED, effective_at__lte=now)
        .order_by("-effective_at", "-number")
        .first()
    )
    if due is None or due.pk == article.published_version_id:
        return 0
    live = article.published_version
    if live is not None and live.effective_at and due.effective_at and live.effective_at > due.effective_at:
        # A later-dated version is already live; this one was overtaken: it never goes live.
        ArticleVersion.objects.filter(pk=due.pk).update(status=VersionStatus.SUPERSEDED, superseded_at=now)
        return 0
    _make_live(article=article, version=due, actor=None, now=now)
    return 1


def article_view_count(*, article: Article) -> None:
    """Count a read (not audited: a counter, not a change of content)."""
    Article.objects.filter(pk=article.pk).update(view_count=F("view_count") + 1)


# --- categories ---------------------------------------------------------------------------------


def _validate_category(*, slug: str, name_zh: str, name_en: str) -> None:
    errors: dict[str, str] = {}
    if not KEY_RE.match(slug or "") or len(slug) > 80:
        errors["slug"] = str(_("Use lower-case letters, digits and hyphens (at most 80)."))
    check_text(errors, "name_zh", name_zh, max_length=120, required=True)
    check_text(errors, "name_en", name_en, max_length=120, required=False)
    if errors:
        raise ValidationFailed(details=errors)


@transaction.atomic
def category_create(
    *,
    actor: User | None,
    slug: str,
    name_zh: str,
    name_en: str = "",
    parent: Category | None = None,
    position: int = 0,
) -> Category:
    user = require(actor, Capability.KB_EDIT)
    _validate_category(slug=slug, name_zh=name_zh, name_en=name_en)
    if Category.objects.filter(slug=slug).exists():
        raise ValidationFailed(details={"slug": str(_("This slug is taken."))})
    category = Category.objects.create(
        slug=slug, name_zh=name_zh, name_en=name_en, parent=parent, position=max(position, 0)
    )
    audit_record(
        actor=user,
        obj=category,
        action="kb.category.create",
        after={"slug": slug, "name_zh": name_zh, "name_en": name_en, "parent": parent},
    )
    return category


@transaction.atomic
def category_update(
    *, actor: User | None, category: Category, name_zh: str, name_en: str = "", position: int | None = None
) -> Category:
    user = require(actor, Capability.KB_EDIT)
    _validate_category(slug=category.slug, name_zh=name_zh, name_en=name_en)
    before = {"name_zh": category.name_zh, "name_en": category.name_en, "position": category.position}
    category.name_zh, category.name_en = name_zh, name_en
    if position is not None:
        category.position = max(position, 0)
    category.save(update_fields=["name_zh", "name_en", "position"])
    audit_record(
        actor=user,
        obj=category,
        action="kb.category.update",
        before=before,
        after={"name_zh": name_zh, "name_en": name_en, "position": category.position},
    )
    return category


# --- readers' signals ---------------------------------------------------------------------------


@transaction.atomic
def feedback_record(
    *,
    article: Article,
    helpful: bool,
    comment: str = "",
    session_key: str = "",
    user: User | None = None,
) -> ArticleFeedback:
    """ "Was this helpful?" One vote per reader (session or user) and article: voting again changes it."""
    errors: dict[str, str] = {}
    check_text(errors, "comment", comment, max_length=2000, required=False)
    if errors:
        raise ValidationFailed(details=errors)
    session_key = session_key[:64]
    voter = user if user is not None and user.pk else None
    existing = None
    if voter is not None:
        existing = ArticleFeedback.objects.select_for_update().filter(article=article, user=voter).first()
    elif session_key:
        existing = (
            ArticleFeedback.objects.select_for_update()
            .filter(article=article, session_key=session_key, user__isnull=True)
            .first()
        )
    counter = "helpful_count" if helpful else "not_helpful_count"
    if existing is not None:
        before = {"helpful": existing.helpful, "comment": existing.comment}
        if existing.helpful != helpful:
            previous_counter = "helpful_count" if existing.helpful else "not_helpful_count"
            Article.objects.filter(pk=article.pk).update(
                **{counter: F(counter) + 1, previous_counter: F(previous_counter) - 1}
            )
        existing.helpful = helpful
        existing.comment = comment or existing.comment
        existing.version = article.published_version
        existing.save(update_fields=["helpful", "comment", "version"])
        audit_record(
            actor=voter,
            obj=existing,
            action="kb.feedback.change",
            before=before,
            after={"helpful": helpful, "comment": existing.comment},
        )
        publish(ArticleFeedbackRecorded(feedback=existing))
        return existing
    feedback = ArticleFeedback.objects.create(
        article=article,
        version=article.published_version,
        helpful=helpful,
        comment=comment,
        locale=article.locale,
        session_key=session_key,
        user=voter,
    )
    Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + 1})
    audit_record(
        actor=voter,
        obj=feedback,
        action="kb.feedback.record",
        after={"article": article.pk, "helpful": helpful, "comment": comment},
    )
    publish(ArticleFeedbackRecorded(feedback=feedback))
    return feedback


_PUNCTUATION_RE = re.compile(r"[\s\W_]+", re.UNICODE)


def normalize_query(query: str) -> str:
    """The form searches are grouped by: width-folded, lower-case, punctuation as single spaces."""
    text = unicodedata.normalize("NFKC", query).casefold()
    return _PUNCTUATION_RE.sub(" ", text).strip()[:300]


def search_log(
    *,
    query: str,
    locale: str,
    audience: str,
    results: int,
    source: str,
    user: User | None = None,
) -> None:
    """Record a search (the log is itself the record: no audit row per search)."""
    cleaned = "".join(ch for ch in query if not unicodedata.category(ch).startswith("C") or ch == " ")
    cleaned = " ".join(cleaned.split())[:300]
    if not cleaned:
        return
    SearchQueryLog.objects.create(
        query=cleaned,
        normalized=normalize_query(cleaned),
        locale=(locale or "")[:10],
        audience=(audience or "public")[:10],
        results=max(int(results), 0),
        user=user if user is not None and user.pk else None,
        source=source if source in SearchSource.values else SearchSource.API,
    )


@transaction.atomic
def ticket_article_use(*, ticket: Ticket, article: Article, actor: User | None, via: str) -> TicketArticleUse:
    """Record that an article helped on a ticket; once per (ticket, article, via)."""
    if via not in UseVia.values:
        raise ValidationFailed(details={"via": str(_("Unknown way of use."))})
    if actor is not None and not (actor.is_staff_member or actor.is_superuser):
        raise PermissionDenied()
    existing = TicketArticleUse.objects.filter(ticket=ticket, article=article, via=via).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            use = TicketArticleUse.objects.create(
                ticket=ticket,
                article=article,
                version=article.published_version,
                used_by=actor if actor is not None and actor.pk else None,
                via=via,
            )
    except IntegrityError:
        return TicketArticleUse.objects.get(ticket=ticket, article=article, via=via)
    audit_record(
        actor=actor,
        obj=use,
        action="kb.article.used",
        after={"ticket": ticket.number, "article": article.pk, "via": via},
    )
    publish(ArticleUsedOnTicket(use=use))
    return use


def suggest_key(title: str) -> str:
    """A key from a title (ASCII slug, or a short unique token for titles without Latin letters)."""
    slug = slugify(title)[:80].strip("-")
    return slug or f"article-{timezone.now():%Y%m%d%H%M%S}"
