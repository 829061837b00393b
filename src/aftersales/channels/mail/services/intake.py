"""E-mail in: one raw message → stored once, then a new ticket, a reply on a ticket, ignored or quarantined.

The raw bytes are written to disk first (content-addressed, so a retry rewrites the same file);
then one transaction inserts the ``InboundEmail`` row under its unique dedupe key and does the
ticket work. A duplicate (the same bytes: a different message reusing a Message-ID is kept)
violates the key and changes nothing; a failure rolls the ticket work back and the message is quarantined with its
source in a transaction of its own. So no message is imported twice and none is lost.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aftersales.core.errors import ApplicationError, Conflict, PermissionDenied
from aftersales.core.models import User
from aftersales.core.roles import Capability
from aftersales.core.services import audit_record
from aftersales.customers.models import Contact
from aftersales.customers.services import customer_identify
from aftersales.tickets.lifecycle import FINAL_STATUSES, TicketStatus
from aftersales.tickets.models import Channel, Ticket, TicketMessage
from aftersales.tickets.services import attachment_add, ticket_add_message, ticket_link, ticket_open
from aftersales.tickets.services.thread import MAX_MESSAGE_CHARS

from .. import conf
from ..authresults import Verdict, parse_authentication_results
from ..models import InboundEmail, InboundStatus, Mailbox, OutboundEmail
from ..parsing import MailParseError, ParsedEmail, parse_message, peek_headers, quick_message_id
from .outbound import InboundThread, inbound_thread

logger = logging.getLogger(__name__)

MAX_DESCRIPTION_CHARS = 50_000
TICKET_NUMBER = re.compile(r"(?<![A-Za-z0-9])(T\d{7})(?!\d)")


@dataclass(frozen=True)
class IntakeResult:
    inbound: InboundEmail
    duplicate: bool = False

    @property
    def status(self) -> str:
        return self.inbound.status

    @property
    def ticket(self) -> Ticket | None:
        return self.inbound.ticket

    @property
    def reason(self) -> str:
        return self.inbound.reason


def dedupe_key_for(sha256: str) -> str:
    """The same bytes are the same message; a Message-ID alone is not (senders reuse them)."""
    return f"sha256:{sha256}"


def _stored_copy(sha256: str) -> InboundEmail | None:
    # By the digest column too: rows stored before the key was the digest have ``mid:`` keys.
    return (
        InboundEmail.objects.filter(Q(dedupe_key=dedupe_key_for(sha256)) | Q(sha256=sha256))
        .order_by("id")
        .first()
    )


def _store_raw(sha256: str, raw: bytes) -> str:
    path = f"mail/raw/{sha256[:2]}/{sha256}.eml"
    if not default_storage.exists(path):
        path = default_storage.save(path, ContentFile(raw))
    return path


_own_cache: tuple[float, frozenset[str]] | None = None
OWN_ADDRESSES_TTL = 30.0


def own_addresses() -> frozenset[str]:
    """Our mailbox addresses and the sender address (cached briefly: read for every message)."""
    global _own_cache  # noqa: PLW0603 - a per-process cache of a tiny table
    now = time.monotonic()
    if _own_cache is None or now - _own_cache[0] > OWN_ADDRESSES_TTL:
        addresses = {address.lower() for address in Mailbox.objects.values_list("address", flat=True)}
        _own_cache = (now, frozenset(addresses))
    return _own_cache[1] | {conf.mail_from().lower()}


# What stage 1 parsed, for stage 2 in the same process (the poller, ``inbound_ingest``): the
# message is not parsed twice. Keyed by row and content hash, so a reused id never matches.
_PARSED_KEEP = 256
_parsed: OrderedDict[tuple[int, str], ParsedEmail] = OrderedDict()


def _remember_parsed(row: InboundEmail, parsed: ParsedEmail) -> None:
    _parsed[(row.pk, row.sha256)] = parsed
    while len(_parsed) > _PARSED_KEEP:
        with contextlib.suppress(KeyError):  # another thread may have taken it meanwhile
            _parsed.popitem(last=False)


def _parsed_source(row: InboundEmail) -> ParsedEmail:
    parsed = _parsed.pop((row.pk, row.sha256), None)
    if parsed is not None:
        return parsed
    with row.raw.open("rb") as handle:
        return parse_message(handle.read())


def inbound_ingest(
    *,
    raw: bytes,
    mailbox: Mailbox | None = None,
    received_at: dt.datetime | None = None,
    wait: bool = True,
) -> IntakeResult:
    """Accept one raw message and process it at once (both stages). Safe to call twice.

    Messages of the same mailbox accepted earlier and still pending are processed first, so the
    order of a conversation is kept. ``wait`` False (the HTTP intake): if another process holds
    the mailbox's queue lock, return at once with the row still pending and leave it to that
    process, which drains the queue, and to a ``mail.process_inbound_queue`` task enqueued here
    (in case the holder finished just before this row was committed).
    """
    accepted = inbound_accept(raw=raw, mailbox=mailbox, received_at=received_at)
    if accepted.duplicate or accepted.inbound.status != InboundStatus.PENDING:
        return accepted
    try:
        inbound_process_pending(mailbox=mailbox, until=accepted.inbound.pk, wait=wait)
    except QueueBusy:
        _enqueue_queue(mailbox.pk if mailbox is not None else None)
    accepted.inbound.refresh_from_db()
    return accepted


def _enqueue_queue(mailbox_id: int | None) -> None:
    def send() -> None:
        from ..tasks import process_inbound_queue

        try:
            process_inbound_queue.delay(mailbox_id=mailbox_id)
        except Exception:  # noqa: BLE001 - the broker is down: the beat's sweep processes the row
            logger.warning("could not enqueue the inbound queue of mailbox %s; the sweep will", mailbox_id)

    transaction.on_commit(send)


def inbound_accept(
    *, raw: bytes, mailbox: Mailbox | None = None, received_at: dt.datetime | None = None
) -> IntakeResult:
    """Stage 1: parse, deduplicate, store the raw source and a ``pending`` row; commit.

    What the IMAP poller does for every message before it moves on. A message that cannot be
    parsed is quarantined here, and so is one that fails for any other reason of its own (the
    poller must move past it); only a failure to store anything at all (the database or disk is
    down) raises. Safe to call twice with the same message (the dedupe key).
    """
    sha256 = hashlib.sha256(raw).hexdigest()
    try:
        return _accept(raw=raw, sha256=sha256, mailbox=mailbox, received_at=received_at)
    except Exception as exc:
        logger.exception("accepting a message failed; it is quarantined")
        reason = f"accept failed: {exc.__class__.__name__}: {exc}"[:500]
        return _quarantine_raw(
            raw=raw, sha256=sha256, mailbox=mailbox, received_at=received_at, reason=reason
        )


def _safe_text(value: str, limit: int) -> str:
    # Whatever the parser or an exception left (a lone surrogate from a raw byte, a NUL, which
    # PostgreSQL refuses) must be storable.
    return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")[:limit]


def _quarantine_raw(
    *, raw: bytes, sha256: str, mailbox: Mailbox | None, received_at: dt.datetime | None, reason: str
) -> IntakeResult:
    """Keep a message whose accept failed: raw source and a quarantined row, nothing parsed."""
    existing = _stored_copy(sha256)
    if existing is not None:
        return IntakeResult(inbound=existing, duplicate=True)
    try:
        sender, subject = peek_headers(raw)
    except Exception:  # noqa: BLE001 - the list shows a blank instead
        sender, subject = "", ""
    row = InboundEmail(
        mailbox=mailbox,
        dedupe_key=dedupe_key_for(sha256),
        raw=_store_raw(sha256, raw),
        sha256=sha256,
        size=len(raw),
        from_address=_safe_text(sender, 254),
        subject=_safe_text(subject, 255),
        status=InboundStatus.QUARANTINED,
        reason=_safe_text(reason, 500),
        received_at=received_at or timezone.now(),
    )
    return _quarantine_after_failure(row, row.reason)


def _accept(
    *, raw: bytes, sha256: str, mailbox: Mailbox | None, received_at: dt.datetime | None
) -> IntakeResult:
    parsed: ParsedEmail | None = None
    problem = ""
    if len(raw) > conf.max_bytes():
        problem = f"too large: {len(raw)} bytes (limit {conf.max_bytes()})"
    elif not raw.strip():
        problem = "empty message"
    else:
        try:
            parsed = parse_message(raw)
        except MailParseError as exc:
            problem = f"cannot be parsed: {exc.reason}"
        except Exception as exc:  # noqa: BLE001 - whatever it is, the message is kept in quarantine
            logger.exception("mail parser failed")
            problem = f"parser error: {exc.__class__.__name__}: {exc}"[:500]
    message_id = parsed.message_id if parsed is not None else quick_message_id(raw)
    key = dedupe_key_for(sha256)
    existing = _stored_copy(sha256)
    if existing is not None:
        return IntakeResult(inbound=existing, duplicate=True)
    path = _store_raw(sha256, raw)
    sender, subject = (parsed.from_address, parsed.subject) if parsed else peek_headers(raw)
    row = InboundEmail(
        mailbox=mailbox,
        message_id=message_id[:255],
        dedupe_key=key,
        raw=path,
        sha256=sha256,
        size=len(raw),
        from_address=sender[:254],
        subject=subject[:255],
        status=InboundStatus.QUARANTINED if parsed is None else InboundStatus.PENDING,
        reason=problem,
        received_at=received_at or timezone.now(),
    )
    if parsed is not None:
        _record_authentication(row, parsed)
    try:
        with transaction.atomic():
            row.save(force_insert=True)
            if parsed is None:
                audit_record(actor=None, obj=row, action="mail.inbound.quarantine", after={"reason": problem})
        if parsed is not None:
            _remember_parsed(row, parsed)
        return IntakeResult(inbound=row)
    except IntegrityError:
        existing = InboundEmail.objects.filter(dedupe_key=key).first()
        if existing is not None:
            return IntakeResult(inbound=existing, duplicate=True)
        logger.exception("mail intake failed with an integrity error")
        return _quarantine_after_failure(row, "database integrity error while importing")


def _record_authentication(row: InboundEmail, parsed: ParsedEmail) -> None:
    """SPF/DKIM/DMARC from our receiving server's header, and whether the sender counts as verified."""
    results = parse_authentication_results(parsed.authentication_results, conf.authserv_ids())
    verdict = results.verdict
    if verdict == Verdict.UNCHECKED and conf.authserv_ids() and conf.auth_policy() == "required":
        verdict = Verdict.NONE  # required, and our server said nothing about this message
    row.auth_spf, row.auth_dkim, row.auth_dmarc = results.spf, results.dkim, results.dmarc
    row.auth_verdict = verdict
    if verdict == Verdict.PASS:
        row.sender_verified = True
    elif verdict == Verdict.FAIL or (verdict == Verdict.NONE and conf.auth_policy() == "required"):
        row.sender_verified = False
    else:
        row.sender_verified = None


class QueueBusy(Exception):  # noqa: N818 - a state, not a failure
    """Another process holds the mailbox's queue lock (only raised when not waiting for it)."""


def _lock_mailbox_queue(mailbox_id: int | None, *, wait: bool = True) -> bool:
    """Serialise stage 2 per mailbox inside the current transaction (messages stay in order).

    PostgreSQL: a transaction-level advisory lock; other mailboxes are processed in parallel.
    ``wait`` False: try it only, and say whether it was taken.
    SQLite: every writing transaction already begins IMMEDIATE, so writers take turns.
    """
    if connection.vendor != "postgresql":
        return True
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [QUEUE_LOCK_CLASS, mailbox_id or 0])  # noqa: S608 - one of two names
        return wait or bool(cursor.fetchone()[0])


QUEUE_LOCK_CLASS = 0x6D61  # "ma": the advisory-lock namespace of the inbound queue


def inbound_process_next(*, mailbox: Mailbox | None, wait: bool = True) -> InboundEmail | None:
    """Stage 2, one message: the oldest pending message of ``mailbox`` becomes a ticket or reply.

    One transaction: the mailbox's queue lock, the row (still pending, else another worker took
    it), the ticket work, the row's new status. A failure rolls the ticket work back and
    quarantines the message; a crash leaves it pending for the next run. Returns None when the
    queue is empty; raises ``QueueBusy`` if ``wait`` is False and another process holds the lock.
    """
    mailbox_id = mailbox.pk if mailbox is not None else None
    with transaction.atomic():
        if not _lock_mailbox_queue(mailbox_id, wait=wait):
            raise QueueBusy
        queue = InboundEmail.objects.filter(status=InboundStatus.PENDING)
        queue = queue.filter(mailbox_id=mailbox_id) if mailbox_id else queue.filter(mailbox__isnull=True)
        row = queue.select_related("mailbox").order_by("id").first()
        if row is None:
            return None
        try:
            parsed = _parsed_source(row)
            with transaction.atomic():
                _process(row, parsed, row.mailbox)
        except Exception as exc:  # noqa: BLE001 - never lose a message: keep it in quarantine
            logger.exception("mail intake failed")
            reason = exc.reason if isinstance(exc, MailParseError) else f"{exc.__class__.__name__}: {exc}"
            row.status = InboundStatus.QUARANTINED
            # Storable whatever the exception said, or this row would block the queue for ever.
            row.reason = _safe_text(f"import failed: {reason}", 500)
            row.ticket = None
            row.ticket_message = None
            row.save(update_fields=["status", "reason", "ticket", "ticket_message"])
            audit_record(actor=None, obj=row, action="mail.inbound.quarantine", after={"reason": row.reason})
        return row


def inbound_process_pending(
    *, mailbox: Mailbox | None, limit: int | None = None, until: int | None = None, wait: bool = True
) -> list[InboundEmail]:
    """Stage 2: process the pending messages of ``mailbox`` in order (at most ``limit``, or up to
    and including the row ``until``). Idempotent and restart-safe; returns the rows processed.
    ``wait`` False: raises ``QueueBusy`` as soon as another process holds the queue lock."""
    done: list[InboundEmail] = []
    while limit is None or len(done) < limit:
        row = inbound_process_next(mailbox=mailbox, wait=wait)
        if row is None:
            break
        done.append(row)
        if until is not None and row.pk >= until:
            break
    return done


def _quarantine_after_failure(row: InboundEmail, reason: str) -> IntakeResult:
    row.pk = None
    row.status = InboundStatus.QUARANTINED
    row.reason = reason
    row.ticket = None
    row.ticket_message = None
    try:
        with transaction.atomic():
            row.save(force_insert=True)
            audit_record(actor=None, obj=row, action="mail.inbound.quarantine", after={"reason": reason})
    except IntegrityError:
        existing = InboundEmail.objects.get(dedupe_key=row.dedupe_key)
        return IntakeResult(inbound=existing, duplicate=True)
    return IntakeResult(inbound=row)


def _ignore(row: InboundEmail, reason: str) -> None:
    row.status = InboundStatus.IGNORED
    row.reason = reason
    row.save(update_fields=["status", "reason"])
    audit_record(actor=None, obj=row, action="mail.inbound.ignore", after={"reason": reason})


def _ignore_reason(row: InboundEmail, parsed: ParsedEmail) -> str:
    if parsed.from_address in own_addresses():
        return "mail from our own address"
    if conf.loop_token() in parsed.loop_tokens:
        return "mail loop: our X-Loop header"
    if parsed.auto_reason:
        return parsed.auto_reason
    since = timezone.now() - dt.timedelta(seconds=conf.SENDER_WINDOW_SECONDS)
    recent = (
        InboundEmail.objects.filter(from_address=parsed.from_address, created_at__gte=since)
        .exclude(pk=row.pk)
        .count()
    )
    if recent >= conf.sender_limit():
        return f"sender rate limit: {recent} messages in {conf.SENDER_WINDOW_SECONDS // 60} minutes"
    return ""


def _follow_merges(ticket: Ticket) -> Ticket:
    seen = {ticket.pk}
    while ticket.merged_into_id and ticket.merged_into_id not in seen:
        ticket = Ticket.objects.get(pk=ticket.merged_into_id)
        seen.add(ticket.pk)
    return ticket


def find_ticket(parsed: ParsedEmail, *, by_subject: bool = True) -> Ticket | None:
    """The ticket a reply belongs to: by its threading headers, else by the number in the subject.

    ``by_subject`` False (an unverified sender): the subject's ticket number is not used.
    """
    ids = [mid for mid in [parsed.in_reply_to, *reversed(parsed.references)] if mid]
    if ids:
        by_id: dict[str, int] = {}
        for message_id, ticket_id in OutboundEmail.objects.filter(message_id__in=ids).values_list(
            "message_id", "ticket_id"
        ):
            by_id.setdefault(message_id, ticket_id)
        for message_id, ticket_id in InboundEmail.objects.filter(
            message_id__in=ids, ticket__isnull=False
        ).values_list("message_id", "ticket_id"):
            by_id.setdefault(message_id, ticket_id)
        for message_id in ids:
            if message_id in by_id:
                return _follow_merges(Ticket.objects.select_related("customer").get(pk=by_id[message_id]))
    if not by_subject:
        return None
    for number in TICKET_NUMBER.findall(parsed.subject):
        ticket = Ticket.objects.select_related("customer").filter(number=number).first()
        if ticket is None:
            continue
        # A number in a subject is easy to guess: only the ticket's own customer may reply by it.
        sender_known = (
            ticket.customer.email.lower() == parsed.from_address
            or Contact.objects.filter(
                customer_id=ticket.customer_id, email__iexact=parsed.from_address
            ).exists()
        )
        if sender_known:
            return _follow_merges(ticket)
    return None


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 40].rstrip() + "\n\n" + _("[message shortened]")


def _process(
    row: InboundEmail, parsed: ParsedEmail, mailbox: Mailbox | None, *, ignore_rules: bool = True
) -> None:
    """Stage 2 for one row: ignore it, or make it a reply or a new ticket.

    ``ignore_rules`` False: an administrator imports an ignored message on purpose.
    """
    # What is stored (placeholders, system notes) is in the site's language, not in whatever
    # language the caller's request or worker thread happens to have active.
    with translation.override(settings.LANGUAGE_CODE):
        _process_in_site_language(row, parsed, mailbox, ignore_rules=ignore_rules)


def _process_in_site_language(
    row: InboundEmail, parsed: ParsedEmail, mailbox: Mailbox | None, *, ignore_rules: bool
) -> None:
    reason = _ignore_reason(row, parsed) if ignore_rules else ""
    if reason:
        _ignore(row, reason)
        return
    unverified = row.sender_verified is False
    thread = inbound_thread(parsed.message_id, [*parsed.references, parsed.in_reply_to], mailbox)
    # An unverified sender is never matched by the (guessable) ticket number in the subject, and
    # never reopens a resolved ticket: its mail lands on a new ticket linked to it instead.
    ticket = find_ticket(parsed, by_subject=not unverified)
    final = FINAL_STATUSES | ({TicketStatus.RESOLVED} if unverified else set())
    message: TicketMessage | None = None
    with InboundThread(thread):
        if ticket is not None and ticket.status not in final:
            body = _truncate(parsed.reply_text or parsed.text, MAX_MESSAGE_CHARS) or _("(empty message)")
            message = ticket_add_message(
                ticket=ticket, actor=None, body=body, from_customer=True, channel=Channel.EMAIL
            )
        else:
            previous = ticket
            customer, contact, _created = customer_identify(
                actor=None, name=parsed.from_name, email=parsed.from_address, channel=Channel.EMAIL
            )
            text = parsed.reply_text if previous is not None else parsed.text
            ticket = ticket_open(
                actor=None,
                customer=customer,
                contact=contact,
                subject=(parsed.subject or _("(no subject)"))[:200],
                description=_truncate(text, MAX_DESCRIPTION_CHARS),
                channel=Channel.EMAIL,
                team=mailbox.team if mailbox is not None else None,
            )
            if previous is not None:
                ticket_link(ticket=ticket, other=previous, actor=None)
    if unverified:
        _note(ticket, _unverified_note(row, parsed))
    refused = _attach(ticket, message, parsed)
    if refused:
        lines = "\n".join(f"- {name}: {why}" for name, _code, why in refused)
        _note(
            ticket,
            _("Files in this e-mail that were not attached (they stay in the raw source):") + "\n" + lines,
        )
    skipped = [f"attachment {name!r} not attached: {code}" for name, code, _why in refused]
    row.status = InboundStatus.IMPORTED
    row.ticket = ticket
    row.ticket_message = message
    row.reason = "; ".join(skipped)[:2000]
    row.save(update_fields=["status", "ticket", "ticket_message", "reason"])
    audit_record(
        actor=None,
        obj=row,
        action="mail.inbound.import",
        after={
            "ticket": ticket.number,
            "message": message.pk if message else None,
            "skipped": skipped,
            "sender_verified": row.sender_verified,
        },
    )


def _note(ticket: Ticket, body: str) -> None:
    """An internal note by the system on the ticket's thread: agents see it, the customer does not."""
    ticket_add_message(ticket=ticket, actor=None, body=body[:MAX_MESSAGE_CHARS], kind=TicketMessage.Kind.NOTE)


def _unverified_note(row: InboundEmail, parsed: ParsedEmail) -> str:
    results = ", ".join(
        f"{label} {value or '—'}"
        for label, value in (("SPF", row.auth_spf), ("DKIM", row.auth_dkim), ("DMARC", row.auth_dmarc))
    )
    return _(
        "Warning: the sender of this e-mail is not verified (%(results)s). It claims to be from "
        "%(address)s but may be forged: check with the customer before acting on it."
    ) % {"results": results, "address": parsed.from_address}


def _attach(ticket: Ticket, message: TicketMessage | None, parsed: ParsedEmail) -> list[tuple[str, str, str]]:
    """Attach the e-mail's files; returns (file name, error code, why) of those refused."""
    refused: list[tuple[str, str, str]] = []
    for attachment in parsed.attachments:
        upload = SimpleUploadedFile(attachment.filename, attachment.data, attachment.content_type)
        try:
            attachment_add(ticket=ticket, actor=None, upload=upload, message=message)
        except ApplicationError as exc:
            # The file stays in the raw source; the thread says it was not attached.
            refused.append((attachment.filename, exc.code, str(exc.message)))
    return refused


def _require_admin(actor: User) -> None:
    if not actor.can(Capability.CONFIGURE):
        raise PermissionDenied()


REIMPORTABLE = (InboundStatus.QUARANTINED, InboundStatus.IGNORED)


@transaction.atomic
def inbound_reimport(*, inbound: InboundEmail, actor: User) -> InboundEmail:
    """Run a quarantined or ignored message through the intake again (after a fix, or to force it in).

    An ignored message is imported without the ignore rules: the administrator decided it is real.
    """
    _require_admin(actor)
    row = InboundEmail.objects.select_for_update().get(pk=inbound.pk)
    before = row.status
    if before not in REIMPORTABLE:
        raise Conflict(
            _("Only quarantined or ignored messages can be imported again; this one is “%(status)s”.")
            % {"status": row.get_status_display()},
            details={"status": row.status},
        )
    with row.raw.open("rb") as handle:
        raw = handle.read()
    try:
        with transaction.atomic():
            parsed = parse_message(raw)
            if not row.message_id and parsed.message_id:
                row.message_id = parsed.message_id[:255]
            row.from_address = parsed.from_address[:254]
            row.subject = parsed.subject[:255]
            _record_authentication(row, parsed)
            row.save(
                update_fields=[
                    "message_id", "from_address", "subject", "auth_spf", "auth_dkim", "auth_dmarc",
                    "auth_verdict", "sender_verified",
                ]
            )  # fmt: skip
            _process(row, parsed, row.mailbox, ignore_rules=before != InboundStatus.IGNORED)
    except Exception as exc:  # noqa: BLE001 - it stays where it was, with the new reason
        reason = exc.reason if isinstance(exc, MailParseError) else f"{exc.__class__.__name__}: {exc}"
        InboundEmail.objects.filter(pk=row.pk).update(
            reason=_safe_text(f"import again failed: {reason}", 2000)
        )
        row.refresh_from_db()
        audit_record(
            actor=actor,
            obj=row,
            action="mail.inbound.reimport_failed",
            after={"reason": _safe_text(reason, 2000)},
        )
        return row
    audit_record(
        actor=actor,
        obj=row,
        action="mail.inbound.reimport",
        before={"status": before},
        after={"status": row.status, "ticket": row.ticket.number if row.ticket else None},
    )
    return row


@transaction.atomic
def inbound_discard(*, inbound: InboundEmail, actor: User) -> InboundEmail:
    _require_admin(actor)
    updated = InboundEmail.objects.filter(pk=inbound.pk, status=InboundStatus.QUARANTINED).update(
        status=InboundStatus.DISCARDED
    )
    if updated != 1:
        inbound.refresh_from_db()
        raise Conflict(
            _("Only quarantined messages can be discarded; this one is “%(status)s”.")
            % {"status": inbound.get_status_display()},
            details={"status": inbound.status},
        )
    inbound.refresh_from_db()
    audit_record(
        actor=actor,
        obj=inbound,
        action="mail.inbound.discard",
        before={"status": InboundStatus.QUARANTINED},
        after={"status": InboundStatus.DISCARDED},
    )
    return inbound
