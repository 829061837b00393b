"""The by-time-to-breach lists cost a fixed number of queries, whatever the page holds."""

from __future__ import annotations

import pytest

from aftersales.tickets.services import ticket_open
from tests.factories import CustomerFactory, TeamFactory

pytestmark = pytest.mark.django_db


def test_the_at_risk_api_page_costs_a_fixed_number_of_queries(agent, api_as, django_assert_max_num_queries):
    team = TeamFactory()
    for index in range(30):
        ticket_open(
            actor=agent, customer=CustomerFactory(), subject=f"待处理{index}", team=team, assignee=agent
        )
    client = api_as(agent)
    # 3, plus the API rate limit's count in the shared store (the database cache by default).
    with django_assert_max_num_queries(4):
        body = client.get("/api/v1/sla/at-risk", {"limit": 25, "team": team.pk}).json()
    assert len(body["items"]) == 25 and body["next_cursor"]
    rest = client.get(
        "/api/v1/sla/at-risk", {"limit": 25, "team": team.pk, "cursor": body["next_cursor"]}
    ).json()
    assert len(rest["items"]) == 5 and rest["next_cursor"] is None


def test_the_at_risk_console_queue_costs_a_fixed_number_of_queries(
    agent, client, django_assert_max_num_queries
):
    from tests.factories import PASSWORD

    for index in range(30):
        ticket_open(actor=agent, customer=CustomerFactory(), subject=f"待处理{index}")
    client.login(username=agent.username, password=PASSWORD)
    # 8, plus the queue page's own (issue 11): the tab counts (one query for every tab), the
    # saved views and the staff to assign to, less one for the user's teams read in one query.
    with django_assert_max_num_queries(10):
        response = client.get("/console/queue/at-risk/")
    assert response.content.decode().count('class="num"') == 25
