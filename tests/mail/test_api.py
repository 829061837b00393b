"""The HTTP intake, the quarantine list in the API and in the console."""

from __future__ import annotations

import pytest
from django.test import Client

from aftersales.channels.mail.models import InboundEmail, InboundStatus
from aftersales.core.models import AuditEvent
from aftersales.core.roles import Role
from aftersales.core.services import api_token_create
from aftersales.tickets.models import Ticket
from tests.factories import UserFactory
from tests.mail.conftest import corpus
from tests.mail.test_intake import mail

pytestmark = pytest.mark.django_db


def bearer_client(user) -> Client:
    _token, raw = api_token_create(user=user, name="mail")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def post_raw(client: Client, raw: bytes, content_type: str = "message/rfc822"):
    return client.post("/api/v1/mail/inbound", data=raw, content_type=content_type)


def test_posting_raw_mime_opens_a_ticket(admin_user):
    client = bearer_client(admin_user)
    response = post_raw(client, corpus("03_big5.eml"))

    assert response.status_code == 202, response.content
    body = response.json()
    ticket = Ticket.objects.get()
    assert body == {
        "id": InboundEmail.objects.get().pk,
        "status": "imported",
        "duplicate": False,
        "ticket": ticket.number,
        "reason": "",
    }
    again = post_raw(client, corpus("03_big5.eml"), content_type="text/plain")
    assert again.status_code == 202 and again.json()["duplicate"] is True
    assert Ticket.objects.count() == 1


def test_posting_garbage_quarantines_it(admin_user):
    response = post_raw(
        bearer_client(admin_user), corpus("19_malformed_garbage.eml"), "application/octet-stream"
    )
    assert response.status_code == 202
    assert response.json()["status"] == "quarantined"


def test_empty_body_is_422(admin_user):
    response = post_raw(bearer_client(admin_user), b"   ")
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


def test_oversized_body_is_413(admin_user, settings):
    settings.AFTERSALES_MAIL_MAX_BYTES = 500
    response = post_raw(bearer_client(admin_user), mail(body="x" * 1000))
    assert response.status_code == 413
    assert InboundEmail.objects.count() == 0


def test_intake_needs_the_mail_ingest_capability(agent):
    response = post_raw(bearer_client(agent), mail())
    assert response.status_code == 403
    assert InboundEmail.objects.count() == 0
    anonymous = Client().post("/api/v1/mail/inbound", data=mail(), content_type="message/rfc822")
    assert anonymous.status_code == 401
    assert InboundEmail.objects.count() == 0


def test_quarantine_list_for_admins_only(admin_user, agent):
    client = bearer_client(admin_user)
    post_raw(client, corpus("18_malformed_no_from.eml"))
    post_raw(client, corpus("19_malformed_garbage.eml"))
    post_raw(client, mail())

    response = client.get("/api/v1/mail/quarantine", {"limit": 1})
    assert response.status_code == 200
    page = response.json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    second = client.get("/api/v1/mail/quarantine", {"limit": 1, "cursor": page["next_cursor"]}).json()
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    subjects = {page["items"][0]["subject"], second["items"][0]["subject"]}
    assert "no sender here" in subjects
    assert all(item["status"] == "quarantined" for item in page["items"] + second["items"])
    imported = client.get("/api/v1/mail/quarantine", {"status": "imported"}).json()["items"]
    assert [item["ticket"] for item in imported] == [Ticket.objects.get().number]

    assert bearer_client(agent).get("/api/v1/mail/quarantine").status_code == 403
    assert client.get("/api/v1/mail/quarantine", {"limit": 0}).status_code == 422
    assert client.get("/api/v1/mail/quarantine", {"cursor": "junk"}).status_code == 422


def test_quarantine_list_query_count(admin_user, django_assert_max_num_queries):
    client = bearer_client(admin_user)
    for index in range(5):
        post_raw(client, f"garbage {index}".encode())
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/mail/quarantine")
    assert len(response.json()["items"]) == 5


def test_console_quarantine_page_download_reimport_and_discard(admin_user, agent, monkeypatch):
    from aftersales.channels.mail.services import inbound_ingest, intake

    real = intake.ticket_open
    monkeypatch.setattr(intake, "ticket_open", lambda **kw: (_ for _ in ()).throw(RuntimeError("bug")))
    broken = inbound_ingest(raw=mail()).inbound
    monkeypatch.setattr(intake, "ticket_open", real)
    garbage = inbound_ingest(raw=corpus("19_malformed_garbage.eml")).inbound

    staff = Client(HTTP_ACCEPT_LANGUAGE="en")
    staff.force_login(agent)
    assert staff.get("/mail/quarantine/").status_code == 403
    assert staff.get(f"/mail/quarantine/{garbage.pk}/raw/").status_code == 403
    assert staff.post(f"/mail/quarantine/{garbage.pk}/discard/").status_code == 403
    assert InboundEmail.objects.get(pk=garbage.pk).status == InboundStatus.QUARANTINED

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(admin_user)
    page = client.get("/mail/quarantine/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "邮件隔离区" in html and "重新导入" in html and "bug" in html

    console = client.get("/console/")
    assert console.status_code == 200 and 'href="/mail/quarantine/"' in console.content.decode()
    assert 'href="/mail/quarantine/"' not in staff.get("/console/").content.decode()

    download = client.get(f"/mail/quarantine/{garbage.pk}/raw/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == corpus("19_malformed_garbage.eml")

    assert client.post(f"/mail/quarantine/{broken.pk}/reimport/").status_code == 302
    broken.refresh_from_db()
    assert broken.status == InboundStatus.IMPORTED and broken.ticket is not None

    assert client.post(f"/mail/quarantine/{garbage.pk}/discard/").status_code == 302
    garbage.refresh_from_db()
    assert garbage.status == InboundStatus.DISCARDED
    assert AuditEvent.objects.filter(action="mail.inbound.discard", actor=admin_user).exists()
    assert client.get("/mail/quarantine/999999/raw/").status_code == 404


def test_django_admin_lists_mail(admin_user):
    client = Client()
    client.force_login(admin_user)
    for path in ("/admin/mail/mailbox/", "/admin/mail/inboundemail/", "/admin/mail/outboundemail/"):
        assert client.get(path).status_code == 200, path


def test_supervisor_cannot_ingest(db):
    supervisor = UserFactory(role=Role.SUPERVISOR)
    assert post_raw(bearer_client(supervisor), mail()).status_code == 403


def big_mail(attachment_bytes: int) -> bytes:
    """A message with one PDF of ``attachment_bytes``, base64 in 76-character lines as clients send it."""
    import base64

    data = b"%PDF-1.4\n" + b"\x00" * (attachment_bytes - 9)
    return (
        b"From: Zhou Min <zhoumin@example.cn>\r\nTo: service@lanquan.cn\r\nSubject: big scan\r\n"
        b"Message-ID: <big@example.cn>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n'
        b"scan attached\r\n--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="scan.pdf"\r\n\r\n'
        + base64.encodebytes(data).replace(b"\n", b"\r\n")
        + b"--b--\r\n"
    )


def test_a_mail_with_the_largest_allowed_attachment_can_be_posted(admin_user, settings):
    limit = settings.AFTERSALES_ATTACHMENT_MAX_BYTES
    assert limit == 10 * 1024 * 1024
    raw = big_mail(limit)
    assert len(raw) > settings.AFTERSALES_MAX_REQUEST_BYTES  # bigger than every other request may be

    response = post_raw(bearer_client(admin_user), raw)

    assert response.status_code == 202, response.content[:300]
    assert response.json()["status"] == "imported" and response.json()["reason"] == ""
    from aftersales.tickets.models import Attachment

    assert Attachment.objects.get().size == limit


def test_the_mail_endpoint_limit_still_answers_json_413_and_other_paths_keep_theirs(admin_user, settings):
    mail_limit = settings.AFTERSALES_MAX_REQUEST_BYTES_BY_PATH["/api/v1/mail/inbound"]
    assert mail_limit == settings.AFTERSALES_MAIL_INBOUND_MAX_REQUEST_BYTES
    client = bearer_client(admin_user)
    too_big = post_raw(client, b"x" * (mail_limit + 1))
    assert too_big.status_code == 413
    assert too_big.json()["code"] == "payload_too_large"
    assert too_big.json()["details"] == {"max_bytes": mail_limit}

    general = settings.AFTERSALES_MAX_REQUEST_BYTES
    other = client.post("/api/v1/tickets", data=b"x" * (general + 1), content_type="application/json")
    assert other.status_code == 413 and other.json()["details"] == {"max_bytes": general}
    assert InboundEmail.objects.count() == 0
