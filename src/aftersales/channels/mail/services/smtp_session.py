"""One SMTP connection per worker thread, kept open between e-mails.

Opening a connection costs a TCP handshake, the greeting, EHLO, often STARTTLS and AUTH: several
round trips per e-mail, which made the connection, not the mail, the outbox's bottleneck. A thread
now keeps its connection while it is in use and checks it with RSET before the next e-mail (one
round trip, and a clean transaction state). The connection is dropped after any failure (its state
is then unknown), when the settings change, and when it has been idle longer than
``IDLE_SECONDS`` (servers close idle clients after a few minutes; RFC 5321 asks for at least five).

A connection found dead by RSET is replaced before MAIL FROM is sent, so the e-mail is never given
to the server twice: a failure after MAIL FROM is reported to the caller, which retries the row.
"""

from __future__ import annotations

import logging
import smtplib
import threading
import time
from email.message import EmailMessage

from .. import conf
from ..conf import SmtpConfig

logger = logging.getLogger(__name__)

IDLE_SECONDS = 60.0


class _ThreadConnection(threading.local):
    client: smtplib.SMTP | None = None
    config: SmtpConfig | None = None
    last_used: float = 0.0
    opened: int = 0  # connections this thread opened: read by tests and the soak's figures


_connection = _ThreadConnection()


def _open(config: SmtpConfig) -> smtplib.SMTP:
    context = conf.ssl_context()
    client: smtplib.SMTP
    if config.implicit_tls:
        client = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    try:
        client.ehlo()
        if config.starttls:
            client.starttls(context=context)
            client.ehlo()
        if config.username:
            client.login(config.username, config.password)
    except BaseException:
        client.close()
        raise
    _connection.opened += 1
    return client


def close() -> None:
    """Say goodbye and forget this thread's connection (quietly: it may be dead already)."""
    client, _connection.client, _connection.config = _connection.client, None, None
    if client is None:
        return
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


def _reusable(config: SmtpConfig) -> smtplib.SMTP | None:
    client = _connection.client
    if client is None:
        return None
    if _connection.config != config or time.monotonic() - _connection.last_used > IDLE_SECONDS:
        close()
        return None
    try:
        code, _text = client.rset()
    except (OSError, smtplib.SMTPException):
        code = 0
    if code != 250:
        # Closed by the server (idle timeout, restart) or in a state we cannot trust: reconnect.
        close()
        return None
    return client


def send(config: SmtpConfig, message: EmailMessage, *, from_address: str, to_address: str) -> None:
    """Send one e-mail over this thread's connection, opening one if there is none to reuse."""
    client = _reusable(config)
    if client is None:
        client = _open(config)
        _connection.client, _connection.config = client, config
    try:
        client.send_message(message, from_addr=from_address, to_addrs=[to_address])
    except BaseException:
        # A refused recipient or data leaves the session usable in theory; a timeout or a broken
        # pipe does not. Starting afresh is simpler than telling them apart.
        close()
        raise
    _connection.last_used = time.monotonic()


def opened_connections() -> int:
    return _connection.opened
