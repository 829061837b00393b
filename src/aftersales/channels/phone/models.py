"""Telephony: call records on tickets (direction, duration, recording) and call-centre (CTI) events."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.core.models import Team
from aftersales.customers.models import Customer
from aftersales.tickets.models import Ticket


def new_secret() -> str:
    return "ctisec_" + secrets.token_urlsafe(32)


class AnswerMode(models.TextChoices):
    """What an answered inbound call does to tickets."""

    ATTACH_OR_OPEN = "attach_or_open", _("Attach to the caller's open ticket, else open a phone ticket")
    ALWAYS_OPEN = "always_open", _("Open a phone ticket for every answered call")
    RECORD_ONLY = "record_only", _("Only record the call (the agent logs the ticket)")


class CtiSource(models.Model):
    """A call-centre system (a CTI vendor) allowed to post signed call events."""

    key = models.SlugField(_("key"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    secret = models.CharField(_("signing secret"), max_length=100, default=new_secret)
    is_active = models.BooleanField(_("active"), default=True)
    answer_mode = models.CharField(
        _("on an answered call"), max_length=20, choices=AnswerMode.choices, default=AnswerMode.ATTACH_OR_OPEN
    )
    missed_call_ticket = models.BooleanField(_("missed calls open a callback ticket"), default=True)
    default_team = models.ForeignKey(
        Team,
        verbose_name=_("default team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("call-centre (CTI) source")
        verbose_name_plural = _("call-centre (CTI) sources")
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(answer_mode__in=AnswerMode.values), name="cti_source_answer_mode_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"


class CallDirection(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class CallStatus(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("Answered")
    MISSED = "missed", _("Missed")
    ENDED = "ended", _("Ended")


class CallRecord(models.Model):
    """One telephone call, logged by an agent or reported by the call centre."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    direction = models.CharField(
        _("direction"), max_length=8, choices=CallDirection.choices, default=CallDirection.INBOUND
    )
    caller_number = models.CharField(_("caller number"), max_length=32, blank=True)
    callee_number = models.CharField(_("callee number"), max_length=32, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CallStatus.choices, default=CallStatus.ENDED
    )
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    # The call centre's id of the call; empty for a call an agent logged by hand.
    external_call_id = models.CharField(_("call id"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=40, blank=True)
    # The call opened its ticket (rather than joining the caller's open one).
    opened_ticket = models.BooleanField(_("opened the ticket"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("call record")
        verbose_name_plural = _("call records")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_call_id"],
                condition=~models.Q(external_call_id=""),
                name="call_record_external_id_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(direction__in=CallDirection.values), name="call_record_direction_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=CallStatus.values), name="call_record_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["ticket", "-started_at"], name="call_record_ticket_idx"),
            models.Index(fields=["customer", "-started_at"], name="call_record_customer_idx"),
            models.Index(fields=["status", "-id"], name="call_record_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.caller_number} → {self.callee_number}"

    @property
    def wait_seconds(self) -> int | None:
        """Ring to answer: the phone channel's first-response time."""
        if self.answered_at is None:
            return None
        return max(0, int((self.answered_at - self.started_at).total_seconds()))


class CtiEvent(models.Model):
    """One call-centre event, kept once per (source, call id, event): a resent event is a no-op."""

    source = models.ForeignKey(CtiSource, on_delete=models.CASCADE, related_name="events")
    external_call_id = models.CharField(max_length=100)
    event = models.CharField(max_length=10, choices=CallStatus.choices)
    call = models.ForeignKey(
        CallRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("call-centre event")
        verbose_name_plural = _("call-centre events")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_call_id", "event"], name="cti_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.external_call_id}:{self.event}"
