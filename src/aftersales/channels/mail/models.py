"""E-mail in and out: IMAP mailboxes, raw MIME intake, quarantine, templated notifications over SMTP."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.core.models import Team
from aftersales.tickets.models import Ticket, TicketMessage


class ImapSecurity(models.TextChoices):
    SSL = "ssl", _("TLS (IMAPS)")
    STARTTLS = "starttls", _("STARTTLS")
    NONE = "none", _("None (tests only)")


class Mailbox(models.Model):
    """An IMAP mailbox the poller reads; its address is where the customers' replies go."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    address = models.EmailField(_("support address"))
    host = models.CharField(_("IMAP host"), max_length=200, blank=True)
    port = models.PositiveIntegerField(_("IMAP port"), default=993)
    security = models.CharField(
        _("security"), max_length=10, choices=ImapSecurity.choices, default=ImapSecurity.SSL
    )
    username = models.CharField(_("user name"), max_length=200, blank=True)
    password = models.CharField(_("password"), max_length=200, blank=True)
    folder = models.CharField(_("folder"), max_length=200, default="INBOX")
    uidvalidity = models.BigIntegerField(_("UIDVALIDITY"), null=True, blank=True)
    last_uid = models.BigIntegerField(_("last UID read"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    last_polled_at = models.DateTimeField(_("last polled at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    # A lease instead of a lock held by a transaction: one poller per mailbox on SQLite and PostgreSQL.
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(security__in=["ssl", "starttls", "none"]), name="mailbox_security_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"


class InboundStatus(models.TextChoices):
    # Accepted (parsed, deduplicated, raw source stored) and waiting to become a ticket or reply.
    PENDING = "pending", _("Pending")
    IMPORTED = "imported", _("Imported")
    IGNORED = "ignored", _("Ignored")
    QUARANTINED = "quarantined", _("Quarantined")
    DISCARDED = "discarded", _("Discarded")


def raw_source_path(instance: InboundEmail, filename: str) -> str:
    return f"mail/raw/{instance.sha256[:2]}/{instance.sha256}.eml"


class InboundEmail(models.Model):
    """Every message that arrived, once: what became of it and its raw source (kept on disk)."""

    mailbox = models.ForeignKey(
        Mailbox, verbose_name=_("mailbox"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, db_index=True)
    # ``sha256:`` of the raw bytes: the same bytes are stored once, while a different message that
    # reuses a Message-ID is kept (rows before 2026-12 used ``mid:<Message-ID>``).
    dedupe_key = models.CharField(max_length=255, unique=True)
    raw = models.FileField(_("raw source"), upload_to=raw_source_path, max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(_("size"), default=0)
    from_address = models.CharField(_("from"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=InboundStatus.choices)
    reason = models.TextField(_("reason"), blank=True)
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The ticket message the e-mail became (None when it opened the ticket: that is its description).
    ticket_message = models.ForeignKey(
        TicketMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # What our receiving server's Authentication-Results said ("" = not reported) and the verdict
    # (pass, fail, none, unchecked); ``sender_verified`` False means agents see a warning.
    auth_spf = models.CharField(_("SPF"), max_length=16, blank=True)
    auth_dkim = models.CharField(_("DKIM"), max_length=16, blank=True)
    auth_dmarc = models.CharField(_("DMARC"), max_length=16, blank=True)
    auth_verdict = models.CharField(_("sender authentication"), max_length=10, blank=True)
    sender_verified = models.BooleanField(_("sender verified"), null=True, blank=True)

    class Meta:
        verbose_name = _("incoming e-mail")
        verbose_name_plural = _("incoming e-mails")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "imported", "ignored", "quarantined", "discarded"]),
                name="inbound_status_valid",
            )
        ]
        indexes = [
            models.Index(fields=["status", "-id"], name="inbound_status_idx"),
            models.Index(fields=["from_address", "created_at"], name="inbound_sender_idx"),
            models.Index(fields=["ticket", "-id"], name="inbound_ticket_idx"),
            models.Index(fields=["sha256"], name="inbound_sha256_idx"),
            # Stage 2 takes the oldest pending message of a mailbox.
            models.Index(
                fields=["mailbox", "id"],
                name="inbound_pending_idx",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_address}: {self.subject}"


class OutboundKind(models.TextChoices):
    RECEIVED = "received", _("Ticket received")
    REPLY = "reply", _("Agent reply")
    STATUS = "status", _("Status change")
    RESOLUTION = "resolution", _("Resolution")


class OutboundStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboundEmail(models.Model):
    """The outbox: a notification written with the ticket change, sent later by the job queue."""

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="+")
    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=OutboundKind.choices)
    to_address = models.CharField(_("to"), max_length=254)
    from_address = models.CharField(_("from"), max_length=254)
    reply_to = models.CharField(_("reply to"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=255)
    text = models.TextField(_("text"))
    html = models.TextField(_("HTML"), blank=True)
    # Generated once with our domain and reused on every retry, so a retried delivery is the same
    # message to the receiving side.
    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    is_notification = models.BooleanField(default=True)
    status = models.CharField(
        _("status"), max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "sending", "sent", "failed"]),
                name="outbound_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["received", "reply", "status", "resolution"]),
                name="outbound_kind_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbound_due_idx"),
            models.Index(fields=["ticket", "-id"], name="outbound_ticket_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.to_address}"
