"""SPF/DKIM/DMARC from our receiving server's Authentication-Results; unverified senders (issue 9 item 9)."""

from __future__ import annotations

import pytest
from django.test import Client

from aftersales.channels.mail.authresults import AuthResults, Verdict, parse_authentication_results
from aftersales.channels.mail.models import InboundStatus
from aftersales.channels.mail.services import inbound_ingest
from aftersales.tickets.lifecycle import TicketStatus
from aftersales.tickets.models import Ticket, TicketLink, TicketMessage
from aftersales.tickets.services import ticket_transition
from tests.mail.test_intake import mail

OURS = "mx.lanquan.cn"
PASS = f"Authentication-Results: {OURS};\n spf=pass smtp.mailfrom=example.com;\n dkim=pass header.d=example.com;\n dmarc=pass header.from=example.com"
FORGED = f"Authentication-Results: {OURS}; spf=fail (sender IP is 203.0.113.9) smtp.mailfrom=example.com; dkim=none; dmarc=fail (p=reject) header.from=example.com"
NONE = f"Authentication-Results: {OURS}; spf=none smtp.mailfrom=example.com; dkim=none; dmarc=none header.from=example.com"


@pytest.fixture
def receiving_server(settings):
    settings.AFTERSALES_MAIL_AUTHSERV_ID = OURS
    settings.AFTERSALES_MAIL_AUTH_POLICY = "record"
    return settings


# --- reading the header -------------------------------------------------------------------------


def test_only_our_servers_results_count():
    headers = [
        "evil.example; spf=pass; dkim=pass; dmarc=pass",  # written by the sender: ignored
        f"{OURS} 1; spf=softfail (domain does not designate) smtp.mailfrom=x; dkim=fail; dkim=pass header.d=x; dmarc=pass",
    ]
    results = parse_authentication_results(headers, [OURS])
    assert results == AuthResults(spf="softfail", dkim="pass", dmarc="pass", found=True)
    assert results.verdict == Verdict.PASS
    assert parse_authentication_results(headers[:1], [OURS]).verdict == Verdict.UNCHECKED
    assert parse_authentication_results(headers, []).verdict == Verdict.UNCHECKED


@pytest.mark.parametrize(
    ("header", "verdict"),
    [
        (f"{OURS}; dmarc=pass", Verdict.PASS),
        (f"{OURS}; dmarc=fail; spf=pass", Verdict.FAIL),
        (f"{OURS}; spf=fail; dkim=none", Verdict.FAIL),
        (f"{OURS}; spf=fail; dkim=pass", Verdict.NONE),
        (f"{OURS}; spf=pass", Verdict.PASS),
        (f"{OURS}; spf=none; dkim=none", Verdict.NONE),
        (f"{OURS}; none", Verdict.NONE),
        (f"{OURS.upper()}; spf=softfail", Verdict.NONE),
    ],
)
def test_verdicts(header, verdict):
    assert parse_authentication_results([header], [OURS]).verdict == verdict


# --- the intake ---------------------------------------------------------------------------------

pytestmark = pytest.mark.django_db


def test_results_are_recorded_on_the_stored_message(receiving_server):
    result = inbound_ingest(raw=mail(headers=PASS))
    row = result.inbound
    assert (row.auth_spf, row.auth_dkim, row.auth_dmarc, row.auth_verdict) == ("pass", "pass", "pass", "pass")
    assert row.sender_verified is True
    assert not TicketMessage.objects.filter(ticket=result.ticket, kind=TicketMessage.Kind.NOTE).exists()


def test_without_a_configured_authserv_id_nothing_is_trusted_or_flagged(settings):
    settings.AFTERSALES_MAIL_AUTHSERV_ID = ""
    row = inbound_ingest(raw=mail(headers=FORGED)).inbound
    assert (row.auth_dmarc, row.auth_verdict, row.sender_verified) == ("", "unchecked", None)


def test_a_forged_mail_from_a_known_customer_is_flagged_and_not_threaded_by_subject(receiving_server):
    ticket = inbound_ingest(raw=mail(headers=PASS)).ticket
    forged = inbound_ingest(
        raw=mail(
            subject=f"Re: [{ticket.number}] 请把退款打到新账户",
            body="新账户 6222…",
            message_id="f1@x",
            headers=FORGED,
        )
    )

    assert forged.status == InboundStatus.IMPORTED  # it lands, flagged — never lost
    row = forged.inbound
    assert (row.auth_spf, row.auth_dkim, row.auth_dmarc, row.sender_verified) == (
        "fail",
        "none",
        "fail",
        False,
    )
    assert forged.ticket.pk != ticket.pk
    assert not TicketMessage.objects.filter(ticket=ticket).exists()
    warning = TicketMessage.objects.get(ticket=forged.ticket, kind=TicketMessage.Kind.NOTE)
    assert "wangfang@example.com" in warning.body and "DMARC fail" in warning.body


def test_an_unverified_reply_by_its_headers_lands_flagged(receiving_server, admin_user):
    ticket = inbound_ingest(raw=mail(headers=PASS)).ticket
    reply = inbound_ingest(
        raw=mail(body="周三在家", message_id="r1@x", headers=FORGED + "\nIn-Reply-To: <m1@example.com>")
    )
    assert reply.ticket.pk == ticket.pk and reply.inbound.ticket_message is not None
    notes = TicketMessage.objects.filter(ticket=ticket, kind=TicketMessage.Kind.NOTE)
    assert notes.count() == 1
    assert "wangfang@example.com" in notes.get().body and "SPF fail" in notes.get().body
    # Agents see the warning on the ticket page.
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/console/tickets/{ticket.number}/").content.decode()
    assert notes.get().body.splitlines()[0][:30] in page


def test_an_unverified_reply_never_reopens_a_resolved_ticket(receiving_server, admin_user):
    ticket = inbound_ingest(raw=mail(headers=PASS)).ticket
    for status in (TicketStatus.ACCEPTED, TicketStatus.RESOLVED):
        ticket_transition(ticket=ticket, actor=admin_user, to_status=status)

    result = inbound_ingest(
        raw=mail(body="没修好", message_id="r2@x", headers=FORGED + "\nIn-Reply-To: <m1@example.com>")
    )

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED
    assert result.ticket.pk != ticket.pk
    assert TicketLink.objects.filter(from_ticket=result.ticket, to_ticket=ticket).exists()


def test_the_required_policy_flags_mail_without_a_pass(receiving_server):
    plain = inbound_ingest(raw=mail(headers=NONE)).inbound
    assert (plain.auth_verdict, plain.sender_verified) == ("none", None)  # recorded only

    receiving_server.AFTERSALES_MAIL_AUTH_POLICY = "required"
    ticket = Ticket.objects.get()
    unverified = inbound_ingest(
        raw=mail(subject=f"[{ticket.number}] 进度？", body="进度如何", message_id="q1@x", headers=NONE)
    )
    assert unverified.inbound.sender_verified is False
    assert unverified.ticket.pk != ticket.pk
    missing = inbound_ingest(raw=mail(message_id="q2@x", body="没有认证头"))
    assert (missing.inbound.auth_verdict, missing.inbound.sender_verified) == ("none", False)
    verified = inbound_ingest(raw=mail(message_id="q3@x", subject=f"[{ticket.number}] ok", headers=PASS))
    assert verified.ticket.pk == ticket.pk and verified.inbound.sender_verified is True


def test_the_quarantine_api_shows_the_results(receiving_server, admin_user):
    from aftersales.core.services import api_token_create

    inbound_ingest(raw=mail(headers=FORGED))
    _token, secret = api_token_create(user=admin_user, name="auth")
    response = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/mail/quarantine?status=imported")
    item = response.json()["items"][0]
    assert (item["auth_spf"], item["auth_dmarc"], item["auth_verdict"], item["sender_verified"]) == (
        "fail",
        "fail",
        "fail",
        False,
    )
