"""What every visitor endpoint shares: origin checks and CORS, rate limits, bodies, JSON errors.

The widget's endpoints carry no cookie: a conversation is named by its token, always in the
``X-Chat-Token`` header (the stream too: the widget reads it with ``fetch``), never in a URL,
where access logs and proxies would keep it. So they are exempt from CSRF, and instead only the
origins a channel lists (and this server itself) may call them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from django.utils.translation import override
from django.views.decorators.csrf import csrf_exempt

from aftersales.core.client_address import client_address
from aftersales.core.errors import ApplicationError, NotFound
from aftersales.core.rate_limit import RateLimit, rate_limit_exceeded

from .conf import chat_setting
from .models import ChatChannel, Conversation
from .selectors import channel_get_public, conversation_for_visitor
from .services import normalise_language

MAX_BODY_BYTES = 16 * 1024
ALLOWED_HEADERS = "Content-Type, X-Chat-Token, X-Chat-Lang, Last-Event-ID"


def request_language(request: HttpRequest) -> str:
    return normalise_language(request.GET.get("lang") or request.headers.get("X-Chat-Lang") or "zh-hans")


def client_ip(request: HttpRequest) -> str:
    return client_address(request)  # X-Forwarded-For only from AFTERSALES_TRUSTED_PROXIES


def own_origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def origin_allowed(request: HttpRequest, channel: ChatChannel) -> bool:
    origin = request.headers.get("Origin")
    if not origin:
        # Browsers send Origin on every cross-site request this could matter for; requests
        # without one come from this server's own pages or from programs, which carry no cookie.
        return True
    origin = origin.rstrip("/")
    if origin == own_origin(request):
        return True
    allowed = channel.origins()
    return "*" in allowed or origin in allowed


def cors(response: HttpResponseBase, request: HttpRequest) -> HttpResponseBase:
    origin = request.headers.get("Origin")
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    return response


def json_error(
    request: HttpRequest, *, status: int, code: str, message: str, details: Any = None
) -> HttpResponseBase:
    response = JsonResponse({"code": code, "message": message, "details": details or {}}, status=status)
    return cors(response, request)


def rate_limited(key: str, limit: int, window: int = 60) -> bool:
    """Count one request in the shared rate limiter; True when it is over ``limit``."""
    return rate_limit_exceeded(RateLimit(scope="chat", limit=limit, window_seconds=window), key)


def read_json(request: HttpRequest) -> dict[str, Any]:
    from aftersales.core.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise PayloadTooLarge(details={"max_bytes": MAX_BODY_BYTES})
    raw = request.body
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(details={"max_bytes": MAX_BODY_BYTES})
    if not raw:
        return {}
    content_type = (request.content_type or "").lower()
    if content_type not in ("application/json", "text/plain", ""):
        raise UnsupportedMediaType(_("Send JSON."))
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest(_("The request body is not valid JSON."), code="malformed_request") from None
    if not isinstance(data, dict):
        raise BadRequest(_("The request body is not valid JSON."), code="malformed_request")
    return data


VisitorView = Callable[..., HttpResponseBase]


def visitor_endpoint(
    *, methods: tuple[str, ...], needs_conversation: bool
) -> Callable[[VisitorView], VisitorView]:
    """Wrap a widget endpoint: CORS pre-flight, origin check, language, rate limits, errors.

    The wrapped view gets ``(request, channel, conversation, language)``."""

    def decorate(view: VisitorView) -> VisitorView:
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, public_key: str) -> HttpResponseBase:
            language = request_language(request)
            with override(language):
                if request.method == "OPTIONS":
                    return cors(HttpResponse(status=204), request)
                if request.method not in methods:
                    return json_error(
                        request,
                        status=405,
                        code="method_not_allowed",
                        message=_("This method is not allowed."),
                    )
                try:
                    channel = channel_get_public(public_key=public_key)
                    if not origin_allowed(request, channel):
                        # No CORS headers: the page's script may not even read the refusal.
                        return JsonResponse(
                            {
                                "code": "origin_not_allowed",
                                "message": _("This website may not use this chat."),
                                "details": {},
                            },
                            status=403,
                        )
                    if rate_limited(
                        f"ip:{client_ip(request)}", int(chat_setting("AFTERSALES_CHAT_RATE_PER_IP"))
                    ):
                        return json_error(
                            request, status=429, code="throttled", message=_("Too many requests; slow down.")
                        )
                    response: HttpResponseBase
                    conversation: Conversation | None = None
                    if needs_conversation:
                        token = request.headers.get("X-Chat-Token") or ""
                        conversation = conversation_for_visitor(channel=channel, token=token)
                        if request.method == "POST" and rate_limited(
                            f"conv:{conversation.pk}",
                            int(chat_setting("AFTERSALES_CHAT_RATE_PER_CONVERSATION")),
                        ):
                            return json_error(
                                request,
                                status=429,
                                code="throttled",
                                message=_("Too many requests; slow down."),
                            )
                    response = view(request, channel, conversation, language)
                except ApplicationError as exc:
                    body = exc.as_dict()
                    return json_error(
                        request,
                        status=exc.status,
                        code=body["code"],
                        message=body["message"],
                        details=body["details"],
                    )
                return cors(response, request)

        return wrapped

    return decorate


__all__ = ["NotFound", "cors", "json_error", "read_json", "visitor_endpoint"]
