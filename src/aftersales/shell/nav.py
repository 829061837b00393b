"""The navigation registry: each app adds the menu entries of its pages, and a menu shows a user
only the entries it may open.

An app registers in its ``AppConfig.ready()``::

    from aftersales.shell import nav

    nav.register(nav.NavEntry(
        key="chat", area=nav.CONSOLE, label=_("Chat"), url_name="chat:console",
        order=30, capability="ticket.create_for_customer", visible=may_take_chats,
    ))

``capability`` is a ``core.roles.Capability`` value the user must hold; ``visible`` a predicate
for anything finer (the same one the view uses to refuse, so the menu and the view agree);
``badge`` returns a count shown beside the label (0 shows nothing). A page marks its entry as the
current one with ``nav`` in its template context (``context["nav"] = "chat"``).

Stylesheets and scripts an app needs on every shell page register the same way
(``register_asset``), so the base template names no app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse

CONSOLE = "console"
PORTAL = "portal"
AREAS = (CONSOLE, PORTAL)


@dataclass(frozen=True)
class NavEntry:
    key: str
    area: str
    label: Any  # a lazy translation
    url_name: str
    order: int = 100
    capability: str | None = None
    visible: Callable[[Any], bool] | None = None
    badge: Callable[[Any], int] | None = None
    url_kwargs: Callable[[Any], dict[str, Any]] | None = None


@dataclass(frozen=True)
class NavItem:
    """An entry as one user's menu shows it."""

    key: str
    label: str
    url: str
    badge: int
    active: bool


_ENTRIES: dict[tuple[str, str], NavEntry] = {}
_STYLESHEETS: list[str] = []
_SCRIPTS: list[str] = []


def register(entry: NavEntry) -> None:
    """Add (or replace, on a second ``ready()``) an entry; keys are unique per area."""
    if entry.area not in AREAS:
        raise ValueError(f"unknown navigation area {entry.area!r}")
    _ENTRIES[(entry.area, entry.key)] = entry


def unregister(area: str, key: str) -> None:
    _ENTRIES.pop((area, key), None)


def entries(area: str) -> list[NavEntry]:
    return sorted((e for (a, _k), e in _ENTRIES.items() if a == area), key=lambda e: (e.order, e.key))


def may_open(entry: NavEntry, user: Any) -> bool:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if entry.capability and not user.can(entry.capability):
        return False
    return entry.visible is None or bool(entry.visible(user))


def menu(area: str, user: Any, *, current: str = "") -> list[NavItem]:
    """The entries of ``area`` this user may open, in order, with their badges."""
    items: list[NavItem] = []
    for entry in entries(area):
        if not may_open(entry, user):
            continue
        try:
            url = reverse(entry.url_name, kwargs=entry.url_kwargs(user) if entry.url_kwargs else None)
        except NoReverseMatch:
            continue
        badge = int(entry.badge(user)) if entry.badge else 0
        items.append(
            NavItem(key=entry.key, label=str(entry.label), url=url, badge=badge, active=entry.key == current)
        )
    return items


def register_asset(*, stylesheet: str = "", script: str = "") -> None:
    """A static file every shell page loads (``web/app.css``); loaded in registration order."""
    if stylesheet and stylesheet not in _STYLESHEETS:
        _STYLESHEETS.append(stylesheet)
    if script and script not in _SCRIPTS:
        _SCRIPTS.append(script)


def stylesheets() -> list[str]:
    return list(_STYLESHEETS)


def scripts() -> list[str]:
    return list(_SCRIPTS)
