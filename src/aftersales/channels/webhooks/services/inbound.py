"""Signed inbound events: check, then create or update tickets; log every delivery.

The order of the checks matters: size, source, signature (HMAC, then the clock), event id, JSON,
replay (the event id, then the signed body), schema. Nothing a caller sends is looked at before its signature is verified, and a
refused request changes nothing but the delivery log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError as PydanticValidationError

from aftersales.assets.models import InstalledProduct
from aftersales.core.errors import ApplicationError, PayloadTooLarge, ValidationFailed
from aftersales.core.services import audit_record
from aftersales.customers.services import customer_identify
from aftersales.tickets.lifecycle import CUSTOMER_TRANSITIONS, TicketStatus
from aftersales.tickets.models import Ticket
from aftersales.tickets.services import ticket_add_message, ticket_open, ticket_transition

from .. import schemas, signing
from ..errors import (
    DuplicateEvent,
    DuplicateSignedBody,
    EventIdMissing,
    ExternalRefExists,
    MalformedJson,
    TicketNotFound,
    UnknownSource,
)
from ..models import ExternalRef, InboundDelivery, InboundSource, InboundStatus

DEFAULT_MAX_BODY_BYTES = 256 * 1024
UPDATE_TARGETS = {
    "confirmed": TicketStatus.CLOSED,
    "rejected": TicketStatus.REOPENED,
    "cancelled": TicketStatus.CANCELLED,
}


def max_body_bytes() -> int:
    return int(getattr(settings, "AFTERSALES_WEBHOOK_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))


@dataclass
class InboundResult:
    status: int
    body: dict[str, Any]
    delivery: InboundDelivery | None = None


@dataclass
class _Context:
    """What is known about a request so far; the refusal log records as much as was learnt."""

    source_key: str
    source: InboundSource | None = None
    event_id: str = ""
    event_type: str = ""
    body_sha256: str = ""
    signed_sha256: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _valid_event_id(value: str) -> bool:
    return 0 < len(value) <= 100 and value.isprintable() and value.isascii()


def _pydantic_details(error: PydanticValidationError, prefix: str = "") -> dict[str, str]:
    details: dict[str, str] = {}
    for item in error.errors():
        location = ".".join(str(part) for part in (prefix, *item.get("loc", ())) if part != "")
        details[location or "body"] = str(item.get("msg", "invalid"))
    return details


def _ticket_summary(ticket: Ticket) -> dict[str, Any]:
    return {"number": ticket.number, "status": ticket.status}


def _find_ticket(source: InboundSource, ref: schemas._TicketRef) -> Ticket:
    """A ticket this source knows: by its own external id, or by number among the tickets linked
    to this source (another system cannot write into tickets it was never part of)."""
    refs = ExternalRef.objects.select_related("ticket").filter(source=source)
    if ref.external_id:
        refs = refs.filter(external_id=ref.external_id)
    if ref.ticket_number:
        refs = refs.filter(ticket__number=ref.ticket_number.upper())
    found = refs.order_by("id").first()
    if found is None:
        raise TicketNotFound(details={"external_id": ref.external_id, "ticket_number": ref.ticket_number})
    return found.ticket


def _create(source: InboundSource, data: schemas.TicketCreate) -> tuple[int, Ticket, dict[str, Any]]:
    if data.external_id and ExternalRef.objects.filter(source=source, external_id=data.external_id).exists():
        existing = ExternalRef.objects.select_related("ticket").get(
            source=source, external_id=data.external_id
        )
        raise ExternalRefExists(details={"external_id": data.external_id, "ticket": existing.ticket.number})
    identity = data.customer
    customer, contact, created = customer_identify(
        actor=None,
        name=identity.name,
        email=identity.email,
        phone=identity.phone,
        wechat_openid=identity.wechat_openid,
        channel=source.channel,
    )
    product = None
    description = data.description
    if data.serial_number:
        product = InstalledProduct.objects.filter(customer=customer, serial_number=data.serial_number).first()
        if product is None:
            # Not this customer's registered product: keep what the customer said, link nothing.
            line = _("Product serial number given: %(serial)s") % {"serial": data.serial_number}
            description = f"{description}\n\n{line}".strip()
    ticket = ticket_open(
        actor=None,
        customer=customer,
        contact=contact,
        subject=data.subject,
        description=description,
        type=data.type,
        channel=source.channel,
        team=source.default_team,
        installed_product=product,
    )
    if data.external_id:
        ExternalRef.objects.create(source=source, external_id=data.external_id, ticket=ticket)
    else:
        # Without the sender's id, later events name the ticket by number; link it to this source.
        ExternalRef.objects.create(source=source, external_id=f"ticket:{ticket.number}", ticket=ticket)
    result = {
        "ticket": _ticket_summary(ticket),
        "customer": {"code": customer.code, "created": created},
        "external_id": data.external_id,
    }
    return 201, ticket, result


def _message(source: InboundSource, data: schemas.TicketMessage) -> tuple[int, Ticket, dict[str, Any]]:
    ticket = _find_ticket(source, data)
    message = ticket_add_message(
        ticket=ticket, actor=None, body=data.text, from_customer=True, channel=source.channel
    )
    ticket.refresh_from_db(fields=["status"])
    return 200, ticket, {"ticket": _ticket_summary(ticket), "message": {"id": message.pk}}


def _update(source: InboundSource, data: schemas.TicketStatusUpdate) -> tuple[int, Ticket, dict[str, Any]]:
    ticket = _find_ticket(source, data)
    target = UPDATE_TARGETS[data.status]
    if (ticket.status, target) not in CUSTOMER_TRANSITIONS:
        from aftersales.tickets.errors import InvalidTransition

        raise InvalidTransition(from_status=ticket.status, to_status=target)
    note = data.note or _("Sent by %(source)s.") % {"source": source.name}
    ticket_transition(
        ticket=ticket,
        actor=None,
        to_status=target,
        note=note,
        close_reason="confirmed" if target == TicketStatus.CLOSED else "",
    )
    return 200, ticket, {"ticket": _ticket_summary(ticket)}


HANDLERS: dict[str, Callable[[InboundSource, Any], tuple[int, Ticket, dict[str, Any]]]] = {
    "ticket.create": _create,
    "ticket.message": _message,
    "ticket.update": _update,
}


def _check_request(
    context: _Context, *, body: bytes, signature_header: str, event_id: str, content_length: int | None
) -> dict[str, Any]:
    limit = max_body_bytes()
    if (content_length or 0) > limit or len(body) > limit:
        raise PayloadTooLarge(details={"max_bytes": limit})
    source = InboundSource.objects.select_related("default_team").filter(key=context.source_key).first()
    if source is None or not source.is_active:
        raise UnknownSource(details={"source": context.source_key})
    context.source = source
    verified = signing.verify_event(
        secret=source.secret, header=signature_header, body=body, event_id=event_id
    )
    if not _valid_event_id(event_id):
        raise EventIdMissing(details={"header": signing.EVENT_ID_HEADER})
    context.event_id = event_id
    context.body_sha256 = hashlib.sha256(body).hexdigest()
    # Whichever version matched, the v1 message is the key: a v2 request stripped to its v1 value
    # and replayed under a new id must still collide with the original.
    context.signed_sha256 = hashlib.sha256(signing.signed_message(verified.timestamp, body)).hexdigest()
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedJson() from exc
    if not isinstance(document, dict):
        raise MalformedJson()
    if isinstance(document.get("type"), str):
        context.event_type = document["type"][:40]
    return document


def _original(source: InboundSource, event_id: str) -> InboundDelivery | None:
    return (
        InboundDelivery.objects.filter(source=source, event_id=event_id, status=InboundStatus.ACCEPTED)
        .select_related("ticket")
        .first()
    )


def _original_body(source: InboundSource, signed_sha256: str) -> InboundDelivery | None:
    return InboundDelivery.objects.filter(
        source=source, signed_sha256=signed_sha256, status=InboundStatus.ACCEPTED
    ).first()


def _duplicate_body(original: InboundDelivery, event_id: str) -> DuplicateSignedBody:
    # The original id is not echoed: the caller proved only that it holds a copy of the body.
    return DuplicateSignedBody(
        details={"event_id": event_id, "received_at": original.received_at.isoformat()}
    )


def _duplicate(original: InboundDelivery) -> DuplicateEvent:
    return DuplicateEvent(
        details={
            "event_id": original.event_id,
            "received_at": original.received_at.isoformat(),
            "original_result": original.result,
        }
    )


def inbound_receive(
    *,
    source_key: str,
    body: bytes,
    signature_header: str,
    event_id: str,
    content_length: int | None = None,
) -> InboundResult:
    """Process one request to ``/webhooks/in/<source_key>/``. Never raises: a refusal is logged
    and returned as ``{code, message, details}`` with its HTTP status."""
    context = _Context(source_key=source_key[:60])
    try:
        return _receive(
            context,
            body=body,
            signature_header=signature_header,
            event_id=event_id,
            content_length=content_length,
        )
    except ApplicationError as error:
        delivery = inbound_delivery_refuse(
            source=context.source,
            source_key=context.source_key,
            event_id=context.event_id,
            event_type=context.event_type,
            body_sha256=context.body_sha256,
            error=error,
        )
        return InboundResult(status=error.status, body=error.as_dict(), delivery=delivery)


def _receive(
    context: _Context, *, body: bytes, signature_header: str, event_id: str, content_length: int | None
) -> InboundResult:
    document = _check_request(
        context,
        body=body,
        signature_header=signature_header,
        event_id=event_id,
        content_length=content_length,
    )
    source = context.source
    assert source is not None
    original = _original(source, event_id)
    if original is not None:
        raise _duplicate(original)
    same_body = _original_body(source, context.signed_sha256)
    if same_body is not None:
        raise _duplicate_body(same_body, event_id)
    try:
        envelope = schemas.Envelope.model_validate(document)
        data = schemas.EVENT_SCHEMAS[envelope.type].model_validate(envelope.data)
    except PydanticValidationError as exc:
        prefix = "data" if "type" in document and isinstance(document.get("data"), dict) else ""
        if prefix and document.get("type") not in schemas.EVENT_SCHEMAS:
            prefix = ""
        raise ValidationFailed(details=_pydantic_details(exc, prefix)) from exc
    try:
        with transaction.atomic():
            status, ticket, result = _accept(source, context, envelope.type, data)
    except IntegrityError:
        # Another request won the race and committed first: the same event id, or another event
        # creating a ticket with the same external id.
        original = _original(source, event_id)
        if original is not None:
            raise _duplicate(original) from None
        same_body = _original_body(source, context.signed_sha256)
        if same_body is not None:
            raise _duplicate_body(same_body, event_id) from None
        raise ExternalRefExists(details={"external_id": getattr(data, "external_id", "")}) from None
    body_out = {"status": "accepted", "event_id": event_id, **result}
    return InboundResult(status=status, body=body_out, delivery=None)


def _accept(
    source: InboundSource, context: _Context, event_type: str, data: Any
) -> tuple[int, Ticket, dict[str, Any]]:
    # Claim the event id first: a concurrent duplicate blocks here (PostgreSQL) or queues for the
    # write lock (SQLite) and then fails on the unique constraint without doing any work.
    with transaction.atomic():
        delivery = InboundDelivery.objects.create(
            source=source,
            source_key=source.key,
            event_id=context.event_id,
            event_type=event_type,
            body_sha256=context.body_sha256,
            signed_sha256=context.signed_sha256,
            received_at=timezone.now(),
            status=InboundStatus.ACCEPTED,
            http_status=202,
        )
    status, ticket, result = HANDLERS[event_type](source, data)
    InboundDelivery.objects.filter(pk=delivery.pk).update(ticket=ticket, http_status=status, result=result)
    audit_record(
        actor=None,
        obj=delivery,
        action=f"webhooks.inbound.{event_type}",
        after={"source": source.key, "event_id": context.event_id, "ticket": ticket.number},
    )
    return status, ticket, result


@transaction.atomic
def inbound_delivery_refuse(
    *,
    source: InboundSource | None,
    source_key: str,
    event_id: str,
    event_type: str,
    body_sha256: str,
    error: ApplicationError,
) -> InboundDelivery:
    """Log a refused request. Only what was verified is kept: an unsigned caller's event id is not."""
    return InboundDelivery.objects.create(
        source=source,
        source_key=source_key,
        event_id=event_id,
        event_type=event_type,
        body_sha256=body_sha256,
        received_at=timezone.now(),
        status=InboundStatus.REFUSED,
        http_status=error.status,
        reason=error.code[:60],
        detail=json.dumps(error.details, ensure_ascii=False, default=str)[:2000],
    )
