"""Merging a duplicate into another ticket and linking related tickets."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.events import publish
from aftersales.core.models import User
from aftersales.core.roles import Capability
from aftersales.core.services import audit_record

from .. import search
from ..errors import StaleTicket, TicketClosed
from ..events import TicketMerged
from ..lifecycle import FINAL_STATUSES, TicketStatus
from ..models import Ticket, TicketLink, TicketMessage, TicketStatusChange


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, actor: User) -> Ticket:
    """Close ``source`` as a duplicate of ``target``; its description lands in the target's thread."""
    if not actor.can(Capability.TICKET_MERGE):
        raise PermissionDenied()
    if source.pk == target.pk:
        raise ValidationFailed(details={"target": _("A ticket cannot be merged into itself.")})
    if source.customer_id != target.customer_id:
        raise ValidationFailed(details={"target": _("Only tickets of the same customer can be merged.")})
    if source.status in FINAL_STATUSES or target.status in FINAL_STATUSES:
        raise TicketClosed()

    now = timezone.now()
    from_status = source.status
    updated = Ticket.objects.filter(pk=source.pk, version=source.version, status=from_status).update(
        status=TicketStatus.CLOSED,
        close_reason="merged",
        merged_into=target,
        closed_at=now,
        status_changed_at=now,
        updated_at=now,
        version=F("version") + 1,
    )
    if updated != 1:
        raise StaleTicket(number=source.number)
    TicketStatusChange.objects.create(
        ticket=source,
        from_status=from_status,
        to_status=TicketStatus.CLOSED,
        from_status_entered_at=source.status_changed_at,
        occurred_at=now,
        actor=actor,
        note=_("Merged into %(number)s") % {"number": target.number},
    )
    source.refresh_from_db()
    TicketMessage.objects.create(
        ticket=target,
        kind=TicketMessage.Kind.NOTE,
        author=actor,
        created_at=now,
        body=_("Merged from %(number)s: %(subject)s\n\n%(description)s")
        % {"number": source.number, "subject": source.subject, "description": source.description},
    )
    TicketMessage.objects.filter(ticket=source, kind=TicketMessage.Kind.REPLY).update(ticket=target)
    source.attachments.update(ticket=target)
    TicketLink.objects.get_or_create(from_ticket=source, to_ticket=target, defaults={"created_by": actor})
    Ticket.objects.filter(pk=target.pk).update(updated_at=now)
    search.reindex_tickets([source.pk, target.pk])  # the replies moved, the target got a note
    audit_record(
        actor=actor,
        obj=source,
        action="ticket.merge",
        before={"status": from_status},
        after={"status": TicketStatus.CLOSED, "merged_into": target.number},
    )
    publish(TicketMerged(source=source, target=target, actor=actor, from_status=from_status))
    return target


@transaction.atomic
def ticket_link(*, ticket: Ticket, other: Ticket, actor: User | None) -> TicketLink:
    # actor None: the platform links a follow-up (an e-mail reply to a closed ticket).
    if actor is not None and not actor.can(Capability.TICKET_MERGE):
        raise PermissionDenied()
    if ticket.pk == other.pk:
        raise ValidationFailed(details={"other": _("A ticket cannot be linked to itself.")})
    existing = TicketLink.objects.filter(
        Q(from_ticket=ticket, to_ticket=other) | Q(from_ticket=other, to_ticket=ticket)
    ).first()
    if existing:
        return existing
    link = TicketLink.objects.create(from_ticket=ticket, to_ticket=other, created_by=actor)
    audit_record(actor=actor, obj=ticket, action="ticket.link", after={"linked": other.number})
    return link


@transaction.atomic
def ticket_unlink(*, ticket: Ticket, other: Ticket, actor: User) -> None:
    if not actor.can(Capability.TICKET_MERGE):
        raise PermissionDenied()
    deleted, _count = TicketLink.objects.filter(
        Q(from_ticket=ticket, to_ticket=other) | Q(from_ticket=other, to_ticket=ticket)
    ).delete()
    if deleted:
        audit_record(actor=actor, obj=ticket, action="ticket.unlink", before={"linked": other.number})
