"""Outbound webhooks to a real local HTTP server: written with the ticket change, posted after
commit, retried with back-off while the receiver fails, delivered exactly once, verifiable."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from aftersales.channels.webhooks import signing
from aftersales.channels.webhooks.models import WebhookDelivery
from aftersales.channels.webhooks.services import (
    webhook_deliveries_due,
    webhook_delivery_attempt,
    webhook_delivery_retry_now,
)
from aftersales.channels.webhooks.services.outbound import MAX_ATTEMPTS, RETRY_DELAYS, _lease
from aftersales.channels.webhooks.tasks import retry_due
from aftersales.core.errors import Conflict, PermissionDenied
from aftersales.tickets.services import ticket_add_message, ticket_open, ticket_transition, ticket_update
from tests.factories import CustomerFactory, TeamFactory

from .factories import WebhookEndpointFactory
from .receiver import Receiver

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 9, 21, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def receiver():
    answers = {"plan": []}

    def answer(n: int) -> int:
        plan = answers["plan"]
        return plan[n] if n < len(plan) else 200

    server = Receiver(answer=answer).start()
    server.plan = answers["plan"]  # type: ignore[attr-defined]
    yield server
    server.stop()


def open_ticket(admin_user, **kwargs):
    return ticket_open(actor=admin_user, customer=CustomerFactory(), subject="热水器不加热", **kwargs)


def test_ticket_events_write_deliveries_in_the_same_transaction(
    admin_user, django_capture_on_commit_callbacks
):
    endpoint = WebhookEndpointFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        ticket = open_ticket(admin_user)
        ticket_add_message(ticket=ticket, actor=admin_user, body="我们已收到", kind="reply")
        ticket_add_message(ticket=ticket, actor=admin_user, body="内部备注", kind="note")
        ticket_transition(ticket=ticket, actor=admin_user, to_status="accepted")
        ticket_update(ticket=ticket, actor=admin_user, changes={"priority": "high"})
    types = list(WebhookDelivery.objects.order_by("id").values_list("event_type", flat=True))
    assert types == ["ticket.opened", "ticket.message_added", "ticket.stage_changed", "ticket.updated"]
    assert all(d.endpoint == endpoint and d.status == "pending" for d in WebhookDelivery.objects.all())
    ours = [c for c in callbacks if "_enqueue" in c.__qualname__]
    assert len(ours) == 4  # posting is enqueued only after commit
    message = WebhookDelivery.objects.get(event_type="ticket.message_added").payload
    assert message["data"]["message"]["body"] == "我们已收到"
    assert "内部备注" not in json.dumps(
        [d.payload for d in WebhookDelivery.objects.all()], ensure_ascii=False
    )
    updated = WebhookDelivery.objects.get(event_type="ticket.updated").payload["data"]
    assert (updated["before"], updated["after"]) == ({"priority": "normal"}, {"priority": "high"})


def test_a_rolled_back_change_leaves_no_delivery(admin_user):
    WebhookEndpointFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        open_ticket(admin_user)
        raise RuntimeError("the ticket's transaction fails after the event")
    assert not WebhookDelivery.objects.exists()


def test_subscriptions_and_team_filters_decide_who_gets_what(admin_user):
    team, other_team = TeamFactory(), TeamFactory()
    only_opened = WebhookEndpointFactory(event_types=["ticket.opened"])
    team_only = WebhookEndpointFactory(team=team)
    WebhookEndpointFactory(is_active=False)
    open_ticket(admin_user, team=team)
    open_ticket(admin_user, team=other_team)
    assert WebhookDelivery.objects.filter(endpoint=only_opened).count() == 2
    assert WebhookDelivery.objects.filter(endpoint=team_only).count() == 1
    assert WebhookDelivery.objects.count() == 3


def test_a_failing_receiver_gets_retries_with_back_off_then_one_signed_delivery(admin_user, receiver):
    receiver.plan.extend([500, 0, 503])  # a server error, a dropped connection, unavailable; then 200
    endpoint = WebhookEndpointFactory(url=receiver.url)
    with time_machine.travel(START, tick=False) as clock:
        ticket = open_ticket(admin_user)
        delivery = WebhookDelivery.objects.get()
        assert webhook_delivery_attempt(delivery_id=delivery.pk) == "pending"
        delivery.refresh_from_db()
        assert (delivery.attempts, delivery.response_status, delivery.response_body) == (
            1,
            500,
            "upstream exploded",
        )
        assert delivery.next_attempt_at == START + dt.timedelta(seconds=RETRY_DELAYS[0])
        # Not due yet: nothing is posted.
        assert webhook_delivery_attempt(delivery_id=delivery.pk) == "pending"
        assert webhook_deliveries_due() == []
        assert len(receiver.requests) == 1
        for waited, expected_delay in (
            (RETRY_DELAYS[0], RETRY_DELAYS[1]),
            (RETRY_DELAYS[1], RETRY_DELAYS[2]),
        ):
            clock.shift(dt.timedelta(seconds=waited))
            assert webhook_deliveries_due() == [delivery.pk]
            assert webhook_delivery_attempt(delivery_id=delivery.pk) == "pending"
            delivery.refresh_from_db()
            assert delivery.next_attempt_at == timezone.now() + dt.timedelta(seconds=expected_delay)
        assert delivery.last_error.startswith(
            ("RemoteDisconnected", "HTTP 503", "URLError", "ConnectionResetError")
        )
        clock.shift(dt.timedelta(seconds=RETRY_DELAYS[2]))
        assert webhook_delivery_attempt(delivery_id=delivery.pk) == "delivered"
        # Delivered: every later attempt, from the beat or a stray task, is a no-op.
        clock.shift(dt.timedelta(days=1))
        assert webhook_delivery_attempt(delivery_id=delivery.pk) == "delivered"
        assert retry_due() == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status, delivery.last_error) == (
        "delivered",
        4,
        200,
        "",
    )
    assert [r.answered for r in receiver.requests] == [500, 0, 503, 200]
    assert sum(1 for r in receiver.requests if r.answered == 200) == 1
    # What the receiver got verifies with the endpoint's secret, and carries the event.
    last = receiver.requests[-1]
    assert signing.verify(
        secret=endpoint.secret,
        header=last.headers[signing.SIGNATURE_HEADER],
        body=last.body,
        now=START.timestamp() + sum(RETRY_DELAYS[:3]),
    )
    payload = json.loads(last.body)
    assert payload["id"] == str(delivery.event_id) == last.headers[signing.EVENT_ID_HEADER]
    assert (payload["type"], payload["data"]["ticket"]["number"]) == ("ticket.opened", ticket.number)
    # Every attempt carried the same event id, so a receiver can drop duplicates.
    assert {r.headers[signing.EVENT_ID_HEADER] for r in receiver.requests} == {str(delivery.event_id)}


def test_after_the_last_retry_the_delivery_fails_and_retry_now_sends_it_again(admin_user, receiver):
    receiver.plan.extend([500] * MAX_ATTEMPTS)
    WebhookEndpointFactory(url=receiver.url)
    with time_machine.travel(START, tick=False) as clock:
        open_ticket(admin_user)
        delivery = WebhookDelivery.objects.get()
        for _ in range(MAX_ATTEMPTS):
            webhook_delivery_attempt(delivery_id=delivery.pk)
            clock.shift(dt.timedelta(hours=13))
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
            "failed",
            MAX_ATTEMPTS,
            None,
        )
        assert webhook_deliveries_due() == []
        webhook_delivery_retry_now(delivery=delivery, actor=admin_user)
        assert webhook_delivery_attempt(delivery_id=delivery.pk) == "delivered"
    assert len(receiver.requests) == MAX_ATTEMPTS + 1
    with pytest.raises(Conflict):
        webhook_delivery_retry_now(delivery=delivery, actor=admin_user)


def test_only_administrators_may_retry(agent, admin_user):
    WebhookEndpointFactory()
    open_ticket(admin_user)
    delivery = WebhookDelivery.objects.get()
    with pytest.raises(PermissionDenied):
        webhook_delivery_retry_now(delivery=delivery, actor=agent)


def test_a_redirect_is_not_followed(admin_user, receiver):
    receiver.plan.append(302)
    WebhookEndpointFactory(url=receiver.url)
    open_ticket(admin_user)
    delivery = WebhookDelivery.objects.get()
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "pending"
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.response_status == 302


def test_a_worker_that_died_mid_attempt_releases_the_delivery_when_its_lease_ends(admin_user, receiver):
    WebhookEndpointFactory(url=receiver.url)
    with time_machine.travel(START, tick=False) as clock:
        open_ticket(admin_user)
        delivery = WebhookDelivery.objects.get()
        # A worker claimed it and died before recording the outcome.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status="delivering", attempts=1, claimed_until=START + dt.timedelta(seconds=60)
        )
        assert webhook_delivery_attempt(delivery_id=delivery.pk) == "delivering"
        assert receiver.requests == []
        clock.shift(dt.timedelta(seconds=61))
        assert webhook_deliveries_due() == [delivery.pk]
        assert webhook_delivery_attempt(delivery_id=delivery.pk) == "delivered"
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert len(receiver.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_one_delivery_post_it_once(admin_user, receiver):
    WebhookEndpointFactory(url=receiver.url)
    open_ticket(admin_user)
    delivery = WebhookDelivery.objects.get()
    barrier = threading.Barrier(6)
    results: list[str] = []

    def work():
        try:
            barrier.wait()
            results.append(webhook_delivery_attempt(delivery_id=delivery.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert results.count("delivered") >= 1


def test_the_retry_sweep_leaves_new_deliveries_to_their_own_task_for_a_lease(admin_user, receiver):
    WebhookEndpointFactory(url=receiver.url)
    with time_machine.travel(START, tick=False) as clock:
        open_ticket(admin_user)
        delivery = WebhookDelivery.objects.get()
        # Its deliver task was queued on commit: the sweep does not queue a second one.
        clock.shift(_lease() - dt.timedelta(seconds=1))
        assert webhook_deliveries_due() == []
        assert retry_due() == 0
        # A lease later it is still pending: the broker lost the task (Redis restarted empty).
        clock.shift(dt.timedelta(seconds=2))
        assert webhook_deliveries_due() == [delivery.pk]
        # Both the lost task (had it survived) and the sweep's may run: one posts.
        assert webhook_delivery_attempt(delivery_id=delivery.pk) == "delivered"
        assert webhook_delivery_attempt(delivery_id=delivery.pk) == "delivered"
    assert len(receiver.requests) == 1


def test_the_retry_sweep_works_in_chunks_and_re_enqueues_itself(admin_user, receiver, settings):
    from aftersales.celery import app

    WebhookEndpointFactory(url=receiver.url)
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(5):
            open_ticket(admin_user)
        clock.shift(dt.timedelta(minutes=5))  # every deliver task was lost with the broker's queue
        settings.CELERY_TASK_ALWAYS_EAGER = True
        app.conf.task_always_eager = True
        try:
            assert retry_due(chunk=2) == 2  # the rest went to the steps it queued
        finally:
            app.conf.task_always_eager = False
    assert WebhookDelivery.objects.filter(status="delivered").count() == 5
    assert len(receiver.requests) == 5
