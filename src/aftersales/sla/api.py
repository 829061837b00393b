"""SLA endpoints: a ticket's promises, the at-risk queue and the compliance report."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema

from aftersales.core.api_schemas import ERROR_RESPONSES, NonEmptyText20, Text100
from aftersales.core.errors import PermissionDenied
from aftersales.core.models import User
from aftersales.core.roles import Capability
from aftersales.tickets.selectors import ticket_get_for_user

from .selectors import compliance_report, ticket_sla_summary, tickets_by_time_to_breach

router = Router(tags=["sla"])
ERRORS = ERROR_RESPONSES
TargetIn = Literal[
    "first_response",
    "next_response",
    "resolution",
    "on_site",
    "stage_accept",
    "stage_diagnose",
    "stage_propose",
    "stage_complete",
]
StateIn = Literal["on_track", "warning", "breached"]


class SlaTargetOut(Schema):
    target: str
    label: str
    status: str
    state: str
    started_at: dt.datetime
    due_at: dt.datetime | None
    warn_at: dt.datetime | None
    warned_at: dt.datetime | None
    breached_at: dt.datetime | None
    met_at: dt.datetime | None
    target_seconds: int
    remaining_seconds: int | None


class TicketSlaOut(Schema):
    ticket: str
    state: str
    next_due_at: dt.datetime | None
    policy_id: int | None
    policy_name: str | None
    applied_at: dt.datetime | None
    targets: list[SlaTargetOut]


class AtRiskItemOut(Schema):
    number: str
    subject: str
    status: str
    priority: str
    type: str
    team_id: int | None
    assignee_id: int | None
    state: str
    next_due_at: dt.datetime
    seconds_to_breach: int


class AtRiskPageOut(Schema):
    items: list[AtRiskItemOut]
    next_cursor: str | None


class ComplianceRowOut(Schema):
    key: str | int | None
    label: str
    total: int
    met: int
    breached: int
    percent_met: float | None


class ComplianceOut(Schema):
    group_by: str
    items: list[ComplianceRowOut]


def _staff(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    if not user.is_staff_member and not user.is_superuser:
        raise PermissionDenied()
    return user


@router.get("/tickets/{number}/sla", response={200: TicketSlaOut, **ERRORS}, summary="A ticket's SLA")
def ticket_sla(request: HttpRequest, number: NonEmptyText20) -> Any:
    ticket = ticket_get_for_user(number=number, user=_staff(request))
    summary = ticket_sla_summary(ticket)
    return {"ticket": ticket.number, **summary.__dict__, "targets": [t.__dict__ for t in summary.targets]}


@router.get("/sla/at-risk", response={200: AtRiskPageOut, **ERRORS}, summary="Open tickets by time to breach")
def at_risk(
    request: HttpRequest,
    team: int | None = Query(None, gt=0, lt=2**62),
    assignee: int | None = Query(None, gt=0, lt=2**62),
    state: StateIn | None = None,
    cursor: Text100 | None = None,
    limit: int = Query(25, ge=1, le=100),
) -> Any:
    now = timezone.now()
    page, next_cursor = tickets_by_time_to_breach(
        user=_staff(request), cursor=cursor, limit=limit, team_id=team, assignee_id=assignee, state=state
    )
    items = [
        {
            "number": t.number,
            "subject": t.subject,
            "status": t.status,
            "priority": t.priority,
            "type": t.type,
            "team_id": t.team_id,
            "assignee_id": t.assignee_id,
            "state": t.sla.state,
            "next_due_at": t.sla.next_due_at,
            "seconds_to_breach": int((t.sla.next_due_at - now).total_seconds()),  # type: ignore[operator]
        }
        for t in page
    ]
    return {"items": items, "next_cursor": next_cursor}


@router.get("/sla/report", response={200: ComplianceOut, **ERRORS}, summary="SLA compliance")
def report(
    request: HttpRequest,
    group_by: Literal["team", "region", "type"] = "team",
    date_from: dt.datetime | None = Query(None, alias="from"),  # noqa: B008
    date_to: dt.datetime | None = Query(None, alias="to"),  # noqa: B008
    target: TargetIn | None = None,
) -> Any:
    user = _staff(request)
    if not user.can(Capability.REPORT_VIEW):
        raise PermissionDenied()
    rows = compliance_report(
        user=user, group_by=group_by, date_from=date_from, date_to=date_to, target=target
    )
    return {"group_by": group_by, "items": [row.__dict__ for row in rows]}
