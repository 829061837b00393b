"""What a customer's own login may see of its tickets: no value tier, no staff logins, no staff notes."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from aftersales.core.roles import Role
from aftersales.tickets.services import ticket_add_message, ticket_transition
from tests.factories import CustomerFactory, TicketFactory, UserFactory, customer_user

STAFF_LOGIN = "zhang.wei@corp.example"
STAFF_NOTE = "客户难缠，升级处理"


@pytest.fixture
def worked_ticket(db):
    """A high-value customer's ticket an agent (login: a work e-mail) moved with a note and answered."""
    customer = CustomerFactory(value_tier="high_value", notes="VIP，投诉过两次")
    agent = UserFactory(role=Role.AGENT, username=STAFF_LOGIN, email=STAFF_LOGIN, display_name="张伟")
    nameless = UserFactory(role=Role.AGENT, username="li.na@corp.example", display_name="")
    ticket = TicketFactory(customer=customer, customer_tier="high_value", assignee=agent)
    ticket = ticket_transition(ticket=ticket, actor=agent, to_status="accepted", note=STAFF_NOTE)
    ticket_add_message(ticket=ticket, actor=agent, body="师傅明天上门。")
    ticket_add_message(ticket=ticket, actor=nameless, body="已安排。")
    ticket.refresh_from_db()
    return ticket, customer_user(customer), agent


def _everything_a_customer_reads(api_as, ticket, login) -> str:
    client = api_as(login)
    bodies = [
        client.get(f"/api/v1/tickets/{ticket.number}"),
        client.get("/api/v1/tickets"),
        client.get(f"/api/v1/tickets/{ticket.number}/messages"),
        client.get(f"/api/v1/tickets/{ticket.number}/timeline"),
        client.get(f"/api/v1/customers/{ticket.customer_id}"),
        client.get("/api/v1/customers"),
        client.get(f"/api/v1/customers/{ticket.customer_id}/history"),
        client.post(f"/api/v1/tickets/{ticket.number}/messages", {"body": "好的"}),
    ]
    assert [response.status_code for response in bodies] == [200] * 7 + [201]
    return "\n".join(json.dumps(response.json(), ensure_ascii=False) for response in bodies)


def test_a_customer_sees_no_tier_staff_login_or_staff_note_in_any_api_answer(worked_ticket, api_as):
    ticket, login, _agent = worked_ticket

    seen = _everything_a_customer_reads(api_as, ticket, login)

    assert "high_value" not in seen
    assert STAFF_LOGIN not in seen and "li.na@corp.example" not in seen
    assert STAFF_NOTE not in seen
    assert "VIP" not in seen
    assert "张伟" in seen  # the staff member's display name stands in for the login
    detail = api_as(login).get(f"/api/v1/tickets/{ticket.number}").json()
    assert detail["customer"]["value_tier"] is None and detail["customer_tier"] is None
    assert detail["assignee"] == {"id": ticket.assignee_id, "username": "", "name": "张伟"}


def test_staff_still_see_the_tier_the_login_and_the_note(worked_ticket, api_as, agent):
    ticket, _login, _agent = worked_ticket

    detail = api_as(agent).get(f"/api/v1/tickets/{ticket.number}").json()
    timeline = api_as(agent).get(f"/api/v1/tickets/{ticket.number}/timeline").json()

    assert detail["customer_tier"] == "high_value"
    assert detail["assignee"]["username"] == STAFF_LOGIN
    assert STAFF_NOTE in [item["note"] for item in timeline["items"]]


def test_the_portal_page_shows_no_staff_login_tier_or_note(worked_ticket):
    ticket, login, _agent = worked_ticket
    client = Client()
    client.force_login(login)

    html = client.get(f"/portal/tickets/{ticket.number}/").content.decode()

    assert "师傅明天上门" in html
    assert STAFF_LOGIN not in html and "li.na@corp.example" not in html
    assert STAFF_NOTE not in html
    assert "high_value" not in html
