"""Durations as people write and read them: "3 天", "1 天 4 小时", "90 分钟", "3 days", "1 day 4 h".

Python prints a ``timedelta`` as "3 days, 0:00:00" and Django's form field as "3 00:00:00";
neither is what a service manager types or expects to read, least of all in the Chinese UI. Here
a duration is shown in the reader's language with the largest units first (days, hours, minutes,
seconds; zero parts left out), and parsed from either language, from the short forms (d, h, min,
s) and from Django's own "[D ]HH:MM[:SS]" so older input keeps working.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.utils.dateparse import parse_duration
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

UNITS: tuple[tuple[int, str], ...] = ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second"))

_WORDS: dict[str, int] = {}
for _seconds, _names in (
    (86400, ("d", "day", "days", "天", "日")),
    (3600, ("h", "hr", "hrs", "hour", "hours", "小时", "小時", "时", "個小時", "个小时")),
    (60, ("m", "min", "mins", "minute", "minutes", "分钟", "分鐘", "分")),
    (1, ("s", "sec", "secs", "second", "seconds", "秒", "秒钟")),
):
    for _name in _names:
        _WORDS[_name] = _seconds
_PART = re.compile(
    r"(\d+(?:\.\d+)?)\s*(" + "|".join(sorted(map(re.escape, _WORDS), key=len, reverse=True)) + r")(?![a-z])",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"(?:\s|,|，|、|和|\band\b)+", re.IGNORECASE)
MAX_DAYS = 3650


def _unit(count: int, unit: str) -> str:
    if unit == "day":
        return ngettext("%(count)d day", "%(count)d days", count) % {"count": count}
    if unit == "hour":
        return ngettext("%(count)d hour", "%(count)d hours", count) % {"count": count}
    if unit == "minute":
        return ngettext("%(count)d minute", "%(count)d minutes", count) % {"count": count}
    return ngettext("%(count)d second", "%(count)d seconds", count) % {"count": count}


def format_duration(value: dt.timedelta | None) -> str:
    """ "1 天 4 小时" / "1 day 4 hours"; "" for no value."""
    if value is None:
        return ""
    seconds = round(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds == 0:
        return _unit(0, "minute")
    parts = []
    for size, unit in UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(_unit(count, unit))
    return sign + " ".join(parts)


def parse_duration_text(text: str) -> dt.timedelta | None:
    """A duration from "3 天", "1 天 4 小时", "1d 4h", "90 min", "1.5 h" or "1 04:00:00";
    ``None`` when the text is not a duration."""
    value = (text or "").strip()
    if not value:
        return None
    if ":" in value:  # Django's own "[D ]HH:MM[:SS]" (a bare number is not taken as seconds)
        django = parse_duration(value)
        return django if django is not None and abs(django.days) <= MAX_DAYS else None
    total = 0.0
    position = 0
    found = False
    for match in _PART.finditer(value):
        if not _SEPARATORS.fullmatch(value[position : match.start()] or " "):
            return None
        total += float(match.group(1)) * _WORDS[match.group(2).lower()]
        position = match.end()
        found = True
    if not found or (value[position:] and not _SEPARATORS.fullmatch(value[position:])):
        return None
    if total > MAX_DAYS * 86400:
        return None
    return dt.timedelta(seconds=round(total))


class HumanDurationField(forms.DurationField):
    """A duration typed and shown as people write it (see the module)."""

    default_error_messages = {
        "invalid": _("Enter a duration such as “3 days”, “1 day 4 hours” or “90 minutes”."),
    }

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dt.timedelta):
            return format_duration(value)
        return value

    def to_python(self, value: Any) -> dt.timedelta | None:
        if value in self.empty_values:
            return None
        if isinstance(value, dt.timedelta):
            return value
        parsed = parse_duration_text(str(value))
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed
