"""What every web view shares: role gates, turning domain errors into messages, HTMX checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from aftersales.core.errors import ApplicationError, NotFound, PermissionDenied
from aftersales.core.models import User

from ..presenters import error_lines

P = ParamSpec("P")
R = TypeVar("R")


def current_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def is_staff_user(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_staff_member or user.is_superuser))


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The console is for the service organisation; a customer gets 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_staff_user(request.user):
            raise DjangoPermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def customer_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The portal is for customers; staff are sent to the console."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if is_staff_user(user):
            return redirect("web:console")
        if not getattr(user, "is_customer", False):
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
    """On the console a refusal is not a message on the page: the answer is 403, as on the API.
    (The portal keeps a message: there a refusal is a page gone stale, e.g. the desk moved on.)"""
    if isinstance(error, PermissionDenied):
        raise DjangoPermissionDenied(str(error.message)) from error


def report_staff_error(request: HttpRequest, error: ApplicationError) -> None:
    refuse_if_forbidden(error)
    report_error(request, error)


def report_error(request: HttpRequest, error: ApplicationError) -> None:
    for index, line in enumerate(error_lines(error)):
        if index == 0:
            messages.error(request, line)
        else:
            messages.warning(request, line)


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
