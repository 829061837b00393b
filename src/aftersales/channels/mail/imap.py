"""The IMAP poller: reads new messages of each mailbox and hands them to the intake one by one.

One poller per mailbox at a time: a lease (compare-and-set on ``lease_until``) works on SQLite and
PostgreSQL alike and survives a crashed worker (the lease runs out). Messages are fetched with
``BODY.PEEK[]`` (the mailbox is not changed); each is *accepted* (parsed, deduplicated, stored as a
pending row) in its own transaction and ``last_uid`` advances only after it committed, so a poller
killed anywhere loses nothing, and the dedupe key makes the message it may re-read after a restart
a no-op. Every ``BATCH`` accepted messages, and at the end, the poller turns the mailbox's pending
messages into tickets and replies in order (stage 2: ``inbound_process_pending``); messages left
pending by a crash are processed by the next poll or the ``mail.process_inbound`` task.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import imaplib
import logging
import re
import secrets
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from . import conf
from .models import ImapSecurity, InboundStatus, Mailbox
from .services import inbound_accept, inbound_process_pending

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)
BATCH = 100  # accepted messages between two rounds of processing
TIMEOUT_SECONDS = 60


@dataclass
class PollResult:
    mailbox: str
    fetched: int = 0
    imported: int = 0
    duplicates: int = 0
    quarantined: int = 0
    ignored: int = 0
    skipped: bool = False
    error: str = ""


def _lease(mailbox: Mailbox, owner: str) -> bool:
    now = timezone.now()
    return (
        Mailbox.objects.filter(pk=mailbox.pk)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner=owner))
        .update(lease_owner=owner, lease_until=now + LEASE)
        == 1
    )


def _release(mailbox: Mailbox, owner: str, **values: object) -> None:
    Mailbox.objects.filter(pk=mailbox.pk, lease_owner=owner).update(
        lease_owner="", lease_until=None, **values
    )


def connect(mailbox: Mailbox) -> imaplib.IMAP4:
    client: imaplib.IMAP4
    if mailbox.security == ImapSecurity.SSL:
        client = imaplib.IMAP4_SSL(
            mailbox.host, mailbox.port, ssl_context=conf.ssl_context(), timeout=TIMEOUT_SECONDS
        )
    else:
        client = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT_SECONDS)
        if mailbox.security == ImapSecurity.STARTTLS:
            client.starttls(ssl_context=conf.ssl_context())
    client.login(mailbox.username, mailbox.password)
    return client


def _uidvalidity(client: imaplib.IMAP4) -> int | None:
    _typ, data = client.response("UIDVALIDITY")
    if data and data[0]:
        try:
            return int(data[0])
        except (TypeError, ValueError):
            return None
    _typ, status = client.status("INBOX", "(UIDVALIDITY)")
    match = re.search(rb"UIDVALIDITY (\d+)", status[0] or b"") if status else None
    return int(match.group(1)) if match else None


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def mailbox_poll(*, mailbox: Mailbox, max_messages: int | None = None) -> PollResult:
    """Import the mailbox's new messages. ``max_messages`` stops early (tests, small batches)."""
    result = PollResult(mailbox=mailbox.name)
    owner = secrets.token_hex(8)
    if not _lease(mailbox, owner):
        result.skipped = True
        return result
    client: imaplib.IMAP4 | None = None
    try:
        client = connect(mailbox)
        typ, _data = client.select(_quote(mailbox.folder), readonly=True)
        if typ != "OK":
            raise imaplib.IMAP4.error(f"cannot select {mailbox.folder}")
        validity = _uidvalidity(client)
        mailbox.refresh_from_db(fields=["uidvalidity", "last_uid"])
        if validity is not None and validity != mailbox.uidvalidity:
            # The server renumbered the folder: read it all again; the dedupe key skips what we have.
            Mailbox.objects.filter(pk=mailbox.pk, lease_owner=owner).update(uidvalidity=validity, last_uid=0)
            mailbox.uidvalidity, mailbox.last_uid = validity, 0
        typ, data = client.uid("SEARCH", f"UID {mailbox.last_uid + 1}:*")
        if typ != "OK":
            raise imaplib.IMAP4.error("UID SEARCH failed")
        uids = sorted(int(uid) for uid in (data[0] or b"").split() if int(uid) > mailbox.last_uid)
        accepted: set[int] = set()

        def settle() -> None:
            """Stage 2 for this mailbox (older leftovers first); count what this poll accepted."""
            for row in inbound_process_pending(mailbox=mailbox):
                if row.pk not in accepted:
                    continue
                if row.status == InboundStatus.IMPORTED:
                    result.imported += 1
                elif row.status == InboundStatus.QUARANTINED:
                    result.quarantined += 1
                else:
                    result.ignored += 1
            accepted.clear()
            Mailbox.objects.filter(pk=mailbox.pk, lease_owner=owner).update(
                lease_until=timezone.now() + LEASE
            )

        for uid in uids:
            if max_messages is not None and result.fetched >= max_messages:
                break
            typ, fetched = client.uid("FETCH", str(uid), "(BODY.PEEK[])")
            raw = next(
                (item[1] for item in fetched or [] if isinstance(item, tuple) and len(item) == 2), None
            )
            if typ != "OK" or raw is None:
                continue  # expunged meanwhile
            result.fetched += 1
            outcome = inbound_accept(raw=raw, mailbox=mailbox)
            if outcome.duplicate:
                result.duplicates += 1
            elif outcome.status == InboundStatus.PENDING:
                accepted.add(outcome.inbound.pk)
            else:
                result.quarantined += 1  # could not be parsed
            # Only now, with the message committed, does the mailbox move on (and the lease renews).
            Mailbox.objects.filter(pk=mailbox.pk, lease_owner=owner).update(
                last_uid=uid, lease_until=timezone.now() + LEASE
            )
            mailbox.last_uid = uid
            if len(accepted) >= BATCH:
                settle()
        settle()
        _release(mailbox, owner, last_polled_at=timezone.now(), last_error="")
    except (OSError, imaplib.IMAP4.error) as exc:
        result.error = f"{exc.__class__.__name__}: {exc}"[:1000]
        logger.warning("polling mailbox %s failed: %s", mailbox.name, result.error)
        _release(mailbox, owner, last_polled_at=timezone.now(), last_error=result.error)
    except BaseException:
        _release(mailbox, owner)
        raise
    finally:
        if client is not None:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                client.logout()
    return result


def mailboxes_poll(*, name: str | None = None) -> dict[str, int]:
    """Poll every active mailbox (or the one named); a mailbox another worker holds is skipped."""
    mailboxes = Mailbox.objects.filter(is_active=True).exclude(host="")
    if name is not None:
        mailboxes = Mailbox.objects.filter(name=name)
    totals = {"mailboxes": 0, "imported": 0, "duplicates": 0, "quarantined": 0, "ignored": 0, "errors": 0}
    for mailbox in mailboxes.order_by("id"):
        result = mailbox_poll(mailbox=mailbox)
        if result.skipped:
            continue
        totals["mailboxes"] += 1
        totals["imported"] += result.imported
        totals["duplicates"] += result.duplicates
        totals["quarantined"] += result.quarantined
        totals["ignored"] += result.ignored
        totals["errors"] += bool(result.error)
    return totals
