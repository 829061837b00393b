from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AgentPresence, ChatChannel, ChatMessage, Conversation
from .services import chat_channel_save


@admin.register(ChatChannel)
class ChatChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "public_key", "team", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "public_key")
    readonly_fields = ("public_key", "created_at")
    fields = (
        "name",
        "public_key",
        "allowed_origins",
        "team",
        "greeting",
        "greeting_en",
        "is_active",
        "created_at",
    )

    def save_model(self, request: HttpRequest, obj: ChatChannel, form: Any, change: bool) -> None:
        chat_channel_save(actor=request.user, channel=obj, created=not change)  # type: ignore[arg-type]


class ChatMessageInline(admin.TabularInline):
    model = ChatMessage
    extra = 0
    can_delete = False
    fields = ("created_at", "author", "agent", "body")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    """Read-only: conversations change only through the widget and the console."""

    list_display = (
        "id",
        "channel",
        "status",
        "visitor_name",
        "visitor_email",
        "ticket",
        "assigned_agent",
        "created_at",
    )
    list_filter = ("status", "channel")
    search_fields = ("visitor_name", "visitor_email", "visitor_phone", "ticket__number")
    exclude = ("public_token",)
    inlines = [ChatMessageInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AgentPresence)
class AgentPresenceAdmin(admin.ModelAdmin):
    list_display = ("user", "is_online", "last_seen_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
