"""Django admin for the mail channel: mailboxes, the inbound log (quarantine actions) and the outbox."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from aftersales.core.errors import ApplicationError

from .models import InboundEmail, InboundStatus, Mailbox, OutboundEmail
from .services import inbound_discard, inbound_reimport


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = ("name", "address", "team", "host", "folder", "is_active", "last_uid", "last_polled_at")
    list_filter = ("is_active", "security")
    readonly_fields = (
        "uidvalidity",
        "last_uid",
        "last_polled_at",
        "last_error",
        "lease_owner",
        "lease_until",
    )


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = (
        "id", "created_at", "status", "from_address", "subject", "ticket", "sender_verified", "reason",
    )  # fmt: skip
    list_filter = ("status", "mailbox", "sender_verified", "auth_verdict")
    search_fields = ("from_address", "subject", "message_id")
    actions = ("import_again", "discard")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Import again"))
    def import_again(self, request: HttpRequest, queryset: QuerySet[InboundEmail]) -> None:
        for row in queryset.filter(status__in=[InboundStatus.QUARANTINED, InboundStatus.IGNORED]):
            try:
                inbound_reimport(inbound=row, actor=request.user)  # type: ignore[arg-type]
            except ApplicationError as exc:
                self.message_user(request, f"{row.pk}: {exc.message}", messages.ERROR)

    @admin.action(description=_("Discard"))
    def discard(self, request: HttpRequest, queryset: QuerySet[InboundEmail]) -> None:
        for row in queryset.filter(status=InboundStatus.QUARANTINED):
            try:
                inbound_discard(inbound=row, actor=request.user)  # type: ignore[arg-type]
            except ApplicationError as exc:
                self.message_user(request, f"{row.pk}: {exc.message}", messages.ERROR)


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "kind", "to_address", "subject", "status", "attempts", "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("to_address", "subject", "message_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
