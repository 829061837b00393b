"""Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP), as authenticator apps make them.

HMAC-SHA1, 6 digits, 30-second steps from the Unix epoch: the defaults every authenticator app
(Google Authenticator, Microsoft Authenticator, 1Password, FreeOTP, 腾讯身份验证器) uses.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

DIGITS = 6
STEP_SECONDS = 30
SECRET_BYTES = 20  # 160 bits, the HMAC-SHA1 block the RFC recommends


def new_secret() -> str:
    """A random secret in base32 without padding (what otpauth:// URIs and apps expect)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def _key(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(secret: str, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226: HMAC-SHA1 of the 8-byte counter, dynamically truncated to ``digits`` digits."""
    digest = hmac.new(_key(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(code % 10**digits).zfill(digits)


def time_step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // STEP_SECONDS)


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238: the HOTP of the current 30-second step."""
    return hotp(secret, time_step(at))


def matching_step(secret: str, code: str, *, at: float | None = None, drift_steps: int = 1) -> int | None:
    """The time step whose code ``code`` is, allowing ``drift_steps`` of clock drift either side.

    Compared in constant time; None when it matches none of them."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    current = time_step(at)
    found = None
    for step in range(current - drift_steps, current + drift_steps + 1):
        if hmac.compare_digest(hotp(secret, step), code):
            found = step
    return found


def provisioning_uri(*, secret: str, account: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads (from a QR code or pasted by hand)."""
    label = quote(f"{issuer}:{account}", safe="@:")
    query = urlencode(
        {"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS, "period": STEP_SECONDS},
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"
