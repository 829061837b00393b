"""E-mail out: notifications written to the outbox with the ticket change, delivered by the job queue.

Exactly once: a worker claims a row with a compare-and-set (queued → sending, attempts + 1); only
the claimant talks to the SMTP server, with the row's Message-ID generated once at queue time;
the row is marked sent after the SMTP transaction. A failure puts the row back to queued with an
exponential back-off, so mail written while the SMTP server is down goes out when it is back.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from types import TracebackType

from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aftersales.core.services import audit_record
from aftersales.tickets.lifecycle import TicketStatus
from aftersales.tickets.models import Ticket, TicketMessage

from .. import conf
from ..models import InboundEmail, Mailbox, OutboundEmail, OutboundKind, OutboundStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
FIRST_RETRY_SECONDS = 60
MAX_RETRY_SECONDS = 3600
STALE_SENDING = dt.timedelta(minutes=15)
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
        message_id=make_msgid(domain=conf.mail_domain()).strip("<>"),
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
    context = conf.ssl_context()
    client: smtplib.SMTP
    if config.implicit_tls:
        client = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    with client:
        if config.starttls:
            client.starttls(context=context)
        if config.username:
            client.login(config.username, config.password)
        client.send_message(message, from_addr=from_address, to_addrs=[to_address])


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1)))


def outbound_send(*, outbound_id: int) -> str:
    """Deliver one queued e-mail if it is due and nobody else holds it: "sent", "retry", "failed" or "skipped"."""
    now = timezone.now()
    claimed = OutboundEmail.objects.filter(
        pk=outbound_id, status=OutboundStatus.QUEUED, next_attempt_at__lte=now
    ).update(status=OutboundStatus.SENDING, attempts=F("attempts") + 1, claimed_at=now)
    if claimed != 1:
        return "skipped"
    outbound = OutboundEmail.objects.select_related("ticket").get(pk=outbound_id)
    try:
        deliver(
            build_message(outbound),
            from_address=outbound.from_address,
            to_address=outbound.to_address,
            name=outbound.message_id.replace("/", "_"),
        )
    except (OSError, smtplib.SMTPException, ssl.SSLError, ValueError) as exc:
        error = f"{exc.__class__.__name__}: {exc}"[:2000]
        permanent = isinstance(exc, smtplib.SMTPRecipientsRefused) or outbound.attempts >= MAX_ATTEMPTS
        values: dict[str, object] = {"last_error": error, "claimed_at": None}
        if permanent:
            values["status"] = OutboundStatus.FAILED
        else:
            values["status"] = OutboundStatus.QUEUED
            values["next_attempt_at"] = timezone.now() + _backoff(outbound.attempts)
        OutboundEmail.objects.filter(pk=outbound_id, status=OutboundStatus.SENDING).update(**values)
        logger.warning("e-mail %s not delivered (attempt %s): %s", outbound_id, outbound.attempts, error)
        if permanent:
            with transaction.atomic():
                audit_record(actor=None, obj=outbound, action="mail.outbound.failed", after={"error": error})
            return "failed"
        return "retry"
    with transaction.atomic():
        OutboundEmail.objects.filter(pk=outbound_id, status=OutboundStatus.SENDING).update(
            status=OutboundStatus.SENT, sent_at=timezone.now(), last_error="", claimed_at=None
        )
        audit_record(
            actor=None, obj=outbound, action="mail.outbound.sent", after={"attempts": outbound.attempts}
        )
    return "sent"


def outbound_send_due(*, batch: int = 200) -> dict[str, int]:
    """The resend sweep: deliver every queued e-mail that is due; free rows a crashed worker held."""
    now = timezone.now()
    OutboundEmail.objects.filter(status=OutboundStatus.SENDING, claimed_at__lt=now - STALE_SENDING).update(
        status=OutboundStatus.QUEUED, claimed_at=None
    )
    ids = list(
        OutboundEmail.objects.filter(status=OutboundStatus.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:batch]
    )
    counts: dict[str, int] = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    for outbound_id in ids:
        counts[outbound_send(outbound_id=outbound_id)] += 1
    return counts
