"""The soak harness's own parts (bench/soak): the SMTP server and webhook receiver it fails on
purpose, and the verdicts of its checks. The whole soak runs with `make soak`, not here."""

from __future__ import annotations

import hashlib
import hmac
import smtplib
import time
from email.message import EmailMessage

import httpx
import pytest
from bench.soak.checks import _delivery_check, _judge
from bench.soak.sinks import Received, SmtpSink, WebhookReceiver
from bench.soak.topology import free_port
from bench.soak.traffic import Write


def _mail(message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "service@soak.example"
    message["To"] = "customer@example.com"
    message["Subject"] = "[T0000001] received"
    message["Message-ID"] = f"<{message_id}>"
    message["X-Aftersales-Ticket"] = "T0000001"
    message.set_content("hello")
    return message


def _send(port: int, message_id: str) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
        client.send_message(_mail(message_id))


def test_smtp_sink_records_by_message_id_and_refuses_temporarily_on_purpose(tmp_path):
    sink = SmtpSink(free_port(), tmp_path / "smtp.jsonl")
    sink.start()
    try:
        _send(sink.port, "one@soak.example")
        sink.fail("data")
        with pytest.raises(smtplib.SMTPDataError) as refused:
            _send(sink.port, "two@soak.example")
        assert refused.value.smtp_code == 451
        sink.fail("rcpt")
        with pytest.raises(smtplib.SMTPRecipientsRefused) as greylisted:
            _send(sink.port, "three@soak.example")
        assert next(iter(greylisted.value.recipients.values()))[0] == 450
        sink.fail("closed")
        with pytest.raises(ConnectionRefusedError):
            _send(sink.port, "four@soak.example")
        sink.heal()
        _send(sink.port, "five@soak.example")
    finally:
        sink.close()
    assert [(r.ident, r.ticket) for r in sink.log.accepted] == [
        ("one@soak.example", "T0000001"),
        ("five@soak.example", "T0000001"),
    ]
    assert sink.log.refused == 2  # the closed port is refused by the kernel, not the sink


def test_webhook_receiver_checks_the_signature_and_fails_on_purpose(tmp_path):
    receiver = WebhookReceiver(free_port(), tmp_path / "hooks.jsonl")
    receiver.secret = "whsec_test"
    receiver.start()
    body = b'{"id": "e1", "type": "ticket.opened", "data": {"ticket": {"number": "T0000007"}}}'
    stamp = str(int(time.time()))
    good = hmac.new(b"whsec_test", f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()

    def post(event_id: str, signature: str) -> int:
        headers = {
            "X-Aftersales-Event-Id": event_id,
            "X-Aftersales-Event-Type": "ticket.opened",
            "X-Aftersales-Signature": f"t={stamp},v1={signature}",
        }
        return httpx.post(receiver.url, content=body, headers=headers, timeout=5).status_code

    try:
        assert post("e1", good) == 200
        receiver.failing = True
        assert post("e2", good) == 500
        receiver.failing = False
        assert post("e3", "0" * 64) == 200
    finally:
        receiver.close()
    assert [(r.ident, r.kind, r.ticket) for r in receiver.log.accepted] == [
        ("e1", "ticket.opened", "T0000007"),
        ("e3", "ticket.opened", "T0000007"),
    ]
    assert receiver.log.refused == 1
    assert receiver.bad_signatures == 1


@pytest.mark.parametrize(
    ("outcome", "rows", "verdict"),
    [
        ("accepted", 1, ""),
        ("accepted", 0, "lost"),
        ("accepted", 2, "doubled ×2"),
        ("unknown", 0, ""),
        ("unknown", 1, ""),
        ("unknown", 2, "doubled ×2 (no answer)"),
        ("refused", 0, ""),
    ],
)
def test_a_write_is_judged_by_how_many_rows_it_left(outcome, rows, verdict):
    assert _judge(Write(kind="api_create", token="SK1-c000001", outcome=outcome), rows) == verdict


def test_a_refused_write_that_left_a_row_is_reported():
    write = Write(kind="api_reply", token="SK1-r000001", outcome="refused", statuses=[409])
    assert _judge(write, 1).startswith("refused ([409]) but written")


def _received(*idents: str) -> list[Received]:
    return [Received(at=0.0, ident=ident, kind="", ticket="") for ident in idents]


def test_delivery_check_finds_undelivered_missing_phantom_and_doubled():
    database = {"a": "sent", "b": "sending", "c": "sent", "d": "failed"}
    check = _delivery_check(
        "mail",
        database,
        {"b": "claimed"},
        _received("a", "a", "x"),
        duplicates_documented=False,
        what="e-mail",
    )
    assert not check.passed
    assert check.problems == [
        "e-mail b: sending (claimed)",
        "e-mail d: failed ()",
        "e-mail c: marked delivered but never received",
        "e-mail x: received but not in the database",
        "e-mail a: received ×2",
    ]


def test_documented_at_least_once_duplicates_pass_and_are_counted():
    check = _delivery_check(
        "hooks", {"a": "delivered"}, {}, _received("a", "a"), duplicates_documented=True, what="delivery"
    )
    assert check.passed
    assert "1 delivered more than once (1 extra copies), at-least-once as documented" in check.summary
