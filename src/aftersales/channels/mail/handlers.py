"""Subscriptions of the mail channel to ticket events (listed in docs/architecture.md).

They run inside the publishing transaction: the outbox row commits or rolls back with the ticket
change, and the send is enqueued on commit.
"""

from __future__ import annotations

from aftersales.core.events import subscribe
from aftersales.core.roles import Role
from aftersales.tickets.events import TicketMessageAdded, TicketOpened, TicketStageChanged
from aftersales.tickets.lifecycle import TicketStatus
from aftersales.tickets.models import TicketMessage

from .models import OutboundKind
from .services.outbound import outbound_queue

STATUS_MAIL = {
    TicketStatus.RESOLVED: OutboundKind.RESOLUTION,
    TicketStatus.CLOSED: OutboundKind.STATUS,
    TicketStatus.WAITING_ON_CUSTOMER: OutboundKind.STATUS,
}


def on_ticket_opened(event: TicketOpened) -> None:
    outbound_queue(ticket=event.ticket, kind=OutboundKind.RECEIVED)


def on_ticket_message_added(event: TicketMessageAdded) -> None:
    message = event.message
    actor = event.actor
    if (
        message.kind == TicketMessage.Kind.REPLY
        and not message.is_from_customer
        and actor is not None
        and actor.is_staff_member
    ):
        outbound_queue(ticket=event.ticket, kind=OutboundKind.REPLY, message=message)


def on_ticket_stage_changed(event: TicketStageChanged) -> None:
    to_status = TicketStatus(event.to_status)
    if to_status == TicketStatus.CLOSED and getattr(event.actor, "role", None) == Role.CUSTOMER:
        # The customer closed it by confirming the resolution itself: it has just seen the
        # portal's confirmation, and an e-mail saying "closed" would only tell it what it did.
        return
    kind = STATUS_MAIL.get(to_status)
    if kind is not None:
        outbound_queue(ticket=event.ticket, kind=kind)


def register() -> None:
    subscribe(TicketOpened, on_ticket_opened)
    subscribe(TicketMessageAdded, on_ticket_message_added)
    subscribe(TicketStageChanged, on_ticket_stage_changed)
