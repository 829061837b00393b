"""Console reports: SLA compliance by team, region or ticket type."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from aftersales.core.errors import ApplicationError
from aftersales.core.roles import Capability
from aftersales.sla.models import SlaTarget
from aftersales.sla.selectors import compliance_report

from .common import current_user, staff_required

GROUPS = (("team", _("Team")), ("region", _("Region")), ("type", _("Type")))


def _date(value: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default


@staff_required
@require_GET
def sla_compliance(request: HttpRequest) -> HttpResponse:
    if not current_user(request).can(Capability.REPORT_VIEW):
        raise DjangoPermissionDenied
    today = timezone.localdate()
    date_from = _date(request.GET.get("from"), today - dt.timedelta(days=30))
    date_to = _date(request.GET.get("to"), today)
    group_by = request.GET.get("group_by") or "team"
    target = request.GET.get("target") or None
    tz = timezone.get_current_timezone()
    rows, error = [], None
    try:
        rows = compliance_report(
            user=current_user(request),
            group_by=group_by,
            date_from=dt.datetime.combine(date_from, dt.time.min, tz),
            date_to=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tz),
            target=target,
        )
    except ApplicationError as exc:
        error = exc
    total = sum(row.total for row in rows)
    met = sum(row.met for row in rows)
    return render(
        request,
        "web/console/report_sla.html",
        {
            "nav": "reports",
            "rows": rows,
            "error": error,
            "groups": GROUPS,
            "targets": SlaTarget.choices,
            "group_by": group_by,
            "target": target or "",
            "date_from": date_from,
            "date_to": date_to,
            "total": total,
            "met": met,
            "percent_met": round(100.0 * met / total, 1) if total else None,
        },
    )
