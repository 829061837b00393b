"""Chat endpoints for staff: the conversations and their lines."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Query, Router, Schema

from aftersales.core.api_schemas import ERROR_RESPONSES, Text200
from aftersales.shell.views import api_user

from .models import Conversation, ConversationStatus
from .selectors import conversation_get_for_staff, conversation_list, message_payload, messages_since
from .services import normalise_language

router = Router(tags=["chat"])


class ChatFilters(Schema):
    status: ConversationStatus | None = None
    cursor: Text200 | None = None
    limit: int = 25


class ConversationOut(Schema):
    id: int
    status: str
    close_reason: str
    language: str
    channel: str
    visitor_name: str
    visitor_email: str
    visitor_phone: str
    page_url: str
    ticket_number: str | None
    customer_id: int | None
    assigned_agent_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    accepted_at: dt.datetime | None
    closed_at: dt.datetime | None


class ChatMessageOut(Schema):
    id: int
    author: str
    author_name: str
    body: str
    created_at: str
    sources: list[dict]
    options: list[str]
    code: str
    ticket_message_id: int | None


class ConversationDetailOut(ConversationOut):
    messages: list[ChatMessageOut]


class ConversationPageOut(Schema):
    items: list[ConversationOut]
    next_cursor: str | None


def _out(conversation: Conversation) -> dict:
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "close_reason": conversation.close_reason,
        "language": conversation.language,
        "channel": conversation.channel.name,
        "visitor_name": conversation.visitor_name,
        "visitor_email": conversation.visitor_email,
        "visitor_phone": conversation.visitor_phone,
        "page_url": conversation.page_url,
        "ticket_number": conversation.ticket.number if conversation.ticket is not None else None,
        "customer_id": conversation.customer_id,
        "assigned_agent_id": conversation.assigned_agent_id,
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
        "accepted_at": conversation.accepted_at,
        "closed_at": conversation.closed_at,
    }


@router.get("/conversations", response={200: ConversationPageOut, **ERROR_RESPONSES})
def list_conversations(request: HttpRequest, filters: Query[ChatFilters]) -> dict:
    """Chat conversations, newest first (keyset paging); filter by status."""
    limit = max(1, min(filters.limit, 100))
    rows, next_cursor = conversation_list(
        user=api_user(request),
        status=filters.status.value if filters.status else None,
        cursor=filters.cursor,
        limit=limit,
    )
    return {"items": [_out(row) for row in rows], "next_cursor": next_cursor}


@router.get("/conversations/{conversation_id}", response={200: ConversationDetailOut, **ERROR_RESPONSES})
def get_conversation(request: HttpRequest, conversation_id: int) -> dict:
    """One conversation with every line (system lines in the reader's language)."""
    conversation = conversation_get_for_staff(user=api_user(request), conversation_id=conversation_id)
    language = normalise_language(getattr(request, "LANGUAGE_CODE", "zh-hans"))
    lines = messages_since(conversation_id=conversation.pk, since_id=0, limit=5000)
    return {
        **_out(conversation),
        "messages": [message_payload(line, language=language, for_staff=True) for line in lines],
    }
