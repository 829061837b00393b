"""Tickets follow their customer when it is merged into another (``CustomersMerged``)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from aftersales.core.models import User
from aftersales.core.services import audit_record
from aftersales.customers.models import Customer

from ..models import Ticket
from .lifecycle import tickets_follow_customer_tier


@transaction.atomic
def tickets_follow_customer_merge(*, source_id: int, target_id: int, actor: User | None) -> int:
    """Move every ticket of ``source_id`` to ``target_id`` (one audit row per ticket, the version
    bumped so an edit made against the old state is refused); the unfinished ones take the
    target's value tier, which re-applies their SLA. Returns the number of tickets moved."""
    target = Customer.objects.get(pk=target_id)
    source_code = Customer.objects.filter(pk=source_id).values_list("code", flat=True).first()
    tickets = list(Ticket.objects.filter(customer_id=source_id).order_by("id").only("id", "number"))
    if not tickets:
        return 0
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(
        customer_id=target_id, version=F("version") + 1, updated_at=timezone.now()
    )
    for ticket in tickets:
        audit_record(
            actor=actor,
            obj=ticket,
            action="ticket.customer_merge",
            before={"customer": source_code},
            after={"customer": target.code},
        )
    tickets_follow_customer_tier(customer_id=target_id, tier=target.value_tier, actor=actor)
    return len(tickets)
