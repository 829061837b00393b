"""The two-stage intake: accept (parse, dedupe, store, commit) then process into tickets in order."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from aftersales.channels.mail.models import InboundEmail, InboundStatus, Mailbox
from aftersales.channels.mail.services import (
    inbound_accept,
    inbound_ingest,
    inbound_process_pending,
    intake,
)
from aftersales.channels.mail.tasks import process_inbound
from aftersales.core.models import AuditEvent
from aftersales.tickets.models import Ticket, TicketMessage
from tests.mail.test_intake import mail


@pytest.fixture
def mailbox():
    return Mailbox.objects.create(name="support", address="service@lanquan.cn")


def conversation(index: int, replies: int) -> list[bytes]:
    """A request and ``replies`` replies threaded to it by In-Reply-To, from one sender."""
    sender = f"Customer {index} <c{index}@example.com>"
    messages = [mail(sender=sender, subject=f"请求 {index}", message_id=f"r{index}@example.com")]
    messages += [
        mail(
            sender=sender,
            subject=f"回复：请求 {index}",
            body=f"第 {n} 次追问",
            message_id=f"r{index}-{n}@example.com",
            headers=f"In-Reply-To: <r{index}@example.com>",
        )
        for n in range(1, replies + 1)
    ]
    return messages


@pytest.mark.django_db
def test_accept_stores_a_pending_row_and_nothing_else(mailbox):
    result = inbound_accept(raw=mail(), mailbox=mailbox)

    assert result.status == InboundStatus.PENDING and not result.duplicate
    assert result.ticket is None
    assert Ticket.objects.count() == 0
    assert inbound_accept(raw=mail(), mailbox=mailbox).duplicate  # the dedupe key holds at once
    assert InboundEmail.objects.count() == 1


@pytest.mark.django_db
def test_a_crash_between_the_stages_loses_nothing_and_imports_once(mailbox):
    # Accepted and committed, then the worker died before processing: the rows stay pending.
    for raw in conversation(1, replies=2):
        inbound_accept(raw=raw, mailbox=mailbox)
    assert set(InboundEmail.objects.values_list("status", flat=True)) == {InboundStatus.PENDING}

    assert process_inbound.apply().get() == 3  # the sweep after the restart
    assert process_inbound.apply().get() == 0  # idempotent: nothing is processed twice

    ticket = Ticket.objects.get()
    assert [
        m.body for m in TicketMessage.objects.filter(ticket=ticket, is_from_customer=True).order_by("id")
    ] == [
        "第 1 次追问",
        "第 2 次追问",
    ]
    rows = list(InboundEmail.objects.order_by("id"))
    assert {row.status for row in rows} == {InboundStatus.IMPORTED}
    assert {row.ticket_id for row in rows} == {ticket.pk}
    assert AuditEvent.objects.filter(action="mail.inbound.import").count() == 3


@pytest.mark.django_db
def test_ingest_processes_older_pending_mail_of_its_mailbox_first(mailbox):
    request, reply = conversation(2, replies=1)
    inbound_accept(raw=request, mailbox=mailbox)  # left pending

    result = inbound_ingest(raw=reply, mailbox=mailbox)

    assert result.status == InboundStatus.IMPORTED
    ticket = Ticket.objects.get()
    assert result.ticket == ticket and result.inbound.ticket_message.body == "第 1 次追问"


@pytest.mark.django_db
def test_a_message_that_fails_in_stage_two_is_quarantined_not_lost(mailbox):
    row = inbound_accept(raw=mail(), mailbox=mailbox).inbound
    intake._parsed.clear()  # stage 2 in another process: it reads the stored source
    row.raw.storage.delete(row.raw.name)  # ... which is gone: processing must fail

    processed = inbound_process_pending(mailbox=mailbox)

    assert [r.pk for r in processed] == [row.pk]
    row.refresh_from_db()
    assert row.status == InboundStatus.QUARANTINED
    assert row.reason.startswith("import failed: FileNotFoundError")
    assert Ticket.objects.count() == 0
    assert AuditEvent.objects.filter(action="mail.inbound.quarantine", object_id=str(row.pk)).exists()


@pytest.mark.django_db(transaction=True)
def test_two_workers_process_concurrently_each_message_once_in_order_per_thread():
    """Two threads (two database connections) drain the same queues at the same time."""
    boxes = [Mailbox.objects.create(name=f"box{i}", address=f"service{i}@lanquan.cn") for i in range(2)]
    conversations = 12
    for index in range(conversations):
        for raw in conversation(index, replies=3):
            inbound_accept(raw=raw, mailbox=boxes[index % 2])
    total = conversations * 4
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        try:
            barrier.wait()
            for box in boxes:
                inbound_process_pending(mailbox=box)
            process_inbound()
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    rows = list(InboundEmail.objects.order_by("id"))
    assert len(rows) == total
    assert {row.status for row in rows} == {InboundStatus.IMPORTED}, connection.vendor
    assert Ticket.objects.count() == conversations  # every reply found its ticket: requests came first
    assert AuditEvent.objects.filter(action="mail.inbound.import").count() == total  # once each
    for index in range(conversations):
        ticket = Ticket.objects.get(subject=f"请求 {index}")
        bodies = list(
            TicketMessage.objects.filter(ticket=ticket, is_from_customer=True)
            .order_by("id")
            .values_list("body", flat=True)
        )
        assert bodies == ["第 1 次追问", "第 2 次追问", "第 3 次追问"]


@pytest.mark.django_db
def test_stage_two_in_the_same_process_does_not_parse_again(mailbox, monkeypatch):
    row = inbound_accept(raw=mail(), mailbox=mailbox).inbound
    calls: list[bytes] = []
    original = intake.parse_message
    monkeypatch.setattr(intake, "parse_message", lambda raw: calls.append(raw) or original(raw))

    inbound_process_pending(mailbox=mailbox)

    row.refresh_from_db()
    assert row.status == InboundStatus.IMPORTED and calls == []
    # Another process (nothing remembered) parses the stored source.
    inbound_accept(raw=mail(message_id="m2@example.com", subject="另一个问题"), mailbox=mailbox)
    intake._parsed.clear()
    inbound_process_pending(mailbox=mailbox)
    assert len(calls) == 2  # at accept, and again in stage 2 from the stored source


@pytest.mark.django_db
def test_the_beats_poll_task_processes_mail_left_pending_anywhere(mailbox):
    inbound_accept(raw=mail(), mailbox=None)  # posted, then the worker died before stage 2
    inbound_accept(raw=mail(message_id="m2@example.com", sender="b@example.com"), mailbox=mailbox)
    mailbox.is_active = False  # a mailbox no longer polled
    mailbox.save()
    from aftersales.channels.mail.tasks import poll_mailboxes

    assert poll_mailboxes.apply().get()["backlog_processed"] == 2
    assert set(InboundEmail.objects.values_list("status", flat=True)) == {InboundStatus.IMPORTED}
    assert Ticket.objects.count() == 2
