"""Ticket search where people use it: the console queue's search box and ``GET /api/v1/tickets?q=``,
with the total and a pinned number of queries."""

from __future__ import annotations

import pytest
from django.test import Client

from aftersales.core.roles import Role
from aftersales.tickets.services import ticket_add_message, ticket_open
from tests.factories import CustomerFactory, UserFactory, customer_user

pytestmark = pytest.mark.django_db


def signed_in(user, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.fixture
def leaks(agent):
    tickets = []
    for index in range(30):
        customer = CustomerFactory()
        tickets.append(ticket_open(actor=agent, customer=customer, subject=f"热水器底部漏水 {index}"))
        ticket_open(actor=agent, customer=customer, subject=f"马桶冲水无力 {index}")
    return tickets


def test_the_console_search_box_finds_words_and_shows_the_total(agent, leaks, django_assert_max_num_queries):
    client = signed_in(agent)
    # Session, user, teams (two), the matches' ids (the total), the page, SLA badges, the tab counts
    # (one query), saved views, the staff to assign to, unread notices, and on this first visit the
    # session's remembered filters (read, written).
    with django_assert_max_num_queries(14):
        response = client.get("/console/queue/all/", {"q": "漏水"})
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('class="num"') == 25
    assert "30 tickets found" in body
    assert "马桶冲水无力" not in body
    chinese = signed_in(agent, "zh-hans").get("/console/queue/all/", {"q": "漏水"}).content.decode()
    assert "找到 30 个工单" in chinese


def test_the_console_finds_a_caller_by_phone(agent):
    caller = CustomerFactory(phone="+86 138-0013-8000", email="")
    ticket = ticket_open(actor=agent, customer=caller, subject="净水器滤芯更换")
    ticket_open(actor=agent, customer=CustomerFactory(), subject="洗衣机不排水")
    body = signed_in(agent).get("/console/queue/all/", {"q": "138 0013 8000"}).content.decode()
    assert ticket.number in body
    assert "洗衣机不排水" not in body
    assert "1 ticket found" in body


def test_the_api_search_parameter_returns_the_total(agent, api_as, leaks, django_assert_max_num_queries):
    client = api_as(agent)
    with django_assert_max_num_queries(
        5
    ):  # token, user, the matches' ids (the total), the page (+ one spare)
        response = client.get("/api/v1/tickets", {"q": "漏水", "limit": 10})
    body = response.json()
    assert response.status_code == 200
    assert len(body["items"]) == 10
    assert (body["total"], body["total_is_capped"]) == (30, False)
    second = client.get("/api/v1/tickets", {"q": "漏水", "limit": 10, "cursor": body["next_cursor"]}).json()
    assert {item["number"] for item in second["items"]}.isdisjoint(item["number"] for item in body["items"])
    assert client.get("/api/v1/tickets", {"limit": 10}).json()["total"] is None


def test_the_api_search_never_shows_a_customer_staff_notes_or_other_customers(agent, api_as):
    mine = CustomerFactory()
    login = customer_user(mine)
    ticket = ticket_open(actor=agent, customer=mine, subject="燃气灶打不着火")
    ticket_add_message(ticket=ticket, actor=agent, body="内部：点火针可能积碳", kind="note")
    ticket_open(actor=agent, customer=CustomerFactory(), subject="燃气灶熄火")
    client = api_as(login)
    assert [item["number"] for item in client.get("/api/v1/tickets", {"q": "燃气灶"}).json()["items"]] == [
        ticket.number
    ]
    assert client.get("/api/v1/tickets", {"q": "积碳"}).json() == {
        "items": [],
        "next_cursor": None,
        "total": 0,
        "total_is_capped": False,
    }
    staff = api_as(UserFactory(role=Role.AGENT))
    assert staff.get("/api/v1/tickets", {"q": "积碳"}).json()["total"] == 1
