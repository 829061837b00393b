"""Knowledge-base data: articles and their versions, the standard manual and its editions,
feedback, search logs, articles used on tickets and answer-bot sessions.

An article is one piece of knowledge in one language; its translations share a
``translation_group``. Its text lives in numbered versions that move draft → review → published;
``Article.published_version`` points at the live one. A published (or superseded) version is
never edited again: a change is a new version, a rollback is a new version copying an old one.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from aftersales.assets.models import ProductModel
from aftersales.core.errors import Conflict
from aftersales.tickets.models import Ticket

__all__ = [
    "Article",
    "ArticleFeedback",
    "ArticleVersion",
    "Audience",
    "BotChannel",
    "BotOutcome",
    "BotSession",
    "Category",
    "KbTag",
    "Locale",
    "Manual",
    "ManualEdition",
    "ManualSection",
    "SearchQueryLog",
    "SearchSource",
    "TicketArticleUse",
    "UseVia",
    "VersionStatus",
]


class Locale(models.TextChoices):
    ZH_HANS = "zh-hans", "简体中文"
    EN = "en", "English"


class Audience(models.TextChoices):
    PUBLIC = "public", _("Public (customers and staff)")
    INTERNAL = "internal", _("Internal (staff only)")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEW = "review", _("In review")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")
    REJECTED = "rejected", _("Rejected")


# Versions in these states are history: their text never changes again.
FROZEN_STATUSES = frozenset({VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED})
# An article has at most one version being worked on at a time.
OPEN_STATUSES = frozenset({VersionStatus.DRAFT, VersionStatus.REVIEW})


def _is_english(locale: str | None = None) -> bool:
    return (locale or get_language() or "").lower().startswith("en")


class Category(models.Model):
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("knowledge category")
        verbose_name_plural = _("knowledge categories")
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.display_name

    def name_for(self, locale: str | None = None) -> str:
        if _is_english(locale) and self.name_en:
            return self.name_en
        return self.name_zh

    @property
    def display_name(self) -> str:
        return self.name_for(None)


class KbTag(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)

    class Meta:
        verbose_name = _("knowledge tag")
        verbose_name_plural = _("knowledge tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    key = models.SlugField(_("key"), max_length=120)
    locale = models.CharField(_("language"), max_length=10, choices=Locale.choices)
    translation_group = models.UUIDField(_("translation group"), default=uuid.uuid4, db_index=True)
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
    )
    product_models = models.ManyToManyField(
        ProductModel, verbose_name=_("product models"), blank=True, related_name="kb_articles"
    )
    tags = models.ManyToManyField(KbTag, verbose_name=_("tags"), blank=True, related_name="articles")
    audience = models.CharField(
        _("audience"), max_length=10, choices=Audience.choices, default=Audience.PUBLIC
    )
    published_version = models.ForeignKey(
        "ArticleVersion",
        verbose_name=_("live version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    helpful_count = models.PositiveIntegerField(_("helpful"), default=0)
    not_helpful_count = models.PositiveIntegerField(_("not helpful"), default=0)
    view_count = models.PositiveIntegerField(_("views"), default=0)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["key", "locale"]
        constraints = [
            models.UniqueConstraint(fields=["key", "locale"], name="kb_article_key_locale_unique"),
            # One article per language in a group of translations.
            models.UniqueConstraint(
                fields=["translation_group", "locale"], name="kb_article_translation_locale_unique"
            ),
            models.CheckConstraint(condition=Q(locale__in=Locale.values), name="kb_article_locale_valid"),
            models.CheckConstraint(
                condition=Q(audience__in=Audience.values), name="kb_article_audience_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["locale", "category", "id"], name="kb_article_locale_cat"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.locale})"

    @property
    def is_published(self) -> bool:
        return self.published_version_id is not None


class ArticleVersion(models.Model):
    Status = VersionStatus

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    body = models.TextField(_("body (Markdown)"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="kb_versions_written",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="kb_versions_reviewed",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    effective_at = models.DateTimeField(_("effective from"), null=True, blank=True)
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)
    change_note = models.CharField(_("change note"), max_length=500, blank=True)
    based_on = models.ForeignKey(
        "self",
        verbose_name=_("based on"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="derived_versions",
    )

    class Meta:
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        ordering = ["article_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="kb_version_number_unique"),
            models.UniqueConstraint(
                fields=["article"],
                condition=Q(status__in=sorted(OPEN_STATUSES)),
                name="kb_version_one_open_per_article",
            ),
            models.CheckConstraint(
                condition=Q(status__in=VersionStatus.values), name="kb_version_status_valid"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="kb_version_number_positive"),
            # A published version always says when and from when.
            models.CheckConstraint(
                condition=~Q(status__in=sorted(FROZEN_STATUSES))
                | (Q(published_at__isnull=False) & Q(effective_at__isnull=False)),
                name="kb_version_published_dates",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "effective_at"], name="kb_version_status_effective"),
            models.Index(fields=["status", "submitted_at"], name="kb_version_review_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.article.key} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Last line of defence behind the services: the text of a published version is history.
        if self.pk is not None:
            stored = (
                ArticleVersion.objects.filter(pk=self.pk)
                .values("status", "title", "summary", "body", "number", "article_id")
                .first()
            )
            if stored is not None and stored["status"] in FROZEN_STATUSES:
                for field in ("title", "summary", "body", "number", "article_id"):
                    if stored[field] != getattr(self, field):
                        raise Conflict(
                            _("A published version cannot be changed; save a new draft instead."),
                            code="version_immutable",
                        )
                if self.status not in FROZEN_STATUSES:
                    raise Conflict(
                        _("A published version cannot return to draft or review."),
                        code="version_immutable",
                    )
        super().save(*args, **kwargs)

    @property
    def is_frozen(self) -> bool:
        return self.status in FROZEN_STATUSES

    @property
    def is_scheduled(self) -> bool:
        return (
            self.status == VersionStatus.PUBLISHED
            and self.effective_at is not None
            and self.effective_at > timezone.now()
        )


class Manual(models.Model):
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    title_zh = models.CharField(_("Chinese title"), max_length=200)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    locale = models.CharField(_("language"), max_length=10, choices=Locale.choices)
    audience = models.CharField(
        _("audience"), max_length=10, choices=Audience.choices, default=Audience.PUBLIC
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("manual")
        verbose_name_plural = _("manuals")
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(condition=Q(locale__in=Locale.values), name="kb_manual_locale_valid"),
            models.CheckConstraint(
                condition=Q(audience__in=Audience.values), name="kb_manual_audience_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def title_for(self, locale: str | None = None) -> str:
        if _is_english(locale) and self.title_en:
            return self.title_en
        return self.title_zh or self.title_en

    @property
    def title(self) -> str:
        # A manual is written in one language: its own title first.
        return self.title_for(self.locale)


class ManualSection(models.Model):
    """A chapter (no parent) or a section of a chapter, optionally bound to an article."""

    manual = models.ForeignKey(
        Manual, verbose_name=_("manual"), on_delete=models.CASCADE, related_name="sections"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("chapter"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    title = models.CharField(_("title"), max_length=200, blank=True)
    article = models.ForeignKey(
        Article,
        verbose_name=_("article"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="manual_sections",
    )

    class Meta:
        verbose_name = _("manual section")
        verbose_name_plural = _("manual sections")
        ordering = ["manual_id", "parent_id", "position", "id"]
        indexes = [models.Index(fields=["manual", "parent", "position"], name="kb_section_order")]

    def __str__(self) -> str:
        return self.title or (self.article.key if self.article is not None else f"#{self.pk}")

    @property
    def display_title(self) -> str:
        """The section's own title, else the live title of its article, else the article's key."""
        if self.title:
            return self.title
        if self.article is None:
            return ""
        live = self.article.published_version
        return live.title if live is not None else self.article.key


def edition_pdf_path(instance: ManualEdition, filename: str) -> str:
    return f"knowledge/manuals/{instance.manual_id}/{filename}"


class ManualEdition(models.Model):
    """A frozen, numbered export of a manual: which version of every article, as HTML and PDF."""

    manual = models.ForeignKey(
        Manual, verbose_name=_("manual"), on_delete=models.CASCADE, related_name="editions"
    )
    number = models.PositiveIntegerField(_("edition"))
    label = models.CharField(_("label"), max_length=40)
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    html = models.TextField(_("HTML"), blank=True)
    pdf = models.FileField(_("PDF"), upload_to=edition_pdf_path, max_length=200, blank=True)
    # {str(article_id): version_id} of the live versions frozen into this edition.
    article_versions = models.JSONField(_("article versions"), default=dict, blank=True)
    # {"added": [...], "removed": [...], "changed": [...]} against the previous edition.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    # The chapter/section outline as it was: [{"number": "1.2", "title": ..., "article_id": ..., ...}].
    outline = models.JSONField(_("outline"), default=list, blank=True)

    class Meta:
        verbose_name = _("manual edition")
        verbose_name_plural = _("manual editions")
        ordering = ["manual_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["manual", "number"], name="kb_edition_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="kb_edition_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.manual.slug} {self.label}"


class ArticleFeedback(models.Model):
    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="feedback"
    )
    version = models.ForeignKey(
        ArticleVersion,
        verbose_name=_("version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback",
    )
    helpful = models.BooleanField(_("helpful"))
    comment = models.TextField(_("comment"), blank=True)
    locale = models.CharField(_("language"), max_length=10, blank=True)
    session_key = models.CharField(_("session"), max_length=64, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("article feedback")
        verbose_name_plural = _("article feedback")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["article", "created_at"], name="kb_feedback_article_time"),
            models.Index(fields=["created_at"], name="kb_feedback_time"),
        ]

    def __str__(self) -> str:
        return f"{self.article_id}: {'+' if self.helpful else '-'}"


class SearchSource(models.TextChoices):
    HELP = "help", _("Help centre")
    CONSOLE = "console", _("Console")
    BOT = "bot", _("Answer bot")
    API = "api", _("API")
    SUGGEST = "suggest", _("Suggested answers")


class SearchQueryLog(models.Model):
    query = models.CharField(_("query"), max_length=300)
    normalized = models.CharField(_("normalized query"), max_length=300)
    locale = models.CharField(_("language"), max_length=10, blank=True)
    audience = models.CharField(_("audience"), max_length=10, default="public")
    results = models.PositiveIntegerField(_("results"), default=0)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(_("source"), max_length=10, choices=SearchSource.choices)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("search query")
        verbose_name_plural = _("search queries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=SearchSource.values), name="kb_searchlog_source_valid"
            )
        ]
        indexes = [
            # The "missing articles" list: empty results in a period, grouped by the normalized text.
            models.Index(fields=["results", "created_at"], name="kb_searchlog_missing"),
            models.Index(fields=["normalized"], name="kb_searchlog_normalized"),
            models.Index(fields=["created_at"], name="kb_searchlog_time"),
        ]

    def __str__(self) -> str:
        return self.query


class UseVia(models.TextChoices):
    REPLY = "reply", _("Inserted into a reply")
    BOT = "bot", _("Answer bot")
    SUGGESTION = "suggestion", _("Suggestion")


class TicketArticleUse(models.Model):
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="kb_article_uses"
    )
    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="ticket_uses"
    )
    version = models.ForeignKey(
        ArticleVersion,
        verbose_name=_("version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ticket_uses",
    )
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("used by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    via = models.CharField(_("via"), max_length=12, choices=UseVia.choices)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("article used on a ticket")
        verbose_name_plural = _("articles used on tickets")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "article", "via"], name="kb_ticket_article_use_unique"),
            models.CheckConstraint(condition=Q(via__in=UseVia.values), name="kb_use_via_valid"),
        ]
        indexes = [
            models.Index(fields=["created_at", "article"], name="kb_use_time_article"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} ← {self.article_id} ({self.via})"


class BotChannel(models.TextChoices):
    PORTAL = "portal", _("Portal")
    CHAT = "chat", _("Chat")
    HELP = "help", _("Help centre")


class BotOutcome(models.TextChoices):
    OPEN = "open", _("Open")
    DEFLECTED = "deflected", _("Solved by the bot")
    HANDED_OVER = "handed_over", _("Handed over to a person")
    ABANDONED = "abandoned", _("Abandoned")


class BotSession(models.Model):
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(_("channel"), max_length=10, choices=BotChannel.choices)
    locale = models.CharField(_("language"), max_length=10, choices=Locale.choices)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="kb_bot_sessions",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # [{"role": "customer"|"bot"|"agent", "text": str, "sources": [article ids], "at": iso time}]
    transcript = models.JSONField(_("transcript"), default=list, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=BotOutcome.choices, default=BotOutcome.OPEN
    )
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="kb_bot_sessions",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("bot session")
        verbose_name_plural = _("bot sessions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(channel__in=BotChannel.values), name="kb_bot_channel_valid"),
            models.CheckConstraint(condition=Q(outcome__in=BotOutcome.values), name="kb_bot_outcome_valid"),
            models.CheckConstraint(condition=Q(locale__in=Locale.values), name="kb_bot_locale_valid"),
        ]
        indexes = [
            models.Index(fields=["outcome", "created_at"], name="kb_bot_outcome_time"),
            models.Index(fields=["created_at"], name="kb_bot_time"),
        ]

    def __str__(self) -> str:
        return str(self.public_id)
