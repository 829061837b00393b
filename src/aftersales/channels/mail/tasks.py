"""Celery tasks of the mail channel: thin, idempotent, explicitly named."""

from __future__ import annotations

from celery import shared_task

from .imap import mailboxes_poll
from .models import InboundEmail, InboundStatus, Mailbox, OutboundEmail, OutboundStatus
from .services import inbound_process_pending, outbound_due_for_sending, outbound_send
from .services.outbound import SWEEP_CHUNK


@shared_task(name="mail.send_outbound", acks_late=True, ignore_result=True)
def send_outbound(outbound_id: int) -> str:
    """Send one outbox row; on failure schedule the next attempt at the row's back-off time."""
    result = outbound_send(outbound_id=outbound_id)
    if result == "retry":
        row = OutboundEmail.objects.filter(pk=outbound_id, status=OutboundStatus.QUEUED).first()
        if row is not None:
            send_outbound.apply_async(kwargs={"outbound_id": outbound_id}, eta=row.next_attempt_at)
    return result


@shared_task(name="mail.send_due", acks_late=True, ignore_result=True)
def send_due(chunk: int = SWEEP_CHUNK) -> int:
    """The resend sweep (beat, every minute): mail queued while SMTP or the broker was down.

    It sends nothing itself: it hands one ``mail.send_outbound`` per row to the queue, a chunk at
    a time, and queues its own next step while a chunk comes back full, so a backlog after the
    broker lost its queue drains at the workers' pace rather than 200 rows a minute.
    """
    ids = outbound_due_for_sending(chunk=chunk)
    for outbound_id in ids:
        send_outbound.apply_async(kwargs={"outbound_id": outbound_id})
    if len(ids) >= chunk:
        send_due.apply_async(kwargs={"chunk": chunk})
    return len(ids)


@shared_task(name="mail.poll_mailboxes", acks_late=True, ignore_result=True)
def poll_mailboxes() -> dict[str, int]:
    """Every 60 s (beat): poll the mailboxes, then process whatever is still pending anywhere
    (left by a crash between the stages, posted mail, a mailbox no longer polled)."""
    totals = mailboxes_poll()
    totals["backlog_processed"] = process_inbound()
    return totals


@shared_task(name="mail.process_inbound", acks_late=True, ignore_result=True)
def process_inbound(mailbox_id: int | None = None) -> int:
    """Stage 2: turn accepted (pending) messages into tickets and replies, in order per mailbox.

    Idempotent: every message is claimed under its mailbox's queue lock and only while pending.
    Without ``mailbox_id``, every mailbox with pending messages (and mail posted over HTTP).
    """
    if mailbox_id is not None:
        mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
        return len(inbound_process_pending(mailbox=mailbox)) if mailbox is not None else 0
    ids = set(
        InboundEmail.objects.filter(status=InboundStatus.PENDING)
        .values_list("mailbox_id", flat=True)
        .distinct()
    )
    done = 0
    for mailbox in Mailbox.objects.filter(pk__in=[i for i in ids if i is not None]).order_by("id"):
        done += len(inbound_process_pending(mailbox=mailbox))
    if None in ids:
        done += len(inbound_process_pending(mailbox=None))
    return done


@shared_task(name="mail.process_inbound_queue", acks_late=True, ignore_result=True)
def process_inbound_queue(mailbox_id: int | None = None) -> int:
    """Stage 2 for one queue (``None``: mail posted over HTTP), enqueued by a post that found the
    queue busy: waits for the lock here, in a worker, instead of in a web request."""
    if mailbox_id is None:
        return len(inbound_process_pending(mailbox=None))
    return process_inbound(mailbox_id)
