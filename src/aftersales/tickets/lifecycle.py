"""The ticket lifecycle as a pure state machine.

Standard process (seed 004): new → accepted → diagnosing → solution proposed → in service →
resolved → closed; waiting on the customer pauses any working stage; a resolved ticket can be
reopened; cancelled and closed are final. Nothing here touches the database.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    ACCEPTED = "accepted", _("Accepted")
    DIAGNOSING = "diagnosing", _("Diagnosing")
    SOLUTION_PROPOSED = "solution_proposed", _("Solution proposed")
    IN_SERVICE = "in_service", _("In service")
    WAITING_ON_CUSTOMER = "waiting_on_customer", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    REOPENED = "reopened", _("Reopened")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


S = TicketStatus

WORKING_STAGES = frozenset({S.ACCEPTED, S.DIAGNOSING, S.SOLUTION_PROPOSED, S.IN_SERVICE, S.REOPENED})
FINAL_STATUSES = frozenset({S.CLOSED, S.CANCELLED})
OPEN_STATUSES = frozenset(set(S) - FINAL_STATUSES - {S.RESOLVED})
# The standard process, in order, for progress timelines.
STANDARD_PROCESS = (S.NEW, S.ACCEPTED, S.DIAGNOSING, S.SOLUTION_PROPOSED, S.IN_SERVICE, S.RESOLVED, S.CLOSED)

TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.NEW: frozenset({S.ACCEPTED, S.WAITING_ON_CUSTOMER, S.CANCELLED}),
    S.ACCEPTED: frozenset(
        {S.DIAGNOSING, S.SOLUTION_PROPOSED, S.IN_SERVICE, S.WAITING_ON_CUSTOMER, S.RESOLVED, S.CANCELLED}
    ),
    S.DIAGNOSING: frozenset(
        {S.SOLUTION_PROPOSED, S.IN_SERVICE, S.WAITING_ON_CUSTOMER, S.RESOLVED, S.CANCELLED}
    ),
    S.SOLUTION_PROPOSED: frozenset(
        {S.DIAGNOSING, S.IN_SERVICE, S.WAITING_ON_CUSTOMER, S.RESOLVED, S.CANCELLED}
    ),
    S.IN_SERVICE: frozenset({S.DIAGNOSING, S.WAITING_ON_CUSTOMER, S.RESOLVED}),
    S.WAITING_ON_CUSTOMER: frozenset(
        {S.NEW, S.ACCEPTED, S.DIAGNOSING, S.SOLUTION_PROPOSED, S.IN_SERVICE, S.RESOLVED, S.CANCELLED}
    ),
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
    S.REOPENED: frozenset(
        {S.ACCEPTED, S.DIAGNOSING, S.SOLUTION_PROPOSED, S.IN_SERVICE, S.WAITING_ON_CUSTOMER, S.RESOLVED}
    ),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

# What a customer may do to its own ticket: confirm or reject a resolution, withdraw a request.
CUSTOMER_TRANSITIONS: frozenset[tuple[TicketStatus, TicketStatus]] = frozenset(
    {
        (S.RESOLVED, S.CLOSED),
        (S.RESOLVED, S.REOPENED),
        (S.NEW, S.CANCELLED),
        (S.WAITING_ON_CUSTOMER, S.CANCELLED),
    }
)


def can_transition(from_status: str, to_status: str) -> bool:
    try:
        return TicketStatus(to_status) in TRANSITIONS[TicketStatus(from_status)]
    except ValueError:
        return False


def allowed_targets(from_status: str) -> list[TicketStatus]:
    targets = TRANSITIONS.get(TicketStatus(from_status), frozenset())
    order = list(TicketStatus)
    return sorted(targets, key=order.index)
