"""The "Calls" panel on the console's ticket page: ``{% load phone_tags %}{% call_records ticket %}``."""

from __future__ import annotations

from typing import Any

from django import template

from aftersales.tickets.models import Ticket

from ..selectors import calls_for_ticket

register = template.Library()


@register.inclusion_tag("phone/_call_panel.html")
def call_records(ticket: Ticket) -> dict[str, Any]:
    return {"calls": calls_for_ticket(ticket=ticket), "ticket": ticket}


@register.filter
def call_duration(seconds: int | None) -> str:
    """Seconds as m:ss (h:mm:ss from an hour on)."""
    if seconds is None:
        return "—"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
