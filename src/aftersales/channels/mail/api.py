"""E-mail endpoints: raw MIME intake and the quarantine list."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from aftersales.core.api_schemas import ERROR_RESPONSES, Text200
from aftersales.core.errors import PayloadTooLarge, PermissionDenied, ValidationFailed
from aftersales.core.models import User
from aftersales.core.roles import Capability

from . import conf
from .models import InboundEmail
from .selectors import inbound_list_for_admin
from .services import inbound_ingest

router = Router(tags=["mail"])

RAW_BODY = {
    "requestBody": {
        "required": True,
        "description": "The raw RFC 5322 message, as received.",
        "content": {
            "message/rfc822": {"schema": {"type": "string", "format": "binary"}},
            "text/plain": {"schema": {"type": "string"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


class IngestOut(Schema):
    id: int
    status: str
    duplicate: bool
    ticket: str | None
    reason: str


class InboundOut(Schema):
    id: int
    status: str
    message_id: str
    from_address: str
    subject: str
    reason: str
    size: int
    mailbox: str | None
    ticket: str | None
    received_at: dt.datetime | None
    created_at: dt.datetime
    # Our receiving server's SPF/DKIM/DMARC results ("" = not reported) and the verdict.
    auth_spf: str
    auth_dkim: str
    auth_dmarc: str
    auth_verdict: str
    sender_verified: bool | None


class InboundPage(Schema):
    items: list[InboundOut]
    next_cursor: str | None


class QuarantineFilters(Schema):
    status: Literal["quarantined", "discarded", "ignored", "imported", "pending"] = "quarantined"
    cursor: Text200 | None = None
    limit: int = 50


def _out(row: InboundEmail) -> InboundOut:
    return InboundOut(
        id=row.pk,
        status=row.status,
        message_id=row.message_id,
        from_address=row.from_address,
        subject=row.subject,
        reason=row.reason,
        size=row.size,
        mailbox=row.mailbox.name if row.mailbox else None,
        ticket=row.ticket.number if row.ticket else None,
        received_at=row.received_at,
        created_at=row.created_at,
        auth_spf=row.auth_spf,
        auth_dkim=row.auth_dkim,
        auth_dmarc=row.auth_dmarc,
        auth_verdict=row.auth_verdict,
        sender_verified=row.sender_verified,
    )


@router.post("/inbound", response={202: IngestOut, **ERROR_RESPONSES}, openapi_extra=RAW_BODY)
def inbound(request: HttpRequest) -> Status:
    """Import one raw e-mail (a mail server's pipe or a relay service posts it here).

    ``status`` ``pending`` with ``ticket`` null: accepted and stored, but another request or
    worker is processing this queue; the ticket or reply follows within moments.
    """
    user: User = request.auth  # type: ignore[attr-defined]
    if not user.can(Capability.MAIL_INGEST):
        raise PermissionDenied()
    # Read the stream, not ``request.body``: that refuses anything over DATA_UPLOAD_MAX_MEMORY_SIZE,
    # the general limit, while this endpoint has its own (the middleware checked it).
    raw = request.body if hasattr(request, "_body") else request.read()
    if not raw.strip():
        raise ValidationFailed(details={"body": _("The message is empty.")})
    if len(raw) > conf.max_bytes():
        raise PayloadTooLarge(details={"max_bytes": conf.max_bytes(), "size": len(raw)})
    # Never wait for the queue lock in a web thread: a busy queue is drained by its holder or a task.
    result = inbound_ingest(raw=raw, wait=False)
    row = result.inbound
    return Status(
        202,
        IngestOut(
            id=row.pk,
            status=row.status,
            duplicate=result.duplicate,
            ticket=row.ticket.number if row.ticket else None,
            reason=row.reason,
        ),
    )


@router.get("/quarantine", response={200: InboundPage, **ERROR_RESPONSES})
def quarantine(request: HttpRequest, filters: Query[QuarantineFilters]) -> InboundPage:
    """Incoming mail that could not be imported (administrators)."""
    if not 1 <= filters.limit <= 200:
        raise ValidationFailed(details={"limit": _("Between 1 and 200.")})
    rows, next_cursor = inbound_list_for_admin(
        user=request.auth,  # type: ignore[attr-defined]
        status=filters.status,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return InboundPage(items=[_out(row) for row in rows], next_cursor=next_cursor)
