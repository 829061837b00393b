"""``GET /api/v1/reports/first-response``: first response per channel against its target."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from aftersales.core.api_schemas import ERROR_RESPONSES
from aftersales.core.errors import PermissionDenied
from aftersales.core.models import User
from aftersales.core.roles import Capability

from .first_response import first_response_report

router = Router(tags=["reports"])


class ChannelFirstResponseOut(Schema):
    channel: str
    label: str
    target_seconds: int | None
    count: int
    responded: int
    median_seconds: float | None
    p90_seconds: float | None
    median_business_seconds: float | None
    p90_business_seconds: float | None
    within_target: int
    settled: int
    within_target_percent: float | None
    breached: int


class FirstResponseOut(Schema):
    since: dt.datetime
    until: dt.datetime
    team: int | None
    items: list[ChannelFirstResponseOut]


@router.get(
    "/first-response",
    response={200: FirstResponseOut, **ERROR_RESPONSES},
    summary="First response per channel: count, median and p90 (wall and business time), share within target",
)
def first_response(
    request: HttpRequest,
    since: dt.datetime | None = Query(None, description="start of the period (tickets opened from)"),  # noqa: B008
    until: dt.datetime | None = Query(None, description="end of the period, exclusive; default now"),  # noqa: B008
    team: int | None = Query(None, gt=0, lt=2**62),
) -> Any:
    user: User = request.auth  # type: ignore[attr-defined]
    if not user.can(Capability.REPORT_VIEW):
        raise PermissionDenied()
    report = first_response_report(user=user, since=since, until=until, team_id=team)
    items = [
        {key: value for key, value in entry.__dict__.items() if not key.startswith("_")}
        for entry in report.channels
    ]
    return {"since": report.since, "until": report.until, "team": report.team_id, "items": items}
