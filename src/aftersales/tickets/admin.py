from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Tag, Ticket


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Read-only here: tickets change through the console and the API, which keep the lifecycle."""

    list_display = (
        "number",
        "subject",
        "type",
        "priority",
        "status",
        "customer",
        "team",
        "assignee",
        "created_at",
    )
    list_filter = ("status", "type", "priority", "channel")
    search_fields = ("number", "subject")
    list_select_related = ("customer", "team", "assignee")
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
