"""The "Ask us" panel over HTTP: a visitor and a signed-in customer ask, confirm, or are handed over."""

from __future__ import annotations

import pytest
from django.test import Client

from aftersales.knowledge.models import BotOutcome, BotSession, TicketArticleUse
from aftersales.tickets.models import Ticket
from tests.factories import PASSWORD, customer_user

from .web_support import build_library

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """The bot's per-address limits live in the (process-wide) cache: each test starts afresh."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def library(db):
    return build_library()


def ask(client: Client, question: str, locale: str = "en") -> str:
    response = client.post("/help/bot/ask/", {"question": question, "locale": locale}, **HTMX)
    assert response.status_code == 200
    return response.content.decode()


def test_the_ask_page_is_public(client, library):
    response = client.get("/help/en/ask/")
    assert response.status_code == 200
    assert 'id="kb-bot-ask"' in response.content.decode()


def test_a_visitor_asks_and_confirms_the_answer_solved_it(client, library):
    page = ask(client, "My water heater shows E1")
    assert "Check that the gas valve is open" in page
    assert 'href="/help/en/a/water-heater-e1/"' in page
    assert "This solved it" in page
    session = BotSession.objects.get()
    assert (session.channel, session.locale, session.user) == ("help", "en", None)
    response = client.post("/help/bot/resolve/", {"solved": "yes", "locale": "en"}, **HTMX)
    assert "Glad we could help" in response.content.decode()
    session.refresh_from_db()
    assert session.outcome == BotOutcome.DEFLECTED
    assert not Ticket.objects.exists()


def test_the_conversation_continues_in_the_same_session(client, library):
    ask(client, "clean shower head")
    page = ask(client, "Cleaning the shower head filter")
    assert "filter screen" in page
    assert BotSession.objects.count() == 1
    assert len(BotSession.objects.get().transcript) == 4


def test_clarifying_options_are_buttons(client, library):
    page = ask(client, "clean shower head")
    assert 'value="Cleaning the shower head nozzles"' in page
    assert 'value="Cleaning the shower head filter"' in page


def test_a_visitor_asking_for_a_person_leaves_contact_details_and_a_ticket_is_opened(client, library):
    ask(client, "热水器显示E1怎么办", locale="zh-hans")
    page = ask(client, "转人工", locale="zh-hans")
    assert 'name="email"' in page and 'name="phone"' in page
    assert not Ticket.objects.exists()

    response = client.post(
        "/help/bot/hand-over/", {"locale": "zh-hans", "contact": "1", "name": "李先生"}, **HTMX
    )
    assert "请留下电子邮箱或电话号码" in response.content.decode()
    assert not Ticket.objects.exists()

    response = client.post(
        "/help/bot/hand-over/",
        {"locale": "zh-hans", "contact": "1", "name": "李先生", "phone": "139 1234 5678"},
        **HTMX,
    )
    ticket = Ticket.objects.get()
    assert ticket.number in response.content.decode()
    assert ticket.customer.name == "李先生"
    assert ticket.channel == "web"
    assert "热水器显示E1怎么办" in ticket.description and "转人工" in ticket.description
    session = BotSession.objects.get()
    assert session.outcome == BotOutcome.HANDED_OVER and session.ticket == ticket
    assert TicketArticleUse.objects.filter(ticket=ticket, article=library["e1_zh"], via="bot").exists()


def test_a_signed_in_customer_is_handed_over_at_once(library):
    user = customer_user()
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    ask(client, "water heater E1")
    page = ask(client, "I want to talk to a person")
    ticket = Ticket.objects.get()
    assert ticket.customer == user.contact.customer
    assert f"/portal/tickets/{ticket.number}/" in page
    session = BotSession.objects.get()
    assert (session.channel, session.user, session.outcome) == ("portal", user, BotOutcome.HANDED_OVER)
    # The customer follows the request in the portal, with the whole conversation in it.
    detail = client.get(f"/portal/tickets/{ticket.number}/").content.decode()
    assert "water heater E1" in detail


def test_talk_to_a_person_button_for_a_signed_in_customer(library):
    user = customer_user()
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    ask(client, "water heater E1")
    client.post("/help/bot/hand-over/", {"locale": "en"}, **HTMX)
    assert Ticket.objects.count() == 1


def test_after_a_hand_over_a_new_question_starts_a_new_conversation(library):
    user = customer_user()
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    ask(client, "转人工")
    page = ask(client, "water heater E1")
    assert "Check that the gas valve is open" in page
    assert BotSession.objects.count() == 2


def test_restart_forgets_the_conversation(client, library):
    ask(client, "water heater E1")
    response = client.post("/help/bot/restart/", {"locale": "en"}, **HTMX)
    assert "Check that the gas valve is open" not in response.content.decode()


def test_empty_question_is_an_error_not_a_crash(client, library):
    page = ask(client, "   ")
    assert "Ask a question." in page
    assert client.post("/help/bot/resolve/", {"solved": "yes", "locale": "en"}, **HTMX).status_code == 200


def test_without_javascript_the_page_reloads(client, library):
    response = client.post("/help/bot/ask/", {"question": "water heater E1", "locale": "en"})
    assert response.status_code == 302
    assert response.url == "/help/en/ask/#ask"
    assert "Check that the gas valve is open" in client.get("/help/en/ask/").content.decode()


def test_bot_endpoints_only_accept_post(client, library):
    for url in ("/help/bot/ask/", "/help/bot/resolve/", "/help/bot/hand-over/", "/help/bot/restart/"):
        assert client.get(url).status_code == 405


def test_visitors_cannot_open_tickets_without_limit(client, library):
    from django.core.cache import cache

    cache.clear()
    for index in range(4):
        client.post("/help/bot/restart/", {"locale": "en"}, **HTMX)
        ask(client, "human please")
        client.post(
            "/help/bot/hand-over/",
            {"locale": "en", "contact": "1", "email": f"visitor{index}@example.com"},
            **HTMX,
        )
    assert Ticket.objects.count() == 3
    cache.clear()


def test_questions_are_rate_limited(client, library, monkeypatch):
    from django.core.cache import cache

    from aftersales.knowledge import bot_views

    cache.clear()
    monkeypatch.setattr(bot_views, "ASKS_PER_MINUTE", 2)
    ask(client, "water heater E1")
    ask(client, "water heater E1")
    page = ask(client, "water heater E1")
    assert "Too many questions" in page
    assert len(BotSession.objects.get().transcript) == 4
    cache.clear()


def test_control_characters_never_reach_the_database(client, library):
    # PostgreSQL refuses NUL in text and JSON: these must be answered, not a 500.
    assert client.get("/help/en/search/", {"q": "E1\x00abc"}).status_code == 200
    page = ask(client, "water\x00 heater E1")
    assert "Check that the gas valve is open" in page
    assert BotSession.objects.get().transcript[0]["text"] == "water heater E1"
    response = client.post(
        "/help/en/a/water-heater-e1/feedback/", {"helpful": "no", "comment": "bad\x00"}, **HTMX
    )
    assert response.status_code == 200
    client.post(
        "/help/bot/hand-over/",
        {"contact": "1", "email": "a@example.com", "name": "x\x00y", "locale": "en"},
        **HTMX,
    )
    assert Ticket.objects.get().customer.name == "xy"
