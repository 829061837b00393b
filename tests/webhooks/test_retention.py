"""The webhook logs are kept for a while, then purged: refusals after a week, the rest after 90 days;
deliveries still to be sent are never purged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from aftersales.channels.webhooks.models import InboundDelivery, WebhookDelivery
from aftersales.channels.webhooks.services.retention import webhook_logs_purge
from aftersales.channels.webhooks.tasks import purge_logs

from .factories import InboundSourceFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)


def inbound(status: str, days_ago: float, source=None) -> InboundDelivery:
    return InboundDelivery.objects.create(
        source=source, status=status, received_at=NOW - dt.timedelta(days=days_ago), event_id=f"e{days_ago}"
    )


def outbound(endpoint, status: str, days_ago: float) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="ticket.opened", payload={}, status=status,
        created_at=NOW - dt.timedelta(days=days_ago),
    )  # fmt: skip


def test_refusals_go_after_a_week_the_rest_after_ninety_days_pending_never():
    source = InboundSourceFactory()
    endpoint = WebhookEndpointFactory()
    kept = [
        inbound("refused", 6),
        inbound("accepted", 89, source),
        outbound(endpoint, "delivered", 89),
        outbound(endpoint, "pending", 400),
        outbound(endpoint, "delivering", 400),
    ]
    inbound("refused", 8)
    inbound("accepted", 91, source)
    outbound(endpoint, "delivered", 91)
    outbound(endpoint, "failed", 120)

    assert webhook_logs_purge(now=NOW) == {"refused": 1, "accepted": 1, "outbound": 2}

    remaining = [*InboundDelivery.objects.order_by("id"), *WebhookDelivery.objects.order_by("id")]
    assert {(type(r).__name__, r.pk) for r in remaining} == {(type(r).__name__, r.pk) for r in kept}
    assert webhook_logs_purge(now=NOW) == {"refused": 0, "accepted": 0, "outbound": 0}


def test_the_daily_task_purges_with_the_configured_retention(settings):
    settings.AFTERSALES_WEBHOOK_REFUSED_LOG_DAYS = 1
    inbound_row = InboundDelivery.objects.create(
        status="refused", received_at=timezone.now() - dt.timedelta(days=2)
    )
    assert purge_logs()["refused"] == 1
    assert not InboundDelivery.objects.filter(pk=inbound_row.pk).exists()
