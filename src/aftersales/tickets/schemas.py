"""API input and output shapes for tickets."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from aftersales.core.api_schemas import (
    NonEmptyText20,
    NonEmptyText40,
    NonEmptyText200,
    NonEmptyText20000,
    RefOut,
    StrictSchema,
    Text2000,
    Text20000,
    UserRefOut,
)
from aftersales.core.models import User
from aftersales.core.roles import public_name

from .lifecycle import TicketStatus, allowed_targets
from .models import Ticket, TicketMessage, TicketStatusChange

TicketTypeIn = Literal[
    "consultation", "complaint", "repair", "installation", "maintenance", "return_exchange", "upgrade"
]
ChannelIn = Literal["phone", "web", "email", "chat", "app", "wechat", "social", "api"]
PriorityIn = Literal["urgent", "high", "normal", "low"]
StatusIn = Literal[
    "new",
    "accepted",
    "diagnosing",
    "solution_proposed",
    "in_service",
    "waiting_on_customer",
    "resolved",
    "reopened",
    "closed",
    "cancelled",
]
Id = int  # positive database ids; validated by Field(gt=0) where they are accepted


class TicketCreateIn(StrictSchema):
    subject: NonEmptyText200
    description: Text20000 = ""
    type: TicketTypeIn = "consultation"
    channel: ChannelIn = "api"
    priority: PriorityIn = "normal"
    customer: int | None = Field(default=None, gt=0, lt=2**62, description="customer id; customers omit it")
    contact: int | None = Field(default=None, gt=0, lt=2**62)
    installed_product: int | None = Field(default=None, gt=0, lt=2**62)
    region: int | None = Field(default=None, gt=0, lt=2**62)
    team: int | None = Field(default=None, gt=0, lt=2**62)
    assignee: int | None = Field(default=None, gt=0, lt=2**62)
    tags: list[NonEmptyText40] = Field(default_factory=list, max_length=20)


class TicketPatchIn(StrictSchema):
    subject: NonEmptyText200 | None = None
    description: Text20000 | None = None
    type: TicketTypeIn | None = None
    channel: ChannelIn | None = None
    priority: PriorityIn | None = None
    contact: int | None = Field(default=None, gt=0, lt=2**62)
    installed_product: int | None = Field(default=None, gt=0, lt=2**62)
    region: int | None = Field(default=None, gt=0, lt=2**62)
    team: int | None = Field(default=None, gt=0, lt=2**62)
    assignee: int | None = Field(default=None, gt=0, lt=2**62)
    tags: list[NonEmptyText40] | None = Field(default=None, max_length=20)
    version: int | None = Field(
        default=None, ge=1, lt=2**31, description="alternative to the If-Match header"
    )


class MessageIn(StrictSchema):
    body: NonEmptyText20000
    kind: Literal["reply", "note"] = "reply"


class TransitionIn(StrictSchema):
    to: StatusIn
    note: Text2000 = ""
    version: int | None = Field(default=None, ge=1, lt=2**31)


class TicketMergeIn(StrictSchema):
    into: NonEmptyText20


class LinkIn(StrictSchema):
    other: NonEmptyText20


class CustomerRefOut(Schema):
    id: int
    code: str
    name: str
    value_tier: str | None = Field(description="staff only; null for a customer's own login")


class ProductRefOut(Schema):
    id: int
    serial_number: str
    model_code: str
    model_name: str
    warranty_status: str
    warranty_ends_on: dt.date | None


class TicketOut(Schema):
    number: str
    subject: str
    description: str
    type: str
    channel: str
    priority: str
    status: str
    version: int
    customer: CustomerRefOut
    customer_tier: str | None = Field(description="staff only; null for a customer's own login")
    contact_id: int | None
    installed_product: ProductRefOut | None
    region: RefOut | None
    team: RefOut | None
    assignee: UserRefOut | None
    tags: list[str]
    merged_into: str | None
    close_reason: str
    allowed_transitions: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime
    status_changed_at: dt.datetime
    first_responded_at: dt.datetime | None
    # Wall-clock seconds from opening to the first staff reply (the SLA view: GET …/sla).
    first_response_seconds: int | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    reopened_count: int


class TicketListItemOut(Schema):
    number: str
    subject: str
    type: str
    channel: str
    priority: str
    status: str
    version: int
    customer: CustomerRefOut
    team: RefOut | None
    assignee: UserRefOut | None
    created_at: dt.datetime
    updated_at: dt.datetime


class TicketPageOut(Schema):
    items: list[TicketListItemOut]
    next_cursor: str | None
    total: int | None = Field(
        None,
        description="With `q`: how many tickets match (all pages), exact up to 1,000; `null` without `q`.",
    )
    total_is_capped: bool = Field(
        False, description="`true` when more than `total` tickets match (shown as “more than 1,000”)."
    )


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    url: str


class MessageOut(Schema):
    id: int
    kind: str
    body: str
    author: UserRefOut | None
    is_from_customer: bool
    channel: str
    created_at: dt.datetime
    attachments: list[AttachmentOut]


class MessagePageOut(Schema):
    items: list[MessageOut]
    next_cursor: str | None


class StatusChangeOut(Schema):
    from_status: str
    to_status: str
    occurred_at: dt.datetime
    from_stage_seconds: float | None
    actor: UserRefOut | None
    note: str


class AuditEventOut(Schema):
    occurred_at: dt.datetime
    actor: UserRefOut | None
    action: str
    before: dict
    after: dict


class AuditPageOut(Schema):
    items: list[AuditEventOut]
    next_cursor: str | None


class TimelineOut(Schema):
    items: list[StatusChangeOut]
    next_cursor: str | None


def user_ref(user: object, *, for_customer: bool = False) -> dict | None:
    """A user as the API shows it. A customer sees the staff member's display name only: a login
    name is often the person's work e-mail address, which is not the customer's to know."""
    if user is None:
        return None
    assert isinstance(user, User)
    if for_customer and not user.is_customer:
        return {"id": user.pk, "username": "", "name": public_name(user)}
    return {"id": user.pk, "username": user.username, "name": str(user)}


def ref(obj: object) -> dict | None:
    if obj is None:
        return None
    return {"id": obj.pk, "code": obj.code, "name": obj.display_name}  # type: ignore[attr-defined]


def customer_ref(customer: Any, *, for_customer: bool = False) -> dict:
    return {
        "id": customer.pk,
        "code": customer.code,
        "name": customer.name,
        # The value tier (high value, core, potential) is how the organisation ranks the customer.
        "value_tier": None if for_customer else customer.value_tier,
    }


def ticket_out(ticket: Ticket, *, tags: list[str] | None = None, for_customer: bool = False) -> dict:
    product = ticket.installed_product
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "description": ticket.description,
        "type": ticket.type,
        "channel": ticket.channel,
        "priority": ticket.priority,
        "status": ticket.status,
        "version": ticket.version,
        "customer": customer_ref(ticket.customer, for_customer=for_customer),
        "customer_tier": None if for_customer else ticket.customer_tier,
        "contact_id": ticket.contact_id,
        "installed_product": None
        if product is None
        else {
            "id": product.pk,
            "serial_number": product.serial_number,
            "model_code": product.product_model.code,
            "model_name": product.product_model.display_name,
            "warranty_status": product.warranty_status(),
            "warranty_ends_on": product.warranty_ends_on,
        },
        "region": ref(ticket.region),
        "team": ref(ticket.team),
        "assignee": user_ref(ticket.assignee, for_customer=for_customer),
        "tags": tags if tags is not None else sorted(tag.name for tag in ticket.tags.all()),
        "merged_into": ticket.merged_into.number if ticket.merged_into_id and ticket.merged_into else None,
        "close_reason": ticket.close_reason,
        "allowed_transitions": [str(s) for s in allowed_targets(ticket.status)],
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "status_changed_at": ticket.status_changed_at,
        "first_responded_at": ticket.first_responded_at,
        "first_response_seconds": None
        if ticket.first_responded_at is None
        else max(0, int((ticket.first_responded_at - ticket.created_at).total_seconds())),
        "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at,
        "reopened_count": ticket.reopened_count,
    }


def ticket_list_item_out(ticket: Ticket, *, for_customer: bool = False) -> dict:
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "type": ticket.type,
        "channel": ticket.channel,
        "priority": ticket.priority,
        "status": ticket.status,
        "version": ticket.version,
        "customer": customer_ref(ticket.customer, for_customer=for_customer),
        "team": ref(ticket.team),
        "assignee": user_ref(ticket.assignee, for_customer=for_customer),
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
    }


def message_out(message: TicketMessage, ticket_number: str, *, for_customer: bool = False) -> dict:
    return {
        "id": message.pk,
        "kind": message.kind,
        "body": message.body,
        "author": user_ref(message.author, for_customer=for_customer),
        "is_from_customer": message.is_from_customer,
        "channel": message.channel,
        "created_at": message.created_at,
        "attachments": [
            {
                "id": a.pk,
                "name": a.original_name,
                "content_type": a.content_type,
                "size": a.size,
                "url": f"/api/v1/tickets/{ticket_number}/attachments/{a.pk}",
            }
            for a in message.attachments.all()
            if not (for_customer and a.is_internal)
        ],
    }


def status_change_out(change: TicketStatusChange, *, for_customer: bool = False) -> dict:
    # A note on a stage change is written by staff for staff ("customer difficult, escalate");
    # a customer sees its own notes (a withdrawal's reason) but not theirs.
    actor = change.actor
    note_hidden = for_customer and not (actor is not None and actor.is_customer)
    return {
        "from_status": change.from_status,
        "to_status": change.to_status,
        "occurred_at": change.occurred_at,
        "from_stage_seconds": change.from_stage_seconds,
        "actor": user_ref(actor, for_customer=for_customer),
        "note": "" if note_hidden else change.note,
    }


__all__ = ["TicketStatus"]
