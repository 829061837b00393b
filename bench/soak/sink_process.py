"""The SMTP server and the webhook receiver in a process of their own.

In the harness's process they shared one interpreter lock with the load generator's 32 clients,
whose event loop at times lagged by seconds: the outside world then answered slowly, and the
platform's outbound side looked slower than it is. In their own process they answer at their own
pace. The harness talks to them over a pipe: faults on and off, and at the end what they received.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .sinks import Received, SmtpSink, WebhookReceiver


def _serve(pipe: Connection, smtp_port: int, webhook_port: int, workdir: str) -> None:
    smtp = SmtpSink(smtp_port, Path(workdir) / "smtp.jsonl")
    receiver = WebhookReceiver(webhook_port, Path(workdir) / "webhooks.jsonl")
    smtp.start()
    receiver.start()
    pipe.send("ready")
    while True:
        try:
            command, argument = pipe.recv()
        except EOFError:  # the harness is gone
            command, argument = "close", None
        if command == "smtp_fail":
            smtp.fail(argument)
        elif command == "smtp_heal":
            smtp.heal()
        elif command == "receiver_failing":
            receiver.failing = bool(argument)
        elif command == "receiver_secret":
            receiver.secret = str(argument)
        elif command == "summary":
            pipe.send(
                {
                    "smtp": (list(smtp.log.accepted), smtp.log.refused),
                    "webhooks": (list(receiver.log.accepted), receiver.log.refused),
                    "bad_signatures": receiver.bad_signatures,
                }
            )
            continue
        elif command == "close":
            smtp.close()
            receiver.close()
            pipe.send("closed")
            return
        pipe.send("ok")


class _Log:
    """What a sink received, filled in by ``SinkProcess.collect`` at the end of the run."""

    def __init__(self) -> None:
        self.accepted: list[Received] = []
        self.refused = 0


class RemoteSmtp:
    def __init__(self, owner: SinkProcess, port: int):
        self._owner, self.port, self.log = owner, port, _Log()

    def fail(self, mode: str) -> None:
        self._owner.call("smtp_fail", mode)

    def heal(self) -> None:
        self._owner.call("smtp_heal")


class RemoteReceiver:
    def __init__(self, owner: SinkProcess, port: int):
        self._owner, self.port, self.log = owner, port, _Log()
        self.bad_signatures = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/soak-hook"

    @property
    def failing(self) -> bool:
        raise AttributeError("write-only: the receiver's state lives in the sink process")

    @failing.setter
    def failing(self, value: bool) -> None:
        self._owner.call("receiver_failing", value)

    @property
    def secret(self) -> str:
        raise AttributeError("write-only")

    @secret.setter
    def secret(self, value: str) -> None:
        self._owner.call("receiver_secret", value)


class SinkProcess:
    def __init__(self, smtp_port: int, webhook_port: int, workdir: Path):
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._lock = threading.Lock()  # faults are switched from a worker thread of the event loop
        self._process = context.Process(
            target=_serve, args=(child, smtp_port, webhook_port, str(workdir)), name="soak-sinks", daemon=True
        )
        self.smtp = RemoteSmtp(self, smtp_port)
        self.receiver = RemoteReceiver(self, webhook_port)

    def start(self) -> None:
        self._process.start()
        if not self._pipe.poll(30) or self._pipe.recv() != "ready":
            raise RuntimeError("the SMTP server and webhook receiver did not start")

    def call(self, command: str, argument: Any = None) -> Any:
        with self._lock:
            self._pipe.send((command, argument))
            return self._pipe.recv()

    def collect(self) -> None:
        """Copy what the sinks received into ``smtp.log`` and ``receiver.log`` for the checks."""
        summary = self.call("summary")
        self.smtp.log.accepted, self.smtp.log.refused = summary["smtp"]
        self.receiver.log.accepted, self.receiver.log.refused = summary["webhooks"]
        self.receiver.bad_signatures = summary["bad_signatures"]

    def close(self) -> None:
        if self._process.is_alive():
            with contextlib.suppress(OSError, EOFError):
                self.call("close")
            self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
