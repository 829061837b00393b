"""The inbound endpoint (a plain Django view: its callers sign requests instead of holding API
tokens) and the delivery log in the console, for administrators."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from aftersales.core.errors import ApplicationError, NotFound, PayloadTooLarge, ValidationFailed
from aftersales.core.models import User
from aftersales.core.roles import Capability

from . import selectors, signing
from .errors import MethodNotAllowed
from .models import DeliveryStatus, InboundStatus
from .services import inbound_receive, webhook_delivery_retry_now
from .services.inbound import inbound_delivery_refuse, max_body_bytes


def _json(status: int, body: dict[str, Any]) -> JsonResponse:
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


@csrf_exempt
def inbound(request: HttpRequest, key: str) -> HttpResponse:
    """``POST /webhooks/in/<key>/`` with a signed JSON event (docs/integrations.md)."""
    if request.method != "POST":
        error: ApplicationError = MethodNotAllowed()
        response = _json(error.status, error.as_dict())
        response["Allow"] = "POST"
        return response
    try:
        content_length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        content_length = 0
    if content_length > max_body_bytes():
        # Refused before the body is read at all.
        error = PayloadTooLarge(details={"max_bytes": max_body_bytes()})
        inbound_delivery_refuse(
            source=None, source_key=key[:60], event_id="", event_type="", body_sha256="", error=error
        )
        return _json(error.status, error.as_dict())
    result = inbound_receive(
        source_key=key,
        body=request.body,
        signature_header=request.headers.get(signing.SIGNATURE_HEADER, ""),
        event_id=request.headers.get(signing.EVENT_ID_HEADER, "").strip(),
        content_length=content_length,
    )
    return _json(result.status, result.body)


def _admin(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not user.can(Capability.CONFIGURE):
        raise DjangoPermissionDenied
    return user


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@login_required
@require_GET
def delivery_log(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    status = request.GET.get("status", "")
    if status not in DeliveryStatus.values:
        status = ""
    endpoint_id = _int(request.GET.get("endpoint"))
    try:
        deliveries, next_cursor = selectors.delivery_page(
            user=user, status=status, endpoint_id=endpoint_id, cursor=request.GET.get("cursor") or None
        )
    except ValidationFailed:
        deliveries, next_cursor = selectors.delivery_page(user=user, status=status, endpoint_id=endpoint_id)
    inbound_deliveries, _next = selectors.inbound_page(user=user, limit=20)
    context = {
        "nav": "webhooks",
        "endpoints": selectors.endpoint_list(user=user),
        "deliveries": deliveries,
        "next_cursor": next_cursor,
        "status": status,
        "endpoint_id": endpoint_id,
        "statuses": DeliveryStatus.choices,
        "inbound_deliveries": inbound_deliveries,
        "inbound_accepted": InboundStatus.ACCEPTED,
    }
    return render(request, "webhooks/delivery_log.html", context)


@login_required
@require_POST
def delivery_retry(request: HttpRequest, delivery_id: int) -> HttpResponse:
    user = _admin(request)
    try:
        delivery = selectors.delivery_get(user=user, delivery_id=delivery_id)
        webhook_delivery_retry_now(delivery=delivery, actor=user)
    except NotFound as exc:
        messages.error(request, str(exc.message))
    except ApplicationError:
        messages.error(request, _("Only a pending or failed delivery can be retried."))
    else:
        messages.success(request, _("Delivery %(id)s will be sent again now.") % {"id": delivery_id})
    return redirect("webhooks:log")
