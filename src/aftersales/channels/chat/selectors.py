"""Reads of the chat: channels by public key, a visitor's conversation by token, the agents' queue."""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from aftersales.core.errors import NotFound, PermissionDenied, ValidationFailed
from aftersales.core.models import User
from aftersales.core.paging import keyset_page

from .models import (
    ONLINE_WINDOW,
    AgentPresence,
    ChatChannel,
    ChatMessage,
    Conversation,
    ConversationStatus,
)
from .services import may_take_chats, system_text

CONSOLE_LIST_LIMIT = 100
BOT_LIST_LIMIT = 30
BOT_LIST_WINDOW = dt.timedelta(minutes=10)


def channel_get_public(*, public_key: str) -> ChatChannel:
    if not public_key or len(public_key) > 40:
        raise NotFound(_("This chat is not available."))
    channel = ChatChannel.objects.select_related("team").filter(public_key=public_key, is_active=True).first()
    if channel is None:
        raise NotFound(_("This chat is not available."))
    return channel


def conversation_for_visitor(*, channel: ChatChannel, token: str) -> Conversation:
    """The conversation behind a visitor's token, on this channel only."""
    if not token or len(token) > 64:
        raise NotFound(_("This chat was not found; start a new one."), code="chat_not_found")
    conversation = (
        Conversation.objects.select_related("channel", "ticket", "assigned_agent")
        .filter(public_token=token, channel=channel)
        .first()
    )
    if conversation is None or not hmac.compare_digest(conversation.public_token, token):
        raise NotFound(_("This chat was not found; start a new one."), code="chat_not_found")
    return conversation


def online_presences() -> QuerySet[AgentPresence]:
    return AgentPresence.objects.filter(
        is_online=True, last_seen_at__gte=timezone.now() - ONLINE_WINDOW, user__is_active=True
    )


def agents_available(*, channel: ChatChannel) -> bool:
    """Someone can take this channel's chats: a member of its team, or anyone if it has no team."""
    online = online_presences()
    if channel.team_id and channel.team is not None and channel.team.members.exists():
        online = online.filter(user__teams=channel.team_id)
    return online.exists()


def agent_is_online(*, user: User) -> bool:
    return online_presences().filter(user=user).exists()


def _staff(user: User) -> None:
    if not may_take_chats(user):
        raise PermissionDenied()


def console_conversations(*, user: User) -> list[Conversation]:
    """The open conversations an agent sees: waiting (oldest first), active, and the bot's chats
    whose visitor is still there (newest first) - each list bounded on its own, so a crowd of
    visitors talking to the bot never pushes a waiting chat out of sight."""
    _staff(user)
    base = Conversation.objects.select_related("channel", "ticket", "assigned_agent")
    waiting = list(base.filter(status=ConversationStatus.WAITING).order_by("id")[:CONSOLE_LIST_LIMIT])
    active = list(base.filter(status=ConversationStatus.ACTIVE).order_by("id")[:CONSOLE_LIST_LIMIT])
    with_bot = list(
        base.filter(
            status=ConversationStatus.BOT, last_visitor_seen_at__gte=timezone.now() - BOT_LIST_WINDOW
        ).order_by("-id")[:BOT_LIST_LIMIT]
    )
    return waiting + active + with_bot


def conversation_get_for_staff(*, user: User, conversation_id: int) -> Conversation:
    _staff(user)
    conversation = (
        Conversation.objects.select_related("channel", "ticket", "assigned_agent", "customer")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise NotFound(details={"conversation": conversation_id})
    return conversation


def conversation_list(
    *, user: User, status: str | None = None, cursor: str | None = None, limit: int = 25
) -> tuple[list[Conversation], str | None]:
    _staff(user)
    queryset = Conversation.objects.select_related("channel", "ticket", "assigned_agent")
    if status:
        if status not in ConversationStatus.values:
            raise ValidationFailed(
                details={"status": _("“%(value)s” is not a valid choice.") % {"value": status}}
            )
        queryset = queryset.filter(status=status)
    return keyset_page(queryset, cursor=cursor, limit=limit)


def messages_since(*, conversation_id: int, since_id: int = 0, limit: int = 200) -> list[ChatMessage]:
    return list(
        ChatMessage.objects.filter(conversation_id=conversation_id, id__gt=since_id)
        .select_related("agent")
        .order_by("id")[:limit]
    )


# ---------------------------------------------------------------------------------------------
# what the widget and the console receive


def message_payload(line: ChatMessage, *, language: str, for_staff: bool = False) -> dict[str, Any]:
    """One line as JSON, in the reader's language (system lines are stored as codes)."""
    with override(language):
        body = (
            system_text(line.event_code, line.event_data)
            if line.author == ChatMessage.Author.SYSTEM
            else line.body
        )
        author_name = ""
        if line.author == ChatMessage.Author.AGENT and line.agent is not None:
            author_name = str(line.agent)
        elif line.author == ChatMessage.Author.BOT:
            author_name = _("Answer bot")
    payload: dict[str, Any] = {
        "id": line.pk,
        "author": line.author,
        "author_name": author_name,
        "body": body,
        "created_at": line.created_at.isoformat(),
        "sources": line.sources or [],
        "options": line.options or [],
        "code": line.event_code,
    }
    if for_staff:
        payload["ticket_message_id"] = line.ticket_message_id
    return payload


def conversation_state(conversation: Conversation) -> dict[str, Any]:
    """What the visitor's widget needs to know beyond the lines."""
    return {
        "status": conversation.status,
        "close_reason": conversation.close_reason,
        "agent_name": str(conversation.assigned_agent) if conversation.assigned_agent_id else "",
        "ticket_number": conversation.ticket.number if conversation.ticket_id and conversation.ticket else "",
        "agents_online": agents_available(channel=conversation.channel),
        "has_contact": bool(conversation.visitor_email or conversation.visitor_phone),
    }


def conversation_summary(conversation: Conversation, *, language: str) -> dict[str, Any]:
    """A conversation as the console lists it."""
    with override(language):
        status_label = str(ConversationStatus(conversation.status).label)
        visitor = conversation.visitor_label
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "status_label": status_label,
        "visitor": visitor,
        "visitor_email": conversation.visitor_email,
        "visitor_phone": conversation.visitor_phone,
        "language": conversation.language,
        "channel": conversation.channel.name,
        "page_url": conversation.page_url,
        "agent_id": conversation.assigned_agent_id,
        "agent_name": str(conversation.assigned_agent) if conversation.assigned_agent_id else "",
        "ticket_number": conversation.ticket.number if conversation.ticket_id and conversation.ticket else "",
        "created_at": conversation.created_at.isoformat(),
        "updated_at": conversation.updated_at.isoformat(),
        "waiting_since": conversation.waiting_since.isoformat() if conversation.waiting_since else None,
        "version": conversation.version,
        # The widget's stream refreshes this every 20 s while the visitor's page is open.
        "visitor_online": bool(
            conversation.last_visitor_seen_at
            and timezone.now() - conversation.last_visitor_seen_at <= ONLINE_WINDOW
        ),
    }
