"""Subscriptions of the webhooks app to ticket events (listed in docs/architecture.md).

They run inside the publishing ticket service's transaction: the ticket change and the
deliveries that announce it commit together (an outbox), and the posting happens after commit.
"""

from __future__ import annotations

from typing import Any

from aftersales.core.events import subscribe
from aftersales.tickets.events import (
    TicketMerged,
    TicketMessageAdded,
    TicketOpened,
    TicketStageChanged,
    TicketUpdated,
)
from aftersales.tickets.models import Ticket, TicketMessage

from .models import EventType
from .services import webhook_deliveries_for_event


def _ticket(ticket: Ticket) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status,
        "type": ticket.type,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "customer_id": ticket.customer_id,
        "team_id": ticket.team_id,
        "assignee_id": ticket.assignee_id,
        "version": ticket.version,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
    }


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if hasattr(value, "pk"):
        return value.pk
    return str(value)


def on_ticket_opened(event: TicketOpened) -> None:
    ticket = event.ticket
    webhook_deliveries_for_event(
        event_type=EventType.TICKET_OPENED, team_id=ticket.team_id, data={"ticket": _ticket(ticket)}
    )


def on_ticket_stage_changed(event: TicketStageChanged) -> None:
    ticket = event.ticket
    webhook_deliveries_for_event(
        event_type=EventType.TICKET_STAGE_CHANGED,
        team_id=ticket.team_id,
        data={"ticket": _ticket(ticket), "from_status": event.from_status, "to_status": event.to_status},
    )


def on_ticket_merged(event: TicketMerged) -> None:
    """The duplicate closes: a stage change for those that follow statuses (closed, with the reason
    and the ticket it went into), and ``ticket.merged`` for those that follow merges."""
    source, target = event.source, event.target
    merged = {"close_reason": source.close_reason, "merged_into": target.number}
    webhook_deliveries_for_event(
        event_type=EventType.TICKET_STAGE_CHANGED,
        team_id=source.team_id,
        data={
            "ticket": _ticket(source),
            "from_status": event.from_status,
            "to_status": source.status,
            **merged,
        },
    )
    webhook_deliveries_for_event(
        event_type=EventType.TICKET_MERGED,
        team_id=source.team_id,
        data={"ticket": _ticket(source), "into": _ticket(target)},
    )


def on_ticket_message_added(event: TicketMessageAdded) -> None:
    message = event.message
    if message.kind == TicketMessage.Kind.NOTE:
        return  # internal notes never leave the organisation
    ticket = event.ticket
    webhook_deliveries_for_event(
        event_type=EventType.TICKET_MESSAGE_ADDED,
        team_id=ticket.team_id,
        data={
            "ticket": _ticket(ticket),
            "message": {
                "id": message.pk,
                "kind": message.kind,
                "body": message.body,
                "is_from_customer": message.is_from_customer,
                "channel": message.channel,
                "created_at": message.created_at.isoformat(),
            },
        },
    )


def on_ticket_updated(event: TicketUpdated) -> None:
    ticket = event.ticket
    webhook_deliveries_for_event(
        event_type=EventType.TICKET_UPDATED,
        team_id=ticket.team_id,
        data={
            "ticket": _ticket(ticket),
            "before": {key: _plain(value) for key, value in event.before.items()},
            "after": {key: _plain(value) for key, value in event.after.items()},
        },
    )


def register() -> None:
    subscribe(TicketOpened, on_ticket_opened)
    subscribe(TicketStageChanged, on_ticket_stage_changed)
    subscribe(TicketMessageAdded, on_ticket_message_added)
    subscribe(TicketUpdated, on_ticket_updated)
    subscribe(TicketMerged, on_ticket_merged)
