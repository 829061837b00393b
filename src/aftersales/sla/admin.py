from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from aftersales.core.admin import AuditedModelAdmin
from aftersales.core.durations import format_duration

from .defaults import TARGET_NAMES
from .errors import SlaConfigurationError
from .models import SlaEscalationRule, SlaPolicy
from .policies import POLICY_FIELDS, policy_validate


class SlaPolicyForm(forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = POLICY_FIELDS

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        candidate = self.instance
        for name, value in cleaned.items():
            if hasattr(candidate, name) and name in {f.name for f in SlaPolicy._meta.fields}:
                setattr(candidate, name, value)
        try:
            policy_validate(candidate)
        except SlaConfigurationError as error:
            field_errors = {
                name: str(message)
                for name, message in error.details.items()
                if name in self.fields and isinstance(message, str)
            }
            if field_errors:
                raise ValidationError(
                    {**field_errors, **({} if not str(error.message) else {"__all__": str(error.message)})}
                ) from error
            raise ValidationError(str(error.message)) from error
        return cleaned


@admin.register(SlaPolicy)
class SlaPolicyAdmin(AuditedModelAdmin):
    form = SlaPolicyForm
    list_display = (
        "policy_name",
        "precedence",
        "is_active",
        "ticket_type",
        "priority",
        "customer_tier",
        "channel",
        "first_response_shown",
        "resolution_shown",
        "warn_at_percent",
    )
    list_filter = ("is_active", "ticket_type", "priority", "channel", "customer_tier")
    search_fields = ("name", "name_en")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "name_en",
                    "description",
                    "precedence",
                    "is_active",
                    "calendar",
                    "warn_at_percent",
                )
            },
        ),
        (_("Criteria"), {"fields": ("ticket_type", "priority", "customer_tier", "channel")}),
        (
            _("Targets"),
            {"fields": TARGET_NAMES},
        ),
    )

    @admin.display(description=_("name"), ordering="name")
    def policy_name(self, policy: SlaPolicy) -> str:
        return policy.display_name

    @admin.display(description=_("first response"), ordering="first_response")
    def first_response_shown(self, policy: SlaPolicy) -> str:
        return format_duration(policy.first_response) or "—"

    @admin.display(description=_("resolution"), ordering="resolution")
    def resolution_shown(self, policy: SlaPolicy) -> str:
        return format_duration(policy.resolution) or "—"


@admin.register(SlaEscalationRule)
class SlaEscalationRuleAdmin(AuditedModelAdmin):
    list_display = ("name", "on", "target", "action", "policy", "is_active")
    list_filter = ("on", "action", "is_active")
