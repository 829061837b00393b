"""Bulk work on a queue: one action applied to many tickets, ticket by ticket.

Each ticket goes through the same service a single edit would use (``ticket_update``,
``ticket_transition``, ``ticket_merge``), in its own transaction, under the actor's own scope and
rights: one refusal (a move the process does not allow, a ticket outside the actor's scope, a
right the actor lacks) leaves the others done, and every ticket gets its own outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.core.errors import ApplicationError, PermissionDenied, ValidationFailed
from aftersales.core.models import User
from aftersales.core.roles import Role

from ..lifecycle import TicketStatus
from ..models import Priority, Ticket
from ..selectors import ticket_get_for_user
from .lifecycle import ticket_transition, ticket_update
from .relations import ticket_merge

BULK_ASSIGN = "assign"
BULK_STAGE = "stage"
BULK_PRIORITY = "priority"
BULK_TAG = "tag"
BULK_MERGE = "merge"
BULK_ACTIONS = (BULK_ASSIGN, BULK_STAGE, BULK_PRIORITY, BULK_TAG, BULK_MERGE)
MAX_BULK_TICKETS = 100

DONE = "done"
UNCHANGED = "unchanged"


@dataclass(frozen=True)
class BulkOutcome:
    number: str
    ok: bool
    code: str  # "done", "unchanged", or the refusal's error code
    message: str
    subject: str = ""


@dataclass(frozen=True)
class BulkRequest:
    action: str
    assignee: User | None = None  # assign: None unassigns
    to_status: str = ""
    priority: str = ""
    tag: str = ""
    into: str = ""  # merge: the surviving ticket's number


def _reason(error: ApplicationError) -> str:
    parts = [str(error.message)]
    if isinstance(error, ValidationFailed):
        parts.extend(str(value) for value in error.details.values() if isinstance(value, str))
    return " ".join(parts)


def _check_request(request: BulkRequest, numbers: list[str]) -> None:
    if request.action not in BULK_ACTIONS:
        raise ValidationFailed(details={"action": _("Choose what to do with the selected tickets.")})
    if not numbers:
        raise ValidationFailed(details={"numbers": _("Select at least one ticket.")})
    if len(numbers) > MAX_BULK_TICKETS:
        raise ValidationFailed(
            details={
                "numbers": _("Select at most %(count)s tickets at a time.") % {"count": MAX_BULK_TICKETS}
            }
        )
    if request.action == BULK_STAGE and request.to_status not in TicketStatus.values:
        raise ValidationFailed(details={"to_status": _("Choose a stage.")})
    if request.action == BULK_PRIORITY and request.priority not in Priority.values:
        raise ValidationFailed(details={"priority": _("Choose a priority.")})
    if request.action == BULK_TAG and not request.tag.strip():
        raise ValidationFailed(details={"tag": _("Type a tag.")})
    if request.action == BULK_MERGE and not request.into.strip():
        raise ValidationFailed(details={"into": _("Type the number of the ticket to merge into.")})


def _apply_one(*, ticket: Ticket, actor: User, request: BulkRequest, target: Ticket | None) -> bool:
    """Apply the action to one ticket; ``False`` when there was nothing to change."""
    version = ticket.version
    if request.action == BULK_ASSIGN:
        ticket = ticket_update(ticket=ticket, actor=actor, changes={"assignee": request.assignee})
    elif request.action == BULK_PRIORITY:
        ticket = ticket_update(ticket=ticket, actor=actor, changes={"priority": request.priority})
    elif request.action == BULK_TAG:
        names = [tag.name for tag in ticket.tags.all()]
        ticket = ticket_update(ticket=ticket, actor=actor, changes={}, tags=[*names, request.tag.strip()])
    elif request.action == BULK_STAGE:
        if ticket.status == request.to_status:
            return False
        ticket = ticket_transition(ticket=ticket, actor=actor, to_status=request.to_status)
    else:
        assert target is not None
        ticket_merge(source=ticket, target=target, actor=actor)
        return True
    return ticket.version != version


def tickets_bulk_apply(*, actor: User, numbers: list[str], request: BulkRequest) -> list[BulkOutcome]:
    """One outcome per distinct number, in the order given. Deliberately not one transaction:
    each ticket commits or refuses on its own, as if the actor had done it on the ticket's page."""
    if not actor.is_active or actor.role == Role.CUSTOMER or not actor.is_staff_member:
        raise PermissionDenied()
    numbers = list(dict.fromkeys(number.strip() for number in numbers if number and number.strip()))
    _check_request(request, numbers)
    target: Ticket | None = None
    if request.action == BULK_MERGE:
        try:
            target = ticket_get_for_user(number=request.into.strip(), user=actor)
        except ApplicationError as exc:
            raise ValidationFailed(
                details={"into": _("No ticket %(number)s.") % {"number": request.into.strip()}}
            ) from exc
    outcomes: list[BulkOutcome] = []
    for number in numbers:
        subject = ""
        try:
            with transaction.atomic():
                ticket = ticket_get_for_user(number=number, user=actor)
                subject = ticket.subject
                changed = _apply_one(ticket=ticket, actor=actor, request=request, target=target)
        except ApplicationError as exc:
            outcomes.append(
                BulkOutcome(number=number, ok=False, code=exc.code, message=_reason(exc), subject=subject)
            )
            continue
        outcomes.append(
            BulkOutcome(
                number=number,
                ok=True,
                code=DONE if changed else UNCHANGED,
                message=_("Done.") if changed else _("Nothing to change."),
                subject=subject,
            )
        )
    return outcomes
