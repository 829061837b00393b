"""``GET /api/v1/customers/{id}/history``: a customer's tickets and messages on every channel.

A router of the tickets layer mounted under ``/customers`` (the customers app sits below
tickets and cannot read them).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema

from aftersales.core.api_schemas import ERROR_RESPONSES, Text100
from aftersales.core.models import User
from aftersales.core.roles import public_name
from aftersales.customers.selectors import customer_get_for_user

from .schemas import ChannelIn
from .selectors_history import customer_history_for_user

router = Router(tags=["customers"])


class HistoryTicketOut(Schema):
    number: str
    subject: str
    status: str
    channel: str


class HistoryItemOut(Schema):
    kind: Literal["ticket", "message"]
    id: int
    at: dt.datetime
    channel: str
    ticket: HistoryTicketOut
    message_kind: str | None
    from_customer: bool | None
    author: str | None
    excerpt: str


class HistoryPageOut(Schema):
    customer_id: int
    items: list[HistoryItemOut]
    next_cursor: str | None


@router.get(
    "/{customer_id}/history",
    response={200: HistoryPageOut, **ERROR_RESPONSES},
    summary="A customer's tickets and messages across channels, newest first",
)
def customer_history(
    request: HttpRequest,
    customer_id: int = Path(..., gt=0, lt=2**62),
    channel: ChannelIn | None = None,
    cursor: Text100 | None = None,
    limit: int = Query(25, ge=1, le=100),
) -> Any:
    user: User = request.auth  # type: ignore[attr-defined]
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    page, next_cursor = customer_history_for_user(
        user=user, customer_id=customer.pk, cursor=cursor, limit=limit, channel=channel
    )
    items = []
    for item in page:
        message = item.message
        items.append(
            {
                "kind": item.kind,
                "id": item.id,
                "at": item.at,
                "channel": item.channel,
                "ticket": {
                    "number": item.ticket.number,
                    "subject": item.ticket.subject,
                    "status": item.ticket.status,
                    "channel": item.ticket.channel,
                },
                "message_kind": message.kind if message else None,
                "from_customer": message.is_from_customer if message else None,
                "author": (public_name(message.author) if user.is_customer else str(message.author))
                if message and message.author_id
                else None,
                "excerpt": item.excerpt,
            }
        )
    return {"customer_id": customer.pk, "items": items, "next_cursor": next_cursor}
