"""The outside world the platform talks to: an SMTP server and a webhook receiver, each of which
can be told to fail for a while, and each of which records what it was given (by id)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Received:
    """One thing a sink was given: when, its id, and what it was about."""

    at: float
    ident: str
    kind: str
    ticket: str
    extra: dict[str, Any] = field(default_factory=dict)


class _Log:
    """A thread-safe list of what a sink received and refused, mirrored to a JSON-lines file."""

    def __init__(self, path: Path):
        self._lock = threading.Lock()
        self._file = path.open("a", encoding="utf-8")
        self.accepted: list[Received] = []
        self.refused = 0

    def accept(self, item: Received) -> None:
        with self._lock:
            self.accepted.append(item)
            self._file.write(json.dumps({"accepted": True, **item.__dict__}, ensure_ascii=False) + "\n")
            self._file.flush()

    def refuse(self, what: str) -> None:
        with self._lock:
            self.refused += 1
            self._file.write(json.dumps({"accepted": False, "at": time.time(), "what": what}) + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


class _SmtpHandler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self.sink.refusing == "rcpt":
            self.sink.log.refuse(f"RCPT {address}")
            return "450 4.2.0 soak: mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.original_content or b""
        message = message_from_bytes(content, policy=default_policy)
        message_id = str(message.get("Message-ID", "")).strip().strip("<>")
        if self.sink.refusing == "data":
            self.sink.log.refuse(f"DATA {message_id}")
            return "451 4.3.0 soak: temporarily refusing mail"
        self.sink.log.accept(
            Received(
                at=time.time(),
                ident=message_id,
                kind="notification" if message.get("Auto-Submitted") else "reply",
                ticket=str(message.get("X-Aftersales-Ticket", "")),
                extra={"to": list(envelope.rcpt_tos), "subject": str(message.get("Subject", ""))[:120]},
            )
        )
        return "250 OK"


class SmtpSink:
    """aiosmtpd on 127.0.0.1:``port`` in its own thread.

    Fault modes: ``closed`` (the port is closed: connection refused), ``data`` (451 at DATA),
    ``rcpt`` (450 at RCPT). All are temporary failures a sender must retry."""

    def __init__(self, port: int, log_path: Path):
        self.port = port
        self.log = _Log(log_path)
        self.refusing = ""  # "", "data" or "rcpt"
        self._controller: Controller | None = None

    def start(self) -> None:
        if self._controller is None:
            self._controller = Controller(_SmtpHandler(self), hostname="127.0.0.1", port=self.port)
            self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            with contextlib.suppress(Exception):
                self._controller.stop()
            self._controller = None

    def fail(self, mode: str) -> None:
        """Start refusing: ``closed`` stops listening; ``data``/``rcpt`` answer 4xx."""
        if mode == "closed":
            self.refusing = ""
            self.stop()
        else:
            self.start()
            self.refusing = mode

    def heal(self) -> None:
        self.refusing = ""
        self.start()

    def close(self) -> None:
        self.stop()
        self.log.close()


def signature_valid(secret: str, header: str, body: bytes) -> bool:
    """The receiver's side of docs/integrations.md: HMAC-SHA256 over "<t>.<body>"."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    if not stamps:
        return False
    expected = hmac.new(secret.encode(), f"{stamps[0]}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")


class WebhookReceiver:
    """A plain HTTP server in its own thread that records outbound webhook deliveries by event id,
    or answers 500 while failing."""

    def __init__(self, port: int, log_path: Path):
        self.port = port
        self.log = _Log(log_path)
        self.failing = False
        self.secret = ""
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            # Keeps connections alive, as real receivers do (http.server's default is HTTP/1.0).
            protocol_version = "HTTP/1.1"
            # Buffered: the status line, headers and body leave in one segment. Unbuffered, the
            # body waits for the client's delayed ACK of the headers (Nagle): 40 ms per answer.
            wbufsize = -1

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
                return

            def do_POST(self) -> None:  # noqa: N802 - stdlib hook name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                event_id = self.headers.get("X-Aftersales-Event-Id", "")
                if receiver.failing:
                    receiver.log.refuse(event_id)
                    self._answer(500, b'{"error": "soak: failing on purpose"}')
                    return
                if receiver.secret and not signature_valid(
                    receiver.secret, self.headers.get("X-Aftersales-Signature", ""), body
                ):
                    receiver.bad_signatures += 1
                try:
                    payload = json.loads(body)
                    data = payload.get("data") or {}
                except ValueError:
                    payload, data = {}, {}
                message = data.get("message") or {}
                receiver.log.accept(
                    Received(
                        at=time.time(),
                        ident=event_id,
                        kind=self.headers.get("X-Aftersales-Event-Type", ""),
                        ticket=str((data.get("ticket") or {}).get("number", "")),
                        extra={"message_id": message.get("id"), "to_status": data.get("to_status")},
                    )
                )
                self._answer(200, b'{"ok": true}')

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="webhook-receiver", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/soak-hook"

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self._thread.is_alive():  # shutdown() waits for a serve_forever that never started
                self._server.shutdown()
            self._server.server_close()
        self.log.close()
