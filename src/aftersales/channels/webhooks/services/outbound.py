"""Signed outbound webhooks: deliveries are written in the ticket's transaction (an outbox), then
posted by a Celery task with retries and exponential back-off.

Exactly-once claiming: an attempt starts with a compare-and-set from ``pending`` (due) to
``delivering`` with a lease; only the worker whose update changed the row posts. A worker that
dies mid-attempt leaves the lease to expire, and the next sweep takes the delivery again.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from aftersales.core.errors import Conflict, PermissionDenied
from aftersales.core.models import User
from aftersales.core.roles import Capability
from aftersales.core.services import audit_record

from .. import http_session, signing, url_policy
from ..models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

# Seconds to wait after the 1st, 2nd … failed attempt; after the last one the delivery fails.
# ``AFTERSALES_WEBHOOK_RETRY_DELAYS`` may shorten them (the multi-worker test does); the number
# of attempts stays the same.
RETRY_DELAYS = (60, 300, 1800, 7200, 43200)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def _retry_delay(attempts: int) -> int:
    delays = tuple(getattr(settings, "AFTERSALES_WEBHOOK_RETRY_DELAYS", None) or RETRY_DELAYS)
    return int(delays[min(attempts, len(delays)) - 1])


# Deliveries the retry sweep hands to the queue per step; it re-enqueues itself while a step is full.
SWEEP_CHUNK = 100
RESPONSE_EXCERPT_CHARS = 1000
USER_AGENT = "aftersales-webhooks/1"


def _timeout() -> float:
    return float(getattr(settings, "AFTERSALES_WEBHOOK_TIMEOUT_SECONDS", 10))


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=_timeout() * 3 + 30)


def _enqueue(delivery_ids: list[int]) -> None:
    if not delivery_ids:
        return

    def send() -> None:
        from ..tasks import deliver

        for delivery_id in delivery_ids:
            deliver.delay(delivery_id=delivery_id)

    # robust: a broker that is down must not fail the request that already committed; the
    # retry sweep picks the deliveries up.
    transaction.on_commit(send, robust=True)


@transaction.atomic
def webhook_deliveries_for_event(
    *, event_type: str, team_id: int | None, data: dict[str, Any], occurred_at: dt.datetime | None = None
) -> list[WebhookDelivery]:
    """Write one delivery per endpoint that subscribes to ``event_type`` (inside the caller's
    transaction, so the event and its deliveries commit together) and post them after commit."""
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(is_active=True)
        if endpoint.wants(event_type, team_id)
    ]
    if not endpoints:
        return []
    now = occurred_at or timezone.now()
    deliveries = []
    for endpoint in endpoints:
        event_id = uuid.uuid4()
        payload = {"id": str(event_id), "type": event_type, "created_at": now.isoformat(), "data": data}
        deliveries.append(
            WebhookDelivery(
                endpoint=endpoint,
                event_type=event_type,
                event_id=event_id,
                payload=payload,
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
                created_at=now,
            )
        )
    created = WebhookDelivery.objects.bulk_create(deliveries)
    _enqueue([delivery.pk for delivery in created])
    return created


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str, str]:
    """POST ``body``; return (HTTP status or None, response excerpt, error)."""
    try:
        status, answer = http_session.post(url, body, headers, timeout=_timeout())
    except url_policy.WebhookUrlNotAllowed as error:
        # Checked on the connected socket: the name may resolve elsewhere than when it was saved.
        return None, "", f"address not allowed: {error.details.get('address', '')}"[:500]
    except (OSError, http.client.HTTPException, ValueError) as error:
        return None, "", f"{type(error).__name__}: {error}"[:500]
    excerpt = answer.decode("utf-8", "replace")[:RESPONSE_EXCERPT_CHARS]
    # A redirect is an answer, not something to follow with the signed body.
    return status, excerpt, "" if 200 <= status < 300 else f"HTTP {status}"


def encode_payload(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def webhook_delivery_attempt(*, delivery_id: int) -> str:
    """Make one attempt at a delivery if it is due and nobody else holds it; return its status.

    Safe to run twice and from several workers: the claim is a compare-and-set.
    """
    now = timezone.now()
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id)
        .filter(
            Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.DELIVERING, claimed_until__lt=now)
        )
        .update(status=DeliveryStatus.DELIVERING, claimed_until=now + _lease(), attempts=F("attempts") + 1)
    )
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        return "missing"
    if claimed != 1:
        return str(delivery.status)
    endpoint = delivery.endpoint
    body = encode_payload(delivery.payload)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        signing.SIGNATURE_HEADER: signing.sign(endpoint.secret, body, event_id=str(delivery.event_id)),
        signing.EVENT_ID_HEADER: str(delivery.event_id),
        "X-Aftersales-Event-Type": delivery.event_type,
    }
    status_code, excerpt, error = _post(endpoint.url, body, headers)
    finished = timezone.now()
    values: dict[str, Any] = {
        "response_status": status_code,
        "response_body": excerpt,
        "last_error": error,
        "claimed_until": None,
    }
    if status_code is not None and 200 <= status_code < 300:
        values.update(
            status=DeliveryStatus.DELIVERED, delivered_at=finished, next_attempt_at=None, last_error=""
        )
    elif delivery.attempts >= MAX_ATTEMPTS:
        values.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    else:
        delay = _retry_delay(delivery.attempts)
        values.update(status=DeliveryStatus.PENDING, next_attempt_at=finished + dt.timedelta(seconds=delay))
    # Only the holder of this attempt records its outcome.
    WebhookDelivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.DELIVERING, attempts=delivery.attempts
    ).update(**values)
    if values["status"] != DeliveryStatus.DELIVERED:
        logger.info(
            "webhook delivery %s attempt %s: %s", delivery.pk, delivery.attempts, error or status_code
        )
    return str(values["status"])


def webhook_deliveries_due(
    *, now: dt.datetime | None = None, limit: int = SWEEP_CHUNK, after_id: int = 0
) -> list[int]:
    """Deliveries nobody is looking after, by id from ``after_id``: retries whose time has come,
    attempts whose worker let the lease run out, and new deliveries older than a lease (a younger
    one's own task is probably still in the queue; past a lease, the broker may have lost it)."""
    moment = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=moment)
            & (Q(attempts__gt=0) | Q(created_at__lte=moment - _lease()))
            | Q(status=DeliveryStatus.DELIVERING, claimed_until__lt=moment),
            pk__gt=after_id,
        )
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


@transaction.atomic
def webhook_delivery_retry_now(*, delivery: WebhookDelivery, actor: User) -> WebhookDelivery:
    """An administrator asks for another attempt now (a failed delivery gets a fresh attempt)."""
    if not actor.can(Capability.CONFIGURE):
        raise PermissionDenied()
    before = {"status": delivery.status, "next_attempt_at": delivery.next_attempt_at}
    now = timezone.now()
    updated = WebhookDelivery.objects.filter(
        pk=delivery.pk, status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]
    ).update(status=DeliveryStatus.PENDING, next_attempt_at=now)
    if updated != 1:
        raise Conflict(details={"status": delivery.status})
    # A failed delivery starts a new round of retries.
    WebhookDelivery.objects.filter(pk=delivery.pk, attempts__gte=MAX_ATTEMPTS).update(
        attempts=MAX_ATTEMPTS - 1
    )
    delivery.refresh_from_db()
    audit_record(
        actor=actor,
        obj=delivery,
        action="webhooks.delivery.retry",
        before=before,
        after={"status": delivery.status, "next_attempt_at": now},
    )
    _enqueue([delivery.pk])
    return delivery
