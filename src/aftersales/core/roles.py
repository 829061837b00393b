"""Roles and what each may do.

Capabilities are checked in services and selectors; object-level scope (own tickets, assigned
jobs, own teams) is applied by the selectors that fetch objects for a user. The table here is the
one in ``docs/roles.md``; ``tests/core/test_authorisation_matrix.py`` holds every endpoint and
page to it.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    SUPERVISOR = "supervisor", _("Supervisor")
    AGENT = "agent", _("Agent")
    TECHNICIAN = "technician", _("Technician")
    PARTS_CLERK = "parts_clerk", _("Parts clerk")
    CUSTOMER = "customer", _("Customer")


class Capability(models.TextChoices):
    TICKET_VIEW_ALL = "ticket.view_all", _("See every ticket")
    TICKET_CREATE_FOR_CUSTOMER = "ticket.create_for_customer", _("Open tickets for customers")
    TICKET_EDIT = "ticket.edit", _("Edit ticket fields")
    TICKET_ASSIGN = "ticket.assign", _("Assign tickets")
    TICKET_TRANSITION = "ticket.transition", _("Move tickets through the process")
    TICKET_REPLY = "ticket.reply", _("Reply to customers and share files with them")
    TICKET_INTERNAL_NOTE = "ticket.internal_note", _("Read and write internal notes")
    TICKET_MERGE = "ticket.merge", _("Merge and link tickets")
    CUSTOMER_VIEW = "customer.view", _("See customers")
    CUSTOMER_EDIT = "customer.edit", _("Create and edit customers")
    ASSET_EDIT = "asset.edit", _("Register installed products")
    AUDIT_VIEW = "audit.view", _("Read the audit log")
    REPORT_VIEW = "report.view", _("Read service reports (SLA compliance, first response)")
    KB_EDIT = "kb.edit", _("Write knowledge-base articles and manuals")
    KB_REVIEW = "kb.review", _("Review and publish knowledge-base articles and manual editions")
    MACRO_MANAGE = "macro.manage", _("Manage shared canned replies (team and everyone)")
    VIEW_SHARE = "view.share", _("Share saved ticket views with all staff")
    SETTINGS_EDIT = "settings.edit", _("Change the service settings (SLA policies, calendars, teams)")
    CONFIGURE = "configure", _("Configure the platform")
    MAIL_INGEST = "mail.ingest", _("Post raw e-mail to the intake endpoint")


# Every member of staff reads the tickets in its scope, their customers and the internal notes.
_STAFF_BASE = {
    Capability.TICKET_INTERNAL_NOTE,
    Capability.CUSTOMER_VIEW,
}
# Those who work tickets: talk to the customer and move the ticket on.
_WORKER = _STAFF_BASE | {Capability.TICKET_REPLY, Capability.TICKET_TRANSITION}
_DESK = _WORKER | {
    Capability.TICKET_VIEW_ALL,
    Capability.TICKET_CREATE_FOR_CUSTOMER,
    Capability.TICKET_EDIT,
    Capability.TICKET_ASSIGN,
    Capability.TICKET_MERGE,
    Capability.CUSTOMER_EDIT,
    Capability.ASSET_EDIT,
    Capability.KB_EDIT,
}

ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(Capability.values),
    # Reports measure teams and people: those who lead them read them, not those measured.
    # Supervisors run the everyday settings (SLA targets, business hours, who is in which team).
    Role.SUPERVISOR: frozenset(
        _DESK
        | {
            Capability.AUDIT_VIEW,
            Capability.KB_REVIEW,
            Capability.REPORT_VIEW,
            Capability.MACRO_MANAGE,
            Capability.VIEW_SHARE,
            Capability.SETTINGS_EDIT,
        }
    ),
    Role.AGENT: frozenset(_DESK),
    # A technician works the jobs assigned to it: no queue of everyone's tickets.
    Role.TECHNICIAN: frozenset(_WORKER | {Capability.ASSET_EDIT}),
    # The parts clerk reads every ticket to supply parts and writes internal notes; the desk and
    # the technician talk to the customer and move the ticket.
    Role.PARTS_CLERK: frozenset(_STAFF_BASE | {Capability.TICKET_VIEW_ALL}),
    Role.CUSTOMER: frozenset(),
}

STAFF_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.TECHNICIAN, Role.PARTS_CLERK})


def public_name(user: Any) -> str:
    """How a person is named to a customer: a member of staff by its display or full name, never
    its login (often a work e-mail address); a customer login as itself."""
    if user is None:
        return ""
    if getattr(user, "role", None) == Role.CUSTOMER:
        return str(user)
    return user.display_name or user.get_full_name() or gettext("Customer service")
