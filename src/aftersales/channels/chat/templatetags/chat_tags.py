"""The ticket page's panel of the chat conversations the ticket came from."""

from __future__ import annotations

from typing import Any

from django import template

from ..models import Conversation

register = template.Library()


@register.inclusion_tag("chat/_ticket_panel.html")
def chat_conversations(ticket: Any) -> dict[str, Any]:
    ticket_id = getattr(ticket, "pk", None)
    if not isinstance(ticket_id, int):
        return {"conversations": []}
    conversations = list(
        Conversation.objects.filter(ticket_id=ticket_id).select_related("assigned_agent").order_by("id")[:20]
    )
    return {"conversations": conversations}
