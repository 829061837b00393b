"""Outbound webhook URLs: internal addresses are refused when an endpoint is saved and again on
every delivery (the name may resolve elsewhere later), unless a setting allows them."""

from __future__ import annotations

import pytest
from django.test import Client

from aftersales.channels.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from aftersales.channels.webhooks.services import webhook_delivery_attempt
from aftersales.channels.webhooks.url_policy import WebhookUrlNotAllowed, address_allowed, check_url
from aftersales.tickets.services import ticket_open
from tests.factories import CustomerFactory

from .factories import WebhookEndpointFactory
from .receiver import Receiver

pytestmark = pytest.mark.django_db

INTERNAL_URLS = [
    "http://127.0.0.1:8000/hook",
    "http://localhost/hook",
    "http://10.1.2.3/hook",
    "http://192.168.1.10/hook",
    "http://172.16.0.5/hook",
    "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://0.0.0.0/hook",
]


@pytest.fixture
def strict(settings):
    settings.AFTERSALES_WEBHOOK_ALLOW_PRIVATE = False
    settings.AFTERSALES_WEBHOOK_ALLOWED_NETWORKS = []
    return settings


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_an_internal_url_is_refused_with_a_422(strict, url):
    with pytest.raises(WebhookUrlNotAllowed) as refused:
        check_url(url)
    assert (refused.value.status, refused.value.code) == (422, "webhook_url_not_allowed")


def test_a_public_address_is_allowed(strict):
    check_url("https://93.184.216.34/hooks")  # a literal: no DNS needed
    assert address_allowed("114.114.114.114")
    assert not address_allowed("100.64.0.1")  # carrier-grade NAT is not public either


def test_the_setting_or_an_allowed_network_lets_internal_addresses_through(strict):
    strict.AFTERSALES_WEBHOOK_ALLOWED_NETWORKS = ["10.8.0.0/16"]
    check_url("http://10.8.3.4/erp")
    with pytest.raises(WebhookUrlNotAllowed):
        check_url("http://10.9.3.4/erp")
    strict.AFTERSALES_WEBHOOK_ALLOW_PRIVATE = True
    check_url("http://127.0.0.1:9/hook")


def test_the_admin_refuses_to_register_an_internal_url(strict, admin_user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_user)
    response = client.post(
        "/admin/webhooks/webhookendpoint/add/",
        {
            "name": "内网 ERP",
            "url": "http://169.254.169.254/latest/meta-data/",
            "secret": "whsec_x",
            "event_types": ["ticket.opened"],
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "only public addresses may receive webhooks" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_a_delivery_to_an_address_that_became_internal_is_not_sent(strict, admin_user):
    # Saved earlier (say the name resolved to a public address then); now it reaches 127.0.0.1.
    receiver = Receiver(answer=lambda n: 200).start()
    try:
        WebhookEndpointFactory(url=receiver.url, event_types=["ticket.opened"])
        ticket_open(actor=admin_user, customer=CustomerFactory(), subject="热水器不加热")
        delivery = WebhookDelivery.objects.get()
        assert webhook_delivery_attempt(delivery_id=delivery.pk) == DeliveryStatus.PENDING
        delivery.refresh_from_db()
        assert delivery.last_error.startswith("address not allowed: 127.0.0.1")
        assert receiver.requests == []
        strict.AFTERSALES_WEBHOOK_ALLOW_PRIVATE = True
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
        assert webhook_delivery_attempt(delivery_id=delivery.pk) == DeliveryStatus.DELIVERED
        assert len(receiver.requests) == 1
    finally:
        receiver.stop()
