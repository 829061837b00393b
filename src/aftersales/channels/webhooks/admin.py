from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from aftersales.core.errors import ApplicationError
from aftersales.core.services import audit_record

from .models import (
    EventType,
    ExternalRef,
    InboundDelivery,
    InboundSource,
    WebhookDelivery,
    WebhookEndpoint,
)
from .services import webhook_delivery_retry_now
from .url_policy import WebhookUrlNotAllowed, check_url

SECRET_FIELDS = {"secret"}


def _values(obj: Any) -> dict[str, Any]:
    return {
        field.attname: ("***" if field.attname in SECRET_FIELDS else getattr(obj, field.attname))
        for field in obj._meta.concrete_fields
    }


class AuditedSecretAdmin(admin.ModelAdmin):
    """Audited like every admin write, without writing the signing secret into the audit log."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = _values(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else {}
        secret_changed = change and "secret" in form.changed_data
        super().save_model(request, obj, form, change)
        after = _values(obj)
        changed_before = {k: v for k, v in before.items() if after.get(k) != v}
        changed_after = {k: after[k] for k in changed_before} if change else after
        if secret_changed:
            changed_before["secret"], changed_after["secret"] = "***", "*** (rotated)"
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            obj=obj,
            action=f"admin.{'change' if change else 'add'}",
            before=changed_before,
            after=changed_after,
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit_record(actor=request.user, obj=obj, action="admin.delete", before=_values(obj))  # type: ignore[arg-type]
        super().delete_model(request, obj)


@admin.register(InboundSource)
class InboundSourceAdmin(AuditedSecretAdmin):
    list_display = ("key", "name", "kind", "channel", "default_team", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("key", "name")


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_("event types"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("name", "url", "secret", "event_types", "team", "is_active")

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError(_("Use an http or https URL."))
        try:
            check_url(url)
        except WebhookUrlNotAllowed as error:
            raise forms.ValidationError(str(error.message)) from None
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(AuditedSecretAdmin):
    form = WebhookEndpointForm
    list_display = ("name", "url", "team", "is_active")
    list_filter = ("is_active",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "endpoint", "event_type", "status", "attempts", "response_status", "created_at")
    list_filter = ("status", "event_type", "endpoint")
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]
    actions = ["retry_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Retry the selected deliveries now"))
    def retry_now(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        done = 0
        for delivery in queryset:
            try:
                webhook_delivery_retry_now(delivery=delivery, actor=request.user)  # type: ignore[arg-type]
            except ApplicationError:  # a delivered one is skipped, the rest go on
                continue
            done += 1
        messages.info(request, _("%(n)d deliveries will be sent again.") % {"n": done})


@admin.register(InboundDelivery)
class InboundDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "source_key",
        "event_id",
        "event_type",
        "status",
        "reason",
        "http_status",
        "received_at",
    )
    list_filter = ("status", "source", "reason")
    search_fields = ("event_id", "source_key")
    readonly_fields = [field.name for field in InboundDelivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ExternalRef)
class ExternalRefAdmin(admin.ModelAdmin):
    list_display = ("source", "external_id", "ticket", "created_at")
    search_fields = ("external_id", "ticket__number")
    raw_id_fields = ("ticket",)
