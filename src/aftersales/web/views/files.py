"""Attachment downloads: files live outside the web root and are streamed after a scope check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from aftersales.core.roles import Capability
from aftersales.tickets.models import Attachment
from aftersales.tickets.selectors import ticket_get_for_user

from .common import current_user, fetch_or_404


@login_required
@require_GET
def attachment_download(request: HttpRequest, attachment_id: int) -> FileResponse:
    user = current_user(request)
    attachment = Attachment.objects.select_related("ticket").filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404
    # The same 404 whether the file is missing or belongs to a ticket the user may not see.
    fetch_or_404(lambda: ticket_get_for_user(number=attachment.ticket.number, user=user))
    if attachment.is_internal and not user.can(Capability.TICKET_INTERNAL_NOTE):
        raise Http404
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
