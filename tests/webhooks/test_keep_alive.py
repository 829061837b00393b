"""Deliveries to a receiver that keeps connections alive share one connection per worker thread;
one the receiver closed while idle is replaced without losing the delivery."""

from __future__ import annotations

import pytest

from aftersales.channels.webhooks import http_session
from aftersales.channels.webhooks.models import WebhookDelivery
from aftersales.channels.webhooks.services import webhook_delivery_attempt
from aftersales.tickets.services import ticket_open
from tests.factories import CustomerFactory

from .factories import WebhookEndpointFactory
from .receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_connections():
    http_session.close_all()
    yield
    http_session.close_all()


def deliveries(admin_user, count: int) -> list[int]:
    for i in range(count):
        ticket_open(actor=admin_user, customer=CustomerFactory(), subject=f"热水器不加热 {i}")
    return list(WebhookDelivery.objects.order_by("id").values_list("id", flat=True))


def test_deliveries_to_a_keep_alive_receiver_share_one_connection(admin_user):
    receiver = Receiver(answer=lambda n: 200, keep_alive=True).start()
    try:
        WebhookEndpointFactory(url=receiver.url, event_types=["ticket.opened"])
        ids = deliveries(admin_user, 3)
        assert [webhook_delivery_attempt(delivery_id=i) for i in ids] == ["delivered"] * 3
        assert len({r.peer for r in receiver.requests}) == 1
        assert len(receiver.requests) == 3
    finally:
        receiver.stop()


def test_a_receiver_without_keep_alive_gets_a_connection_per_delivery(admin_user):
    receiver = Receiver(answer=lambda n: 200).start()
    try:
        WebhookEndpointFactory(url=receiver.url, event_types=["ticket.opened"])
        ids = deliveries(admin_user, 2)
        assert [webhook_delivery_attempt(delivery_id=i) for i in ids] == ["delivered"] * 2
        assert len({r.peer for r in receiver.requests}) == 2
    finally:
        receiver.stop()


def test_a_connection_closed_while_idle_is_replaced_and_the_delivery_goes_through(admin_user):
    receiver = Receiver(answer=lambda n: 200, keep_alive=True).start()
    port = receiver.server.server_address[1]
    WebhookEndpointFactory(url=receiver.url, event_types=["ticket.opened"])
    first, second = deliveries(admin_user, 2)
    assert webhook_delivery_attempt(delivery_id=first) == "delivered"
    # The receiver restarts on the same port: the kept connection is dead.
    receiver.stop()
    again = Receiver(answer=lambda n: 200, keep_alive=True)
    again.start_on(port)
    try:
        assert webhook_delivery_attempt(delivery_id=second) == "delivered"
        assert len(again.requests) == 1
        assert WebhookDelivery.objects.get(pk=second).attempts == 1
    finally:
        again.stop()


def test_an_error_answer_does_not_poison_the_kept_connection(admin_user):
    receiver = Receiver(answer=lambda n: 500 if n == 0 else 200, keep_alive=True).start()
    try:
        WebhookEndpointFactory(url=receiver.url, event_types=["ticket.opened"])
        first, second = deliveries(admin_user, 2)
        assert webhook_delivery_attempt(delivery_id=first) == "pending"
        assert webhook_delivery_attempt(delivery_id=second) == "delivered"
        assert WebhookDelivery.objects.get(pk=first).response_body == "upstream exploded"
        assert len({r.peer for r in receiver.requests}) == 1
    finally:
        receiver.stop()
