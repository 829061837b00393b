"""Website chat: the embeddable widget, conversations, the agent side, live updates.

A ``ChatChannel`` is one embedding of the widget (a public key in the script tag, the origins
allowed to embed it, the team its conversations go to). A ``Conversation`` is one visitor's chat;
its ``public_token`` lives only in the visitor's browser storage. Every line is a ``ChatMessage``
(the live transcript the widget and the console read with a since-id cursor); once the
conversation has a ticket, every line is recorded on the ticket as well.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def new_public_key() -> str:
    return "ch_" + secrets.token_urlsafe(12)


class ChatChannel(models.Model):
    """One place the widget is embedded: a website, a shop, a product page."""

    public_key = models.CharField(_("public key"), max_length=40, unique=True, default=new_public_key)
    name = models.CharField(_("name"), max_length=80)
    allowed_origins = models.TextField(
        _("allowed origins"),
        blank=True,
        help_text=_(
            "One origin per line (https://www.example.com) that may embed the widget; "
            "* allows every origin. This server's own pages are always allowed."
        ),
    )
    team = models.ForeignKey(
        "core.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_channels",
    )
    greeting = models.CharField(_("greeting (Chinese)"), max_length=300, blank=True)
    greeting_en = models.CharField(_("greeting (English)"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("chat channel")
        verbose_name_plural = _("chat channels")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def origins(self) -> list[str]:
        return [line.strip().rstrip("/") for line in self.allowed_origins.splitlines() if line.strip()]

    def greeting_for(self, language: str) -> str:
        if language.startswith("en") and self.greeting_en:
            return self.greeting_en
        return self.greeting


class ConversationStatus(models.TextChoices):
    BOT = "bot", _("With the answer bot")
    WAITING = "waiting", _("Waiting for an agent")
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")
    OFFLINE_MESSAGE = "offline_message", _("Message left")


class CloseReason(models.TextChoices):
    NONE = "", _("Open")
    DEFLECTED = "deflected", _("Solved by the answer bot")
    AGENT = "agent", _("Closed by the agent")
    VISITOR = "visitor", _("Ended by the visitor")
    OFFLINE = "offline", _("Left a message")
    ABANDONED = "abandoned", _("The visitor left")


OPEN_STATUSES = (ConversationStatus.BOT, ConversationStatus.WAITING, ConversationStatus.ACTIVE)


class Conversation(models.Model):
    channel = models.ForeignKey(
        ChatChannel, verbose_name=_("chat channel"), on_delete=models.PROTECT, related_name="conversations"
    )
    public_token = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ConversationStatus.choices, default=ConversationStatus.WAITING
    )
    close_reason = models.CharField(
        _("close reason"), max_length=12, choices=CloseReason.choices, blank=True, default=""
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    visitor_name = models.CharField(_("visitor name"), max_length=80, blank=True)
    visitor_email = models.EmailField(_("visitor e-mail"), blank=True)
    visitor_phone = models.CharField(_("visitor phone"), max_length=32, blank=True)
    page_url = models.CharField(_("page"), max_length=500, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_conversations",
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_conversations",
    )
    assigned_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_conversations",
    )
    # The answer bot's session (knowledge.BotSession.public_id) while the bot takes part.
    bot_session_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, db_index=True)
    waiting_since = models.DateTimeField(_("waiting since"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    last_visitor_seen_at = models.DateTimeField(_("visitor last seen"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("chat conversation")
        verbose_name_plural = _("chat conversations")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ConversationStatus.values),
                name="chat_conversation_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["status", "id"], name="chat_conv_status_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.visitor_name or self.visitor_email or self.visitor_phone}".strip()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def visitor_label(self) -> str:
        return (
            self.visitor_name
            or self.visitor_email
            or self.visitor_phone
            or gettext("Visitor %(n)s") % {"n": self.pk}
        )


class ChatMessage(models.Model):
    class Author(models.TextChoices):
        VISITOR = "visitor", _("Visitor")
        AGENT = "agent", _("Agent")
        BOT = "bot", _("Answer bot")
        SYSTEM = "system", _("System")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    author = models.CharField(_("author"), max_length=8, choices=Author.choices)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("message"))
    # Bot answers: the articles they came from ([{article_id, title, url}]) and clarifying choices.
    sources = models.JSONField(default=list, blank=True)
    options = models.JSONField(default=list, blank=True)
    # A system line is stored as a code so each reader sees it in their own language.
    event_code = models.CharField(max_length=40, blank=True)
    event_data = models.JSONField(default=dict, blank=True)
    ticket_message = models.ForeignKey(
        "tickets.TicketMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(author__in=["visitor", "agent", "bot", "system"]),
                name="chat_message_author_valid",
            )
        ]
        indexes = [models.Index(fields=["conversation", "id"], name="chat_msg_conv_idx")]

    def __str__(self) -> str:
        return f"{self.author} #{self.pk}"


ONLINE_WINDOW = dt.timedelta(seconds=60)


class AgentPresence(models.Model):
    """Whether an agent takes chats: switched on by the agent, kept alive by the console's heartbeat."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_presence"
    )
    is_online = models.BooleanField(_("online"), default=False)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True, db_index=True)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("agent presence")
        verbose_name_plural = _("agent presences")

    def __str__(self) -> str:
        return f"{self.user} {'online' if self.is_online else 'offline'}"

    def is_available(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        return bool(self.is_online and self.last_seen_at and now - self.last_seen_at <= ONLINE_WINDOW)
