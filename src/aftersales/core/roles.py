"""Roles and what each may do.

Capabilities are checked in services and selectors; object-level scope (own tickets, assigned
jobs, own teams) is applied by the selectors that fetch objects for a user.
"""

from __future__ import annotations

from django.db import models
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
    TICKET_INTERNAL_NOTE = "ticket.internal_note", _("Read and write internal notes")
    TICKET_MERGE = "ticket.merge", _("Merge and link tickets")
    CUSTOMER_VIEW = "customer.view", _("See customers")
    CUSTOMER_EDIT = "customer.edit", _("Create and edit customers")
    ASSET_EDIT = "asset.edit", _("Register installed products")
    AUDIT_VIEW = "audit.view", _("Read the audit log")
    KB_EDIT = "kb.edit", _("Write knowledge-base articles and manuals")
    KB_REVIEW = "kb.review", _("Review and publish knowledge-base articles and manual editions")
    CONFIGURE = "configure", _("Configure the platform")
    MAIL_INGEST = "mail.ingest", _("Post raw e-mail to the intake endpoint")


_STAFF_BASE = {
    Capability.TICKET_INTERNAL_NOTE,
    Capability.TICKET_TRANSITION,
    Capability.CUSTOMER_VIEW,
}
_DESK = _STAFF_BASE | {
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
    Role.SUPERVISOR: frozenset(_DESK | {Capability.AUDIT_VIEW, Capability.KB_REVIEW}),
    Role.AGENT: frozenset(_DESK),
    # A technician works the jobs assigned to it: no queue of everyone's tickets.
    Role.TECHNICIAN: frozenset(_STAFF_BASE | {Capability.ASSET_EDIT}),
    Role.PARTS_CLERK: frozenset(_STAFF_BASE | {Capability.TICKET_VIEW_ALL}),
    Role.CUSTOMER: frozenset(),
}

STAFF_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.TECHNICIAN, Role.PARTS_CLERK})
