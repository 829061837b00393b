"""The customer's cross-channel history on the ticket page: ``{% customer_history ticket %}``."""

from __future__ import annotations

from typing import Any

from django import template

from aftersales.customers.selectors import customer_with_identities
from aftersales.tickets.models import Ticket
from aftersales.tickets.selectors_history import customer_history_for_user

from ..customer_presenters import history_rows, identities_by_channel

register = template.Library()
RECENT = 8


@register.inclusion_tag("web/console/_customer_history.html", takes_context=True)
def customer_history(context: Any, ticket: Ticket) -> dict[str, Any]:
    user = context["request"].user
    items, next_cursor = customer_history_for_user(user=user, customer_id=ticket.customer_id, limit=RECENT)
    customer = customer_with_identities(ticket.customer)
    return {
        "customer": customer,
        "current": ticket,
        "identity_groups": identities_by_channel(customer),
        "history": history_rows(items),
        "has_more": next_cursor is not None,
    }


@register.filter
def seconds(value: float | None) -> str:
    """A duration in seconds as people read it: "45 s", "12 min", "3.5 h", "2 d"; "—" if unknown."""
    from django.utils.translation import gettext as _

    if value is None:
        return "—"
    if value < 120:
        return _("{n} s").format(n=round(value))
    if value < 3600:
        return _("{n} min").format(n=round(value / 60))
    if value < 48 * 3600:
        return _("{n} h").format(n=_short(value / 3600))
    return _("{n} d").format(n=_short(value / 86400))


def _short(number: float) -> str:
    """One decimal, none when it is zero: 4 → "4", 1.25 → "1.2"."""
    text = f"{number:.1f}"
    return text[:-2] if text.endswith(".0") else text
