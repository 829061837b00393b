"""The intake pipeline: tickets, replies, threading, loops, quarantine, dedupe."""

from __future__ import annotations

import hashlib

import pytest

from aftersales.channels.mail.models import InboundEmail, InboundStatus, Mailbox, OutboundEmail
from aftersales.channels.mail.services import inbound_discard, inbound_ingest, inbound_reimport
from aftersales.core.errors import Conflict, PermissionDenied
from aftersales.core.models import AuditEvent
from aftersales.customers.models import Customer
from aftersales.tickets.lifecycle import TicketStatus
from aftersales.tickets.models import Attachment, Channel, Ticket, TicketLink, TicketMessage
from aftersales.tickets.services import ticket_transition
from tests.factories import TeamFactory
from tests.mail.conftest import corpus

pytestmark = pytest.mark.django_db


def mail(
    *,
    sender: str = "Wang Fang <wangfang@example.com>",
    subject: str = "热水器漏水",
    body: str = "热水器底部漏水，请安排维修。",
    message_id: str = "m1@example.com",
    headers: str = "",
) -> bytes:
    extra = f"{headers.strip()}\n" if headers.strip() else ""
    return (
        f"From: {sender}\nTo: service@lanquan.cn\nSubject: {subject}\nMessage-ID: <{message_id}>\n"
        f"Date: Tue, 24 Nov 2026 10:00:00 +0800\n{extra}MIME-Version: 1.0\n"
        f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{body}\n"
    ).encode()


@pytest.fixture
def mailbox():
    return Mailbox.objects.create(name="support", address="service@lanquan.cn", team=TeamFactory())


def test_first_contact_creates_customer_and_email_ticket(mailbox):
    result = inbound_ingest(raw=corpus("01_gb2312_plain.eml"), mailbox=mailbox)

    assert result.status == InboundStatus.IMPORTED and not result.duplicate
    ticket = result.ticket
    assert ticket.channel == Channel.EMAIL
    assert ticket.subject == "热水器不出热水，请尽快上门维修"
    assert "显示故障代码 E1" in ticket.description
    assert ticket.team_id == mailbox.team_id
    assert ticket.customer.name == "张三"
    assert ticket.customer.email == "zhangsan@example.cn"
    assert ticket.contact.email == "zhangsan@example.cn"
    row = InboundEmail.objects.get()
    assert (row.ticket_id, row.mailbox_id, row.from_address) == (ticket.pk, mailbox.pk, "zhangsan@example.cn")
    assert row.dedupe_key == "sha256:" + hashlib.sha256(corpus("01_gb2312_plain.eml")).hexdigest()
    assert row.message_id == "20261123091200.1A2B3C@example.cn"
    with row.raw.open("rb") as handle:
        assert handle.read() == corpus("01_gb2312_plain.eml")
    # The customer hears that the request was received, answering their e-mail.
    receipt = OutboundEmail.objects.get(ticket=ticket)
    assert receipt.kind == "received" and receipt.to_address == "zhangsan@example.cn"
    assert receipt.in_reply_to == "20261123091200.1A2B3C@example.cn"


def test_the_same_message_twice_is_imported_once(mailbox):
    first = inbound_ingest(raw=corpus("05_html_only.eml"), mailbox=mailbox)
    second = inbound_ingest(raw=corpus("05_html_only.eml"), mailbox=mailbox)

    assert second.duplicate and second.inbound.pk == first.inbound.pk
    assert Ticket.objects.count() == 1
    assert InboundEmail.objects.count() == 1


def test_a_message_without_message_id_is_deduplicated_by_its_bytes():
    raw = b"From: a@example.com\nSubject: no id\n\nhello\n"
    first = inbound_ingest(raw=raw)
    second = inbound_ingest(raw=raw)
    assert first.inbound.dedupe_key.startswith("sha256:")
    assert second.duplicate
    assert Ticket.objects.count() == 1


def test_existing_customer_is_recognised_by_address():
    existing = Customer.objects.create(code="C9", name="老客户", email="wangfang@example.com")
    existing.contacts.create(name="老客户", email="wangfang@example.com", is_primary=True)
    result = inbound_ingest(raw=mail())
    assert result.ticket.customer_id == existing.pk
    assert Customer.objects.count() == 1


def test_reply_by_in_reply_to_our_notification_lands_on_the_ticket():
    ticket = inbound_ingest(raw=mail()).ticket
    receipt = OutboundEmail.objects.get(ticket=ticket)

    reply = mail(
        subject="Re: 热水器漏水",
        body="周二下午在家。\n\nOn Tue, Service <service@lanquan.cn> wrote:\n> 何时方便？",
        message_id="m2@example.com",
        headers=f"In-Reply-To: <{receipt.message_id}>\nReferences: <m1@example.com> <{receipt.message_id}>",
    )
    result = inbound_ingest(raw=reply)

    assert result.ticket.pk == ticket.pk
    message = TicketMessage.objects.get(ticket=ticket)
    assert message.body == "周二下午在家。"
    assert message.is_from_customer and message.channel == Channel.EMAIL
    assert result.inbound.ticket_message_id == message.pk
    assert Ticket.objects.count() == 1


def test_reply_referencing_an_earlier_inbound_message_lands_on_the_ticket():
    ticket = inbound_ingest(raw=mail()).ticket
    result = inbound_ingest(
        raw=mail(
            message_id="m3@example.com", body="补充：型号 JSQ-16", headers="References: <m1@example.com>"
        )
    )
    assert result.ticket.pk == ticket.pk


def test_reply_by_ticket_number_in_the_subject_from_the_customer():
    ticket = inbound_ingest(raw=mail()).ticket
    result = inbound_ingest(
        raw=mail(subject=f"回复：工单 {ticket.number} 的进度", message_id="m4@example.com")
    )
    assert result.ticket.pk == ticket.pk
    bracketed = inbound_ingest(raw=mail(subject=f"Re: [{ticket.number}] x", message_id="m5@example.com"))
    assert bracketed.ticket.pk == ticket.pk


def test_ticket_number_from_a_stranger_opens_a_new_ticket():
    ticket = inbound_ingest(raw=mail()).ticket
    result = inbound_ingest(
        raw=mail(sender="someone@else.example", subject=f"[{ticket.number}] hijack", message_id="m6@x")
    )
    assert result.ticket.pk != ticket.pk
    assert not TicketMessage.objects.filter(ticket=ticket).exists()


def test_reply_to_a_closed_ticket_opens_a_linked_new_ticket(admin_user):
    ticket = inbound_ingest(raw=mail()).ticket
    for status in (TicketStatus.ACCEPTED, TicketStatus.RESOLVED, TicketStatus.CLOSED):
        ticket_transition(ticket=ticket, actor=admin_user, to_status=status)

    result = inbound_ingest(
        raw=mail(
            subject="Re: 热水器漏水",
            body="又漏了",
            message_id="m7@x",
            headers="In-Reply-To: <m1@example.com>",
        )
    )

    assert result.ticket.pk != ticket.pk
    assert result.ticket.description == "又漏了"
    assert TicketLink.objects.filter(from_ticket=result.ticket, to_ticket=ticket).exists()


def test_reply_to_a_resolved_ticket_reopens_it(admin_user):
    ticket = inbound_ingest(raw=mail()).ticket
    for status in (TicketStatus.ACCEPTED, TicketStatus.RESOLVED):
        ticket_transition(ticket=ticket, actor=admin_user, to_status=status)

    inbound_ingest(raw=mail(body="还是不行", message_id="m8@x", headers="In-Reply-To: <m1@example.com>"))

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.REOPENED


@pytest.mark.parametrize(
    "name",
    ["14_autoreply_zh.eml", "15_autoreply_outlook.eml", "16_bounce.eml", "17_precedence_bulk.eml"],
)
def test_auto_replies_and_bounces_are_ignored_with_a_reason(name):
    result = inbound_ingest(raw=corpus(name))
    assert result.status == InboundStatus.IGNORED
    assert result.reason
    assert Ticket.objects.count() == 0
    assert OutboundEmail.objects.count() == 0


def test_mail_from_our_own_address_and_our_loop_header_is_ignored(mailbox):
    own = inbound_ingest(raw=mail(sender="service@lanquan.cn", message_id="own@x"))
    looped = inbound_ingest(raw=mail(message_id="loop@x", headers="X-Loop: aftersales@lanquan.cn"))
    assert (own.status, own.reason) == (InboundStatus.IGNORED, "mail from our own address")
    assert (looped.status, looped.reason) == (InboundStatus.IGNORED, "mail loop: our X-Loop header")
    assert Ticket.objects.count() == 0


def test_a_sender_flooding_us_is_ignored_past_the_limit(settings):
    settings.AFTERSALES_MAIL_SENDER_LIMIT = 3
    results = [inbound_ingest(raw=mail(message_id=f"flood{i}@x", subject=f"s{i}")) for i in range(5)]
    assert [r.status for r in results] == ["imported"] * 3 + ["ignored"] * 2
    assert results[-1].reason.startswith("sender rate limit")


def test_attachments_and_inline_images_become_ticket_attachments():
    image = inbound_ingest(raw=corpus("06_inline_image.eml"))
    files = inbound_ingest(raw=corpus("07_attachments.eml"))

    assert list(
        Attachment.objects.filter(ticket=image.ticket).values_list("original_name", "content_type")
    ) == [("photo.png", "image/png")]
    assert list(
        Attachment.objects.filter(ticket=files.ticket).values_list("original_name", "content_type")
    ) == [("发票.pdf", "application/pdf")]
    # The executable is refused, and the inbound record says so; the raw source still has it.
    assert "setup.exe" in files.reason and "unsupported_media_type" in files.reason


def test_attachment_on_a_reply_belongs_to_the_reply_message():
    ticket = inbound_ingest(raw=mail(sender="Sun Wei <sunwei@example.com>")).ticket
    raw = corpus("07_attachments.eml").replace(
        b"Message-ID: <attachments-0001@example.com>",
        b"Message-ID: <attachments-0002@example.com>\nIn-Reply-To: <m1@example.com>",
    )
    result = inbound_ingest(raw=raw)
    assert result.ticket.pk == ticket.pk
    attachment = Attachment.objects.get(ticket=ticket)
    assert attachment.message_id == result.inbound.ticket_message_id


@pytest.mark.parametrize("name", ["18_malformed_no_from.eml", "19_malformed_garbage.eml"])
def test_unreadable_mail_is_quarantined_with_its_source(name):
    result = inbound_ingest(raw=corpus(name))
    assert result.status == InboundStatus.QUARANTINED
    assert result.reason.startswith("cannot be parsed")
    with result.inbound.raw.open("rb") as handle:
        assert handle.read() == corpus(name)
    assert Ticket.objects.count() == 0


def test_broken_mime_is_still_imported():
    result = inbound_ingest(raw=corpus("20_malformed_broken_mime.eml"))
    assert result.status == InboundStatus.IMPORTED
    assert result.ticket.subject.startswith("洗衣机中断")


def test_oversized_mail_is_quarantined(settings):
    settings.AFTERSALES_MAIL_MAX_BYTES = 1000
    result = inbound_ingest(raw=mail(body="x" * 2000))
    assert result.status == InboundStatus.QUARANTINED
    assert result.reason.startswith("too large")


def test_a_failure_while_importing_rolls_back_and_quarantines(monkeypatch):
    from aftersales.channels.mail.services import intake

    def explode(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(intake, "ticket_open", explode)
    result = inbound_ingest(raw=mail())

    assert result.status == InboundStatus.QUARANTINED
    assert "disk on fire" in result.reason
    assert Ticket.objects.count() == 0
    assert Customer.objects.count() == 0  # the customer created before the failure rolled back too
    assert InboundEmail.objects.count() == 1


def test_import_again_and_discard_are_admin_actions_and_audited(admin_user, agent, monkeypatch):
    from aftersales.channels.mail.services import intake

    real = intake.ticket_open
    monkeypatch.setattr(intake, "ticket_open", lambda **kw: (_ for _ in ()).throw(RuntimeError("bug")))
    quarantined = inbound_ingest(raw=mail()).inbound
    garbage = inbound_ingest(raw=corpus("19_malformed_garbage.eml")).inbound
    monkeypatch.setattr(intake, "ticket_open", real)

    with pytest.raises(PermissionDenied):
        inbound_reimport(inbound=quarantined, actor=agent)
    row = inbound_reimport(inbound=quarantined, actor=admin_user)
    assert row.status == InboundStatus.IMPORTED and row.ticket is not None
    assert AuditEvent.objects.filter(action="mail.inbound.reimport", actor=admin_user).count() == 1
    with pytest.raises(Conflict):
        inbound_reimport(inbound=row, actor=admin_user)

    still = inbound_reimport(inbound=garbage, actor=admin_user)
    assert still.status == InboundStatus.QUARANTINED and still.reason.startswith("import again failed")

    with pytest.raises(PermissionDenied):
        inbound_discard(inbound=garbage, actor=agent)
    discarded = inbound_discard(inbound=garbage, actor=admin_user)
    assert discarded.status == InboundStatus.DISCARDED
    assert AuditEvent.objects.filter(action="mail.inbound.discard").count() == 1
    with pytest.raises(Conflict):
        inbound_discard(inbound=garbage, actor=admin_user)


def test_every_corpus_message_ends_in_a_known_state():
    from tests.mail.conftest import corpus_files

    outcomes = {path.name: inbound_ingest(raw=path.read_bytes()).status for path in corpus_files()}
    assert outcomes["18_malformed_no_from.eml"] == "quarantined"
    assert outcomes["16_bounce.eml"] == "ignored"
    assert outcomes["03_big5.eml"] == "imported"
    assert InboundEmail.objects.count() == len(outcomes)
