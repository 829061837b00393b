"""The SLA notices a supervisor receives when a promise is at risk or broken, summarised: one group
per kind and day ("12 SLA breaches today"), each listing its tickets once, read a group at a time."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from aftersales.core.errors import ApplicationError
from aftersales.sla.notifications import sla_notifications_mark_read
from aftersales.sla.selectors import NOTICE_TICKETS_IN_ONE_GROUP, notification_groups

from ..forms import NoticeGroupForm
from .common import current_user, report_form_errors, report_staff_error, staff_required


@staff_required
@require_http_methods(["GET", "POST"])
def notification_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if request.method == "POST":
        form = NoticeGroupForm(request.POST)
        if not form.is_valid():
            report_form_errors(request, form)
            return redirect("web:console-notifications")
        try:
            marked = sla_notifications_mark_read(
                user=user, kind=form.cleaned_data["kind"] or None, day=form.cleaned_data["day"]
            )
        except ApplicationError as exc:
            report_staff_error(request, exc)
        else:
            if marked:
                messages.success(request, _("Marked %(n)d notices read.") % {"n": marked})
        return redirect("web:console-notifications")
    show_all = request.GET.get("all") == "1"
    form = NoticeGroupForm(request.GET)
    kind, day = None, None
    if form.is_valid():
        kind, day = form.cleaned_data["kind"] or None, form.cleaned_data["day"]
    else:
        report_form_errors(request, form)
    today = timezone.localdate()
    one_group = kind is not None and day is not None
    groups = notification_groups(
        user=user,
        unread_only=not show_all,
        kind=kind,
        day=day,
        tickets_per_group=NOTICE_TICKETS_IN_ONE_GROUP if one_group else 10,
    )
    day_names = {today: _("today"), today - dt.timedelta(days=1): _("yesterday")}
    for group in groups:
        group.when = day_names.get(group.day, "")  # type: ignore[attr-defined]
    return render(
        request,
        "web/console/notifications.html",
        {
            "nav": "notifications",
            "groups": groups,
            "show_all": show_all,
            "one_group": one_group,
            "is_filtered": kind is not None or day is not None,
            "unread_total": sum(group.unread for group in groups),
        },
    )
