"""What the knowledge pages share: role gates, the help centre's language, small parsers.

(The web app's helpers sit in a higher layer; these few lines are repeated rather than imported.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from aftersales.core.models import User

from .bot import normalize_locale


def is_staff_user(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.is_staff_member or user.is_superuser)
    )


def is_customer_user(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_customer)


def request_user(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Console pages: sign-in required, customers get 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_staff_user(request.user):
            raise DjangoPermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def customer_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_customer_user(request.user):
            raise DjangoPermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def use_locale(request: HttpRequest, locale: str) -> str:
    """Render this request in the help centre's path language (a shared link reads the same)."""
    locale = normalize_locale(locale)
    translation.activate(locale)
    request.LANGUAGE_CODE = locale
    return locale


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
