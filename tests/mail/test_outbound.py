"""E-mail out: notifications in the outbox, rendered in the customer's language, delivered exactly once."""

from __future__ import annotations

import datetime as dt
import email
import threading
from email import policy

import pytest
import time_machine
from django.utils import timezone

from aftersales.channels.mail.models import OutboundEmail, OutboundStatus
from aftersales.channels.mail.services import (
    inbound_ingest,
    outbound_due_for_sending,
    outbound_send,
    smtp_session,
)
from aftersales.channels.mail.services.outbound import MAX_ATTEMPTS, build_message, sending_lease
from aftersales.tickets.lifecycle import TicketStatus
from aftersales.tickets.services import ticket_add_message, ticket_open, ticket_transition
from tests.factories import ContactFactory, CustomerFactory
from tests.mail.conftest import Recorder
from tests.mail.test_intake import mail

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 9, 21, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def customer():
    customer = CustomerFactory(name="Wang Fang", email="wangfang@example.com", language="en")
    ContactFactory(customer=customer)
    return customer


def open_ticket(customer, agent, subject="Boiler leaks"):
    return ticket_open(actor=agent, customer=customer, subject=subject, contact=customer.contacts.get())


def test_ticket_opened_on_any_channel_queues_a_receipt_in_the_customers_language(customer, agent):
    ticket = open_ticket(customer, agent)

    receipt = OutboundEmail.objects.get(ticket=ticket)
    assert receipt.kind == "received" and receipt.status == OutboundStatus.QUEUED
    assert receipt.to_address == "wangfang@example.com"
    assert receipt.subject == f"[{ticket.number}] We have received your request - Boiler leaks"
    assert f"opened ticket {ticket.number}" in receipt.text
    assert f"https://service.lanquan.cn/portal/tickets/{ticket.number}/" in receipt.text
    assert f'href="https://service.lanquan.cn/portal/tickets/{ticket.number}/"' in receipt.html
    assert receipt.message_id.endswith("@lanquan.cn")
    assert receipt.is_notification


def test_chinese_customer_gets_chinese_mail(agent):
    customer = CustomerFactory(name="王芳", email="wf@example.cn", language="zh-hans")
    ticket = ticket_open(actor=agent, customer=customer, subject="热水器漏水")
    receipt = OutboundEmail.objects.get(ticket=ticket)
    assert receipt.subject == f"[{ticket.number}] 我们已收到您的服务请求 - 热水器漏水"
    assert "王芳" in receipt.text and "工单号" in receipt.text


def test_customer_without_email_gets_nothing(agent):
    customer = CustomerFactory(email="")
    ticket_open(actor=agent, customer=customer, subject="phone only")
    assert OutboundEmail.objects.count() == 0


def test_public_staff_reply_is_mailed_but_notes_and_customer_messages_are_not(customer, agent):
    ticket = open_ticket(customer, agent)
    ticket_add_message(ticket=ticket, actor=agent, body="Our technician comes on Tuesday.")
    ticket_add_message(ticket=ticket, actor=agent, body="internal: check stock", kind="note")
    ticket_add_message(ticket=ticket, actor=None, body="thanks", from_customer=True)

    replies = OutboundEmail.objects.filter(ticket=ticket, kind="reply")
    assert replies.count() == 1
    reply = replies.get()
    assert "Our technician comes on Tuesday." in reply.text
    assert not reply.is_notification


def test_status_and_resolution_mails(customer, agent):
    ticket = open_ticket(customer, agent)
    ticket_transition(ticket=ticket, actor=agent, to_status=TicketStatus.ACCEPTED)
    ticket_transition(ticket=ticket, actor=agent, to_status=TicketStatus.WAITING_ON_CUSTOMER)
    ticket_transition(ticket=ticket, actor=agent, to_status=TicketStatus.ACCEPTED)
    ticket_transition(ticket=ticket, actor=agent, to_status=TicketStatus.RESOLVED)

    kinds = list(OutboundEmail.objects.filter(ticket=ticket).order_by("id").values_list("kind", flat=True))
    assert kinds == ["received", "status", "resolution"]
    resolution = OutboundEmail.objects.get(ticket=ticket, kind="resolution")
    assert "Please confirm the resolution" in resolution.text
    assert "Confirm the resolution" in resolution.html


def test_threading_headers_chain_to_the_customers_mail_and_earlier_notifications(agent):
    ticket = inbound_ingest(raw=mail(sender="Li Lei <lilei@example.com>")).ticket
    receipt = OutboundEmail.objects.get(ticket=ticket)
    ticket_add_message(ticket=ticket, actor=agent, body="When may we come?")

    reply = OutboundEmail.objects.get(ticket=ticket, kind="reply")
    assert reply.in_reply_to == "m1@example.com"
    assert reply.references.split() == ["m1@example.com", receipt.message_id]

    message = email.message_from_bytes(
        bytes(build_message(reply)),
        policy=policy.default,
    )
    assert message["Message-ID"] == f"<{reply.message_id}>"
    assert message["In-Reply-To"] == "<m1@example.com>"
    assert message["Reply-To"] == "service@lanquan.cn"
    assert message["X-Loop"] == "aftersales@lanquan.cn"
    assert message["Auto-Submitted"] is None  # a person's reply is not auto-generated
    receipt_message = email.message_from_bytes(
        bytes(build_message(receipt)),
        policy=policy.default,
    )
    assert receipt_message["Auto-Submitted"] == "auto-generated"


def test_without_smtp_url_mail_is_written_as_eml_files(customer, agent, settings):
    ticket = open_ticket(customer, agent)
    receipt = OutboundEmail.objects.get(ticket=ticket)

    assert outbound_send(outbound_id=receipt.pk) == "sent"

    receipt.refresh_from_db()
    assert receipt.status == OutboundStatus.SENT and receipt.sent_at is not None
    files = list((settings.DATA_DIR / "outbox").glob("*.eml"))
    assert len(files) == 1
    written = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert written["Message-ID"] == f"<{receipt.message_id}>"
    assert written["To"] == "wangfang@example.com"
    assert outbound_send(outbound_id=receipt.pk) == "skipped"


def test_smtp_down_then_up_delivers_each_message_exactly_once(customer, agent, settings, smtp_server):
    settings.AFTERSALES_SMTP_URL = smtp_server.url
    tickets = [open_ticket(customer, agent, subject=f"request {i}") for i in range(3)]
    ids = list(OutboundEmail.objects.order_by("id").values_list("id", flat=True))
    assert len(ids) == 3

    # The server is down: connection refused, every row stays queued with a back-off.
    assert [outbound_send(outbound_id=i) for i in ids] == ["retry"] * 3
    rows = list(OutboundEmail.objects.order_by("id"))
    assert {row.status for row in rows} == {OutboundStatus.QUEUED}
    assert all(row.attempts == 1 and "Connection refused" in row.last_error for row in rows)
    assert all(row.next_attempt_at > timezone.now() for row in rows)
    assert outbound_due_for_sending() == []  # not due yet
    message_ids = [row.message_id for row in rows]

    smtp_server.start()
    # Each row's retry task is queued for its back-off time; past that plus a lease, the broker
    # may have lost it and the sweep hands the rows to the queue again.
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=4), tick=True):
        assert sorted(outbound_due_for_sending()) == ids
        assert outbound_due_for_sending() == []  # stamped: the next sweep leaves them alone
        assert [outbound_send(outbound_id=i) for i in ids] == ["sent"] * 3
        # The original retry tasks arriving late are no-ops.
        assert [outbound_send(outbound_id=i) for i in ids] == ["skipped"] * 3

    received = smtp_server.recorder.messages
    assert len(received) == 3
    got_ids = sorted(
        email.message_from_bytes(raw, policy=policy.default)["Message-ID"].strip("<>")
        for _f, _t, raw in received
    )
    assert got_ids == sorted(message_ids)  # the same Message-IDs as before the outage
    assert all(rcpt == ["wangfang@example.com"] for _f, rcpt, _raw in received)
    assert {row.status for row in OutboundEmail.objects.all()} == {OutboundStatus.SENT}
    assert [t.number for t in tickets]


def test_two_workers_sending_the_same_row_deliver_it_once(customer, agent, settings, smtp_server):
    settings.AFTERSALES_SMTP_URL = smtp_server.url
    smtp_server.start()
    ticket = open_ticket(customer, agent)
    receipt = OutboundEmail.objects.get(ticket=ticket)

    results = [outbound_send(outbound_id=receipt.pk) for _ in range(2)]

    assert sorted(results) == ["sent", "skipped"]
    assert len(smtp_server.recorder.messages) == 1


def test_a_message_failing_too_often_is_marked_failed(customer, agent, settings, smtp_server):
    settings.AFTERSALES_SMTP_URL = smtp_server.url  # never started
    ticket = open_ticket(customer, agent)
    receipt = OutboundEmail.objects.get(ticket=ticket)
    OutboundEmail.objects.filter(pk=receipt.pk).update(attempts=MAX_ATTEMPTS - 1)

    assert outbound_send(outbound_id=receipt.pk) == "failed"
    receipt.refresh_from_db()
    assert receipt.status == OutboundStatus.FAILED and receipt.attempts == MAX_ATTEMPTS


def test_a_row_left_sending_by_a_killed_worker_is_sent_again_once_its_lease_ends(
    customer, agent, settings, smtp_server
):
    settings.AFTERSALES_SMTP_URL = f"{smtp_server.url}?timeout=10"
    smtp_server.start()
    lease = sending_lease()
    assert lease == dt.timedelta(seconds=60)  # 3 × the SMTP timeout + 30 s
    with time_machine.travel(START, tick=False) as clock:
        ticket = open_ticket(customer, agent)
        receipt = OutboundEmail.objects.get(ticket=ticket)
        # A worker claimed the row and was killed before the SMTP transaction ended.
        OutboundEmail.objects.filter(pk=receipt.pk).update(
            status=OutboundStatus.SENDING, claimed_at=START, attempts=1
        )
        clock.shift(lease - dt.timedelta(seconds=1))
        # Within the lease the holder may still be alive: neither a task nor the sweep takes it.
        assert outbound_send(outbound_id=receipt.pk) == "skipped"
        assert outbound_due_for_sending() == []
        clock.shift(dt.timedelta(seconds=2))
        assert outbound_due_for_sending() == [receipt.pk]
        receipt.refresh_from_db()
        assert (receipt.status, receipt.next_attempt_at) == (OutboundStatus.QUEUED, timezone.now())
        assert outbound_send(outbound_id=receipt.pk) == "sent"
        assert outbound_send(outbound_id=receipt.pk) == "skipped"
    receipt.refresh_from_db()
    assert receipt.status == OutboundStatus.SENT and receipt.attempts == 2
    assert len(smtp_server.recorder.messages) == 1


class Refusing(Recorder):
    """An SMTP server answering ``rcpt``/``data`` with a fixed reply (greylisting: 450 at RCPT)."""

    def __init__(self, rcpt: str = "", data: str = ""):
        super().__init__()
        self.rcpt_reply, self.data_reply = rcpt, data

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.data_reply:
            return self.data_reply
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.parametrize(
    ("rcpt", "data", "expected"),
    [
        ("450 4.2.0 Greylisted, please try again later", "", "retry"),
        ("451 4.7.1 Try again later", "", "retry"),
        ("550 5.1.1 No such user", "", "failed"),
        ("", "451 4.3.0 Temporary local problem", "retry"),
        ("", "554 5.7.1 Message refused", "failed"),
    ],
)
def test_a_temporary_smtp_refusal_retries_and_a_permanent_one_fails(
    customer, agent, settings, smtp_server, rcpt, data, expected
):
    refusing = Refusing(rcpt=rcpt, data=data)
    smtp_server.recorder = refusing
    settings.AFTERSALES_SMTP_URL = smtp_server.url
    smtp_server.start()
    with time_machine.travel(START, tick=False) as clock:
        receipt = OutboundEmail.objects.get(ticket=open_ticket(customer, agent))
        assert outbound_send(outbound_id=receipt.pk) == expected
        receipt.refresh_from_db()
        assert (rcpt or data).split()[0] in receipt.last_error
        if expected == "failed":
            assert (receipt.status, receipt.attempts) == (OutboundStatus.FAILED, 1)
            return
        assert receipt.status == OutboundStatus.QUEUED
        assert receipt.next_attempt_at == START + dt.timedelta(seconds=60)
        # The greylisting ends; the retry after the back-off goes through, once.
        refusing.rcpt_reply = refusing.data_reply = ""
        clock.shift(dt.timedelta(seconds=60))
        assert outbound_send(outbound_id=receipt.pk) == "sent"
    assert len(refusing.messages) == 1
    receipt.refresh_from_db()
    assert (receipt.status, receipt.attempts) == (OutboundStatus.SENT, 2)


def test_a_worker_sends_many_e_mails_over_one_connection_and_reconnects_when_it_drops(
    customer, agent, settings, smtp_server
):
    settings.AFTERSALES_SMTP_URL = smtp_server.url
    smtp_server.start()
    smtp_session.close()
    for i in range(4):
        open_ticket(customer, agent, subject=f"request {i}")
    ids = list(OutboundEmail.objects.order_by("id").values_list("id", flat=True))

    assert [outbound_send(outbound_id=i) for i in ids[:3]] == ["sent"] * 3
    assert len(set(smtp_server.recorder.peers)) == 1  # one connection, three e-mails

    # The server restarts (or closes an idle client): RSET finds the connection dead before
    # MAIL FROM, so the next e-mail goes over a new connection, once.
    smtp_server.stop()
    smtp_server.start()
    assert outbound_send(outbound_id=ids[3]) == "sent"
    assert len(smtp_server.recorder.messages) == 4
    assert len(set(smtp_server.recorder.peers)) == 2
    assert {row.status for row in OutboundEmail.objects.all()} == {OutboundStatus.SENT}
    smtp_session.close()


def test_a_refusal_drops_the_connection_and_the_next_e_mail_opens_a_new_one(
    customer, agent, settings, smtp_server
):
    refusing = Refusing(data="451 4.3.0 Temporary local problem")
    smtp_server.recorder = refusing
    settings.AFTERSALES_SMTP_URL = smtp_server.url
    smtp_server.start()
    smtp_session.close()
    first, second = (
        OutboundEmail.objects.get(ticket=open_ticket(customer, agent, subject=s)).pk for s in ("a", "b")
    )
    assert outbound_send(outbound_id=first) == "retry"
    refusing.data_reply = ""
    assert outbound_send(outbound_id=second) == "sent"
    assert len(refusing.messages) == 1
    # A thread whose settings change does not keep talking to the old server.
    settings.AFTERSALES_SMTP_URL = "smtp://127.0.0.1:9"  # nothing listens on the discard port
    OutboundEmail.objects.filter(pk=first).update(next_attempt_at=timezone.now())
    assert outbound_send(outbound_id=first) == "retry"
    assert len(refusing.messages) == 1
    smtp_session.close()


def test_a_redelivered_task_takes_an_abandoned_row_itself_after_the_lease(customer, agent):
    with time_machine.travel(START, tick=False) as clock:
        ticket = open_ticket(customer, agent)
        receipt = OutboundEmail.objects.get(ticket=ticket)
        OutboundEmail.objects.filter(pk=receipt.pk).update(
            status=OutboundStatus.SENDING, claimed_at=START, attempts=1
        )
        clock.shift(sending_lease() + dt.timedelta(seconds=1))
        assert outbound_send(outbound_id=receipt.pk) == "sent"
    receipt.refresh_from_db()
    assert (receipt.status, receipt.attempts) == (OutboundStatus.SENT, 2)


def test_the_sweep_passes_over_rows_whose_own_task_is_probably_still_queued(customer, agent):
    with time_machine.travel(START, tick=False) as clock:
        ticket = open_ticket(customer, agent)
        receipt = OutboundEmail.objects.get(ticket=ticket)
        clock.shift(sending_lease() - dt.timedelta(seconds=1))
        assert outbound_due_for_sending() == []  # queued less than a lease ago
        clock.shift(dt.timedelta(seconds=2))
        # The broker lost the task (Redis restarted empty): the sweep hands the row over again.
        assert outbound_due_for_sending() == [receipt.pk]
        assert outbound_due_for_sending() == []
        # The lost task and the sweep's task may both run: one sends, the other finds it sent.
        assert [outbound_send(outbound_id=receipt.pk) for _ in range(2)] == ["sent", "skipped"]


def test_the_sweep_task_queues_one_send_per_row_in_chunks_and_re_enqueues_itself(
    customer, agent, settings, smtp_server
):
    from aftersales.celery import app
    from aftersales.channels.mail.tasks import send_due

    settings.AFTERSALES_SMTP_URL = smtp_server.url
    smtp_server.start()
    with time_machine.travel(START, tick=False) as clock:
        for i in range(5):
            open_ticket(customer, agent, subject=f"request {i}")
        clock.shift(dt.timedelta(minutes=5))  # every task was lost with the broker's queue
        settings.CELERY_TASK_ALWAYS_EAGER = True
        app.conf.task_always_eager = True
        try:
            # The first step hands over 2 rows and queues the next step, … until a step is short.
            assert send_due(chunk=2) == 2
        finally:
            app.conf.task_always_eager = False
    assert OutboundEmail.objects.filter(status=OutboundStatus.SENT).count() == 5
    assert len(smtp_server.recorder.messages) == 5


def test_notification_is_queued_on_commit_only(customer, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        open_ticket(customer, agent)
    assert len(callbacks) >= 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_on_postgres_and_sqlite_send_once(settings, smtp_server):
    from tests.factories import UserFactory

    settings.AFTERSALES_SMTP_URL = smtp_server.url
    smtp_server.start()
    customer = CustomerFactory(email="c@example.com", language="en")
    agent = UserFactory()
    for i in range(5):
        ticket_open(actor=agent, customer=customer, subject=f"r{i}")
    ids = list(OutboundEmail.objects.values_list("id", flat=True))
    errors: list[BaseException] = []

    def worker():
        from django.db import connection

        try:
            for outbound_id in ids:
                outbound_send(outbound_id=outbound_id)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(smtp_server.recorder.messages) == 5
    assert OutboundEmail.objects.filter(status=OutboundStatus.SENT).count() == 5


def test_the_reply_is_escaped_in_html_and_verbatim_in_text(customer, agent):
    ticket = open_ticket(customer, agent)
    ticket_add_message(ticket=ticket, actor=agent, body='Use the <script>alert("x")</script> valve & reset.')
    reply = OutboundEmail.objects.get(ticket=ticket, kind="reply")
    assert "<script>" not in reply.html
    assert "&lt;script&gt;" in reply.html
    assert 'Use the <script>alert("x")</script> valve & reset.' in reply.text


def test_a_customers_answer_to_a_delivered_reply_comes_back_to_the_ticket(customer, agent, settings):
    ticket = open_ticket(customer, agent)
    ticket_add_message(ticket=ticket, actor=agent, body="Please send a photo.")
    reply = OutboundEmail.objects.get(ticket=ticket, kind="reply")
    assert outbound_send(outbound_id=reply.pk) == "sent"
    sent = email.message_from_bytes(
        (settings.DATA_DIR / "outbox" / f"{reply.message_id}.eml").read_bytes(), policy=policy.default
    )

    answer = (
        f"From: Wang Fang <wangfang@example.com>\nTo: {sent['Reply-To']}\nSubject: Re: {sent['Subject']}\n"
        f"Message-ID: <answer-1@example.com>\nIn-Reply-To: {sent['Message-ID']}\nReferences: {sent['References']} "
        f"{sent['Message-ID']}\nContent-Type: text/plain; charset=utf-8\n\nHere it is.\n\n"
        f"On Tue, Service wrote:\n> Please send a photo.\n"
    ).encode()
    result = inbound_ingest(raw=answer)

    assert result.ticket.pk == ticket.pk
    assert result.inbound.ticket_message.body == "Here it is."
