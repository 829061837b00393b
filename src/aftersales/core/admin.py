from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import ApiToken, AuditEvent, Region, Team, User
from .services import audit_record


def _field_values(obj: Any) -> dict[str, Any]:
    return {
        field.attname: getattr(obj, field.attname)
        for field in obj._meta.concrete_fields
        if field.attname not in {"password", "last_login", "key_hash"}
    }


class AuditedModelAdmin(admin.ModelAdmin):
    """Configuration edited in the admin leaves the same audit trail as every other write."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = _field_values(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else {}
        super().save_model(request, obj, form, change)
        after = _field_values(obj)
        changed_before = {k: v for k, v in before.items() if after.get(k) != v}
        changed_after = {k: after[k] for k in changed_before} if change else after
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            obj=obj,
            action=f"admin.{'change' if change else 'add'}",
            before=changed_before,
            after=changed_after,
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit_record(actor=request.user, obj=obj, action="admin.delete", before=_field_values(obj))  # type: ignore[arg-type]
        super().delete_model(request, obj)


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    list_display = ("username", "display_name", "role", "email", "is_active")
    list_filter = ("role", "is_active", "teams")
    search_fields = ("username", "display_name", "email", "phone")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (
            _("Service organisation"),
            {"fields": ("role", "display_name", "phone", "preferred_language", "regions", "skills")},
        ),
    )
    filter_horizontal = ("regions", "groups", "user_permissions")


@admin.register(Region)
class RegionAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "name_en", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name", "name_en")


@admin.register(Team)
class TeamAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "kind", "lead", "is_active")
    list_filter = ("kind", "is_active")
    filter_horizontal = ("members", "regions")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "actor", "action", "object_type", "object_id", "object_label")
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "object_label", "action")
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "is_active")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
