"""A real HTTP server on a free local port that records what it receives (no mocks)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int
    peer: tuple[str, int] = ("", 0)  # the client's address: one per connection it opened


@dataclass
class Receiver:
    """``answer(n)`` gives the status for the n-th request (0-based); 0 means drop the connection."""

    answer: Callable[[int], int]
    requests: list[Received] = field(default_factory=list)
    keep_alive: bool = False  # HTTP/1.1 with persistent connections (http.server's default is 1.0)
    connections: list[socket.socket] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/aftersales"

    def start(self) -> Receiver:
        return self.start_on(0)

    def start_on(self, port: int) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if receiver.keep_alive else "HTTP/1.0"
            wbufsize = -1  # the answer in one segment, not headers and body apart (Nagle)

            def setup(self) -> None:
                super().setup()
                receiver.connections.append(self.connection)

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status = receiver.answer(len(receiver.requests))
                receiver.requests.append(
                    Received(dict(self.headers.items()), body, status, tuple(self.client_address))
                )
                if status == 0:
                    self.close_connection = True
                    self.connection.close()
                    return
                text = b'{"ok": true}' if status < 300 else b"upstream exploded"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            # As a restarting server does: kept-alive clients see their connection closed.
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
