"""Knowledge reports in the console: TOP-20 frequent problems, missing articles, reader feedback."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from aftersales.knowledge.services import feedback_record, search_log, ticket_article_use
from tests.factories import PASSWORD, TicketFactory, customer_user

from .web_support import build_library

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def library(db):
    return build_library()


def login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    client.cookies["django_language"] = "en"
    return client


def test_top_problems_counts_tickets_per_article_and_way_of_use(agent, library):
    e1, nozzle = library["e1_en"], library["nozzle"]
    with time_machine.travel(NOW - dt.timedelta(days=3)):
        tickets = [TicketFactory() for _ in range(3)]
        for ticket in tickets:
            ticket_article_use(ticket=ticket, article=e1, actor=agent, via="reply")
        ticket_article_use(ticket=tickets[0], article=e1, actor=None, via="bot")
        ticket_article_use(ticket=tickets[1], article=nozzle, actor=agent, via="reply")
    with time_machine.travel(NOW - dt.timedelta(days=90)):
        for _ in range(5):
            ticket_article_use(ticket=TicketFactory(), article=nozzle, actor=agent, via="reply")
    with time_machine.travel(NOW):
        response = login(agent).get("/console/kb/reports/top-problems/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("The water heater shows error E1") < page.index("Cleaning the shower head nozzles")
    rows = response.context["rows"]
    assert [(r["article"], r["tickets"], r["by_via"]["reply"], r["by_via"]["bot"]) for r in rows] == [
        (e1, 3, 3, 1),
        (nozzle, 1, 1, 0),
    ]
    assert 'href="/help/en/a/water-heater-e1/"' in page


def test_top_problems_period_is_chosen_by_dates(agent, library):
    with time_machine.travel(NOW - dt.timedelta(days=90)):
        ticket_article_use(ticket=TicketFactory(), article=library["nozzle"], actor=agent, via="reply")
    with time_machine.travel(NOW):
        old = (NOW - dt.timedelta(days=90)).date().isoformat()
        response = login(agent).get("/console/kb/reports/top-problems/", {"from": old, "to": old})
        assert [r["article"] for r in response.context["rows"]] == [library["nozzle"]]
        response = login(agent).get(
            "/console/kb/reports/top-problems/", {"from": "junk", "to": "99999-01-01"}
        )
        assert response.status_code == 200
        assert response.context["rows"] == []


def test_missing_articles_groups_zero_result_searches_with_counts_and_last_seen(agent, library):
    with time_machine.travel(NOW - dt.timedelta(days=2)):
        search_log(query="Solar inverter", locale="en", audience="public", results=0, source="help")
    with time_machine.travel(NOW - dt.timedelta(hours=5)):
        search_log(query="solar   INVERTER", locale="en", audience="public", results=0, source="bot")
        search_log(query="净水器滤芯", locale="zh-hans", audience="public", results=0, source="help")
        search_log(query="water heater E1", locale="en", audience="public", results=2, source="help")
    with time_machine.travel(NOW):
        response = login(agent).get("/console/kb/reports/missing-articles/")
        page = response.content.decode()
        rows = response.context["rows"]
        assert [(r["normalized"], r["count"]) for r in rows] == [("solar inverter", 2), ("净水器滤芯", 1)]
        assert "water heater e1" not in page.lower()
        assert "Write an article" in page
        assert rows[0]["write_url"] == "/console/kb/new/?title=solar+INVERTER&locale=en"
        zh_only = login(agent).get("/console/kb/reports/missing-articles/", {"locale": "zh-hans"})
        assert [r["normalized"] for r in zh_only.context["rows"]] == ["净水器滤芯"]
    last_seen = (NOW - dt.timedelta(hours=5)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert last_seen.strftime("%Y-%m-%d %H:%M") in page


def test_feedback_report_lists_the_least_helpful_articles_with_comments(agent, library):
    e1, nozzle = library["e1_en"], library["nozzle"]
    with time_machine.travel(NOW - dt.timedelta(days=1)):
        for index in range(3):
            feedback_record(
                article=e1, helpful=False, comment=f"Step {index} unclear", session_key=f"s{index}"
            )
        feedback_record(article=e1, helpful=True, session_key="s9")
        feedback_record(article=nozzle, helpful=False, session_key="s1")
        feedback_record(article=library["filter"], helpful=True, session_key="s1")
    with time_machine.travel(NOW):
        response = login(agent).get("/console/kb/reports/feedback/")
    rows = response.context["rows"]
    assert [(r["article"], r["no"], r["yes"], r["share_no"]) for r in rows] == [
        (e1, 3, 1, 75),
        (nozzle, 1, 0, 100),
    ]
    assert "Step 2 unclear" in response.content.decode()


def test_reports_are_for_staff(library):
    customer = customer_user()
    for url in (
        "/console/kb/reports/top-problems/",
        "/console/kb/reports/missing-articles/",
        "/console/kb/reports/feedback/",
    ):
        assert login(customer).get(url).status_code == 403
        assert Client().get(url).status_code == 302


def test_reports_render_in_chinese(agent, library):
    client = login(agent)
    client.cookies["django_language"] = "zh-hans"
    page = client.get("/console/kb/reports/missing-articles/").content.decode()
    assert "缺失的文章" in page


def test_bot_report_counts_deflections_and_hand_overs(agent, library):
    from aftersales.knowledge import bot

    for _ in range(3):
        session = bot.bot_session_start(channel="help", locale="en")
        bot.bot_ask(session=session, question="water heater E1")
        bot.bot_resolve(session=session, solved=True)
    user = customer_user()
    session = bot.bot_session_start(channel="portal", locale="en", user=user)
    bot.bot_ask(session=session, question="转人工")
    bot.bot_hand_over(session=session, actor=user)
    bot.bot_session_start(channel="help", locale="en")  # never asked anything: not counted
    response = login(agent).get("/console/kb/reports/bot/")
    rows = {row["label"]: row for row in response.context["rows"]}
    assert rows["Help centre"]["total"] == 3 and rows["Help centre"]["deflection"] == 100
    assert rows["Portal"]["by_outcome"]["handed_over"] == 1
    assert rows["All channels"]["total"] == 4
    assert (rows["All channels"]["deflection"], rows["All channels"]["handover"]) == (75, 25)
    assert session.ticket.number in response.content.decode()
    old = login(agent).get("/console/kb/reports/bot/", {"from": "2020-01-01", "to": "2020-01-31"})
    assert old.context["rows"][-1]["total"] == 0
