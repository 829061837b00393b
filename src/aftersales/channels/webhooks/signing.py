"""The signature scheme of every signed integration (inbound, outbound, CTI).

Header ``X-Aftersales-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``
(the shape Stripe uses). The timestamp is part of what is signed, so an old request cannot be
re-dated; it must lie within ``TOLERANCE_SECONDS`` of the receiver's clock. Several ``v1=``
values may be sent while a secret is being rotated; one matching value is enough.

Pure functions: no models, no database, safe to import from any channel.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from aftersales.core.errors import ApplicationError

SIGNATURE_HEADER = "X-Aftersales-Signature"
EVENT_ID_HEADER = "X-Aftersales-Event-Id"
TOLERANCE_SECONDS = 300
MAX_HEADER_CHARS = 1000


class SignatureInvalid(ApplicationError):
    code = "signature_invalid"
    status = 401
    default_message = _("The request signature is missing or does not match.")


class TimestampOutOfRange(ApplicationError):
    code = "timestamp_out_of_range"
    status = 401
    default_message = _("The signed timestamp is too old or too far in the future.")


@dataclass(frozen=True)
class ParsedSignature:
    timestamp: int
    signatures: tuple[str, ...]


def compute(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    message = str(int(timestamp)).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The value of the ``X-Aftersales-Signature`` header for ``body``."""
    moment = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={moment},v1={compute(secret, moment, body)}"


def parse(header: str) -> ParsedSignature:
    if not header or len(header) > MAX_HEADER_CHARS:
        raise SignatureInvalid(details={"header": SIGNATURE_HEADER})
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _sep, value = part.strip().partition("=")
        if name == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif name == "v1" and len(value) == 64 and all(ch in "0123456789abcdef" for ch in value.lower()):
            signatures.append(value.lower())
    if timestamp is None or not signatures:
        raise SignatureInvalid(details={"header": SIGNATURE_HEADER})
    return ParsedSignature(timestamp=timestamp, signatures=tuple(signatures))


def verify(
    *, secret: str, header: str, body: bytes, now: float | None = None, tolerance: int = TOLERANCE_SECONDS
) -> int:
    """Check ``header`` against ``body``; return the signed timestamp or raise.

    The HMAC is checked before the clock, so an unsigned caller learns nothing about timing.
    """
    parsed = parse(header)
    expected = compute(secret, parsed.timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in parsed.signatures):
        raise SignatureInvalid(details={"header": SIGNATURE_HEADER})
    current = time.time() if now is None else now
    if abs(current - parsed.timestamp) > tolerance:
        raise TimestampOutOfRange(details={"timestamp": parsed.timestamp, "tolerance_seconds": tolerance})
    return parsed.timestamp
