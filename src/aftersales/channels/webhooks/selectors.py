"""Reads of the webhooks app, for administrators only."""

from __future__ import annotations

from django.db.models import QuerySet

from aftersales.core.errors import NotFound, PermissionDenied
from aftersales.core.models import User
from aftersales.core.paging import keyset_page
from aftersales.core.roles import Capability

from .models import InboundDelivery, WebhookDelivery, WebhookEndpoint


def _require_admin(user: User) -> None:
    if not user.can(Capability.CONFIGURE):
        raise PermissionDenied()


def endpoint_list(*, user: User) -> list[WebhookEndpoint]:
    _require_admin(user)
    return list(WebhookEndpoint.objects.select_related("team").order_by("name", "id"))


def delivery_page(
    *,
    user: User,
    status: str = "",
    endpoint_id: int | None = None,
    event_type: str = "",
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[WebhookDelivery], str | None]:
    _require_admin(user)
    qs: QuerySet[WebhookDelivery] = WebhookDelivery.objects.select_related("endpoint")
    if status:
        qs = qs.filter(status=status)
    if endpoint_id is not None:
        qs = qs.filter(endpoint_id=endpoint_id)
    if event_type:
        qs = qs.filter(event_type=event_type)
    return keyset_page(qs, cursor=cursor, limit=limit)


def delivery_get(*, user: User, delivery_id: int) -> WebhookDelivery:
    _require_admin(user)
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound(details={"delivery": delivery_id})
    return delivery


def inbound_page(
    *, user: User, status: str = "", cursor: str | None = None, limit: int = 50
) -> tuple[list[InboundDelivery], str | None]:
    _require_admin(user)
    qs: QuerySet[InboundDelivery] = InboundDelivery.objects.select_related("source", "ticket")
    if status:
        qs = qs.filter(status=status)
    return keyset_page(qs, cursor=cursor, limit=limit)
