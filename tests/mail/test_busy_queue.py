"""A post to the HTTP intake never waits for a queue lock that another process holds."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, connections, transaction

from aftersales.channels.mail.models import InboundEmail, InboundStatus
from aftersales.channels.mail.services import inbound_accept
from aftersales.channels.mail.services.intake import QUEUE_LOCK_CLASS
from aftersales.channels.mail.tasks import process_inbound_queue
from aftersales.core.models import AuditEvent
from aftersales.tickets.models import Ticket
from tests.mail.test_api import bearer_client, post_raw
from tests.mail.test_stages import conversation

pytestmark = pytest.mark.django_db(transaction=True)

HOLD_SECONDS = 8.0


def hold_queue_lock(holding: threading.Event, release: threading.Event) -> None:
    """Another process processing the posted-mail queue: its own connection, the lock held."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, 0)", [QUEUE_LOCK_CLASS])
            holding.set()
            release.wait(HOLD_SECONDS)
    finally:
        connections.close_all()


def test_a_post_to_a_busy_queue_answers_pending_at_once_and_the_task_imports_in_order(
    admin_user, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("the queue lock is PostgreSQL's advisory lock; SQLite writers take turns")
    client = bearer_client(admin_user)
    enqueued: list[dict[str, Any]] = []
    monkeypatch.setattr(process_inbound_queue, "delay", lambda **kwargs: enqueued.append(kwargs))
    holding, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_queue_lock, args=(holding, release))
    holder.start()
    assert holding.wait(10)
    opening, reply = conversation(7, replies=1)

    started = time.monotonic()
    responses = [post_raw(client, opening), post_raw(client, reply)]
    elapsed = time.monotonic() - started
    release.set()
    holder.join(30)

    assert elapsed < HOLD_SECONDS / 2, f"the posts waited {elapsed:.1f} s for the lock"
    rows = list(InboundEmail.objects.order_by("id"))
    for response, row in zip(responses, rows, strict=True):
        assert response.status_code == 202, response.content
        assert response.json() == {
            "id": row.pk,
            "status": "pending",
            "duplicate": False,
            "ticket": None,
            "reason": "",
        }
    assert {row.status for row in rows} == {InboundStatus.PENDING}
    assert Ticket.objects.count() == 0
    assert enqueued == [{"mailbox_id": None}, {"mailbox_id": None}]

    # The holder has finished without taking the new rows: the enqueued tasks import them.
    assert [process_inbound_queue.apply(kwargs=kwargs).get() for kwargs in enqueued] == [2, 0]

    ticket = Ticket.objects.get()
    opened, replied = (InboundEmail.objects.get(pk=row.pk) for row in rows)
    assert opened.status == replied.status == InboundStatus.IMPORTED
    assert opened.ticket == replied.ticket == ticket  # the reply threaded onto the opening mail
    assert replied.ticket_message is not None and replied.ticket_message.body == "第 1 次追问"
    assert AuditEvent.objects.filter(action="mail.inbound.import").count() == 2  # once each
    again = post_raw(client, opening).json()
    assert again["duplicate"] is True and again["ticket"] == ticket.number


def test_a_post_to_a_free_queue_is_processed_in_the_request(admin_user, monkeypatch):
    enqueued: list[dict[str, Any]] = []
    monkeypatch.setattr(process_inbound_queue, "delay", lambda **kwargs: enqueued.append(kwargs))
    opening, reply = conversation(8, replies=1)
    inbound_accept(raw=opening)  # left pending by a post that found the queue busy

    body = post_raw(bearer_client(admin_user), reply).json()

    assert body["status"] == "imported" and body["ticket"] == Ticket.objects.get().number
    assert set(InboundEmail.objects.values_list("status", flat=True)) == {InboundStatus.IMPORTED}
    assert enqueued == []


def test_the_queue_task_processes_posted_mail_in_order():
    for raw in conversation(9, replies=2):
        inbound_accept(raw=raw)

    assert process_inbound_queue.apply(kwargs={"mailbox_id": None}).get() == 3
    assert process_inbound_queue.apply(kwargs={"mailbox_id": None}).get() == 0

    ticket = Ticket.objects.get()
    assert set(InboundEmail.objects.values_list("ticket_id", flat=True)) == {ticket.pk}
