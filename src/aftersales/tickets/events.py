"""Domain events the ticket services publish; higher apps (SLA, channels, feedback) subscribe."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from aftersales.core.models import User

from .models import Ticket, TicketMessage


@dataclass(frozen=True)
class TicketOpened:
    ticket: Ticket
    actor: User | None


@dataclass(frozen=True)
class TicketStageChanged:
    ticket: Ticket
    from_status: str
    to_status: str
    actor: User | None


@dataclass(frozen=True)
class TicketUpdated:
    ticket: Ticket
    actor: User | None
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TicketMessageAdded:
    ticket: Ticket
    message: TicketMessage
    actor: User | None


@dataclass(frozen=True)
class TicketFirstResponded:
    """Staff responded to the customer for the first time, at ``at``: a public reply in the thread
    (``via="reply"``) or outside it, e.g. an answered call (``via="phone"``). Published once per
    ticket, by the service that recorded ``Ticket.first_responded_at``."""

    ticket: Ticket
    at: dt.datetime
    actor: User | None
    via: str


@dataclass(frozen=True)
class TicketMerged:
    """``source`` was closed as a duplicate of ``target``, leaving ``from_status``."""

    source: Ticket
    target: Ticket
    actor: User | None
    from_status: str = ""
