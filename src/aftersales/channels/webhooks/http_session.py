"""Webhook POSTs over one kept-alive connection per receiver and worker thread.

A new TCP (and TLS) connection per delivery made the handshake, not the request, the cost of a
busy receiver's deliveries. A worker thread now keeps a connection per (scheme, host, port) while
the receiver allows it (HTTP/1.1 without ``Connection: close``), for up to ``IDLE_SECONDS``
between requests, and drops it after any failure. Every new connection is checked by the address
policy on the socket it really reached (``url_policy``), as before; redirects are never followed.

A kept connection the receiver closed while it was idle fails on the next request before any
answer; that request is sent once more on a new connection (as urllib3 and browsers do). The
receiver may then see an event twice, which deliveries allow: they are at-least-once and carry
``X-Aftersales-Event-Id`` (docs/integrations.md).
"""

from __future__ import annotations

import http.client
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from . import url_policy

# Under most servers' keep-alive timeouts would be 2–5 s (gunicorn 2, Node 5, nginx 75); past it
# a reused connection would mostly fail and cost a retry, so it is not kept longer.
IDLE_SECONDS = 4.0
# A longer answer is not read to the end (the excerpt is all that is kept): the connection closes.
MAX_READ_BYTES = 64 * 1024

_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, http.client.BadStatusLine)


@dataclass
class _Kept:
    connection: http.client.HTTPConnection
    last_used: float


class _ThreadConnections(threading.local):
    def __init__(self) -> None:
        self.kept: dict[tuple[str, str, int], _Kept] = {}
        self.opened = 0  # connections this thread opened: read by tests


_connections = _ThreadConnections()


def _connect(scheme: str, host: str, port: int, timeout: float) -> http.client.HTTPConnection:
    _connections.opened += 1
    if scheme == "https":
        return url_policy.GuardedHTTPSConnection(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    return url_policy.GuardedHTTPConnection(host, port, timeout=timeout)


def _drop(key: tuple[str, str, int]) -> None:
    kept = _connections.kept.pop(key, None)
    if kept is not None:
        kept.connection.close()


def close_all() -> None:
    for key in list(_connections.kept):
        _drop(key)


def opened_connections() -> int:
    return _connections.opened


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> tuple[int, bytes]:
    """POST ``body`` to ``url``; return (status, the first bytes of the answer).

    Raises what ``http.client`` and sockets raise, ``ValueError`` for a URL that is not http(s),
    and ``url_policy.WebhookUrlNotAllowed`` for a forbidden address.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url[:200]}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    key = (parts.scheme, parts.hostname, port)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    kept = _connections.kept.get(key)
    if kept is not None and time.monotonic() - kept.last_used > IDLE_SECONDS:
        _drop(key)
        kept = None
    if kept is not None:
        try:
            return _exchange(key, kept.connection, path, body, headers)
        except _STALE:
            pass  # closed while idle: once more on a new connection
    return _exchange(key, _connect(*key, timeout=timeout), path, body, headers)


def _exchange(
    key: tuple[str, str, int],
    connection: http.client.HTTPConnection,
    path: str,
    body: bytes,
    headers: dict[str, str],
) -> tuple[int, bytes]:
    _connections.kept.pop(key, None)  # held by this request only until it has ended well
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read(MAX_READ_BYTES)
        finished = response.isclosed()  # the whole answer read: the connection can carry the next
    except BaseException:
        connection.close()
        raise
    if finished and not response.will_close:
        _connections.kept[key] = _Kept(connection, time.monotonic())
    else:
        connection.close()
    return response.status, answer
