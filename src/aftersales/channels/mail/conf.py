"""Settings of the mail channel, read from the environment at call time (tests change them).

``AFTERSALES_SMTP_URL``        smtp://user:pass@host:587?starttls=1 | smtps://user:pass@host:465 |
                               smtp://host:25 ; empty: mail is written as .eml files to DATA_DIR/outbox
``AFTERSALES_MAIL_FROM``       the sender when no mailbox is configured (default service@aftersales.local)
``AFTERSALES_MAIL_DOMAIN``     the right-hand side of our Message-IDs (default: the domain of MAIL_FROM)
``AFTERSALES_PUBLIC_URL``      the base of tracking links in e-mails (default: the address ``aftersales
                               serve --host/--port`` listens on, else http://127.0.0.1:8000)
``AFTERSALES_MAIL_MAX_BYTES``  the largest message imported (default 25 MB); larger ones are quarantined
``AFTERSALES_MAIL_CA_FILE``    extra CA certificates trusted for IMAP/SMTP TLS (a private CA)
``AFTERSALES_MAIL_SENDER_LIMIT``  messages per sender per 10 minutes before mail is ignored as a loop (30)
``AFTERSALES_MAIL_AUTHSERV_ID``    the authserv-id(s) of our receiving server (comma-separated): only its
                               ``Authentication-Results`` headers are read; empty: none is trusted
``AFTERSALES_MAIL_AUTH_POLICY``    ``record`` (default: a failed SPF/DMARC marks the sender unverified) or
                               ``required`` (no conclusive pass marks it unverified too)
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings


def _setting(name: str, default: str) -> str:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, default)
    return str(value)


def mail_from() -> str:
    return _setting("AFTERSALES_MAIL_FROM", "service@aftersales.local")


def mail_domain() -> str:
    return _setting("AFTERSALES_MAIL_DOMAIN", "") or mail_from().rsplit("@", 1)[-1]


def public_url() -> str:
    """Where customers reach the site: ``AFTERSALES_PUBLIC_URL`` when set, else the address
    ``aftersales serve`` was told to listen on (it passes ``AFTERSALES_SERVE_URL`` to its web
    server and worker, which writes the e-mails), else the embedded default."""
    configured = _setting("AFTERSALES_PUBLIC_URL", "").strip()
    if configured:
        return configured.rstrip("/")
    return (os.environ.get("AFTERSALES_SERVE_URL", "").strip() or "http://127.0.0.1:8000").rstrip("/")


def max_bytes() -> int:
    return int(_setting("AFTERSALES_MAIL_MAX_BYTES", str(25 * 1024 * 1024)))


def sender_limit() -> int:
    return int(_setting("AFTERSALES_MAIL_SENDER_LIMIT", "30"))


SENDER_WINDOW_SECONDS = 600


def authserv_ids() -> list[str]:
    return [
        value.strip() for value in _setting("AFTERSALES_MAIL_AUTHSERV_ID", "").split(",") if value.strip()
    ]


def auth_policy() -> str:
    """``record`` or ``required``; anything else is read as ``record``."""
    value = _setting("AFTERSALES_MAIL_AUTH_POLICY", "record").strip().lower()
    return value if value in ("record", "required") else "record"


def loop_token() -> str:
    """The X-Loop value we put on every message we send; mail carrying it back is ours."""
    return f"aftersales@{mail_domain()}".lower()


def ssl_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca_file = _setting("AFTERSALES_MAIL_CA_FILE", "")
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str
    password: str
    implicit_tls: bool
    starttls: bool
    timeout: float


def smtp_config() -> SmtpConfig | None:
    url = _setting("AFTERSALES_SMTP_URL", "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("AFTERSALES_SMTP_URL must start with smtp:// or smtps://")
    query = parse_qs(parts.query)
    implicit = parts.scheme == "smtps"
    return SmtpConfig(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or (465 if implicit else 25),
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        implicit_tls=implicit,
        starttls=not implicit and query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
        timeout=float(query.get("timeout", ["30"])[0]),
    )


def outbox_dir() -> Path:
    return Path(settings.DATA_DIR) / "outbox"
