"""First response per channel, against figures computed by hand.

The standard calendar works Monday–Friday 09:00–18:00 (Asia/Shanghai); 2026-03-09 is a Monday.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from aftersales.core.roles import Role
from aftersales.customers.services import customer_identify
from aftersales.sla.first_response import first_response_report, percentile
from aftersales.sla.sweep import sla_sweep
from aftersales.tickets.services import ticket_add_message, ticket_open
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, second, tzinfo=SH)


@pytest.fixture
def supervisor(db):
    return UserFactory(role=Role.SUPERVISOR)


def _open(agent, channel, when, team=None):
    customer, contact, _ = customer_identify(actor=None, phone=f"1380000{when.day:02d}{when.hour:02d}")
    with time_machine.travel(when, tick=False):
        return ticket_open(
            actor=agent,
            customer=customer,
            contact=contact,
            subject=f"{channel} {when}",
            channel=channel,
            team=team,
        )


def _reply(agent, ticket, when):
    with time_machine.travel(when, tick=False):
        ticket_add_message(ticket=ticket, actor=agent, body="您好，我们来处理。")


@pytest.fixture
def history(agent):
    team = TeamFactory()
    _open(agent, "phone", at(8, 23))  # Sunday: before the period
    e1 = _open(agent, "email", at(9, 17))
    p4 = _open(agent, "phone", at(9, 20))
    _reply(agent, p4, at(9, 20, 5))
    _reply(agent, e1, at(10, 9, 30))
    p1 = _open(agent, "phone", at(10, 10), team=team)
    _reply(agent, p1, at(10, 10, 0, 30))
    p2 = _open(agent, "phone", at(10, 10, 10))
    with time_machine.travel(at(10, 10, 11, 10), tick=False):
        sla_sweep()
    _reply(agent, p2, at(10, 10, 11, 30))
    p3 = _open(agent, "phone", at(10, 10, 20))
    _reply(agent, p3, at(10, 10, 20, 45))
    c1 = _open(agent, "chat", at(10, 11))
    _reply(agent, c1, at(10, 11, 0, 20))
    _open(agent, "chat", at(10, 11, 5))  # never answered: late by the report's time
    _open(agent, "chat", at(10, 11, 29, 50))  # not answered yet, not late yet
    with time_machine.travel(at(10, 11, 30), tick=False):
        sla_sweep()
    return team


def _by_channel(report):
    return {entry.channel: entry for entry in report.channels}


def test_first_response_by_channel_matches_the_hand_computed_figures(history, supervisor):
    report = first_response_report(user=supervisor, since=at(9, 0), until=at(11, 0), now=at(10, 11, 30))
    rows = _by_channel(report)
    assert list(rows) == ["phone", "email", "chat", "social"]
    phone = rows["phone"]
    # wall [30, 90, 45, 300] s; the hotline runs on the 24×7 calendar, so business time is the
    # same: 20:00–20:05 counts too.
    assert (phone.count, phone.responded, phone.target_seconds) == (4, 4, 60)
    assert (phone.median_seconds, phone.p90_seconds) == (67.5, 237.0)
    assert (phone.median_business_seconds, phone.p90_business_seconds) == (67.5, 237.0)
    assert (phone.within_target, phone.settled, phone.within_target_percent) == (2, 4, 50.0)
    assert phone.breached == 2
    chat = rows["chat"]
    assert (chat.count, chat.responded, chat.target_seconds) == (3, 1, 30)
    assert (chat.median_seconds, chat.p90_seconds, chat.median_business_seconds) == (20.0, 20.0, 20.0)
    assert (chat.within_target, chat.settled, chat.within_target_percent, chat.breached) == (1, 2, 50.0, 1)
    email = rows["email"]
    # Monday 17:00 → Tuesday 09:30: 16.5 h on the wall, 1.5 h of business time.
    assert (email.count, email.target_seconds, email.median_seconds) == (1, 4 * 3600, 59400.0)
    assert (email.median_business_seconds, email.within_target_percent, email.breached) == (5400.0, 100.0, 0)
    social = rows["social"]
    assert (social.count, social.target_seconds, social.median_seconds, social.within_target_percent) == (
        0,
        7200,
        None,
        None,
    )


def test_the_team_filter_and_the_period_bound_the_tickets(history, supervisor):
    report = first_response_report(
        user=supervisor, since=at(9, 0), until=at(11, 0), team_id=history.pk, now=at(10, 11, 30)
    )
    rows = _by_channel(report)
    assert (rows["phone"].count, rows["phone"].median_seconds) == (1, 30.0)
    assert rows["chat"].count == 0
    sunday = first_response_report(user=supervisor, since=at(8, 0), until=at(9, 0), now=at(10, 11, 30))
    assert _by_channel(sunday)["phone"].count == 1


def test_percentile_interpolates_between_ranks():
    assert percentile([], 0.5) is None
    assert percentile([10, 20, 30, 40], 0.5) == 25.0
    assert percentile([40, 10, 30, 20], 0.9) == 37.0
    assert percentile([7], 0.9) == 7.0


def test_api_report_and_its_authorisation(history, supervisor, agent, api_as):
    with time_machine.travel(at(10, 11, 30), tick=False):
        response = api_as(supervisor).get(
            "/api/v1/reports/first-response",
            {"since": "2026-03-09T00:00:00+08:00", "until": "2026-03-11T00:00:00+08:00"},
        )
        assert response.status_code == 200, response.content
        items = {item["channel"]: item for item in response.json()["items"]}
        assert items["phone"]["median_seconds"] == 67.5
        assert items["phone"]["p90_business_seconds"] == 237.0
        assert items["chat"]["within_target_percent"] == 50.0
        assert items["email"]["target_seconds"] == 14400
        assert api_as(agent).get("/api/v1/reports/first-response").status_code == 403
        bad = api_as(supervisor).get(
            "/api/v1/reports/first-response", {"since": "2026-03-11T00:00:00", "until": "2026-03-09T00:00:00"}
        )
        assert bad.status_code == 422
        too_long = api_as(supervisor).get(
            "/api/v1/reports/first-response", {"since": "2020-01-01T00:00:00", "until": "2026-03-09T00:00:00"}
        )
        assert too_long.status_code == 422


def test_ticket_read_schema_exposes_the_first_response_time(history, agent, api_as):
    from aftersales.tickets.models import Ticket

    ticket = Ticket.objects.get(subject__startswith="phone", created_at=at(10, 10, 10))
    body = api_as(agent).get(f"/api/v1/tickets/{ticket.number}").json()
    assert body["first_response_seconds"] == 90
