"""What the knowledge pages share: the shell's view helpers (``aftersales.shell.views``, the same
kit as every other page) and the help centre's language."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import translation

from aftersales.shell.views import (
    customer_required,
    date_or,
    ensure_session_key,
    int_or_none,
    is_customer_user,
    is_htmx,
    is_staff_user,
    request_user,
    staff_required,
)

from .bot import normalize_locale

__all__ = [
    "customer_required",
    "date_or",
    "ensure_session_key",
    "int_or_none",
    "is_customer_user",
    "is_htmx",
    "is_staff_user",
    "request_user",
    "staff_required",
    "use_locale",
]


def use_locale(request: HttpRequest, locale: str) -> str:
    """Render this request in the help centre's path language (a shared link reads the same)."""
    locale = normalize_locale(locale)
    translation.activate(locale)
    request.LANGUAGE_CODE = locale
    return locale
