"""Admin of the knowledge base.

Categories, tags and manual titles are edited here with an audit trail.
Article text and the version workflow are not: they go through the editor console, whose services
enforce review and immutability and keep the search index current; here articles, versions,
manual outlines, editions and the logs are read-only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from aftersales.core.admin import AuditedModelAdmin

from .models import (
    Article,
    ArticleFeedback,
    ArticleVersion,
    BotSession,
    Category,
    KbTag,
    Manual,
    ManualEdition,
    ManualSection,
    SearchQueryLog,
    TicketArticleUse,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Category)
class CategoryAdmin(AuditedModelAdmin):
    list_display = ("slug", "name_zh", "name_en", "parent", "position")
    search_fields = ("slug", "name_zh", "name_en")
    list_select_related = ("parent",)


@admin.register(KbTag)
class KbTagAdmin(AuditedModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)


class VersionInline(ReadOnlyInline):
    model = ArticleVersion
    fields = (
        "number",
        "status",
        "title",
        "author",
        "reviewer",
        "published_at",
        "effective_at",
        "change_note",
    )
    readonly_fields = fields
    ordering = ("-number",)


@admin.register(Article)
class ArticleAdmin(ReadOnlyAdmin):
    list_display = (
        "key",
        "locale",
        "audience",
        "category",
        "published_version",
        "helpful_count",
        "updated_at",
    )
    list_filter = ("locale", "audience", "category")
    search_fields = ("key", "versions__title")
    list_select_related = ("category", "published_version")
    # Articles are written and classified in the editor console (search follows every change there).
    readonly_fields = (
        "key",
        "locale",
        "translation_group",
        "published_version",
        "created_by",
        "created_at",
        "updated_at",
        "helpful_count",
        "not_helpful_count",
        "view_count",
    )
    inlines = [VersionInline]


@admin.register(ArticleVersion)
class ArticleVersionAdmin(ReadOnlyAdmin):
    list_display = ("article", "number", "status", "title", "author", "reviewer", "effective_at")
    list_filter = ("status",)
    search_fields = ("title", "article__key")
    list_select_related = ("article", "author", "reviewer")


class SectionInline(ReadOnlyInline):
    model = ManualSection
    fields = ("parent", "position", "title", "article")
    readonly_fields = fields


@admin.register(Manual)
class ManualAdmin(AuditedModelAdmin):
    list_display = ("slug", "title_zh", "title_en", "locale", "audience", "updated_at")
    list_filter = ("locale", "audience")
    search_fields = ("slug", "title_zh", "title_en")
    inlines = [SectionInline]


@admin.register(ManualEdition)
class ManualEditionAdmin(ReadOnlyAdmin):
    list_display = ("manual", "label", "number", "published_at", "published_by")
    list_select_related = ("manual", "published_by")
    exclude = ("html",)


@admin.register(ArticleFeedback)
class ArticleFeedbackAdmin(ReadOnlyAdmin):
    list_display = ("article", "version", "helpful", "locale", "user", "created_at")
    list_filter = ("helpful", "locale")
    list_select_related = ("article", "version", "user")


@admin.register(SearchQueryLog)
class SearchQueryLogAdmin(ReadOnlyAdmin):
    list_display = ("query", "locale", "audience", "results", "source", "created_at")
    list_filter = ("source", "locale", "audience")
    search_fields = ("query", "normalized")


@admin.register(TicketArticleUse)
class TicketArticleUseAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "article", "version", "via", "used_by", "created_at")
    list_filter = ("via",)
    list_select_related = ("ticket", "article", "version", "used_by")


@admin.register(BotSession)
class BotSessionAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "channel", "locale", "outcome", "customer", "ticket", "created_at")
    list_filter = ("channel", "outcome", "locale")
    list_select_related = ("customer", "ticket")
