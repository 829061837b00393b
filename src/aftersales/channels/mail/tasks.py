"""Celery tasks of the mail channel: thin, idempotent, explicitly named."""

from __future__ import annotations

from celery import shared_task

from .imap import mailboxes_poll
from .models import OutboundEmail, OutboundStatus
from .services import outbound_send, outbound_send_due


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
def send_due() -> dict[str, int]:
    """The beat's resend sweep: mail queued while SMTP or the broker was down goes out later."""
    return outbound_send_due()


@shared_task(name="mail.poll_mailboxes", acks_late=True, ignore_result=True)
def poll_mailboxes() -> dict[str, int]:
    return mailboxes_poll()
