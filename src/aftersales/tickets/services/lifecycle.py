"""Opening a ticket, editing its fields and moving it through the standard process."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.assets.models import InstalledProduct
from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.events import publish
from aftersales.core.models import Region, Team, User
from aftersales.core.roles import Capability, Role
from aftersales.core.services import audit_record, next_number
from aftersales.customers.models import Contact, Customer

from .. import search
from ..errors import InvalidTransition, StaleTicket, TicketClosed
from ..events import TicketOpened, TicketStageChanged, TicketUpdated
from ..lifecycle import CUSTOMER_TRANSITIONS, FINAL_STATUSES, WORKING_STAGES, TicketStatus, can_transition
from ..models import Channel, Priority, Tag, Ticket, TicketStatusChange, TicketType
from ..selectors import customer_id_for

TICKET_NUMBER_PREFIX = "T"
EDITABLE_FIELDS = (
    "subject",
    "description",
    "type",
    "priority",
    "channel",
    "team",
    "assignee",
    "region",
    "installed_product",
    "contact",
)


def format_ticket_number(value: int) -> str:
    return f"{TICKET_NUMBER_PREFIX}{value:07d}"


def _check_choice(value: str, choices: type[Any], field: str) -> None:
    if value not in choices.values:
        raise ValidationFailed(details={field: _("“%(value)s” is not a valid choice.") % {"value": value}})


def _check_assignee(assignee: User | None) -> None:
    if assignee is not None and (not assignee.is_active or assignee.role == Role.CUSTOMER):
        raise ValidationFailed(details={"assignee": _("Tickets can only be assigned to active staff.")})


def _check_belongs(
    customer: Customer, contact: Contact | None, installed_product: InstalledProduct | None
) -> None:
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationFailed(details={"contact": _("This contact belongs to another customer.")})
    if installed_product is not None and installed_product.customer_id != customer.pk:
        raise ValidationFailed(details={"installed_product": _("This product belongs to another customer.")})


def _tags_from_names(names: Iterable[str]) -> list[Tag]:
    cleaned = sorted({name.strip() for name in names if name and name.strip()})
    for name in cleaned:
        if len(name) > 40:
            raise ValidationFailed(details={"tags": _("A tag is at most 40 characters.")})
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=cleaned)}
    missing = [Tag(name=name) for name in cleaned if name not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {tag.name: tag for tag in Tag.objects.filter(name__in=cleaned)}
    return [existing[name] for name in cleaned]


def _default_region(customer: Customer, installed_product: InstalledProduct | None) -> Region | None:
    address = installed_product.address if installed_product is not None else None
    if address is not None and address.region_id:
        return address.region
    return customer.region


@transaction.atomic
def ticket_open(
    *,
    actor: User | None,
    customer: Customer,
    subject: str,
    description: str = "",
    type: str = TicketType.CONSULTATION,  # noqa: A002 - the domain word
    channel: str = Channel.WEB,
    priority: str = Priority.NORMAL,
    contact: Contact | None = None,
    installed_product: InstalledProduct | None = None,
    region: Region | None = None,
    team: Team | None = None,
    assignee: User | None = None,
    tags: Iterable[str] = (),
) -> Ticket:
    # A customer merged into another is kept only as a record: new work goes where it was merged.
    while customer.merged_into_id is not None and customer.merged_into is not None:
        customer = customer.merged_into
    # actor None: the platform opening a ticket for a contact that arrived on a channel (e-mail,
    # chat, webhook); the channel has authenticated the sender and identified the customer.
    if actor is None:
        pass
    elif actor.is_customer:
        if customer_id_for(actor) != customer.pk:
            raise PermissionDenied()
        # Customers describe their problem; routing fields are the service desk's to set.
        team, assignee, region, priority = None, None, None, Priority.NORMAL
        contact = contact or getattr(actor, "contact", None)
    elif not actor.can(Capability.TICKET_CREATE_FOR_CUSTOMER):
        raise PermissionDenied()
    subject = subject.strip()
    if not subject:
        raise ValidationFailed(details={"subject": _("A subject is required.")})
    _check_choice(type, TicketType, "type")
    _check_choice(channel, Channel, "channel")
    _check_choice(priority, Priority, "priority")
    _check_belongs(customer, contact, installed_product)
    _check_assignee(assignee)

    now = timezone.now()
    ticket = Ticket.objects.create(
        number=format_ticket_number(next_number(sequence="ticket")),
        subject=subject,
        description=description,
        type=type,
        channel=channel,
        priority=priority,
        status=TicketStatus.NEW,
        customer=customer,
        customer_tier=customer.value_tier,
        contact=contact,
        installed_product=installed_product,
        region=region or _default_region(customer, installed_product),
        team=team,
        assignee=assignee,
        created_by=actor,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
    )
    tag_objects = _tags_from_names(tags)
    if tag_objects:
        ticket.tags.set(tag_objects)
    TicketStatusChange.objects.create(
        ticket=ticket, from_status="", to_status=TicketStatus.NEW, occurred_at=now, actor=actor
    )
    search.index_new_ticket(ticket)
    audit_record(
        actor=actor,
        obj=ticket,
        action="ticket.open",
        after={
            "number": ticket.number,
            "subject": subject,
            "type": type,
            "channel": channel,
            "priority": priority,
            "customer": customer.pk,
            "team": ticket.team_id,
            "assignee": ticket.assignee_id,
            "tags": [t.name for t in tag_objects],
        },
    )
    publish(TicketOpened(ticket=ticket, actor=actor))
    return ticket


# The fields a ticket's search document is built from (``tickets/search.py``).
SEARCHED_FIELDS = frozenset({"subject", "description", "contact", "installed_product"})


def _compare_and_set(ticket: Ticket, expected_version: int, **values: Any) -> None:
    """Apply ``values`` only if nobody changed the ticket since ``expected_version`` was read."""
    updated = Ticket.objects.filter(pk=ticket.pk, version=expected_version).update(
        version=F("version") + 1, **values
    )
    if updated != 1:
        current = Ticket.objects.filter(pk=ticket.pk).values_list("version", flat=True).first()
        raise StaleTicket(number=ticket.number, current_version=current)
    for name, value in values.items():
        setattr(ticket, name, value)
    ticket.version = expected_version + 1


@transaction.atomic
def ticket_update(
    *,
    ticket: Ticket,
    actor: User,
    changes: dict[str, Any],
    expected_version: int | None = None,
    tags: list[str] | None = None,
) -> Ticket:
    """Edit fields of a ticket. ``changes`` keys are names from ``EDITABLE_FIELDS``."""
    if not actor.can(Capability.TICKET_EDIT):
        raise PermissionDenied()
    if ticket.status in FINAL_STATUSES:
        raise TicketClosed()
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(details={name: _("This field cannot be changed.") for name in sorted(unknown)})
    if "subject" in changes:
        changes["subject"] = (changes["subject"] or "").strip()
        if not changes["subject"]:
            raise ValidationFailed(details={"subject": _("A subject is required.")})
    for name, choices in (("type", TicketType), ("priority", Priority), ("channel", Channel)):
        if name in changes:
            _check_choice(changes[name], choices, name)
    if "assignee" in changes:
        _check_assignee(changes["assignee"])
    _check_belongs(
        ticket.customer,
        changes.get("contact", ticket.contact),
        changes.get("installed_product", ticket.installed_product),
    )

    version = ticket.version if expected_version is None else expected_version
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in changes.items():
        old = getattr(ticket, name)
        if old != value:
            before[name], after[name] = old, value
    old_tags = sorted(t.name for t in ticket.tags.all())
    new_tag_objects = _tags_from_names(tags) if tags is not None else None
    if new_tag_objects is not None and sorted(t.name for t in new_tag_objects) != old_tags:
        before["tags"], after["tags"] = old_tags, [t.name for t in new_tag_objects]
    if not after:
        if version != ticket.version:
            raise StaleTicket(number=ticket.number, current_version=ticket.version)
        return ticket
    _compare_and_set(
        ticket, version, updated_at=timezone.now(), **{k: v for k, v in changes.items() if k in after}
    )
    if new_tag_objects is not None and "tags" in after:
        ticket.tags.set(new_tag_objects)
    if after.keys() & SEARCHED_FIELDS:
        search.index_ticket(ticket)
    audit_record(actor=actor, obj=ticket, action="ticket.update", before=before, after=after)
    publish(TicketUpdated(ticket=ticket, actor=actor, before=before, after=after))
    return ticket


def _check_may_transition(ticket: Ticket, actor: User, to_status: str) -> None:
    if actor.is_customer:
        if (
            customer_id_for(actor) != ticket.customer_id
            or (ticket.status, to_status) not in CUSTOMER_TRANSITIONS
        ):
            raise PermissionDenied()
        return
    if not actor.can(Capability.TICKET_TRANSITION):
        raise PermissionDenied()
    if actor.role == Role.TECHNICIAN and ticket.assignee_id != actor.pk:
        raise PermissionDenied()


@transaction.atomic
def ticket_transition(
    *,
    ticket: Ticket,
    actor: User | None,
    to_status: str,
    note: str = "",
    expected_version: int | None = None,
    close_reason: str = "",
) -> Ticket:
    """Move a ticket to ``to_status`` if the state machine allows it; otherwise change nothing."""
    try:
        target = TicketStatus(to_status)
    except ValueError as exc:
        raise ValidationFailed(
            details={"to_status": _("“%(value)s” is not a status.") % {"value": to_status}}
        ) from exc
    if actor is not None:
        _check_may_transition(ticket, actor, target)
    from_status = TicketStatus(ticket.status)
    if not can_transition(from_status, target):
        raise InvalidTransition(from_status=from_status, to_status=target)

    now = timezone.now()
    values: dict[str, Any] = {"status": target, "status_changed_at": now, "updated_at": now}
    if target == TicketStatus.WAITING_ON_CUSTOMER:
        values["resume_status"] = from_status if from_status in WORKING_STAGES | {TicketStatus.NEW} else ""
    elif from_status == TicketStatus.WAITING_ON_CUSTOMER:
        values["resume_status"] = ""
    if target == TicketStatus.RESOLVED:
        values["resolved_at"] = now
    if target == TicketStatus.REOPENED:
        values["resolved_at"] = None
        values["reopened_count"] = ticket.reopened_count + 1
    if target == TicketStatus.CLOSED:
        values["closed_at"] = now
        values["close_reason"] = close_reason or "confirmed"
    if target == TicketStatus.CANCELLED:
        values["close_reason"] = close_reason or "cancelled"
    version = ticket.version if expected_version is None else expected_version
    # The status is part of the compare-and-set too: two agents moving the same ticket at once
    # cannot both succeed from the same stage.
    updated = Ticket.objects.filter(pk=ticket.pk, version=version, status=from_status).update(
        version=F("version") + 1, **values
    )
    if updated != 1:
        current = Ticket.objects.filter(pk=ticket.pk).values_list("version", flat=True).first()
        raise StaleTicket(number=ticket.number, current_version=current)
    entered_at = ticket.status_changed_at
    for name, value in values.items():
        setattr(ticket, name, value)
    ticket.version = version + 1
    TicketStatusChange.objects.create(
        ticket=ticket,
        from_status=from_status,
        to_status=target,
        from_status_entered_at=entered_at,
        occurred_at=now,
        actor=actor,
        note=note,
    )
    audit_record(
        actor=actor,
        obj=ticket,
        action="ticket.transition",
        before={"status": from_status},
        after={"status": target, "note": note},
    )
    publish(TicketStageChanged(ticket=ticket, from_status=from_status, to_status=target, actor=actor))
    return ticket


@transaction.atomic
def tickets_follow_customer_tier(*, customer_id: int, tier: str, actor: User | None) -> int:
    """Give the customer's unfinished tickets its new value tier; each change is audited and
    published as ``TicketUpdated`` so the SLA engine re-applies its policy."""
    changed = 0
    for ticket in (
        Ticket.objects.filter(customer_id=customer_id)
        .exclude(status__in=FINAL_STATUSES)
        .exclude(customer_tier=tier)
    ):
        old_tier = ticket.customer_tier
        updated = Ticket.objects.filter(pk=ticket.pk, customer_tier=old_tier).update(
            customer_tier=tier, updated_at=timezone.now()
        )
        if updated != 1:
            continue
        ticket.customer_tier = tier
        before, after = {"customer_tier": old_tier}, {"customer_tier": tier}
        audit_record(actor=actor, obj=ticket, action="ticket.customer_tier", before=before, after=after)
        publish(TicketUpdated(ticket=ticket, actor=actor, before=before, after=after))
        changed += 1
    return changed
