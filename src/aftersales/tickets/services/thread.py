"""The conversation on a ticket: replies, internal notes, system events and attachments."""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import PayloadTooLarge, PermissionDenied, UnsupportedMediaType, ValidationFailed
from aftersales.core.events import publish
from aftersales.core.models import User
from aftersales.core.roles import Capability, Role
from aftersales.core.services import audit_record

from ..errors import TicketClosed
from ..events import TicketMessageAdded
from ..lifecycle import FINAL_STATUSES, TicketStatus
from ..models import Attachment, Ticket, TicketMessage
from ..selectors import customer_id_for

MAX_MESSAGE_CHARS = 20_000

# Accepted uploads: photos and videos of the fault, invoices and documents. The first bytes must
# match the declared kind, so a renamed executable is refused.
ALLOWED_TYPES: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
    "video/mp4": (),
    "text/plain": (),
    "text/csv": (),
    "application/zip": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
}


def _check_may_write(ticket: Ticket, actor: User, kind: str) -> None:
    if actor.is_customer:
        if customer_id_for(actor) != ticket.customer_id or kind != TicketMessage.Kind.REPLY:
            raise PermissionDenied()
        return
    if not actor.is_staff_member and not actor.is_superuser:
        raise PermissionDenied()
    if kind == TicketMessage.Kind.NOTE and not actor.can(Capability.TICKET_INTERNAL_NOTE):
        raise PermissionDenied()
    # Replies and public files reach the customer (the parts clerk writes internal notes only);
    # system events are written by services on behalf of whoever acted.
    if kind == TicketMessage.Kind.REPLY and not actor.can(Capability.TICKET_REPLY):
        raise PermissionDenied()
    if actor.role == Role.TECHNICIAN and ticket.assignee_id != actor.pk:
        raise PermissionDenied()


@transaction.atomic
def ticket_add_message(
    *,
    ticket: Ticket,
    actor: User | None,
    body: str,
    kind: str = TicketMessage.Kind.REPLY,
    channel: str = "",
    event_code: str = "",
    event_data: dict[str, object] | None = None,
    from_customer: bool = False,
) -> TicketMessage:
    """Add a reply, note or event. A customer's reply wakes a ticket that waits on the customer.

    ``from_customer`` with no ``actor`` is a customer's message that arrived on a channel (an
    e-mail, a chat line, a webhook) without a portal login.
    """
    if kind not in TicketMessage.Kind.values:
        raise ValidationFailed(details={"kind": _("“%(value)s” is not a valid choice.") % {"value": kind}})
    if actor is not None:
        _check_may_write(ticket, actor, kind)
    body = body.strip()
    if not body:
        raise ValidationFailed(details={"body": _("The message is empty.")})
    if len(body) > MAX_MESSAGE_CHARS:
        raise ValidationFailed(
            details={"body": _("A message is at most %(n)d characters.") % {"n": MAX_MESSAGE_CHARS}}
        )
    if ticket.status in FINAL_STATUSES and kind != TicketMessage.Kind.NOTE:
        raise TicketClosed()

    now = timezone.now()
    from_customer = (actor is not None and actor.is_customer) or (actor is None and from_customer)
    message = TicketMessage.objects.create(
        ticket=ticket,
        kind=kind,
        author=actor,
        is_from_customer=from_customer,
        channel=channel or (ticket.channel if from_customer else ""),
        body=body,
        event_code=event_code,
        event_data=event_data or {},
        created_at=now,
    )
    values: dict[str, object] = {"updated_at": now}
    if (
        kind == TicketMessage.Kind.REPLY
        and not from_customer
        and actor is not None
        and ticket.first_responded_at is None
    ):
        values["first_responded_at"] = now
    Ticket.objects.filter(pk=ticket.pk).update(**values)
    for name, value in values.items():
        setattr(ticket, name, value)
    audit_record(
        actor=actor,
        obj=message,
        action=f"ticket.message.{kind}",
        after={"ticket": ticket.number, "length": len(body)},
    )
    publish(TicketMessageAdded(ticket=ticket, message=message, actor=actor))

    if from_customer and kind == TicketMessage.Kind.REPLY:
        from .lifecycle import ticket_transition

        if ticket.status == TicketStatus.WAITING_ON_CUSTOMER:
            resume = ticket.resume_status or TicketStatus.ACCEPTED
            ticket_transition(ticket=ticket, actor=None, to_status=resume, note=_("The customer replied."))
        elif ticket.status == TicketStatus.RESOLVED:
            ticket_transition(
                ticket=ticket,
                actor=None,
                to_status=TicketStatus.REOPENED,
                note=_("The customer replied after the resolution."),
            )
    return message


def _sniff_type(name: str, declared: str, head: bytes) -> str:
    guessed = mimetypes.guess_type(name)[0] or ""
    content_type = declared if declared in ALLOWED_TYPES else guessed
    if content_type not in ALLOWED_TYPES:
        raise UnsupportedMediaType(
            details={"content_type": declared or guessed, "allowed": sorted(ALLOWED_TYPES)}
        )
    signatures = ALLOWED_TYPES[content_type]
    if signatures and not any(head.startswith(signature) for signature in signatures):
        raise UnsupportedMediaType(
            _("The file's content does not match its type."), details={"content_type": content_type}
        )
    if content_type.startswith("text/"):
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            # GBK text files are common in China; accept them but refuse binary disguised as text.
            if b"\x00" in head:
                raise UnsupportedMediaType(
                    _("The file's content does not match its type."), details={}
                ) from None
    return content_type


@transaction.atomic
def attachment_add(
    *,
    ticket: Ticket,
    actor: User | None,
    upload: UploadedFile,
    message: TicketMessage | None = None,
    is_internal: bool = False,
) -> Attachment:
    # actor None: a file that arrived on a channel (an e-mail attachment) with the customer's message.
    if actor is not None:
        _check_may_write(ticket, actor, TicketMessage.Kind.NOTE if is_internal else TicketMessage.Kind.REPLY)
    if ticket.status in FINAL_STATUSES:
        raise TicketClosed()
    size = upload.size or 0
    limit = settings.AFTERSALES_ATTACHMENT_MAX_BYTES
    if size > limit:
        raise PayloadTooLarge(
            _("A file may be at most %(mb)d MB.") % {"mb": limit // (1024 * 1024)},
            details={"max_bytes": limit, "size": size},
        )
    if size == 0:
        raise ValidationFailed(details={"file": _("The file is empty.")})
    raw_name = PurePath(upload.name or "file").name
    name = "".join(ch for ch in raw_name if ch.isprintable() and ch not in "/\\")[:200] or "file"
    data = upload.read()
    content_type = _sniff_type(name, (upload.content_type or "").split(";")[0].strip().lower(), data[:16])
    digest = hashlib.sha256(data).hexdigest()
    attachment = Attachment(
        ticket=ticket,
        message=message,
        original_name=name,
        content_type=content_type,
        size=len(data),
        sha256=digest,
        is_internal=is_internal,
        uploaded_by=actor,
    )
    attachment.file.save(digest, ContentFile(data), save=False)
    attachment.save()
    audit_record(
        actor=actor,
        obj=attachment,
        action="ticket.attachment.add",
        after={"ticket": ticket.number, "name": name, "size": len(data), "content_type": content_type},
    )
    return attachment
