from __future__ import annotations

import pytest
import time_machine

from aftersales.core.roles import Role
from aftersales.sla.sweep import sla_sweep
from aftersales.tickets.services import ticket_open, ticket_transition
from tests.factories import UserFactory, customer_user

from .conftest import at

pytestmark = pytest.mark.django_db


def test_a_ticket_sla_lists_every_target(api_as, agent, customer):
    with time_machine.travel(at(10, 10), tick=False):
        ticket = ticket_open(actor=agent, customer=customer, subject="漏水")
        response = api_as(agent).get(f"/api/v1/tickets/{ticket.number}/sla")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "on_track"
    assert [t["target"] for t in body["targets"]] == ["first_response", "resolution", "stage_accept"]
    assert body["targets"][0]["remaining_seconds"] == 3600


def test_customers_cannot_read_sla_data(api_as, customer, agent):
    ticket = ticket_open(actor=agent, customer=customer, subject="漏水")
    response = api_as(customer_user(customer)).get(f"/api/v1/tickets/{ticket.number}/sla")
    assert response.status_code == 403


def test_at_risk_orders_by_time_to_breach_with_keyset_paging(api_as, agent, customer):
    with time_machine.travel(at(10, 10), tick=False) as traveller:
        later = ticket_open(actor=agent, customer=customer, subject="一般")
        traveller.move_to(at(10, 10, 1))
        sooner = ticket_open(actor=agent, customer=customer, subject="电话", channel="phone")
        ticket_transition(ticket=later, actor=agent, to_status="accepted")
        client = api_as(agent)
        first = client.get("/api/v1/sla/at-risk", {"limit": 1}).json()
        second = client.get("/api/v1/sla/at-risk", {"limit": 1, "cursor": first["next_cursor"]}).json()
    assert [item["number"] for item in first["items"]] == [sooner.number]
    assert first["items"][0]["seconds_to_breach"] == 60
    assert [item["number"] for item in second["items"]] == [later.number]
    assert second["next_cursor"] is None


def test_compliance_report_by_type(api_as, agent, customer, admin_user):
    with time_machine.travel(at(10, 10), tick=False) as traveller:
        slow = ticket_open(actor=agent, customer=customer, subject="慢", type="repair")
        fast = ticket_open(actor=agent, customer=customer, subject="快", type="complaint")
        traveller.move_to(at(10, 10, 2))
        ticket_transition(ticket=fast, actor=agent, to_status="accepted")
        traveller.move_to(at(10, 10, 6))
        sla_sweep()
        ticket_transition(ticket=slow, actor=agent, to_status="accepted")
        response = api_as(UserFactory(role=Role.SUPERVISOR)).get(
            "/api/v1/sla/report", {"group_by": "type", "target": "stage_accept"}
        )
    assert response.status_code == 200, response.content
    rows = {row["key"]: row for row in response.json()["items"]}
    assert (rows["repair"]["met"], rows["repair"]["breached"]) == (0, 1)
    assert (rows["complaint"]["met"], rows["complaint"]["breached"], rows["complaint"]["percent_met"]) == (
        1,
        0,
        100.0,
    )


def test_the_report_is_for_supervisors(api_as, agent):
    assert api_as(agent).get("/api/v1/sla/report").status_code == 403
