"""POST /api/v1/tickets/bulk: the console's bulk actions for API clients, one outcome per ticket."""

from __future__ import annotations

import pytest

from aftersales.core.roles import Role
from aftersales.tickets.models import Ticket
from tests.factories import CustomerFactory, TicketFactory, UserFactory, customer_user

pytestmark = pytest.mark.django_db


def test_bulk_stage_reports_each_ticket(api_as, agent):
    fresh = TicketFactory()
    cancelled = TicketFactory(status="cancelled")
    response = api_as(agent).post(
        "/api/v1/tickets/bulk",
        {"numbers": [fresh.number, cancelled.number, "T9999999"], "action": "stage", "to": "accepted"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["done"], body["refused"]) == (1, 2)
    assert [(r["number"], r["ok"], r["code"]) for r in body["results"]] == [
        (fresh.number, True, "done"),
        (cancelled.number, False, "invalid_transition"),
        ("T9999999", False, "not_found"),
    ]
    assert "cannot move" in body["results"][1]["message"]
    assert Ticket.objects.get(pk=fresh.pk).status == "accepted"


def test_bulk_assign_and_unassign(api_as, agent):
    colleague = UserFactory(role=Role.AGENT)
    ticket = TicketFactory()
    client = api_as(agent)
    assigned = client.post(
        "/api/v1/tickets/bulk", {"numbers": [ticket.number], "action": "assign", "assignee": colleague.pk}
    )
    assert assigned.json()["done"] == 1
    assert Ticket.objects.get(pk=ticket.pk).assignee_id == colleague.pk
    client.post("/api/v1/tickets/bulk", {"numbers": [ticket.number], "action": "assign"})
    assert Ticket.objects.get(pk=ticket.pk).assignee_id is None
    unknown = client.post(
        "/api/v1/tickets/bulk", {"numbers": [ticket.number], "action": "assign", "assignee": 999999}
    )
    assert unknown.status_code == 422 and "assignee" in unknown.json()["details"]


def test_bulk_merge(api_as, agent):
    customer = CustomerFactory()
    target, duplicate = TicketFactory(customer=customer), TicketFactory(customer=customer)
    body = (
        api_as(agent)
        .post(
            "/api/v1/tickets/bulk", {"numbers": [duplicate.number], "action": "merge", "into": target.number}
        )
        .json()
    )
    assert body["done"] == 1
    assert Ticket.objects.get(pk=duplicate.pk).merged_into_id == target.pk


@pytest.mark.parametrize(
    "payload",
    [
        {"numbers": [], "action": "tag", "tag": "x"},
        {"numbers": ["T1"], "action": "explode"},
        {"numbers": ["T1"], "action": "stage"},
        {"numbers": [f"T{n}" for n in range(101)], "action": "tag", "tag": "x"},
        {"numbers": ["T1"], "action": "merge"},
    ],
)
def test_bad_bulk_requests_are_422(api_as, agent, payload):
    response = api_as(agent).post("/api/v1/tickets/bulk", payload)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


def test_a_customer_cannot_bulk(api_as):
    customer = CustomerFactory()
    ticket = TicketFactory(customer=customer)
    response = api_as(customer_user(customer)).post(
        "/api/v1/tickets/bulk", {"numbers": [ticket.number], "action": "stage", "to": "cancelled"}
    )
    assert response.status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).status == "new"
