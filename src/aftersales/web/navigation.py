"""The console's and the portal's own menu entries (the shell's registry; docs/console-shell.md)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from aftersales.core.roles import Capability
from aftersales.shell import nav


def _unread(user: Any) -> int:
    from aftersales.sla.notifications import sla_unread_count

    return sla_unread_count(user=user)


def _may_see_admin(user: Any) -> bool:
    from .selectors import can_see_admin

    return can_see_admin(user)


def _staff(user: Any) -> bool:
    return bool(user.is_staff_member or user.is_superuser)


def _customer(user: Any) -> bool:
    return bool(getattr(user, "is_customer", False)) and not _staff(user)


def _may_use_macros(user: Any) -> bool:
    return _staff(user) and (user.can(Capability.TICKET_REPLY) or user.can(Capability.TICKET_INTERNAL_NOTE))


def register_navigation() -> None:
    console = [
        nav.NavEntry(
            key="home",
            area=nav.CONSOLE,
            label=_("Home"),
            url_name="web:console",
            order=5,
            visible=_staff,
        ),
        nav.NavEntry(
            key="queues",
            area=nav.CONSOLE,
            label=_("Queues"),
            url_name="web:console-queue",
            url_kwargs=lambda _user: {"name": "mine"},
            order=10,
            visible=_staff,
        ),
        nav.NavEntry(
            key="customers",
            area=nav.CONSOLE,
            label=_("Customers"),
            url_name="web:console-customers",
            order=15,
            capability=Capability.CUSTOMER_VIEW,
            visible=_staff,
        ),
        nav.NavEntry(
            key="call",
            area=nav.CONSOLE,
            label=_("Log a phone call"),
            url_name="web:console-call",
            order=20,
            capability=Capability.TICKET_CREATE_FOR_CUSTOMER,
            visible=_staff,
        ),
        nav.NavEntry(
            key="reports",
            area=nav.CONSOLE,
            label=_("SLA compliance"),
            url_name="web:console-report-sla",
            order=50,
            capability=Capability.REPORT_VIEW,
        ),
        nav.NavEntry(
            key="first_response",
            area=nav.CONSOLE,
            label=_("First response"),
            url_name="web:console-report-first-response",
            order=55,
            capability=Capability.REPORT_VIEW,
        ),
        nav.NavEntry(
            key="macros",
            area=nav.CONSOLE,
            label=_("Canned replies"),
            url_name="web:console-macros",
            order=60,
            visible=_may_use_macros,
        ),
        nav.NavEntry(
            key="notifications",
            area=nav.CONSOLE,
            label=_("Notifications"),
            url_name="web:console-notifications",
            order=70,
            visible=_staff,
            badge=_unread,
        ),
        nav.NavEntry(
            key="settings",
            area=nav.CONSOLE,
            label=_("Settings"),
            url_name="web:console-settings",
            order=90,
            capability=Capability.SETTINGS_EDIT,
        ),
        nav.NavEntry(
            key="admin",
            area=nav.CONSOLE,
            label=_("Administration"),
            url_name="admin:index",
            order=95,
            visible=_may_see_admin,
        ),
    ]
    portal = [
        nav.NavEntry(
            key="list",
            area=nav.PORTAL,
            label=_("My requests"),
            url_name="web:portal",
            order=10,
            visible=_customer,
        ),
        nav.NavEntry(
            key="new",
            area=nav.PORTAL,
            label=_("New request"),
            url_name="web:portal-new",
            order=20,
            visible=_customer,
        ),
    ]
    for entry in console + portal:
        nav.register(entry)
    nav.register_asset(stylesheet="web/app.css", script="web/app.js")
