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
from aftersales.channels.mail.services import inbound_ingest, outbound_send, outbound_send_due
from aftersales.channels.mail.services.outbound import MAX_ATTEMPTS, build_message
from aftersales.tickets.lifecycle import TicketStatus
from aftersales.tickets.services import ticket_add_message, ticket_open, ticket_transition
from tests.factories import ContactFactory, CustomerFactory
from tests.mail.test_intake import mail

pytestmark = pytest.mark.django_db


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
    assert outbound_send_due() == {"sent": 0, "retry": 3, "failed": 0, "skipped": 0}
    rows = list(OutboundEmail.objects.order_by("id"))
    assert {row.status for row in rows} == {OutboundStatus.QUEUED}
    assert all(row.attempts == 1 and "Connection refused" in row.last_error for row in rows)
    assert all(row.next_attempt_at > timezone.now() for row in rows)
    assert outbound_send_due() == {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}  # not due yet
    message_ids = [row.message_id for row in rows]

    smtp_server.start()
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2), tick=True):
        assert outbound_send_due() == {"sent": 3, "retry": 0, "failed": 0, "skipped": 0}
        assert outbound_send_due() == {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
        for outbound_id in ids:
            assert outbound_send(outbound_id=outbound_id) == "skipped"

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


def test_a_row_left_sending_by_a_crashed_worker_is_sent_later(customer, agent):
    ticket = open_ticket(customer, agent)
    receipt = OutboundEmail.objects.get(ticket=ticket)
    OutboundEmail.objects.filter(pk=receipt.pk).update(
        status=OutboundStatus.SENDING, claimed_at=timezone.now() - dt.timedelta(hours=1), attempts=1
    )
    assert outbound_send_due()["sent"] == 1
    receipt.refresh_from_db()
    assert receipt.status == OutboundStatus.SENT and receipt.attempts == 2


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
