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

from .. import search
from ..errors import TicketClosed
from ..events import TicketFirstResponded, TicketMessageAdded
from ..lifecycle import FINAL_STATUSES, TicketStatus
from ..models import Attachment, Ticket, TicketMessage
from ..selectors import customer_id_for

MAX_MESSAGE_CHARS = 20_000

# Accepted uploads: photos and videos of the fault, invoices, office documents and archives (as
# everyday Chinese business mail carries them). The first bytes must match the kind, so a renamed
# executable is refused. Every file is served as a download (Content-Disposition: attachment,
# nosniff, a sandboxing CSP), never rendered.
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the legacy Office (.doc .xls .ppt) container
_ZIP = b"PK\x03\x04"
ALLOWED_TYPES: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "image/bmp": (b"BM",),
    "application/pdf": (b"%PDF-",),
    "video/mp4": (),
    "text/plain": (),
    "text/csv": (),
    "application/zip": (_ZIP,),
    "application/vnd.rar": (b"Rar!\x1a\x07",),
    "application/x-7z-compressed": (b"7z\xbc\xaf\x27\x1c",),
    "application/msword": (_OLE,),
    "application/vnd.ms-excel": (_OLE,),
    "application/vnd.ms-powerpoint": (_OLE,),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (_ZIP,),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (_ZIP,),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (_ZIP,),
}
# Other names mail clients declare for the same kinds.
TYPE_ALIASES = {
    "application/x-zip-compressed": "application/zip",
    "application/x-zip": "application/zip",
    "application/x-rar-compressed": "application/vnd.rar",
    "application/x-rar": "application/vnd.rar",
    "image/x-ms-bmp": "image/bmp",
    "image/x-bmp": "image/bmp",
    "application/pgp-signature": "text/plain",
    "application/pgp-keys": "text/plain",
    "application/pgp-encrypted": "text/plain",
    "application/csv": "text/csv",
}
# By file name, independent of the system's mime.types (which differs between hosts).
EXTENSION_TYPES = {
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".rar": "application/vnd.rar",
    ".zip": "application/zip",
    ".7z": "application/x-7z-compressed",
    ".bmp": "image/bmp",
    ".asc": "text/plain",
    ".txt": "text/plain",
    ".log": "text/plain",
    ".csv": "text/csv",
    ".pdf": "application/pdf",
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
    search.index_message(message)
    audit_record(
        actor=actor,
        obj=message,
        action=f"ticket.message.{kind}",
        after={"ticket": ticket.number, "length": len(body)},
    )
    publish(TicketMessageAdded(ticket=ticket, message=message, actor=actor))
    if "first_responded_at" in values:
        publish(TicketFirstResponded(ticket=ticket, at=now, actor=actor, via="reply"))

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


def _matches(content_type: str, head: bytes) -> bool:
    signatures = ALLOWED_TYPES[content_type]
    if signatures and not any(head.startswith(signature) for signature in signatures):
        return False
    # GBK text files are common in China; accept them but refuse binary disguised as text.
    return not (content_type.startswith("text/") and b"\x00" in head and not _is_utf8(head))


def _is_utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _sniff_type(name: str, declared: str, head: bytes) -> str:
    """The accepted type of an upload: the declared one, else the one its name says; the first
    bytes must fit. (Windows declares .csv as vnd.ms-excel, clients send octet-stream.)"""
    declared = TYPE_ALIASES.get(declared, declared)
    suffix = PurePath(name).suffix.lower()
    guessed = EXTENSION_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or ""
    guessed = TYPE_ALIASES.get(guessed, guessed)
    candidates = list(dict.fromkeys(t for t in (declared, guessed) if t in ALLOWED_TYPES))
    if not candidates:
        raise UnsupportedMediaType(
            details={"content_type": declared or guessed, "allowed": sorted(ALLOWED_TYPES)}
        )
    for content_type in candidates:
        if _matches(content_type, head):
            return content_type
    raise UnsupportedMediaType(
        _("The file's content does not match its type."), details={"content_type": candidates[0]}
    )


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
