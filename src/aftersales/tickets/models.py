from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.assets.models import InstalledProduct
from aftersales.core.models import Region, Team
from aftersales.customers.models import Contact, Customer, ValueTier

from .lifecycle import FINAL_STATUSES, OPEN_STATUSES, TicketStatus

__all__ = [
    "Attachment",
    "Channel",
    "Priority",
    "SavedView",
    "Tag",
    "Ticket",
    "TicketLink",
    "TicketMessage",
    "TicketSearchDocument",
    "TicketStatus",
    "TicketStatusChange",
    "TicketType",
]


OPEN_WORK = models.Q(status__in=sorted(OPEN_STATUSES))


class TicketType(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")
    COMPLAINT = "complaint", _("Complaint")
    REPAIR = "repair", _("Repair")
    INSTALLATION = "installation", _("Installation")
    MAINTENANCE = "maintenance", _("Maintenance")
    RETURN_EXCHANGE = "return_exchange", _("Return / exchange")
    UPGRADE = "upgrade", _("Product upgrade")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    WEB = "web", _("Web")
    EMAIL = "email", _("E-mail")
    CHAT = "chat", _("Chat")
    APP = "app", _("App")
    WECHAT = "wechat", _("WeChat")
    SOCIAL = "social", _("Social media")
    API = "api", _("API")


class Priority(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Low")


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    """A work order (工单): one customer request, from first contact to closure."""

    number = models.CharField(_("number"), max_length=20, unique=True)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    type = models.CharField(
        _("type"), max_length=20, choices=TicketType.choices, default=TicketType.CONSULTATION
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.WEB)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=24, choices=TicketStatus.choices, default=TicketStatus.NEW
    )
    # The stage a ticket returns to when the customer answers while it waits on them.
    resume_status = models.CharField(max_length=24, choices=TicketStatus.choices, blank=True)
    close_reason = models.CharField(_("close reason"), max_length=20, blank=True)

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="tickets"
    )
    # The customer's value tier when the ticket was opened (SLA and queues read it without a join).
    customer_tier = models.CharField(
        _("customer tier"), max_length=12, choices=ValueTier.choices, default=ValueTier.POTENTIAL
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    installed_product = models.ForeignKey(
        InstalledProduct,
        verbose_name=_("installed product"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="tickets")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_tickets",
    )

    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    first_responded_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reopened_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=TicketStatus.values), name="ticket_status_valid"
            ),
            models.CheckConstraint(condition=models.Q(type__in=TicketType.values), name="ticket_type_valid"),
            models.CheckConstraint(
                condition=models.Q(channel__in=Channel.values), name="ticket_channel_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(priority__in=Priority.values), name="ticket_priority_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="closed") | models.Q(closed_at__isnull=False),
                name="ticket_closed_has_time",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="resolved") | models.Q(resolved_at__isnull=False),
                name="ticket_resolved_has_time",
            ),
        ]
        # Every queue and filter path ends in "-id" so keyset paging is an index range scan.
        indexes = [
            models.Index(fields=["status", "-id"], name="ticket_status_idx"),
            models.Index(fields=["assignee", "status", "-id"], name="ticket_assignee_idx"),
            models.Index(fields=["team", "status", "-id"], name="ticket_team_idx"),
            models.Index(fields=["customer", "-id"], name="ticket_customer_idx"),
            models.Index(fields=["type", "status", "-id"], name="ticket_type_idx"),
            models.Index(fields=["priority", "status", "-id"], name="ticket_priority_idx"),
            models.Index(fields=["region", "status", "-id"], name="ticket_region_idx"),
            models.Index(fields=["installed_product", "-id"], name="ticket_product_idx"),
            # "Open work" queues (every unfinished stage at once) read these small partial indexes.
            models.Index(fields=["team", "-id"], condition=OPEN_WORK, name="ticket_team_open_idx"),
            models.Index(fields=["assignee", "-id"], condition=OPEN_WORK, name="ticket_assignee_open_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


class TicketStatusChange(models.Model):
    """One step of the lifecycle, timestamped, so the time spent in each stage can be measured."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=24, choices=TicketStatus.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=TicketStatus.choices)
    # When the ticket entered ``from_status``: the stage's duration is occurred_at − this.
    from_status_entered_at = models.DateTimeField(null=True, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["ticket", "occurred_at"], name="status_change_ticket_idx")]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"

    @property
    def from_stage_seconds(self) -> float | None:
        if self.from_status_entered_at is None:
            return None
        return (self.occurred_at - self.from_status_entered_at).total_seconds()


class TicketMessage(models.Model):
    class Kind(models.TextChoices):
        REPLY = "reply", _("Public reply")
        NOTE = "note", _("Internal note")
        EVENT = "event", _("System event")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_from_customer = models.BooleanField(default=False)
    channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    body = models.TextField(_("message"))
    # A message written by the platform (an SLA warning…) also keeps what happened as data, so
    # each reader sees it in their language; ``body`` is the platform-language rendering kept
    # for the API and exports.
    event_code = models.CharField(max_length=40, blank=True)
    event_data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="message_ticket_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["reply", "note", "event"]), name="message_kind_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_public(self) -> bool:
        return self.kind != self.Kind.NOTE


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.ticket_id}/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        TicketMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    is_internal = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class TicketLink(models.Model):
    """A relation between two tickets (same fault at two homes, a follow-up visit)."""

    from_ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    to_ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["from_ticket", "to_ticket"], name="ticket_link_unique"),
            models.CheckConstraint(
                condition=~models.Q(from_ticket=models.F("to_ticket")), name="ticket_link_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_ticket_id} ↔ {self.to_ticket_id}"


class TicketSearchDocument(models.Model):
    """The words a ticket is found by (``tickets/search.py``), written by the ticket services.

    Terms are space-separated, cut by ``core.segmentation``; ``note_terms`` come from internal
    notes, which only staff search. PostgreSQL adds a generated ``document`` tsvector column under
    a GIN index; SQLite mirrors the rows into the FTS5 table ``tickets_search_fts`` (migration 0004).
    """

    ticket = models.OneToOneField(
        Ticket, primary_key=True, on_delete=models.CASCADE, related_name="search_document"
    )
    public_terms = models.TextField(blank=True, default="")
    note_terms = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = _("search document")
        verbose_name_plural = _("search documents")

    def __str__(self) -> str:
        return f"search document of ticket {self.ticket_id}"


class SavedView(models.Model):
    """A named ticket list (a queue, its filters and its sort) kept by its owner; a shared one is
    offered to every member of staff, who each see it through their own scope."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="saved_views",
    )
    name = models.CharField(_("name"), max_length=60)
    queue = models.CharField(_("queue"), max_length=20)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    sort = models.CharField(_("sort"), max_length=20, blank=True)
    is_shared = models.BooleanField(_("shared with the team"), default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="saved_view_owner_name_unique")]
        indexes = [
            models.Index(
                fields=["is_shared", "name"], condition=models.Q(is_shared=True), name="saved_view_shared_idx"
            )
        ]

    def __str__(self) -> str:
        return self.name
