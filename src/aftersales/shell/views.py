"""What every page view shares, whichever app it lives in: who is asking, role gates, turning
domain errors into 404/403 or messages, HTMX checks and small query-string parsers.

One kit for the console, the portal and every domain app's pages, so a member of staff who opens
a customer page is treated the same everywhere (sent to the console), and a customer on a console
page always gets 403.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from aftersales.core.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed
from aftersales.core.models import User

R = TypeVar("R")

# Where staff who open a customer page are sent (a URL name; the web app owns the console).
CONSOLE_HOME = "web:console"


def current_user(request: HttpRequest) -> User:
    """The signed-in user of a view that required sign-in (or an API call that authenticated)."""
    user = request.user
    assert isinstance(user, User)
    return user


def api_user(request: HttpRequest) -> User:
    """The user an API call authenticated as (django-ninja puts it on ``request.auth``; a bearer
    token does not sign ``request.user`` in)."""
    user = getattr(request, "auth", None)
    assert isinstance(user, User)
    return user


def request_user(request: HttpRequest) -> User | None:
    """The signed-in user, or ``None`` for a visitor (public pages)."""
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


def is_staff_user(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.is_staff_member or user.is_superuser)
    )


def is_customer_user(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and getattr(user, "is_customer", False)
        and not is_staff_user(user)
    )


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Console pages are for the service organisation: sign-in required, a customer gets 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_staff_user(request.user):
            raise DjangoPermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def customer_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Portal pages are for customers: staff are sent to the console (an HTMX request is told to
    go there with ``HX-Redirect``), anybody else gets 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if is_staff_user(user):
            response = redirect(CONSOLE_HOME)
            if is_htmx(request):
                hx = HttpResponse(status=204)
                hx["HX-Redirect"] = response["Location"]
                return hx
            return response
        if not is_customer_user(user):
            raise DjangoPermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def fetch_or_404(fetch: Callable[[], R]) -> R:
    """Run a selector; a domain "not found" or "not allowed" becomes Django's 404 / 403 page."""
    try:
        return fetch()
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc


def refuse_if_forbidden(error: ApplicationError) -> None:
    """On the console a refusal is not a message on the page: the answer is 403, as on the API."""
    if isinstance(error, PermissionDenied):
        raise DjangoPermissionDenied(str(error.message)) from error


def error_lines(error: ApplicationError) -> list[str]:
    """The error's message, then each field problem of a validation error."""
    lines = [str(error.message)]
    if isinstance(error, ValidationFailed) or error.code == "validation_error":
        lines.extend(str(value) for value in error.details.values() if isinstance(value, str))
    return lines


def report_error(request: HttpRequest, error: ApplicationError) -> None:
    for index, line in enumerate(error_lines(error)):
        if index == 0:
            messages.error(request, line)
        else:
            messages.warning(request, line)


def report_staff_error(request: HttpRequest, error: ApplicationError) -> None:
    refuse_if_forbidden(error)
    report_error(request, error)


def form_error_lines(form: Any) -> list[str]:
    lines: list[str] = []
    for field_name, errors in form.errors.items():
        label = form.fields[field_name].label if field_name in form.fields else ""
        lines.extend(f"{label}: {error}" if label else str(error) for error in errors)
    return lines


def report_form_errors(request: HttpRequest, form: Any) -> None:
    for line in form_error_lines(form):
        messages.error(request, line)


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def int_or_none(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number < 2**31 else None


def date_or(value: str | None, default: dt.date) -> dt.date:
    try:
        parsed = dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default
    return parsed if dt.date(2000, 1, 1) <= parsed <= dt.date(2100, 12, 31) else default


def ensure_session_key(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key or ""


def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``: browsers ask for it on every page that names no icon (the JSON API docs,
    a downloaded file); send them to the shell's icon rather than a 404."""
    from django.templatetags.static import static

    response = redirect(static("shell/favicon.svg"), permanent=True)
    response["Cache-Control"] = "public, max-age=86400"
    return response
