"""A customer's whole history across channels: its tickets and their messages, newest first.

Every channel lands in tickets (``Ticket.channel``) and messages (``TicketMessage.channel``): an
e-mail, a chat transcript, a WeChat message and a phone agent's reply are all messages. The
timeline merges the two tables in one keyset order, ``(at, kind, id)`` descending, so each page
costs two index range scans however long the history is.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed
from aftersales.core.models import User
from aftersales.core.roles import Capability

from .models import Ticket, TicketMessage
from .selectors import visible_tickets

MAX_PAGE_SIZE = 100
EXCERPT_CHARS = 500
# Tie-break between the two tables at the same instant (descending: messages before tickets).
RANK = {"ticket": 0, "message": 1}


@dataclass(frozen=True)
class HistoryItem:
    kind: str  # "ticket" (opened) or "message"
    id: int
    at: dt.datetime
    channel: str
    ticket: Ticket
    message: TicketMessage | None = None

    @property
    def excerpt(self) -> str:
        text = self.message.body if self.message is not None else self.ticket.description
        return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def encode_history_cursor(item: HistoryItem) -> str:
    micros = int(item.at.timestamp() * 1_000_000)
    raw = f"h:{micros}:{RANK[item.kind]}:{item.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_history_cursor(cursor: str) -> tuple[dt.datetime, int, int]:
    try:
        text = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode("ascii")).decode("ascii")
        prefix, micros, rank, item_id = text.split(":")
        if prefix != "h" or int(rank) not in RANK.values() or int(item_id) < 0:
            raise ValueError(prefix)
        return dt.datetime.fromtimestamp(int(micros) / 1_000_000, dt.UTC), int(rank), int(item_id)
    except (ValueError, UnicodeError, binascii.Error, OverflowError, OSError) as exc:
        raise ValidationFailed(details={"cursor": _("Not a cursor this server issued.")}) from exc


def _older_than(field: str, rank: int, cursor: tuple[dt.datetime, int, int]) -> Q:
    at, cursor_rank, cursor_id = cursor
    same_instant = Q(**{field: at})
    if rank < cursor_rank:
        return Q(**{f"{field}__lt": at}) | same_instant
    if rank == cursor_rank:
        return Q(**{f"{field}__lt": at}) | (same_instant & Q(id__lt=cursor_id))
    return Q(**{f"{field}__lt": at})


def customer_tickets_for_user(*, user: User, customer_id: int) -> list[Ticket]:
    """Every ticket of the customer the user may see, newest first (the customer page's list)."""
    return list(
        visible_tickets(user)
        .filter(customer_id=customer_id)
        .select_related("assignee", "team")
        .order_by("-created_at", "-id")[:500]
    )


def customer_history_for_user(
    *,
    user: User,
    customer_id: int,
    cursor: str | None = None,
    limit: int = 25,
    channel: str | None = None,
) -> tuple[list[HistoryItem], str | None]:
    """One page of the customer's tickets (as "opened") and messages on every channel, newest
    first, limited to the tickets ``user`` may see; internal notes only for staff who read them.

    Two queries (one per table), however many channels and tickets the customer has.
    """
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    position = decode_history_cursor(cursor) if cursor else None
    tickets = visible_tickets(user).filter(customer_id=customer_id)
    ticket_qs = tickets
    message_qs = TicketMessage.objects.filter(ticket__in=tickets.values("pk")).select_related(
        "ticket", "author"
    )
    if not user.can(Capability.TICKET_INTERNAL_NOTE):
        message_qs = message_qs.exclude(kind=TicketMessage.Kind.NOTE)
    if channel:
        ticket_qs = ticket_qs.filter(channel=channel)
        message_qs = message_qs.filter(Q(channel=channel) | Q(channel="", ticket__channel=channel))
    if position is not None:
        ticket_qs = ticket_qs.filter(_older_than("created_at", RANK["ticket"], position))
        message_qs = message_qs.filter(_older_than("created_at", RANK["message"], position))
    items = [
        HistoryItem(kind="ticket", id=t.pk, at=t.created_at, channel=t.channel, ticket=t)
        for t in ticket_qs.order_by("-created_at", "-id")[: limit + 1]
    ] + [
        HistoryItem(
            kind="message",
            id=m.pk,
            at=m.created_at,
            channel=m.channel or m.ticket.channel,
            ticket=m.ticket,
            message=m,
        )
        for m in message_qs.order_by("-created_at", "-id")[: limit + 1]
    ]
    items.sort(key=lambda item: (item.at, RANK[item.kind], item.id), reverse=True)
    page = items[:limit]
    next_cursor = encode_history_cursor(page[-1]) if len(items) > limit else None
    return page, next_cursor
