"""Merging closes the duplicate: subscribers hear it as a stage change and as ``ticket.merged``."""

from __future__ import annotations

import pytest

from aftersales.channels.webhooks.models import WebhookDelivery
from aftersales.tickets.services import ticket_merge, ticket_open, ticket_transition
from tests.factories import CustomerFactory

from .factories import WebhookEndpointFactory

pytestmark = pytest.mark.django_db


def test_a_merge_sends_the_duplicates_status_change_and_a_merged_event(admin_user):
    statuses = WebhookEndpointFactory(event_types=["ticket.stage_changed"])
    merges = WebhookEndpointFactory(event_types=["ticket.merged"])
    customer = CustomerFactory()
    kept = ticket_open(actor=admin_user, customer=customer, subject="净水器漏水")
    duplicate = ticket_open(actor=admin_user, customer=customer, subject="净水器漏水")
    ticket_transition(ticket=duplicate, actor=admin_user, to_status="accepted")
    WebhookDelivery.objects.all().delete()

    ticket_merge(source=duplicate, target=kept, actor=admin_user)

    change = WebhookDelivery.objects.get(endpoint=statuses).payload
    assert change["type"] == "ticket.stage_changed"
    assert change["data"]["ticket"]["number"] == duplicate.number
    assert change["data"]["ticket"]["status"] == "closed"
    assert (change["data"]["from_status"], change["data"]["to_status"]) == ("accepted", "closed")
    assert (change["data"]["close_reason"], change["data"]["merged_into"]) == ("merged", kept.number)
    merged = WebhookDelivery.objects.get(endpoint=merges).payload
    assert merged["type"] == "ticket.merged"
    assert merged["data"]["ticket"]["number"] == duplicate.number
    assert merged["data"]["into"]["number"] == kept.number
    assert WebhookDelivery.objects.count() == 2
