"""Canonical forms of the ways customers reach us, so one person is one customer on every channel.

Pure functions, no database: the services, the selectors, the data migration and the tests share
them. A value that cannot be a usable identifier normalises to ``""``.
"""

from __future__ import annotations

import re
import unicodedata

from .models import IdentityKind

# A phone number shorter than this (after dropping the country code) is not one a person is
# reached at: "1", "110" must never match anybody.
MIN_PHONE_DIGITS = 5
CHINA = "86"
# Everything after one of these is an extension: "0571-8888 6666 转 801", "ext. 12", "#12".
_EXTENSION = re.compile(r"(转|分机|ext\.?|x|#|;|,)", re.IGNORECASE)


def normalize_email(value: str) -> str:
    """Lower-cased and trimmed; ``""`` when it has no ``@`` between two non-empty parts."""
    text = unicodedata.normalize("NFKC", value or "").strip().lower()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or any(ch.isspace() for ch in text):
        return ""
    return text[:254]


def normalize_phone(value: str) -> str:
    """E.164-like: ``+`` country code and number, no trunk ``0``, no separators.

    "138 1234 5678", "+86 138-1234-5678", "0086 13812345678", "8613812345678" → "+8613812345678";
    "0571-88886666" and "+86 (0)571 8888 6666" → "+8657188886666"; "+44 20 7946 0958" stays
    British. A number without a country code is Chinese (the platform serves China).
    """
    text = unicodedata.normalize("NFKC", value or "").strip()
    text = _EXTENSION.split(text, maxsplit=1)[0]
    international = text.startswith("+")
    digits = "".join(ch for ch in text if "0" <= ch <= "9")
    if not international and digits.startswith("00"):
        international, digits = True, digits[2:]
    if international:
        if not digits.startswith(CHINA):
            return f"+{digits}" if len(digits) >= MIN_PHONE_DIGITS + 1 else ""
        national = digits[len(CHINA) :]
    elif len(digits) == 13 and digits.startswith(CHINA + "1"):
        national = digits[len(CHINA) :]  # a mobile number written with 86 but without the +
    else:
        national = digits
    national = national.lstrip("0") if len(national) >= 10 else national  # trunk prefix of an area code
    if len(national) < MIN_PHONE_DIGITS:
        return ""
    return f"+{CHINA}{national}"[:32]


def normalize_openid(value: str) -> str:
    """An openid is case-sensitive and opaque: only trimmed (and bounded)."""
    text = (value or "").strip()
    return "" if any(ch.isspace() for ch in text) else text[:254]


NORMALIZERS = {
    IdentityKind.EMAIL: normalize_email,
    IdentityKind.PHONE: normalize_phone,
    IdentityKind.WECHAT_OPENID: normalize_openid,
}


def normalize(kind: str, value: str) -> str:
    return NORMALIZERS[IdentityKind(kind)](value)


def phone_spellings(canonical: str) -> set[str]:
    """The ways a canonical Chinese number may have been typed into an older record.

    Records written before identities existed hold numbers as typed; the lookup compares these
    spellings with an index, instead of normalising every stored row.
    """
    if not canonical:
        return set()
    spellings = {canonical, canonical[1:]}
    if canonical.startswith(f"+{CHINA}"):
        national = canonical[1 + len(CHINA) :]
        spellings |= {national, f"0{national}", f"00{CHINA}{national}", f"+{CHINA} {national}"}
        if len(national) == 11 and national.startswith("1"):
            spellings.add(f"{national[:3]} {national[3:7]} {national[7:]}")
            spellings.add(f"{national[:3]}-{national[3:7]}-{national[7:]}")
        elif len(national) >= 9:
            for area in (2, 3):
                spellings.add(f"0{national[:area]}-{national[area:]}")
                spellings.add(f"0{national[:area]} {national[area:]}")
    return spellings
