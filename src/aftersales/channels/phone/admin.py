from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from aftersales.channels.webhooks.admin import AuditedSecretAdmin

from .models import CallRecord, CtiEvent, CtiSource


@admin.register(CtiSource)
class CtiSourceAdmin(AuditedSecretAdmin):
    list_display = ("key", "name", "answer_mode", "missed_call_ticket", "default_team", "is_active")
    list_filter = ("is_active", "answer_mode")


@admin.register(CallRecord)
class CallRecordAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "direction",
        "status",
        "caller_number",
        "callee_number",
        "agent",
        "started_at",
        "duration_seconds",
        "ticket",
    )
    list_filter = ("status", "direction", "source")
    search_fields = ("caller_number", "callee_number", "external_call_id", "ticket__number")
    raw_id_fields = ("ticket", "customer", "agent")
    readonly_fields = ("external_call_id", "source", "created_at")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(CtiEvent)
class CtiEventAdmin(admin.ModelAdmin):
    list_display = ("id", "source", "external_call_id", "event", "call", "received_at")
    list_filter = ("source", "event")
    search_fields = ("external_call_id",)
    readonly_fields = [field.name for field in CtiEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
