"""Telephony endpoints: call-centre (CTI) events, signed like the webhooks, and the call records."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from aftersales.channels.webhooks import signing
from aftersales.core.api_schemas import (
    ERROR_RESPONSES,
    NonEmptyText100,
    StrictSchema,
    Text32,
    Text254,
    Text500,
)
from aftersales.core.errors import PayloadTooLarge, ValidationFailed
from aftersales.core.models import User
from aftersales.tickets.selectors import ticket_get_for_user

from .models import CallRecord, CtiSource
from .selectors import call_page
from .services import CtiEventData, cti_event_receive

router = Router(tags=["phone"])

SOURCE_HEADER = "X-Aftersales-Source"
MAX_CTI_BODY_BYTES = 64 * 1024


class CtiSignature:
    """Authenticates a call-centre request by its HMAC signature (docs/integrations.md).

    Runs before the body is parsed, so an unsigned caller never learns what the schema wants.
    """

    openapi_type = "apiKey"

    def __call__(self, request: HttpRequest) -> CtiSource:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_CTI_BODY_BYTES or len(request.body) > MAX_CTI_BODY_BYTES:
            raise PayloadTooLarge(details={"max_bytes": MAX_CTI_BODY_BYTES})
        key = request.headers.get(SOURCE_HEADER, "").strip()[:40]
        source = CtiSource.objects.filter(key=key, is_active=True).first() if key else None
        if source is None:
            raise signing.SignatureInvalid(details={"header": SOURCE_HEADER})
        signing.verify(
            secret=source.secret, header=request.headers.get(signing.SIGNATURE_HEADER, ""), body=request.body
        )
        return source


class CtiEventIn(StrictSchema):
    event: Literal["ringing", "answered", "ended", "missed"]
    call_id: NonEmptyText100
    direction: Literal["inbound", "outbound"] = "inbound"
    caller: Text32 = ""
    callee: Text32 = ""
    agent_extension: Text32 = ""
    agent_email: Text254 = ""
    occurred_at: dt.datetime | None = None
    duration_seconds: int | None = Field(default=None, ge=0, le=86_400)
    recording_url: Text500 = ""


class CallOut(Schema):
    id: int
    ticket: str | None
    customer_id: int | None
    direction: str
    status: str
    caller_number: str
    callee_number: str
    agent_id: int | None
    started_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    duration_seconds: int | None
    wait_seconds: int | None
    recording_url: str
    external_call_id: str
    source: str


class CtiEventOut(Schema):
    duplicate: bool
    call: CallOut


class CallPageOut(Schema):
    items: list[CallOut]
    next_cursor: str | None


def call_out(call: CallRecord) -> dict[str, Any]:
    return {
        "id": call.pk,
        "ticket": call.ticket.number if call.ticket is not None else None,
        "customer_id": call.customer_id,
        "direction": call.direction,
        "status": call.status,
        "caller_number": call.caller_number,
        "callee_number": call.callee_number,
        "agent_id": call.agent_id,
        "started_at": call.started_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "duration_seconds": call.duration_seconds,
        "wait_seconds": call.wait_seconds,
        "recording_url": call.recording_url,
        "external_call_id": call.external_call_id,
        "source": call.source,
    }


class CallFilters(Schema):
    ticket: str | None = Field(default=None, max_length=20, pattern=r"^[A-Za-z0-9-]*$")
    customer: int | None = Field(default=None, gt=0, lt=2**62)
    status: Literal["ringing", "answered", "missed", "ended"] | None = None
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=200)


@router.post("/cti/events", auth=CtiSignature(), response={200: CtiEventOut, **ERROR_RESPONSES})
def cti_event(request: HttpRequest, payload: CtiEventIn) -> dict[str, Any]:
    """A call-centre event. Signed with the source's secret (``X-Aftersales-Signature``), the
    source named in ``X-Aftersales-Source``. Idempotent per (source, call id, event): a resent
    event answers ``duplicate: true`` and changes nothing."""
    source = request.auth  # type: ignore[attr-defined]
    assert isinstance(source, CtiSource)
    occurred_at = payload.occurred_at
    if occurred_at is not None and timezone.is_naive(occurred_at):
        raise ValidationFailed(details={"occurred_at": "give a time zone (e.g. +08:00 or Z)"})
    outcome = cti_event_receive(
        source=source,
        data=CtiEventData(
            event=payload.event,
            call_id=payload.call_id,
            direction=payload.direction,
            caller=payload.caller,
            callee=payload.callee,
            agent_extension=payload.agent_extension,
            agent_email=payload.agent_email,
            occurred_at=occurred_at,
            duration_seconds=payload.duration_seconds,
            recording_url=payload.recording_url,
        ),
    )
    return {"duplicate": outcome.duplicate, "call": call_out(outcome.call)}


@router.get("/calls", response={200: CallPageOut, **ERROR_RESPONSES})
def list_calls(request: HttpRequest, filters: Query[CallFilters]) -> dict[str, Any]:
    """Call records the user may see (staff), newest first; filter by ticket, customer, status."""
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    ticket = ticket_get_for_user(number=filters.ticket, user=user) if filters.ticket else None
    items, next_cursor = call_page(
        user=user,
        ticket=ticket,
        customer_id=filters.customer,
        status=filters.status or "",
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": [call_out(item) for item in items], "next_cursor": next_cursor}
