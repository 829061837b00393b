"""The call details the console's "log a phone call" form asks for."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import CallDirection

_DURATION = re.compile(r"^\s*(?:(\d{1,2}):)?(\d{1,3})(?::(\d{1,2}))?\s*$")


def parse_duration(text: str) -> int | None:
    """ "95", "1:35" (m:ss) or "1:02:03" (h:mm:ss) as seconds; empty is unknown."""
    text = text.strip()
    if not text:
        return None
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(text)
    first, second, third = match.groups()
    if first is None and third is None:
        return int(second)
    if third is None:
        if int(second) >= 60:
            raise ValueError(text)
        return int(first) * 60 + int(second)
    if first is None:
        if int(third) >= 60:
            raise ValueError(text)
        return int(second) * 60 + int(third)
    if int(second) >= 60 or int(third) >= 60:
        raise ValueError(text)
    return int(first) * 3600 + int(second) * 60 + int(third)


class CallDetailsForm(forms.Form):
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=CallDirection.choices,
        initial=CallDirection.INBOUND,
        required=False,  # an agent who says nothing took a call: inbound
        widget=forms.RadioSelect,
    )
    duration = forms.CharField(
        label=_("Duration"),
        required=False,
        max_length=10,
        help_text=_("Minutes:seconds, e.g. 3:25"),
        widget=forms.TextInput(attrs={"placeholder": "3:25", "inputmode": "numeric"}),
    )
    # A ticket number: record the call on the caller's open ticket instead of opening a new one.
    attach_to = forms.CharField(required=False, max_length=20)
    recording_url = forms.URLField(
        label=_("Recording link"),
        required=False,
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )

    def clean_duration(self) -> int | None:
        try:
            seconds = parse_duration(self.cleaned_data.get("duration") or "")
        except ValueError:
            raise forms.ValidationError(_("Enter the duration as minutes:seconds, e.g. 3:25.")) from None
        if seconds is not None and seconds > 24 * 3600:
            raise forms.ValidationError(_("A call lasts at most 24 hours."))
        return seconds

    def clean_attach_to(self) -> str:
        return (self.cleaned_data.get("attach_to") or "").strip().upper()

    def details(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "direction": data.get("direction") or CallDirection.INBOUND,
            "duration_seconds": data.get("duration"),
            "recording_url": data.get("recording_url") or "",
        }


def recorded_on_message(number: str) -> str:
    return gettext("The call was recorded on ticket %(number)s.") % {"number": number}
