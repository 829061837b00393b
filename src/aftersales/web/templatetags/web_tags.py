"""Small display helpers for the web templates."""

from __future__ import annotations

from typing import Any

from django import template

from aftersales.core.roles import public_name as _public_name

from ..selectors import can_see_admin as _can_see_admin

register = template.Library()


@register.filter
def can_see_admin(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and _can_see_admin(user)


@register.filter
def can(user: Any, capability: str) -> bool:
    """``{% if user|can:"report.view" %}``: hide what the role may not use (the view refuses it too)."""
    return bool(getattr(user, "is_authenticated", False)) and user.can(capability)


@register.filter
def public_name(user: Any) -> str:
    """A staff member as a customer may see it: display name, never the login."""
    return _public_name(user)


@register.filter
def filesize(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    """``mapping[key]`` for templates, ``None`` when absent (audit before/after values)."""
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def until(moment: Any) -> str:
    """ "in 12 min" / "5 min overdue" relative to now, for SLA countdowns (refreshed by app.js)."""
    import datetime as dt

    from django.utils import timezone
    from django.utils.translation import gettext as _

    if not isinstance(moment, dt.datetime):
        return ""
    seconds = int((moment - timezone.now()).total_seconds())
    minutes = abs(seconds) // 60
    if minutes >= 2 * 24 * 60:
        amount = _("%(n)d d") % {"n": minutes // (24 * 60)}
    elif minutes >= 120:
        amount = _("%(n)d h") % {"n": minutes // 60}
    else:
        amount = _("%(n)d min") % {"n": max(minutes, 0)}
    return (_("in %(t)s") if seconds >= 0 else _("%(t)s overdue")) % {"t": amount}


@register.filter
def sla_class(state: str, due_at: Any) -> str:
    """The badge class now: a running promise past its due time is breached even before the sweep."""
    import datetime as dt

    from django.utils import timezone

    if isinstance(due_at, dt.datetime) and due_at <= timezone.now() and state in ("on_track", "warning"):
        return "breached"
    return state


@register.filter
def sla_unread(user: Any) -> int:
    """How many SLA notices wait for this user (one indexed count on a partial index)."""
    from aftersales.sla.notifications import sla_unread_count

    if not getattr(user, "is_authenticated", False):
        return 0
    return sla_unread_count(user=user)


@register.filter(is_safe=True)
def linkify(text: Any) -> str:
    """Plain text escaped, with its http(s) addresses as safe links (``core.linkify``)."""
    from aftersales.core.linkify import linkify as _linkify

    return _linkify(str(text or ""))


@register.filter
def message_text(message: Any) -> str:
    """A message as this reader should read it: platform events in the reader's language."""
    import datetime as dt

    from django.utils import timezone
    from django.utils.translation import gettext as _

    from aftersales.sla.models import SlaTarget

    code, data = getattr(message, "event_code", ""), getattr(message, "event_data", None) or {}
    if code in ("sla.warning", "sla.breach") and data.get("target") in SlaTarget.values:
        try:
            due = timezone.localtime(dt.datetime.fromisoformat(str(data["due_at"])))
        except (KeyError, ValueError):
            return str(message.body)
        text = (
            _("SLA warning: %(target)s is due at %(due)s.")
            if code == "sla.warning"
            else _("SLA breached: %(target)s was due at %(due)s.")
        )
        return text % {"target": SlaTarget(data["target"]).label, "due": f"{due:%Y-%m-%d %H:%M}"}
    return str(message.body)
