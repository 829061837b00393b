"""Telephone numbers as people type them and as call centres send them.

"138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "0086 13812345678" and "8613812345678"
are one mobile number; "021-5555 5555" and "+86 21 5555 5555" one landline. Pure functions.
"""

from __future__ import annotations

COUNTRY_PREFIXES = ("+86", "0086")


def digits_of(phone: str) -> str:
    """Digits and a leading +, nothing else."""
    text = phone.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    return ("+" + digits) if text.startswith("+") else digits


def national_number(phone: str) -> str:
    """The number without China's country code: a mobile as 11 digits, a landline with its 0."""
    digits = digits_of(phone)
    for prefix in COUNTRY_PREFIXES:
        if digits.startswith(prefix):
            rest = digits[len(prefix) :]
            return rest if rest.startswith("1") or rest.startswith("0") else "0" + rest
    if digits.startswith("86") and len(digits) == 13 and digits[2] == "1":
        return digits[2:]
    return digits.lstrip("+") if not digits.startswith("+") else digits


def phone_candidates(phone: str) -> list[str]:
    """The spellings a stored number may have, most likely first (no duplicates)."""
    typed = phone.strip()
    digits = digits_of(typed)
    national = national_number(typed)
    spelled = [typed, digits, national]
    if national and not national.startswith("+"):
        international = national[1:] if national.startswith("0") else national
        spelled += ["+86" + international, "+86 " + international]
        if len(national) == 11 and national.startswith("1"):
            spelled.append(f"{national[:3]} {national[3:7]} {national[7:]}")
            spelled.append(f"{national[:3]}-{national[3:7]}-{national[7:]}")
        elif national.startswith("0"):
            # Landlines are often stored with a dash after the area code (3 or 4 digits).
            for cut in (3, 4):
                spelled.append(f"{national[:cut]}-{national[cut:]}")
    seen: list[str] = []
    for value in spelled:
        if value and value not in seen:
            seen.append(value)
    return seen
