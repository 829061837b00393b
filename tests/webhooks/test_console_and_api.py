"""The delivery log: console page, "retry now", the API and the admin, for administrators only."""

from __future__ import annotations

import pytest
from django.test import Client

from aftersales.channels.webhooks.models import InboundDelivery, WebhookDelivery
from aftersales.tickets.services import ticket_open
from tests.factories import CustomerFactory

from .factories import InboundSourceFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deliveries(admin_user):
    endpoint = WebhookEndpointFactory(name="金蝶 ERP")
    for subject in ("一", "二", "三"):
        ticket_open(actor=admin_user, customer=CustomerFactory(), subject=subject)
    WebhookDelivery.objects.filter(pk=WebhookDelivery.objects.order_by("id").first().pk).update(
        status="failed", attempts=6, response_status=500, last_error="HTTP 500", next_attempt_at=None
    )
    return endpoint


def login(user, language="en"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def test_the_log_lists_endpoints_deliveries_and_inbound_requests(admin_user, deliveries):
    InboundDelivery.objects.create(
        source=InboundSourceFactory(name="微信服务号"),
        source_key="wx",
        status="refused",
        reason="signature_invalid",
    )
    body = login(admin_user).get("/webhooks/").content.decode()
    assert "金蝶 ERP" in body
    assert body.count("ticket.opened") >= 3
    assert "HTTP 500" in body
    assert "signature_invalid" in body
    assert "Retry now" in body


def test_the_log_filters_by_status(admin_user, deliveries):
    body = login(admin_user).get("/webhooks/", {"status": "failed"}).content.decode()
    assert body.count('class="wh-failed"') == 1
    assert 'class="wh-pending"' not in body


def test_retry_now_from_the_console_makes_a_failed_delivery_pending(admin_user, deliveries):
    failed = WebhookDelivery.objects.get(status="failed")
    response = login(admin_user).post(f"/webhooks/deliveries/{failed.pk}/retry/")
    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 5)


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_staff_who_are_not_administrators_cannot_see_or_retry(role, deliveries):
    from tests.factories import UserFactory

    user = UserFactory(role=role)
    client = login(user)
    assert client.get("/webhooks/").status_code == 403
    failed = WebhookDelivery.objects.get(status="failed")
    assert client.post(f"/webhooks/deliveries/{failed.pk}/retry/").status_code == 403
    failed.refresh_from_db()
    assert failed.status == "failed"


def test_anonymous_visitors_are_sent_to_sign_in():
    assert Client().get("/webhooks/").status_code == 302


def test_the_menu_shows_the_log_to_administrators_only(admin_user, agent):
    assert 'href="/webhooks/"' in login(admin_user).get("/console/").content.decode()
    assert 'href="/webhooks/"' not in login(agent).get("/console/").content.decode()


def test_api_lists_deliveries_with_paging_and_filters(api_as, admin_user, deliveries):
    client = api_as(admin_user)
    first = client.get("/api/v1/webhooks/deliveries", {"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = client.get("/api/v1/webhooks/deliveries", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    failed = client.get("/api/v1/webhooks/deliveries", {"status": "failed"}).json()["items"]
    assert [(d["status"], d["attempts"], d["response_status"]) for d in failed] == [("failed", 6, 500)]
    endpoints = client.get("/api/v1/webhooks/endpoints").json()
    assert endpoints[0]["name"] == "金蝶 ERP"
    assert "secret" not in endpoints[0]


def test_api_retry(api_as, admin_user, deliveries):
    failed = WebhookDelivery.objects.get(status="failed")
    response = api_as(admin_user).post(f"/api/v1/webhooks/deliveries/{failed.pk}/retry")
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    again = api_as(admin_user).post(f"/api/v1/webhooks/deliveries/{failed.pk}/retry")
    assert again.status_code == 200  # still pending: another attempt now is fine
    delivered = WebhookDelivery.objects.exclude(pk=failed.pk).first()
    WebhookDelivery.objects.filter(pk=delivered.pk).update(status="delivered")
    assert api_as(admin_user).post(f"/api/v1/webhooks/deliveries/{delivered.pk}/retry").status_code == 409


def test_api_refuses_non_administrators_and_changes_nothing(api_as, agent, deliveries):
    client = api_as(agent)
    assert client.get("/api/v1/webhooks/deliveries").status_code == 403
    assert client.get("/api/v1/webhooks/endpoints").status_code == 403
    failed = WebhookDelivery.objects.get(status="failed")
    assert client.post(f"/api/v1/webhooks/deliveries/{failed.pk}/retry").status_code == 403
    failed.refresh_from_db()
    assert failed.status == "failed"


def test_api_list_costs_a_fixed_number_of_queries(
    api_as, admin_user, deliveries, django_assert_max_num_queries
):
    client = api_as(admin_user)
    with django_assert_max_num_queries(6):
        assert len(client.get("/api/v1/webhooks/deliveries").json()["items"]) == 3


def test_admin_pages_open(admin_user, deliveries):
    client = login(admin_user)
    for path in (
        "/admin/webhooks/webhookendpoint/",
        f"/admin/webhooks/webhookendpoint/{deliveries.pk}/change/",
        "/admin/webhooks/webhookdelivery/",
        "/admin/webhooks/inboundsource/",
        "/admin/webhooks/inbounddelivery/",
        "/admin/webhooks/externalref/",
        "/admin/phone/ctisource/",
        "/admin/phone/callrecord/",
        "/admin/phone/ctievent/",
    ):
        assert client.get(path).status_code == 200, path
