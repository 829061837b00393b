"""Signed inbound webhooks (WeChat, social media, shop/ERP) and signed outbound webhooks with a delivery log."""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.core.models import Team
from aftersales.tickets.models import Ticket


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class SourceKind(models.TextChoices):
    WECHAT = "wechat", _("WeChat official account")
    MINIPROGRAM = "miniprogram", _("WeChat mini-program")
    SOCIAL = "social", _("Social media")
    SHOP = "shop", _("Online shop")
    ERP = "erp", _("ERP")
    OTHER = "other", _("Other")


class SourceChannel(models.TextChoices):
    """The ticket channels an inbound source may record (a subset of ``tickets.Channel``)."""

    WECHAT = "wechat", _("WeChat")
    SOCIAL = "social", _("Social media")
    APP = "app", _("App")
    API = "api", _("API")


class InboundSource(models.Model):
    """A system allowed to post signed events to ``/webhooks/in/<key>/``."""

    key = models.SlugField(_("key"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=12, choices=SourceKind.choices, default=SourceKind.OTHER)
    secret = models.CharField(_("signing secret"), max_length=100, default=new_secret)
    is_active = models.BooleanField(_("active"), default=True)
    default_team = models.ForeignKey(
        Team,
        verbose_name=_("default team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    channel = models.CharField(
        _("channel recorded"), max_length=10, choices=SourceChannel.choices, default=SourceChannel.API
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("inbound webhook source")
        verbose_name_plural = _("inbound webhook sources")
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=SourceKind.values), name="inbound_source_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(channel__in=SourceChannel.values), name="inbound_source_channel_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"


class InboundStatus(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    REFUSED = "refused", _("Refused")


class InboundDelivery(models.Model):
    """One request to the inbound endpoint, accepted or refused, with why."""

    source = models.ForeignKey(
        InboundSource, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    # What the caller named, even when no such source exists.
    source_key = models.CharField(_("source key"), max_length=60, blank=True)
    event_id = models.CharField(_("event id"), max_length=100, blank=True)
    event_type = models.CharField(_("event type"), max_length=40, blank=True)
    body_sha256 = models.CharField(max_length=64, blank=True)
    # SHA-256 of "<signed timestamp>.<body>": one signed body is accepted once, whatever event id
    # comes with it (a v1 signature does not cover the id). Empty on refused deliveries.
    signed_sha256 = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    status = models.CharField(_("status"), max_length=10, choices=InboundStatus.choices)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), default=200)
    reason = models.CharField(_("reason"), max_length=60, blank=True)
    detail = models.TextField(_("detail"), blank=True)
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("inbound delivery")
        verbose_name_plural = _("inbound deliveries")
        ordering = ["-id"]
        constraints = [
            # An accepted event id is spent: a replay of it is refused. A refused delivery does
            # not spend its id, so the sender can correct the request and send it again.
            models.UniqueConstraint(
                fields=["source", "event_id"],
                condition=models.Q(status="accepted"),
                name="inbound_event_id_once",
            ),
            models.UniqueConstraint(
                fields=["source", "signed_sha256"],
                condition=models.Q(status="accepted") & ~models.Q(signed_sha256=""),
                name="inbound_signed_body_once",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=InboundStatus.values), name="inbound_delivery_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["source", "-id"], name="inbound_delivery_source_idx")]

    def __str__(self) -> str:
        return f"{self.source_key} {self.event_id} {self.status}"


class ExternalRef(models.Model):
    """A ticket as another system knows it (a WeChat conversation, a shop order's service case)."""

    source = models.ForeignKey(InboundSource, on_delete=models.CASCADE, related_name="refs")
    external_id = models.CharField(_("external id"), max_length=100)
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("external reference")
        verbose_name_plural = _("external references")
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="external_ref_unique"),
        ]
        indexes = [models.Index(fields=["ticket"], name="external_ref_ticket_idx")]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.external_id}"


# --- outbound ------------------------------------------------------------------------------------


class EventType(models.TextChoices):
    TICKET_OPENED = "ticket.opened", _("Ticket opened")
    TICKET_STAGE_CHANGED = "ticket.stage_changed", _("Ticket changed stage")
    TICKET_MESSAGE_ADDED = "ticket.message_added", _("Public message added")
    TICKET_UPDATED = "ticket.updated", _("Ticket fields changed")
    TICKET_MERGED = "ticket.merged", _("Ticket merged into another")


class WebhookEndpoint(models.Model):
    name = models.CharField(_("name"), max_length=80)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=100, default=new_secret)
    event_types = models.JSONField(_("event types"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    team = models.ForeignKey(
        Team,
        verbose_name=_("only tickets of team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str, team_id: int | None) -> bool:
        if not self.is_active or event_type not in (self.event_types or []):
            return False
        return self.team_id is None or self.team_id == team_id


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERING = "delivering", _("Delivering")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(_("event type"), max_length=40)
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4, unique=True)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # While delivering: the claim expires here, so a worker that died does not hold it forever.
    claimed_until = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_body = models.TextField(_("response (excerpt)"), blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values), name="webhook_delivery_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx"),
            models.Index(fields=["endpoint", "-id"], name="webhook_delivery_endpoint_idx"),
            models.Index(fields=["status", "-id"], name="webhook_delivery_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"
