"""Two Celery workers and two beat schedulers on the real Redis post outbound webhooks to a real
local HTTP server that fails at first: every delivery arrives exactly once, signed."""

from __future__ import annotations

import json
import os

import pytest

from aftersales.channels.webhooks import signing
from aftersales.channels.webhooks.models import WebhookDelivery
from aftersales.core.roles import Role
from aftersales.tickets.services import ticket_open
from tests.celery_support import redis_or_skip, run_workers_and_schedulers
from tests.factories import CustomerFactory, UserFactory

from .factories import WebhookEndpointFactory
from .receiver import Receiver

REDIS_URL = os.environ.get("AFTERSALES_TEST_WEBHOOKS_REDIS_URL", "redis://127.0.0.1:6379/10")


@pytest.mark.django_db(transaction=True)
def test_two_workers_and_two_schedulers_deliver_each_webhook_exactly_once(tmp_path):
    redis_or_skip(REDIS_URL)
    # The first four requests fail (500, dropped, 503, 500), then the receiver recovers.
    failures = {0: 500, 1: 0, 2: 503, 3: 500}
    receiver = Receiver(answer=lambda n: failures.get(n, 200)).start()
    endpoint = WebhookEndpointFactory(url=receiver.url, event_types=["ticket.opened"])
    agent = UserFactory(role=Role.AGENT)
    tickets = [ticket_open(actor=agent, customer=CustomerFactory(), subject=f"漏水 {n}") for n in range(5)]
    assert WebhookDelivery.objects.filter(status="pending").count() == 5

    try:
        logs, context = run_workers_and_schedulers(
            settings_module="tests.webhooks.celery_settings",
            broker_url=REDIS_URL,
            workdir=tmp_path,
            name="hooks",
            done=lambda: WebhookDelivery.objects.filter(status="delivered").count() == 5,
        )
    finally:
        receiver.stop()

    assert WebhookDelivery.objects.filter(status="delivered").count() == 5, context
    delivered = [r for r in receiver.requests if r.answered == 200]
    event_ids = [r.headers[signing.EVENT_ID_HEADER] for r in delivered]
    assert len(event_ids) == len(set(event_ids)) == 5, context  # each exactly once
    assert len(receiver.requests) == 5 + len(failures), context  # and no attempt beyond the retries
    numbers = set()
    for request in delivered:
        assert signing.verify(
            secret=endpoint.secret, header=request.headers[signing.SIGNATURE_HEADER], body=request.body
        )
        numbers.add(json.loads(request.body)["data"]["ticket"]["number"])
    assert numbers == {ticket.number for ticket in tickets}
    assert sum(d.attempts for d in WebhookDelivery.objects.all()) == 5 + len(failures)
    for n in (1, 2):
        assert "Scheduler: Sending due task" in logs[f"beat{n}.log"], context
