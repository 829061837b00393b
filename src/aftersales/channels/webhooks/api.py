"""Webhook endpoints of the REST API: the outbound delivery log (administrators)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema
from pydantic import Field

from aftersales.core.api_schemas import ERROR_RESPONSES
from aftersales.shell.views import api_user

from . import selectors
from .services import webhook_delivery_retry_now

router = Router(tags=["webhooks"])


class EndpointOut(Schema):
    id: int
    name: str
    url: str
    event_types: list[str]
    is_active: bool
    team_id: int | None


class DeliveryOut(Schema):
    id: int
    endpoint_id: int
    event_type: str
    event_id: uuid.UUID
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    response_status: int | None
    response_body: str
    last_error: str
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    payload: dict


class DeliveryPageOut(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None


class DeliveryFilters(Schema):
    status: Literal["pending", "delivering", "delivered", "failed"] | None = None
    endpoint: int | None = Field(default=None, ge=1, lt=2**62)
    event_type: str | None = Field(default=None, max_length=40, pattern=r"^[a-z_.]*$")
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=200)


@router.get("/endpoints", response={200: list[EndpointOut], **ERROR_RESPONSES})
def list_endpoints(request: HttpRequest) -> list[EndpointOut]:
    """Outbound endpoints (administrators). Secrets are never returned."""
    return [EndpointOut.from_orm(endpoint) for endpoint in selectors.endpoint_list(user=api_user(request))]


@router.get("/deliveries", response={200: DeliveryPageOut, **ERROR_RESPONSES})
def list_deliveries(request: HttpRequest, filters: Query[DeliveryFilters]) -> DeliveryPageOut:
    """Outbound deliveries, newest first, with their attempts and the receiver's last answer."""
    items, next_cursor = selectors.delivery_page(
        user=api_user(request),
        status=filters.status or "",
        endpoint_id=filters.endpoint,
        event_type=filters.event_type or "",
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return DeliveryPageOut(items=[DeliveryOut.from_orm(item) for item in items], next_cursor=next_cursor)


@router.get("/deliveries/{delivery_id}", response={200: DeliveryOut, **ERROR_RESPONSES})
def get_delivery(request: HttpRequest, delivery_id: int = Path(..., gt=0, lt=2**62)) -> DeliveryOut:
    return DeliveryOut.from_orm(selectors.delivery_get(user=api_user(request), delivery_id=delivery_id))


@router.post("/deliveries/{delivery_id}/retry", response={200: DeliveryOut, **ERROR_RESPONSES})
def retry_delivery(request: HttpRequest, delivery_id: int = Path(..., gt=0, lt=2**62)) -> DeliveryOut:
    """Attempt a pending or failed delivery again now (409 for one delivered or in flight)."""
    user = api_user(request)
    delivery = selectors.delivery_get(user=user, delivery_id=delivery_id)
    return DeliveryOut.from_orm(webhook_delivery_retry_now(delivery=delivery, actor=user))
