"""Failures of the database or the disk answer 503 in the caller's terms, never a debug page.

Under ``/api/`` the JSON error shape ``{"code": "unavailable", …}``; elsewhere a plain page in the
user's language that needs no database to render. Other uncaught errors keep their 500, as JSON
under ``/api/``.
"""

from __future__ import annotations

import errno
import logging
import sys
from collections.abc import Callable

from django import db
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
# PostgreSQL: a write in a read-only transaction or on a standby (SQLSTATE 25006).
READ_ONLY_SQLSTATE = "25006"
DISK_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EIO}


def is_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` means the database or the disk cannot serve now (not a bug in a request)."""
    if isinstance(exc, db.OperationalError | db.InterfaceError):
        # SQLite: locked, read-only, disk full, I/O error; PostgreSQL: connection lost, disk full.
        return True
    if isinstance(exc, db.DatabaseError):
        cause = exc.__cause__
        return str(getattr(cause, "sqlstate", "") or getattr(cause, "pgcode", "") or "") == READ_ONLY_SQLSTATE
    return isinstance(exc, OSError) and exc.errno in DISK_ERRNOS


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def unavailable_response(request: HttpRequest, exc: BaseException | None = None) -> HttpResponse:
    logger.error("service unavailable for %s %s: %r", request.method, request.path, exc)
    response: HttpResponse
    if _is_api(request):
        response = JsonResponse(
            {
                "code": "unavailable",
                "message": _("The service is temporarily unavailable; try again in a moment."),
                "details": {"retry_after_seconds": RETRY_AFTER_SECONDS},
            },
            status=503,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        response = HttpResponse(render_to_string("core/unavailable.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class ServiceUnavailableMiddleware:
    """Turns a database or disk failure raised by a view into the 503 above (also with DEBUG on)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = self.get_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_unavailable(exception):
            return unavailable_response(request, exception)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: failures outside a view (a session that cannot be saved) end up here."""
    exc = sys.exc_info()[1]
    if is_unavailable(exc):
        return unavailable_response(request, exc)
    if _is_api(request):
        return JsonResponse(
            {"code": "server_error", "message": _("Something went wrong on our side."), "details": {}},
            status=500,
        )
    return HttpResponseServerError(render_to_string("core/server_error.html"))
