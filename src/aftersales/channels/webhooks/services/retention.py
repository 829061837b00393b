"""How long the webhook logs are kept: request logs and outbound deliveries are evidence for a
while, then noise. Refusals (anyone can cause one) go after a week; the rest after 90 days.
Replay protection does not need old rows: a signature older than the ±300 s window is refused
as stale anyway."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from aftersales.core.services import purge_in_batches

from ..models import DeliveryStatus, InboundDelivery, InboundStatus, WebhookDelivery

REFUSED_DAYS = 7
KEPT_DAYS = 90


def webhook_logs_purge(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete refused inbound requests older than ``AFTERSALES_WEBHOOK_REFUSED_LOG_DAYS`` (7) and
    accepted requests and finished outbound deliveries older than ``AFTERSALES_WEBHOOK_LOG_DAYS``
    (90). Pending and retrying deliveries are never touched."""
    now = now or timezone.now()
    refused_before = now - dt.timedelta(
        days=int(getattr(settings, "AFTERSALES_WEBHOOK_REFUSED_LOG_DAYS", REFUSED_DAYS))
    )
    kept_before = now - dt.timedelta(days=int(getattr(settings, "AFTERSALES_WEBHOOK_LOG_DAYS", KEPT_DAYS)))
    return {
        "refused": purge_in_batches(
            InboundDelivery.objects.filter(status=InboundStatus.REFUSED, received_at__lt=refused_before)
        ),
        "accepted": purge_in_batches(
            InboundDelivery.objects.filter(status=InboundStatus.ACCEPTED, received_at__lt=kept_before)
        ),
        "outbound": purge_in_batches(
            WebhookDelivery.objects.filter(
                status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.FAILED], created_at__lt=kept_before
            )
        ),
    }
