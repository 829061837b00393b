"""First response given outside the ticket's thread (an answered phone call)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from aftersales.core.events import publish
from aftersales.core.models import User
from aftersales.core.services import audit_record

from ..events import TicketFirstResponded
from ..models import Ticket


@transaction.atomic
def ticket_record_first_response(*, ticket: Ticket, at: dt.datetime, actor: User | None, via: str) -> bool:
    """Record that staff first responded at ``at`` (e.g. answered the customer's call), unless a
    first response is already recorded. Compare-and-set, so two answers cannot both count.

    Returns whether this call recorded it. ``via`` names the channel ("phone") for the audit log
    and the ``TicketFirstResponded`` event (the SLA meets the first-response clock on it).
    """
    updated = Ticket.objects.filter(pk=ticket.pk, first_responded_at__isnull=True).update(
        first_responded_at=at
    )
    if updated != 1:
        return False
    ticket.first_responded_at = at
    audit_record(
        actor=actor, obj=ticket, action="ticket.first_response", after={"at": at.isoformat(), "via": via}
    )
    publish(TicketFirstResponded(ticket=ticket, at=at, actor=actor, via=via))
    return True
