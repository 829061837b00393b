"""Shapes of real mail that the intake once got wrong (issue 9, items 1–7), on both databases."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from aftersales.channels.mail.models import InboundEmail, InboundStatus, OutboundEmail
from aftersales.channels.mail.parsing import parse_message, quick_message_id
from aftersales.channels.mail.services import inbound_ingest, inbound_reimport
from aftersales.core.errors import Conflict
from aftersales.core.models import AuditEvent
from aftersales.core.services import api_token_create
from aftersales.tickets.models import Attachment, Ticket, TicketMessage
from tests.mail.test_intake import mail

pytestmark = pytest.mark.django_db

HEAD = b"From: Li Na <lina@example.cn>\nTo: service@lanquan.cn\nDate: Tue, 24 Nov 2026 10:00:00 +0800\n"


# --- 1. Non-ASCII bytes in Message-ID / In-Reply-To / References ------------------------------


def raw_mail(
    headers: bytes, body: bytes = b"body\n", content_type: bytes = b"text/plain; charset=utf-8"
) -> bytes:
    return HEAD + headers + b"MIME-Version: 1.0\nContent-Type: " + content_type + b"\n\n" + body


def test_a_raw_byte_in_the_message_id_is_cleaned_and_the_message_imported():
    raw = raw_mail(b"Subject: E2 fault\nMessage-ID: <ab\xd6c@example.cn>\n", b"The heater shows E2.\n")
    result = inbound_ingest(raw=raw)

    assert result.status == InboundStatus.IMPORTED, result.reason
    assert result.inbound.message_id == "ab%D6c@example.cn"
    assert "E2" in result.ticket.description
    with result.inbound.raw.open("rb") as handle:
        assert handle.read() == raw
    # The customer's reply quotes the same bytes in its threading headers: it lands on the ticket.
    reply = raw_mail(
        b"Subject: Re: E2 fault\nMessage-ID: <reply-1@example.cn>\n"
        b"In-Reply-To: <ab\xd6c@example.cn>\nReferences: <zz\xff\xfe@example.cn> <ab\xd6c@example.cn>\n",
        b"Still broken.\n",
    )
    second = inbound_ingest(raw=reply)
    assert second.status == InboundStatus.IMPORTED, second.reason
    assert second.ticket.pk == result.ticket.pk
    assert second.inbound.ticket_message.body == "Still broken."


def test_an_unparseable_message_keeps_a_clean_message_id():
    raw = b"Message-ID: <q\xe9\xff@example.cn>\nSubject: no sender\n\nbody\n"
    assert quick_message_id(raw) == "q%E9%FF@example.cn"
    result = inbound_ingest(raw=raw)
    assert result.status == InboundStatus.QUARANTINED
    assert result.inbound.message_id == "q%E9%FF@example.cn"


def test_import_again_works_for_a_reply_with_raw_bytes_in_its_references(admin_user, monkeypatch):
    from aftersales.channels.mail.services import intake

    first = inbound_ingest(raw=raw_mail(b"Subject: noisy fan\nMessage-ID: <f\xb0an@example.cn>\n"))
    real = intake.ticket_add_message
    monkeypatch.setattr(intake, "ticket_add_message", lambda **kw: (_ for _ in ()).throw(RuntimeError("bug")))
    reply = raw_mail(
        b"Subject: Re: noisy fan\nMessage-ID: <r2\xd6@example.cn>\nIn-Reply-To: <f\xb0an@example.cn>\n"
        b"References: <f\xb0an@example.cn>\n",
        b"Any news?\n",
    )
    quarantined = inbound_ingest(raw=reply).inbound
    assert quarantined.status == InboundStatus.QUARANTINED
    monkeypatch.setattr(intake, "ticket_add_message", real)

    row = inbound_reimport(inbound=quarantined, actor=admin_user)
    assert row.status == InboundStatus.IMPORTED, row.reason
    assert row.ticket_id == first.ticket.pk
    assert row.message_id == "r2%D6@example.cn"


def test_posting_a_raw_byte_message_id_answers_202(admin_user):
    _token, secret = api_token_create(user=admin_user, name="mail")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    raw = raw_mail(b"Subject: hello\nMessage-ID: <x\xd6y@example.cn>\n")
    response = client.post("/api/v1/mail/inbound", data=raw, content_type="message/rfc822")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "imported"
    assert InboundEmail.objects.get().message_id == "x%D6y@example.cn"


def test_a_message_whose_accept_fails_is_quarantined_not_raised(monkeypatch):
    """Whatever a message does to stage 1, it is kept in quarantine (the poller then moves on)."""
    from aftersales.channels.mail.services import intake

    real = intake.parse_message

    def parse_leaving_a_surrogate(raw: bytes):
        parsed = real(raw)
        parsed.from_address = "broken\udcd6@example.cn"  # not storable: the database refuses it
        return parsed

    monkeypatch.setattr(intake, "parse_message", parse_leaving_a_surrogate)
    result = intake.inbound_accept(raw=mail())
    assert result.status == InboundStatus.QUARANTINED
    assert result.reason.startswith("accept failed")
    assert intake.inbound_accept(raw=mail()).duplicate


def test_a_stage_two_failure_with_an_unstorable_message_never_blocks_the_queue(monkeypatch):
    from aftersales.channels.mail.services import intake

    def explode(**kwargs):
        raise RuntimeError("bad byte \udcd6 and a NUL \x00 in the error")

    real = intake.ticket_open
    monkeypatch.setattr(intake, "ticket_open", explode)
    # Not logged here: pytest-xdist cannot carry a lone surrogate in a captured log between processes.
    monkeypatch.setattr(intake.logger, "disabled", True)
    failed = inbound_ingest(raw=mail(message_id="s1@x"))
    assert failed.status == InboundStatus.QUARANTINED
    assert failed.reason.startswith("import failed: RuntimeError: bad byte ?")
    monkeypatch.setattr(intake, "ticket_open", real)
    assert inbound_ingest(raw=mail(message_id="s2@x", subject="next")).status == InboundStatus.IMPORTED


# --- 2. Auto-replies and bounces by headers and structure --------------------------------------


@pytest.mark.parametrize(
    "subject",
    [
        "自动回复功能怎么关闭？",
        "Vacation mode on my air conditioner turns itself on",
        "退信问题：发给你们的邮件被退回了",
        "Out of office hours support?",
    ],
)
def test_customer_mail_about_auto_replies_becomes_a_ticket(subject):
    result = inbound_ingest(raw=mail(subject=subject, body="请帮忙看看。"))
    assert result.status == InboundStatus.IMPORTED, result.reason
    assert result.ticket.subject == subject
    assert OutboundEmail.objects.filter(ticket=result.ticket, kind="received").exists()


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("Auto-Submitted: auto-replied", "auto-submitted: auto-replied"),
        ("X-Autoreply: yes", "auto-reply header X-Autoreply"),
        ("X-Autorespond: on", "auto-reply header X-Autorespond"),
        ("Precedence: auto_reply", "precedence: auto_reply"),
        ("Precedence: junk", "precedence: junk"),
        ("Return-Path: <>", "bounce: null return path"),
    ],
)
def test_auto_replies_are_recognised_by_their_headers(headers, reason):
    result = inbound_ingest(raw=mail(subject="您的来信已收到", headers=headers))
    assert result.status == InboundStatus.IGNORED
    assert result.reason == reason


def test_bounces_are_recognised_by_structure_and_sender():
    report = (
        b"From: Mail Delivery Subsystem <mailer-daemon@mx.example.cn>\nSubject: Returned mail\n"
        b"Message-ID: <dsn-1@mx.example.cn>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\n\n'
        b"--r\nContent-Type: text/plain\n\nDelivery failed.\n"
        b"--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.cn\n\n"
        b"Final-Recipient: rfc822; nobody@example.com\nAction: failed\nStatus: 5.1.1\n--r--\n"
    )
    assert inbound_ingest(raw=report).reason == "bounce: delivery report"
    plain = mail(sender="MAILER-DAEMON@mx.example.cn", subject="投递失败", message_id="d2@example.cn")
    assert inbound_ingest(raw=plain).reason == "bounce: sender mailer-daemon"
    listed = mail(
        subject="Out of Office: back Monday", headers="List-Id: <staff.example.com>", message_id="l1@x"
    )
    assert inbound_ingest(raw=listed).reason == "auto-reply subject with List-Id"
    assert Ticket.objects.count() == 0


def test_an_ignored_message_can_be_imported_again_by_an_admin(admin_user):
    ignored = inbound_ingest(
        raw=mail(subject="Out of office", headers="Auto-Submitted: auto-replied")
    ).inbound
    assert ignored.status == InboundStatus.IGNORED

    row = inbound_reimport(inbound=ignored, actor=admin_user)
    assert row.status == InboundStatus.IMPORTED and row.ticket is not None
    event = AuditEvent.objects.get(action="mail.inbound.reimport")
    assert event.before == {"status": "ignored"}

    with pytest.raises(Conflict) as error:
        inbound_reimport(inbound=row, actor=admin_user)
    assert "someone else" not in str(error.value.message)
    assert "quarantined or ignored" in str(error.value.message) or "隔离" in str(error.value.message)


def test_the_console_offers_import_again_for_ignored_mail(admin_user):
    ignored = inbound_ingest(raw=mail(headers="X-Autoreply: yes")).inbound
    client = Client()
    client.force_login(admin_user)
    page = client.get("/mail/quarantine/?status=ignored")
    assert f"/mail/quarantine/{ignored.pk}/reimport/" in page.content.decode()
    response = client.post(f"/mail/quarantine/{ignored.pk}/reimport/")
    assert response.status_code == 302
    ignored.refresh_from_db()
    assert ignored.status == InboundStatus.IMPORTED


# --- 3. Duplicates are the same bytes, not the same Message-ID --------------------------------


def test_a_different_message_reusing_a_message_id_is_kept_and_imported():
    first = inbound_ingest(
        raw=mail(subject="洗衣机不转", body="洗衣机不转了。", message_id="reused@example.cn")
    )
    second = inbound_ingest(
        raw=mail(subject="冰箱不制冷", body="冰箱不制冷。", message_id="reused@example.cn")
    )

    assert not second.duplicate and second.status == InboundStatus.IMPORTED
    assert first.ticket.pk != second.ticket.pk
    assert InboundEmail.objects.count() == 2
    assert {row.message_id for row in InboundEmail.objects.all()} == {"reused@example.cn"}
    # Threading still works: a reply to that id lands on a ticket that carries it (the newest).
    reply = inbound_ingest(
        raw=mail(
            subject="Re: 冰箱不制冷",
            body="还是不行",
            message_id="r@example.cn",
            headers="In-Reply-To: <reused@example.cn>",
        )
    )
    assert reply.ticket.pk == second.ticket.pk
    assert reply.inbound.ticket_message is not None
    # The same bytes again are a duplicate.
    again = inbound_ingest(
        raw=mail(subject="冰箱不制冷", body="冰箱不制冷。", message_id="reused@example.cn")
    )
    assert again.duplicate and again.inbound.pk == second.inbound.pk
    assert Ticket.objects.count() == 2


def test_rows_stored_under_the_old_message_id_key_still_deduplicate_their_bytes():
    raw = mail(message_id="legacy@example.cn")
    first = inbound_ingest(raw=raw).inbound
    InboundEmail.objects.filter(pk=first.pk).update(dedupe_key="mid:legacy@example.cn")
    again = inbound_ingest(raw=raw)
    assert again.duplicate and again.inbound.pk == first.pk


# --- 4. Multipart whose boundary is missing or never appears ----------------------------------


@pytest.mark.parametrize(
    "content_type",
    [b"multipart/alternative;", b'multipart/alternative; boundary="never-there"', b"multipart/mixed"],
)
def test_multipart_without_a_usable_boundary_keeps_its_text(content_type):
    body = "您好，空调外机噪音很大，麻烦安排师傅看看。\n电话 13800000000\n".encode()
    raw = raw_mail(b"Subject: noise\nMessage-ID: <nb@example.cn>\n", body, content_type)
    parsed = parse_message(raw)
    assert parsed.attachments == []
    assert "空调外机噪音很大" in parsed.text

    result = inbound_ingest(raw=raw)
    assert result.status == InboundStatus.IMPORTED and result.reason == ""
    assert "空调外机噪音很大" in result.ticket.description
    assert not Attachment.objects.exists()


# --- 5. Office and archive attachments; refusals said on the thread ---------------------------

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 56
FILES = [
    ("报修单.doc", "application/msword", OLE),
    ("清单.xls", "application/vnd.ms-excel", OLE),
    ("演示.ppt", "application/octet-stream", OLE),
    ("照片.rar", "application/x-rar-compressed", b"Rar!\x1a\x07\x01\x00" + b"\x00" * 32),
    ("日志.7z", "application/octet-stream", b"7z\xbc\xaf\x27\x1c" + b"\x00" * 32),
    ("故障.bmp", "image/bmp", b"BM" + b"\x00" * 60),
    (
        "签名.asc",
        "application/pgp-signature",
        b"-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n",
    ),
    ("明细.csv", "application/vnd.ms-excel", "型号,数量\nKFR-35,2\n".encode("gb18030")),
    ("资料.zip", "application/x-zip-compressed", b"PK\x03\x04" + b"\x00" * 40),
    ("报告.docx", "application/octet-stream", b"PK\x03\x04" + b"\x00" * 40),
    (
        "表格.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        b"PK\x03\x04" + b"\x00" * 40,
    ),
    ("说明.txt", "text/plain", "机器型号 KFR-35".encode("gbk")),
]


def multipart_with(files: list[tuple[str, str, bytes]]) -> bytes:
    parts = [
        b"--b\nContent-Type: text/plain; charset=utf-8\n\n\xe9\x99\x84\xe4\xbb\xb6\xe8\xa7\x81\xe4\xb8\x8b\n"
    ]
    for name, content_type, data in files:
        encoded = base64.encodebytes(data)
        parts.append(
            f"--b\nContent-Type: {content_type}\nContent-Transfer-Encoding: base64\n"
            f"Content-Disposition: attachment; filename*=UTF-8''{_pct(name)}\n\n".encode()
            + encoded
        )
    return raw_mail(
        b"Subject: files\nMessage-ID: <files@example.cn>\n",
        b"".join(parts) + b"--b--\n",
        b'multipart/mixed; boundary="b"',
    )


def _pct(name: str) -> str:
    from urllib.parse import quote

    return quote(name.encode())


def test_office_and_archive_attachments_are_accepted_and_served_as_downloads(admin_user):
    files = [*FILES, ("setup.exe", "application/x-msdownload", b"MZ" + b"\x00" * 60)]
    result = inbound_ingest(raw=multipart_with(files))
    assert result.status == InboundStatus.IMPORTED
    names = set(Attachment.objects.filter(ticket=result.ticket).values_list("original_name", flat=True))
    assert names == {name for name, _type, _data in FILES}
    # The refusal is said on the thread, for the agents: which file, and why.
    note = TicketMessage.objects.get(ticket=result.ticket, kind=TicketMessage.Kind.NOTE)
    assert "setup.exe" in note.body and len(note.body.splitlines()) == 2
    assert "unsupported_media_type" in result.reason

    client = Client()
    client.force_login(admin_user)
    _token, secret = api_token_create(user=admin_user, name="files")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    for attachment in Attachment.objects.filter(ticket=result.ticket):
        for response in (
            client.get(f"/attachments/{attachment.pk}/"),
            api.get(f"/api/v1/tickets/{result.ticket.number}/attachments/{attachment.pk}"),
        ):
            assert response.status_code == 200
            assert response["Content-Disposition"].startswith("attachment;")
            assert response["X-Content-Type-Options"] == "nosniff"
            assert b"".join(response.streaming_content) == attachment.file.open("rb").read()


def test_a_renamed_executable_is_still_refused():
    result = inbound_ingest(
        raw=multipart_with([("manual.doc", "application/msword", b"MZ\x90\x00" + b"\x00" * 60)])
    )
    assert not Attachment.objects.exists()
    note = TicketMessage.objects.get(ticket=result.ticket, kind=TicketMessage.Kind.NOTE)
    assert "manual.doc" in note.body


# --- 6. 7-bit charsets --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("charset", "body", "text"),
    [
        ("HZ-GB-2312", b"~{Dc:C#,HHK.Fw;5AK~}", "你好，热水器坏了"),
        ("ISO-2022-JP", b"\x1b$B=$M}$r$*4j$$$7$^$9\x1b(B", "修理をお願いします"),
        ("ISO-2022-KR", b"\x1b$)C\x0e>H3gGO<<?d\x0f", "안녕하세요"),
        ("UTF-7", b"Gr+APwA3w-e +T2BZfQ-", "Grüße 你好"),
    ],
)
def test_seven_bit_charsets_are_decoded(charset, body, text):
    raw = raw_mail(b"Subject: x\n", body + b"\n", f"text/plain; charset={charset}".encode())
    assert parse_message(raw).text == text


def test_seven_bit_encoded_word_subject():
    raw = raw_mail(b"Subject: =?HZ-GB-2312?B?fntEYzpDfn0=?= =?ISO-2022-JP?B?GyRCPSRNfRsoQg==?=\n")
    assert parse_message(raw).subject == "你好修理"


# --- 7. RFC 2231 file names split in the middle of a character --------------------------------


def test_rfc2231_continuations_split_mid_character_come_out_whole():
    raw = raw_mail(
        b"Subject: photo\n",
        b"--b\nContent-Type: text/plain\n\nsee photo\n--b\nContent-Type: image/png\n"
        b"Content-Disposition: attachment;\n filename*0*=utf-8''%E6%95%85%E9%9A%9C%E7%85%A7%E7%89%87%E6;\n"
        b" filename*1*=%A0%B7%E4%BE%8B.png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgoAAAAA\n--b--\n",
        b'multipart/mixed; boundary="b"',
    )
    assert [a.filename for a in parse_message(raw).attachments] == ["故障照片样例.png"]


def test_rfc2231_name_in_gbk_split_mid_character_across_three_sections():
    raw = raw_mail(
        b"Subject: photo\n",
        b"--b\nContent-Type: text/plain\n\nsee\n--b\nContent-Type: image/png\nContent-Disposition: attachment;\n"
        b" filename*0*=gb2312''%B9%CA%D5%CF%D5;\n filename*1*=%D5%C6%AC%D1%F9;\n filename*2*=%C0%FD.png\n"
        b"Content-Transfer-Encoding: base64\n\niVBORw0KGgoAAAAA\n--b--\n",
        b'multipart/mixed; boundary="b"',
    )
    assert [a.filename for a in parse_message(raw).attachments] == ["故障照片样例.png"]


def test_rfc2231_name_in_gb2312_split_across_sections():
    raw = raw_mail(
        b"Subject: photo\n",
        b"--b\nContent-Type: text/plain\n\nsee\n--b\nContent-Type: application/pdf;\n"
        b" name*0*=gb2312''%B7%A2%C6; name*1*=%B1.pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n--b--\n",
        b'multipart/mixed; boundary="b"',
    )
    assert [a.filename for a in parse_message(raw).attachments] == ["发票.pdf"]
