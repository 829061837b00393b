"""The REST API object: bearer authentication, the error shape, and every app's router."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.security import HttpBearer

from aftersales.core.errors import ApplicationError, NotAuthenticated
from aftersales.core.models import User
from aftersales.core.services import api_token_authenticate
from aftersales.core.unavailable import is_unavailable, unavailable_response

from .throttling import TokenRateThrottle


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        try:
            user = api_token_authenticate(raw=token)
        except NotAuthenticated as exc:
            if exc.code == "token_expired":
                raise  # 401 that says why, so a client knows to get a new token
            return None
        request.user = user
        return user


api = NinjaAPI(
    title="aftersales API",
    version="1",
    description="After-sales service platform: tickets, customers and installed products.",
    auth=BearerToken(),
    throttle=[TokenRateThrottle()],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def error_response(
    request: HttpRequest, status: int, code: str, message: str, details: Any = None
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "details": details or {}}, status=status
    )


@api.exception_handler(DatabaseError)
@api.exception_handler(OSError)
def on_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A database or disk that cannot serve: 503 {"code": "unavailable"} (core/unavailable.py);
    # anything else is a bug and goes on to the 500 handler.
    if is_unavailable(exc):
        return unavailable_response(request, exc)
    raise exc


@api.exception_handler(ApplicationError)
def on_application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    body = exc.as_dict()
    return error_response(request, exc.status, body["code"], body["message"], body["details"])


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": error.get("type", ""),
        }
        for error in exc.errors
    ]
    return error_response(
        request, 422, "validation_error", _("Some fields are not valid."), {"errors": details}
    )


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, 401, "not_authenticated", _("Sign in or send a valid API token."))


@api.exception_handler(AuthorizationError)
def on_authorization_error(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return error_response(request, 403, "permission_denied", _("You are not allowed to do this."))


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        return error_response(request, 400, "malformed_request", _("The request body is not valid JSON."))
    if exc.status_code == 429:
        return error_response(request, 429, "throttled", _("Too many requests; slow down."))
    return error_response(request, exc.status_code, "http_error", str(exc))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", _("Not found."))


def _register_routers() -> None:
    from aftersales.assets.api import router as assets_router
    from aftersales.channels.chat.api import router as chat_router
    from aftersales.channels.mail.api import router as mail_router
    from aftersales.channels.phone.api import router as phone_router
    from aftersales.channels.webhooks.api import router as webhooks_router
    from aftersales.core.api import router as core_router
    from aftersales.customers.api import router as customers_router
    from aftersales.knowledge.api import router as knowledge_router
    from aftersales.macros.api import router as macros_router
    from aftersales.sla.api import router as sla_router
    from aftersales.sla.api_first_response import router as first_response_router
    from aftersales.tickets.api import router as tickets_router
    from aftersales.tickets.api_bulk import router as tickets_bulk_router
    from aftersales.tickets.api_history import router as customer_history_router

    # Before the tickets' router: its "/{number}" would otherwise claim "/bulk".
    api.add_router("/tickets", tickets_bulk_router)
    api.add_router("/tickets", tickets_router)
    api.add_router("/customers", customers_router)
    api.add_router("/customers", customer_history_router)
    api.add_router("/reports", first_response_router)
    api.add_router("/installed-products", assets_router)
    api.add_router("/", core_router)
    api.add_router("/", sla_router)
    api.add_router("/mail", mail_router)
    api.add_router("/chat", chat_router)
    api.add_router("/phone", phone_router)
    api.add_router("/webhooks", webhooks_router)
    api.add_router("/kb", knowledge_router)
    api.add_router("/macros", macros_router)


_register_routers()
