"""The signature scheme of every signed integration (inbound, outbound, CTI).

Header ``X-Aftersales-Signature: t=<unix seconds>,v2=<hex HMAC-SHA256(secret, "<t>.<event id>.<raw body>")>``
(the shape Stripe uses). The timestamp is part of what is signed, so an old request cannot be
re-dated; it must lie within ``TOLERANCE_SECONDS`` of the receiver's clock. ``v2`` also signs the
event id (``X-Aftersales-Event-Id``), so a captured request cannot be replayed under a fresh id.
``v1=<HMAC(secret, "<t>.<raw body>")>`` is the older scheme, still accepted from senders that
do not sign the id (the inbound endpoint then guards against replays by a digest of what was
signed). Several values may be sent while a secret is being rotated; one match is enough.

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
    event_signatures: tuple[str, ...] = ()


@dataclass(frozen=True)
class VerifiedSignature:
    timestamp: int
    # "v2" when the event id was signed too, "v1" for the older body-only scheme.
    version: str


def signed_message(timestamp: int, body: bytes, event_id: str | None = None) -> bytes:
    """What the HMAC covers: ``"<t>.<body>"`` (v1) or ``"<t>.<event id>.<body>"`` (v2)."""
    prefix = str(int(timestamp)).encode("ascii") + b"."
    if event_id is not None:
        prefix += event_id.encode("utf-8") + b"."
    return prefix + body


def compute(secret: str, timestamp: int, body: bytes, event_id: str | None = None) -> str:
    """The hex HMAC-SHA256 of the signed message under ``secret`` (v2 when ``event_id`` is given)."""
    return hmac.new(
        secret.encode("utf-8"), signed_message(timestamp, body, event_id), hashlib.sha256
    ).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int | None = None, event_id: str | None = None) -> str:
    """The value of the ``X-Aftersales-Signature`` header for ``body``.

    With ``event_id`` the header carries ``v2`` (id signed) and ``v1`` beside it, so receivers
    that only know v1 keep verifying.
    """
    moment = int(time.time()) if timestamp is None else int(timestamp)
    header = f"t={moment},v1={compute(secret, moment, body)}"
    if event_id is not None:
        header += f",v2={compute(secret, moment, body, event_id)}"
    return header


def parse(header: str) -> ParsedSignature:
    if not header or len(header) > MAX_HEADER_CHARS:
        raise SignatureInvalid(details={"header": SIGNATURE_HEADER})
    timestamp: int | None = None
    signatures: list[str] = []
    event_signatures: list[str] = []
    for part in header.split(","):
        name, _sep, value = part.strip().partition("=")
        is_hex = len(value) == 64 and all(ch in "0123456789abcdef" for ch in value.lower())
        if name == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif name == "v1" and is_hex:
            signatures.append(value.lower())
        elif name == "v2" and is_hex:
            event_signatures.append(value.lower())
    if timestamp is None or not (signatures or event_signatures):
        raise SignatureInvalid(details={"header": SIGNATURE_HEADER})
    return ParsedSignature(
        timestamp=timestamp, signatures=tuple(signatures), event_signatures=tuple(event_signatures)
    )


def _check_clock(timestamp: int, now: float | None, tolerance: int) -> None:
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise TimestampOutOfRange(details={"timestamp": timestamp, "tolerance_seconds": tolerance})


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
    _check_clock(parsed.timestamp, now, tolerance)
    return parsed.timestamp


def verify_event(
    *,
    secret: str,
    header: str,
    body: bytes,
    event_id: str,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> VerifiedSignature:
    """Check a signed event: a matching ``v2`` (body and event id) or, failing that, ``v1``.

    A v1 match proves the body, not the id; the caller must guard against the same signed body
    arriving under another id (see ``signed_message``).
    """
    parsed = parse(header)
    version = ""
    expected_v2 = compute(secret, parsed.timestamp, body, event_id)
    if any(hmac.compare_digest(expected_v2, candidate) for candidate in parsed.event_signatures):
        version = "v2"
    else:
        expected_v1 = compute(secret, parsed.timestamp, body)
        if any(hmac.compare_digest(expected_v1, candidate) for candidate in parsed.signatures):
            version = "v1"
    if not version:
        raise SignatureInvalid(details={"header": SIGNATURE_HEADER})
    _check_clock(parsed.timestamp, now, tolerance)
    return VerifiedSignature(timestamp=parsed.timestamp, version=version)
