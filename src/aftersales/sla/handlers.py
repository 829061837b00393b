"""Subscriptions of the SLA app to ticket events (listed in docs/architecture.md).

All run inside the publishing ticket service's transaction, so a ticket change and its clocks
commit or roll back together.
"""

from __future__ import annotations

from aftersales.core.events import subscribe
from aftersales.tickets.events import (
    TicketFirstResponded,
    TicketMerged,
    TicketMessageAdded,
    TicketOpened,
    TicketStageChanged,
    TicketUpdated,
)

from . import clocks
from .models import SlaTarget

# Ticket fields a policy is chosen by: a change re-applies the policy.
POLICY_FIELDS_ON_TICKET = frozenset({"type", "priority", "customer_tier", "channel"})


def on_ticket_opened(event: TicketOpened) -> None:
    clocks.on_ticket_opened(ticket=event.ticket, actor=event.actor)


def on_ticket_stage_changed(event: TicketStageChanged) -> None:
    clocks.on_ticket_stage_changed(
        ticket=event.ticket, from_status=event.from_status, to_status=event.to_status
    )


def on_ticket_merged(event: TicketMerged) -> None:
    source = event.source
    clocks.on_ticket_merged(ticket=source, now=source.closed_at or source.status_changed_at)


def on_ticket_updated(event: TicketUpdated) -> None:
    if POLICY_FIELDS_ON_TICKET & set(event.after):
        clocks.ticket_sla_apply(ticket=event.ticket, actor=event.actor)


def on_ticket_message_added(event: TicketMessageAdded) -> None:
    message = event.message
    author = message.author
    clocks.on_message_added(
        ticket=event.ticket,
        kind=message.kind,
        is_from_customer=message.is_from_customer,
        is_staff_author=author is not None and author.is_staff_member,
        at=message.created_at,
    )


def on_ticket_first_responded(event: TicketFirstResponded) -> None:
    """A first response given anywhere (an answered call, too) meets the first-response clock at
    the moment it was given; a reply in the thread has met it already (no-op then)."""
    clocks.clocks_meet(ticket=event.ticket, targets=[SlaTarget.FIRST_RESPONSE], now=event.at)
    clocks.sla_summary_refresh(ticket_id=event.ticket.pk)


def register() -> None:
    subscribe(TicketOpened, on_ticket_opened)
    subscribe(TicketStageChanged, on_ticket_stage_changed)
    subscribe(TicketUpdated, on_ticket_updated)
    subscribe(TicketMessageAdded, on_ticket_message_added)
    subscribe(TicketFirstResponded, on_ticket_first_responded)
    subscribe(TicketMerged, on_ticket_merged)
