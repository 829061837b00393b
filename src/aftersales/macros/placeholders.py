"""Placeholders in canned replies: ``{{ customer_name }}`` and friends, checked at save and filled
in the customer's language when a reply is written.

The technician's visit window belongs to field service (a higher layer, not built yet); it plugs
in with ``register_visit_window_source``. Until a source answers, the placeholder says explicitly
that no visit is scheduled rather than leaving a gap in the reply.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from aftersales.core.models import User
from aftersales.core.roles import public_name
from aftersales.tickets.models import Ticket

TOKEN = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")

VisitWindowSource = Callable[[Ticket], tuple[dt.datetime, dt.datetime] | None]
_visit_window_sources: list[VisitWindowSource] = []


def register_visit_window_source(source: VisitWindowSource) -> None:
    """A higher app (field service) tells macros when the technician comes: ``source(ticket)``
    returns the visit's start and end, or ``None``."""
    if source not in _visit_window_sources:
        _visit_window_sources.append(source)


def unregister_visit_window_source(source: VisitWindowSource) -> None:
    if source in _visit_window_sources:
        _visit_window_sources.remove(source)


@dataclass(frozen=True)
class Placeholder:
    name: str
    label: object  # a lazy translation
    resolve: Callable[[Ticket, User | None], str]


def _product(ticket: Ticket, actor: User | None) -> str:
    product = ticket.installed_product
    if product is None:
        return pgettext("placeholder when no product is linked", "product")
    return product.product_model.display_name


def _serial(ticket: Ticket, actor: User | None) -> str:
    product = ticket.installed_product
    return product.serial_number if product is not None else gettext("not recorded")


def _visit_window(ticket: Ticket, actor: User | None) -> str:
    for source in _visit_window_sources:
        window = source(ticket)
        if window is not None:
            start, end = (timezone.localtime(moment) for moment in window)
            if start.date() == end.date():
                return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
            return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"
    return gettext("not scheduled yet")


PLACEHOLDERS: dict[str, Placeholder] = {
    p.name: p
    for p in (
        Placeholder("customer_name", _("Customer name"), lambda t, a: t.customer.name),
        Placeholder(
            "contact_name", _("Contact name"), lambda t, a: t.contact.name if t.contact else t.customer.name
        ),
        Placeholder("ticket_number", _("Ticket number"), lambda t, a: t.number),
        Placeholder("ticket_subject", _("Ticket subject"), lambda t, a: t.subject),
        Placeholder("product", _("Product"), _product),
        Placeholder("serial_number", _("Serial number"), _serial),
        Placeholder("visit_window", _("Technician's visit window"), _visit_window),
        Placeholder("agent_name", _("Your name"), lambda t, a: public_name(a)),
    )
}


def placeholder_errors(text: str) -> list[str]:
    """What is wrong with the placeholders in ``text`` (translated lines; empty when all is well)."""
    errors: list[str] = []
    unknown = sorted({name for name in TOKEN.findall(text) if name not in PLACEHOLDERS})
    if unknown:
        errors.append(
            gettext("Unknown placeholder(s): %(names)s. Known: %(known)s.")
            % {
                "names": ", ".join("{{ %s }}" % name for name in unknown),  # noqa: UP031
                "known": ", ".join("{{ %s }}" % name for name in PLACEHOLDERS),  # noqa: UP031
            }
        )
    rest = TOKEN.sub("", text)
    if "{{" in rest or "}}" in rest:
        errors.append(gettext("A placeholder is not closed: write it as {{ name }}."))
    return errors


def customer_language(ticket: Ticket) -> str:
    return "en" if (ticket.customer.language or "").startswith("en") else "zh-hans"


def render(text: str, *, ticket: Ticket, actor: User | None, language: str) -> str:
    """``text`` with every placeholder filled for ``ticket``, worded in ``language``."""
    with translation.override(language):

        def fill(match: re.Match[str]) -> str:
            placeholder = PLACEHOLDERS.get(match.group(1))
            return match.group(0) if placeholder is None else placeholder.resolve(ticket, actor)

        return TOKEN.sub(fill, text)
