from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _


class RequestBodyLimitMiddleware:
    """Refuse bodies over the configured size with 413 before anything reads them.

    ``AFTERSALES_MAX_REQUEST_BYTES_BY_PATH`` gives single paths their own limit (the raw-MIME
    mail intake, whose body is an e-mail with base64 attachments).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        by_path: dict[str, int] = getattr(settings, "AFTERSALES_MAX_REQUEST_BYTES_BY_PATH", {})
        limit = by_path.get(request.path_info, settings.AFTERSALES_MAX_REQUEST_BYTES)
        if length > limit:
            return JsonResponse(
                {
                    "code": "payload_too_large",
                    "message": _("The request is too large."),
                    "details": {"max_bytes": limit},
                },
                status=413,
            )
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Send ``AFTERSALES_CONTENT_SECURITY_POLICY`` on every response that does not set its own.

    The default forbids inline script, so an injected ``<script>`` or ``onclick=`` does not run;
    templates attach behaviour from static files instead (docs/deploy.md, Security).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = str(getattr(settings, "AFTERSALES_CONTENT_SECURITY_POLICY", "") or "")
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response
