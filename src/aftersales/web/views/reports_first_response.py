"""Console report: first response per channel against the documents' targets."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from aftersales.core.errors import ApplicationError
from aftersales.core.roles import Capability
from aftersales.sla.first_response import FirstResponseReport, first_response_report

from .. import selectors
from .common import current_user, staff_required
from .reports import _date


def _team(value: str | None) -> int | None:
    try:
        team = int(value or "")
    except ValueError:
        return None
    return team if 0 < team < 2**62 else None


@staff_required
@require_GET
def first_response(request: HttpRequest) -> HttpResponse:
    if not current_user(request).can(Capability.REPORT_VIEW):
        raise DjangoPermissionDenied
    today = timezone.localdate()
    date_from = _date(request.GET.get("from"), today - dt.timedelta(days=30))
    date_to = _date(request.GET.get("to"), today)
    team_id = _team(request.GET.get("team"))
    tz = timezone.get_current_timezone()
    report: FirstResponseReport | None = None
    error = None
    try:
        report = first_response_report(
            user=current_user(request),
            since=dt.datetime.combine(date_from, dt.time.min, tz),
            until=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tz),
            team_id=team_id,
        )
    except ApplicationError as exc:
        error = exc
    return render(
        request,
        "web/console/report_first_response.html",
        {
            "nav": "first_response",
            "rows": report.channels if report else [],
            "error": error,
            "teams": selectors.active_teams(),
            "team_id": team_id,
            "date_from": date_from,
            "date_to": date_to,
        },
    )
