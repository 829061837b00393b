"""Telephony pages in the console: the calls (missed ones to call back first)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.models import User

from .models import CallStatus
from .selectors import call_page


@login_required
@require_GET
def call_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User):
        raise DjangoPermissionDenied
    status = request.GET.get("status", "")
    if status not in CallStatus.values:
        status = ""
    number = request.GET.get("number", "").strip()[:32]
    try:
        calls, next_cursor = call_page(
            user=user, status=status, number=number, cursor=request.GET.get("cursor") or None, limit=50
        )
    except PermissionDenied as exc:
        raise DjangoPermissionDenied from exc
    except ValidationFailed:
        calls, next_cursor = call_page(user=user, status=status, number=number, limit=50)
    context = {
        "nav": "call",
        "calls": calls,
        "next_cursor": next_cursor,
        "status": status,
        "number": number,
        "statuses": CallStatus.choices,
    }
    return render(request, "phone/call_list.html", context)
