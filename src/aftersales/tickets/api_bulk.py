"""Bulk actions over the API: the same per-ticket services and outcomes as the console."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from aftersales.core.api_schemas import ERROR_RESPONSES, NonEmptyText20, NonEmptyText40, StrictSchema
from aftersales.core.errors import ValidationFailed
from aftersales.core.models import User

from .schemas import PriorityIn, StatusIn
from .services import BulkRequest, tickets_bulk_apply
from .services.bulk import MAX_BULK_TICKETS

router = Router(tags=["tickets"])


class TicketBulkIn(StrictSchema):
    numbers: list[NonEmptyText20] = Field(min_length=1, max_length=MAX_BULK_TICKETS)
    action: Literal["assign", "stage", "priority", "tag", "merge"]
    assignee: int | None = Field(
        default=None, gt=0, lt=2**62, description="assign: the member of staff; omit to unassign"
    )
    to: StatusIn | None = Field(default=None, description="stage: the stage to move to")
    priority: PriorityIn | None = None
    tag: NonEmptyText40 | None = Field(default=None, description="tag: added to the tickets' tags")
    into: NonEmptyText20 | None = Field(default=None, description="merge: the number of the surviving ticket")


class TicketBulkOutcomeOut(Schema):
    number: str
    ok: bool
    code: str = Field(description='"done", "unchanged", or the code of the refusal')
    message: str


class TicketBulkOut(Schema):
    done: int
    refused: int
    results: list[TicketBulkOutcomeOut]


@router.post(
    "/bulk",
    response={200: TicketBulkOut, **ERROR_RESPONSES},
    summary="Apply one action to many tickets, each on its own",
)
def bulk(request: HttpRequest, payload: TicketBulkIn) -> Any:
    user: User = request.auth  # type: ignore[attr-defined]
    assignee = None
    if payload.action == "assign" and payload.assignee is not None:
        assignee = User.objects.filter(pk=payload.assignee).first()
        if assignee is None:
            raise ValidationFailed(
                details={"assignee": _("No such record: %(id)s.") % {"id": payload.assignee}}
            )
    outcomes = tickets_bulk_apply(
        actor=user,
        numbers=list(payload.numbers),
        request=BulkRequest(
            action=payload.action,
            assignee=assignee,
            to_status=payload.to or "",
            priority=payload.priority or "",
            tag=payload.tag or "",
            into=payload.into or "",
        ),
    )
    return {
        "done": sum(1 for outcome in outcomes if outcome.ok),
        "refused": sum(1 for outcome in outcomes if not outcome.ok),
        "results": [{"number": o.number, "ok": o.ok, "code": o.code, "message": o.message} for o in outcomes],
    }
