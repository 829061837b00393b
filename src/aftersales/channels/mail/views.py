"""Console pages of the mail channel: the quarantine (administrators)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.core.errors import ApplicationError, NotFound, PermissionDenied

from .models import InboundEmail, InboundStatus
from .selectors import inbound_get_for_admin, inbound_list_for_admin, may_manage_mail
from .services import inbound_discard, inbound_reimport


def _admin_only(request: HttpRequest) -> None:
    if not may_manage_mail(request.user):  # type: ignore[arg-type]
        raise DjangoPermissionDenied


@login_required
def quarantine(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    status = request.GET.get("status", InboundStatus.QUARANTINED)
    if status not in InboundStatus.values:
        status = InboundStatus.QUARANTINED
    try:
        rows, next_cursor = inbound_list_for_admin(
            user=request.user,  # type: ignore[arg-type]
            status=status,
            cursor=request.GET.get("cursor") or None,
            limit=50,
        )
    except ApplicationError:
        rows, next_cursor = [], None
    return render(
        request,
        "mail/quarantine.html",
        {
            "rows": rows,
            "next_cursor": next_cursor,
            "status": status,
            "statuses": InboundStatus.choices,
            "nav": "mail",
        },
    )


def _get(request: HttpRequest, inbound_id: int) -> InboundEmail:
    try:
        return inbound_get_for_admin(user=request.user, inbound_id=inbound_id)  # type: ignore[arg-type]
    except NotFound:
        raise Http404 from None
    except PermissionDenied:
        raise DjangoPermissionDenied from None


@login_required
def raw_source(request: HttpRequest, inbound_id: int) -> HttpResponseBase:
    _admin_only(request)
    row = _get(request, inbound_id)
    try:
        handle = row.raw.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    return FileResponse(
        handle, as_attachment=True, filename=f"message-{row.pk}.eml", content_type="message/rfc822"
    )


@login_required
@require_POST
def reimport(request: HttpRequest, inbound_id: int) -> HttpResponse:
    _admin_only(request)
    row = _get(request, inbound_id)
    try:
        row = inbound_reimport(inbound=row, actor=request.user)  # type: ignore[arg-type]
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
        return redirect("mail:quarantine")
    if row.status == InboundStatus.QUARANTINED:
        messages.error(
            request, _("The message still cannot be imported: %(reason)s") % {"reason": row.reason}
        )
    elif row.ticket is not None:
        messages.success(request, _("Imported into ticket %(number)s.") % {"number": row.ticket.number})
    else:
        messages.success(request, _("Processed again: %(status)s.") % {"status": row.get_status_display()})
    return redirect("mail:quarantine")


@login_required
@require_POST
def discard(request: HttpRequest, inbound_id: int) -> HttpResponse:
    _admin_only(request)
    row = _get(request, inbound_id)
    try:
        inbound_discard(inbound=row, actor=request.user)  # type: ignore[arg-type]
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The message was discarded."))
    return redirect("mail:quarantine")
