"""The web app's view helpers are the shell's (``aftersales.shell.views``): one kit for every page,
whichever app it lives in. Re-exported here so the web views keep their short imports."""

from __future__ import annotations

from aftersales.shell.views import (
    current_user,
    customer_required,
    fetch_or_404,
    form_error_lines,
    is_htmx,
    is_staff_user,
    refuse_if_forbidden,
    report_error,
    report_form_errors,
    report_staff_error,
    staff_required,
)

__all__ = [
    "current_user",
    "customer_required",
    "fetch_or_404",
    "form_error_lines",
    "is_htmx",
    "is_staff_user",
    "refuse_if_forbidden",
    "report_error",
    "report_form_errors",
    "report_staff_error",
    "staff_required",
]
