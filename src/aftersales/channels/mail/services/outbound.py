"""E-mail out: notifications written to the outbox with the ticket change, delivered by the job queue.

Exactly once: a worker claims a row with a compare-and-set (queued → sending, attempts + 1); only
the claimant talks to the SMTP server, with the row's Message-ID generated once at queue time;
the row is marked sent after the SMTP transaction. A temporary failure (no connection, any 4xx)
puts the row back to queued with an exponential back-off, so mail written while the SMTP server is
down or greylisting goes out later; a 5xx answer fails it for good. A claim is a lease: a row whose
worker died is claimed again once the lease has run out.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from types import TracebackType

from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aftersales.core.services import audit_record
from aftersales.tickets.lifecycle import TicketStatus
from aftersales.tickets.models import Ticket, TicketMessage

from .. import conf
from ..models import InboundEmail, Mailbox, OutboundEmail, OutboundKind, OutboundStatus
from . import smtp_session

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
FIRST_RETRY_SECONDS = 60
MAX_RETRY_SECONDS = 3600
# The sending lease is SMTP timeout × 3 + this margin (see ``sending_lease``).
LEASE_MARGIN_SECONDS = 30
SMTP_TIMEOUT_WITHOUT_SERVER = 10.0  # writing an .eml file: the lease is then 60 s
# Rows the resend sweep hands to the queue per step; it re-enqueues itself while a step is full.
SWEEP_CHUNK = 100
MAX_REFERENCES = 20


@dataclass(frozen=True)
class _Thread:
    message_id: str
    references: list[str] = field(default_factory=list)
    mailbox: Mailbox | None = None


_current_inbound: contextvars.ContextVar[_Thread | None] = contextvars.ContextVar(
    "mail_inbound", default=None
)


def inbound_thread(message_id: str, references: list[str], mailbox: Mailbox | None = None) -> _Thread:
    return _Thread(message_id=message_id, references=[r for r in references if r], mailbox=mailbox)


class InboundThread:
    """While an e-mail is imported, notifications it causes answer that e-mail."""

    def __init__(self, thread: _Thread):
        self.thread = thread
        self.token: contextvars.Token[_Thread | None] | None = None

    def __enter__(self) -> InboundThread:
        self.token = _current_inbound.set(self.thread)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.token is not None:
            _current_inbound.reset(self.token)


def mailbox_for(ticket: Ticket) -> Mailbox | None:
    """The mailbox the customer wrote to, else the team's, else the first active one."""
    current = _current_inbound.get()
    if current is not None and current.mailbox is not None:
        return current.mailbox
    mailbox_id = (
        InboundEmail.objects.filter(ticket=ticket, mailbox__isnull=False)
        .order_by("-id")
        .values_list("mailbox_id", flat=True)
        .first()
    )
    if mailbox_id:
        return Mailbox.objects.filter(pk=mailbox_id).first()
    if ticket.team_id:
        found = Mailbox.objects.filter(team_id=ticket.team_id, is_active=True).order_by("id").first()
        if found:
            return found
    return Mailbox.objects.filter(is_active=True).order_by("id").first()


def recipient_for(ticket: Ticket) -> str:
    contact = ticket.contact
    if contact is not None and contact.email:
        return contact.email
    return ticket.customer.email or ""


def _threading(ticket: Ticket) -> tuple[str, list[str]]:
    """In-Reply-To the customer's last e-mail; References: the ticket's mail so far, oldest first."""
    inbound = list(
        InboundEmail.objects.filter(ticket=ticket)
        .exclude(message_id="")
        .order_by("id")
        .values_list("id", "message_id")
    )
    outbound = list(
        OutboundEmail.objects.filter(ticket=ticket).order_by("id").values_list("created_at", "message_id")
    )
    current = _current_inbound.get()
    chain: list[str] = []
    if current is not None:
        chain += current.references
    chain += [message_id for _id, message_id in inbound]
    chain += [message_id for _at, message_id in outbound]
    in_reply_to = ""
    if current is not None and current.message_id:
        in_reply_to = current.message_id
        chain.append(current.message_id)
    elif inbound:
        in_reply_to = inbound[-1][1]
    seen: set[str] = set()
    references = [m for m in chain if m and not (m in seen or seen.add(m))]  # type: ignore[func-returns-value]
    return in_reply_to, references[-MAX_REFERENCES:]


def _subject(kind: str, ticket: Ticket, status_label: str) -> str:
    titles = {
        OutboundKind.RECEIVED: _("We have received your request"),
        OutboundKind.REPLY: _("New reply"),
        OutboundKind.STATUS: _("Status: %(status)s") % {"status": status_label},
        OutboundKind.RESOLUTION: _("Your request has been resolved"),
    }
    return f"[{ticket.number}] {titles[OutboundKind(kind)]} - {ticket.subject}"[:255]


def outbound_queue(
    *, ticket: Ticket, kind: str, message: TicketMessage | None = None
) -> OutboundEmail | None:
    """Write a notification to the outbox in the caller's transaction; send it after commit.

    Nothing is written when the customer has no e-mail address or the address is one of ours.
    """
    to_address = recipient_for(ticket).strip().lower()
    if not to_address or "@" not in to_address:
        return None
    mailbox = mailbox_for(ticket)
    from .intake import own_addresses

    if to_address in own_addresses():
        return None
    language = ticket.customer.language or "zh-hans"
    from_address = mailbox.address if mailbox is not None else conf.mail_from()
    in_reply_to, references = _threading(ticket)
    with translation.override(language):
        status_label = str(TicketStatus(ticket.status).label)
        context = {
            "ticket": ticket,
            "customer": ticket.customer,
            "status_label": status_label,
            "reply": message.body if message is not None else "",
            "tracking_url": f"{conf.public_url()}/portal/tickets/{ticket.number}/",
            "kind": kind,
        }
        subject = _subject(kind, ticket, status_label)
        text = render_to_string(f"mail/email/{kind}.txt", context)
        html = render_to_string(f"mail/email/{kind}.html", context)
    outbound = OutboundEmail.objects.create(
        ticket=ticket,
        mailbox=mailbox,
        kind=kind,
        to_address=to_address[:254],
        from_address=from_address,
        reply_to=from_address,
        subject=subject,
        text=text,
        html=html,
        # uuid4 (os.urandom), not make_msgid: that draws on the ``random`` module, which tests
        # and Hypothesis seed, and gave two e-mails one Message-ID.
        message_id=f"{uuid.uuid4().hex}@{conf.mail_domain()}",
        in_reply_to=in_reply_to,
        references=" ".join(references),
        is_notification=kind != OutboundKind.REPLY,
    )
    audit_record(
        actor=None, obj=outbound, action="mail.outbound.queue", after={"kind": kind, "ticket": ticket.number}
    )
    outbound_id = outbound.pk
    transaction.on_commit(lambda: _enqueue(outbound_id))
    return outbound


def _enqueue(outbound_id: int, eta: dt.datetime | None = None) -> None:
    from ..tasks import send_outbound

    try:
        send_outbound.apply_async(kwargs={"outbound_id": outbound_id}, eta=eta)
    except Exception:  # noqa: BLE001 - the broker is down: the beat's resend picks the row up
        logger.warning("could not enqueue outbound e-mail %s; the resend sweep will send it", outbound_id)


def build_message(outbound: OutboundEmail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((str(_("Customer service")), outbound.from_address))
    message["To"] = outbound.to_address
    message["Subject"] = outbound.subject
    message["Date"] = format_datetime(outbound.created_at)
    message["Message-ID"] = f"<{outbound.message_id}>"
    if outbound.in_reply_to:
        message["In-Reply-To"] = f"<{outbound.in_reply_to}>"
    if outbound.references:
        message["References"] = " ".join(f"<{ref}>" for ref in outbound.references.split())
    if outbound.reply_to:
        message["Reply-To"] = outbound.reply_to
    message["X-Loop"] = conf.loop_token()
    message["X-Aftersales-Ticket"] = outbound.ticket.number
    if outbound.is_notification:
        message["Auto-Submitted"] = "auto-generated"
        message["X-Auto-Response-Suppress"] = "All"
    message.set_content(outbound.text)
    if outbound.html:
        message.add_alternative(outbound.html, subtype="html")
    return message


def deliver(message: EmailMessage, *, from_address: str, to_address: str, name: str) -> None:
    config = conf.smtp_config()
    if config is None:
        # The embedded default: the outbox is a folder of .eml files, written atomically.
        folder = conf.outbox_dir()
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{name}.tmp"
        temporary.write_bytes(bytes(message))
        temporary.replace(folder / f"{name}.eml")
        return
    smtp_session.send(config, message, from_address=from_address, to_address=to_address)


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1)))


def sending_lease() -> dt.timedelta:
    """How long a claim holds a row: three SMTP timeouts (connect, commands, data) plus a margin.

    A worker killed mid-send leaves its row ``sending``; once the lease has run out the row may be
    claimed again (by its task if redelivered, else by the sweep), so it goes out within about a
    minute or two rather than waiting for an operator. A live worker finishes well within it.
    """
    config = conf.smtp_config()
    timeout = config.timeout if config is not None else SMTP_TIMEOUT_WITHOUT_SERVER
    return dt.timedelta(seconds=timeout * 3 + LEASE_MARGIN_SECONDS)


def _is_permanent(exc: BaseException) -> bool:
    """5xx is a final answer; 4xx (greylisting, a full mailbox, a busy server) and no answer retry.

    ``SMTPRecipientsRefused`` carries a code per recipient: the mail fails for good only if every
    recipient got a 5xx. Authentication failures stay temporary: they are ours to fix, and every
    queued e-mail should go out once the credentials are right.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in exc.recipients.values()]
        return bool(codes) and all(500 <= int(code) < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return False
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= int(exc.smtp_code) < 600
    return False


def outbound_send(*, outbound_id: int) -> str:
    """Deliver one queued e-mail if it is due and nobody else holds it: "sent", "retry", "failed" or "skipped".

    The claim is a compare-and-set: from ``queued`` (due), or from ``sending`` whose lease ran out
    (its worker died). The outcome is recorded only by the holder of this attempt.
    """
    now = timezone.now()
    claimed = (
        OutboundEmail.objects.filter(pk=outbound_id)
        .filter(
            Q(status=OutboundStatus.QUEUED, next_attempt_at__lte=now)
            | Q(status=OutboundStatus.SENDING, claimed_at__lt=now - sending_lease())
        )
        .update(status=OutboundStatus.SENDING, attempts=F("attempts") + 1, claimed_at=now)
    )
    if claimed != 1:
        return "skipped"
    outbound = OutboundEmail.objects.select_related("ticket").get(pk=outbound_id)
    held = OutboundEmail.objects.filter(
        pk=outbound_id, status=OutboundStatus.SENDING, attempts=outbound.attempts
    )
    try:
        deliver(
            build_message(outbound),
            from_address=outbound.from_address,
            to_address=outbound.to_address,
            name=outbound.message_id.replace("/", "_"),
        )
    except (OSError, smtplib.SMTPException, ssl.SSLError, ValueError) as exc:
        error = f"{exc.__class__.__name__}: {exc}"[:2000]
        permanent = _is_permanent(exc) or outbound.attempts >= MAX_ATTEMPTS
        values: dict[str, object] = {"last_error": error, "claimed_at": None}
        if permanent:
            values["status"] = OutboundStatus.FAILED
        else:
            values["status"] = OutboundStatus.QUEUED
            values["next_attempt_at"] = timezone.now() + _backoff(outbound.attempts)
        held.update(**values)
        logger.warning("e-mail %s not delivered (attempt %s): %s", outbound_id, outbound.attempts, error)
        if permanent:
            with transaction.atomic():
                audit_record(actor=None, obj=outbound, action="mail.outbound.failed", after={"error": error})
            return "failed"
        return "retry"
    with transaction.atomic():
        held.update(status=OutboundStatus.SENT, sent_at=timezone.now(), last_error="", claimed_at=None)
        audit_record(
            actor=None, obj=outbound, action="mail.outbound.sent", after={"attempts": outbound.attempts}
        )
    return "sent"


def outbound_due_for_sending(*, chunk: int = SWEEP_CHUNK) -> list[int]:
    """The resend sweep's step: pick up to ``chunk`` e-mails nobody is looking after; return their ids.

    Picked: queued rows due for at least a lease (a younger row's own task is probably still in
    the queue) and rows whose sending lease ran out (a dead worker). They are stamped
    ``next_attempt_at = now`` as they are picked, so the next step, and the next sweep, pass over
    them for a lease while their send tasks run. The caller enqueues one send per id; sending stays
    a compare-and-set, so a row whose old task and new task both run is still sent once.
    """
    now = timezone.now()
    lease = sending_lease()
    with transaction.atomic():
        ids = list(
            OutboundEmail.objects.filter(
                Q(status=OutboundStatus.QUEUED, next_attempt_at__lte=now - lease)
                | Q(status=OutboundStatus.SENDING, claimed_at__lt=now - lease)
            )
            .select_for_update(skip_locked=True)
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[:chunk]
        )
        # A stale ``sending`` row goes back to the queue; its next claim counts a new attempt.
        OutboundEmail.objects.filter(pk__in=ids).update(
            status=OutboundStatus.QUEUED, claimed_at=None, next_attempt_at=now
        )
    return ids
