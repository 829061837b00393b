"""The SLA notices a supervisor receives when a promise is at risk or broken."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from aftersales.sla.notifications import sla_notifications_mark_read
from aftersales.sla.selectors import notifications_for

from .common import current_user, staff_required


@staff_required
@require_http_methods(["GET", "POST"])
def notification_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if request.method == "POST":
        sla_notifications_mark_read(user=user)
        return redirect("web:console-notifications")
    show_all = request.GET.get("all") == "1"
    return render(
        request,
        "web/console/notifications.html",
        {
            "nav": "notifications",
            "notices": notifications_for(user=user, unread_only=not show_all),
            "show_all": show_all,
        },
    )
