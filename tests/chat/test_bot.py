"""The answer bot inside the chat: it answers first; "this solved it" deflects, "a person" hands over."""

from __future__ import annotations

import pytest

from aftersales.channels.chat.models import Conversation
from aftersales.channels.chat.services import conversation_accept
from aftersales.knowledge.models import BotOutcome, BotSession, TicketArticleUse
from aftersales.tickets.models import Ticket
from tests.knowledge.web_support import build_library

from .conftest import Visitor

pytestmark = pytest.mark.django_db

QUESTION = "My water heater shows E1, what should I do?"


@pytest.fixture
def library(db, settings):
    settings.AFTERSALES_CHAT_BOT = True
    return build_library()


def test_the_bot_answers_first_with_a_link_to_the_article(library, channel):
    visitor = Visitor(channel, lang="en")
    started = visitor.start(body=QUESTION)
    assert started["state"]["status"] == "bot"
    answer = started["messages"][-1]
    assert answer["author"] == "bot"
    assert "Check that the gas valve is open" in answer["body"]
    assert answer["sources"][0]["url"] == "/help/en/a/water-heater-e1/"
    assert not Ticket.objects.exists()


def test_this_solved_it_closes_the_chat_as_deflected_without_a_ticket(library, channel):
    visitor = Visitor(channel, lang="en")
    visitor.start(body=QUESTION)
    response = visitor.post("feedback", {"solved": True})
    assert response.status_code == 200
    state = response.json()["state"]
    assert state["status"] == "closed" and state["close_reason"] == "deflected"
    conversation = Conversation.objects.get()
    session = BotSession.objects.get(public_id=conversation.bot_session_id)
    assert session.outcome == BotOutcome.DEFLECTED and session.channel == "chat"
    assert not Ticket.objects.exists()
    assert visitor.post("messages", {"body": "thanks"}).status_code == 409


def test_talk_to_a_person_queues_the_chat_with_a_ticket_carrying_the_conversation(library, channel):
    visitor = Visitor(channel, lang="en")
    visitor.start(body=QUESTION, email="li@example.com")
    response = visitor.post("person")
    assert response.status_code == 200
    state = response.json()["state"]
    assert state["status"] == "waiting" and state["ticket_number"]
    ticket = Ticket.objects.get(number=state["ticket_number"])
    assert ticket.channel == "chat" and ticket.customer.email == "li@example.com"
    replies = ticket.messages.filter(kind="reply")
    assert [(m.body, m.is_from_customer) for m in replies] == [(QUESTION, True)]
    assert ticket.messages.filter(kind="event", event_code="chat.bot").count() == 1
    session = BotSession.objects.get(public_id=Conversation.objects.get().bot_session_id)
    assert session.outcome == BotOutcome.HANDED_OVER and session.ticket == ticket
    assert TicketArticleUse.objects.filter(ticket=ticket, via="bot", article=library["e1_en"]).exists()
    # The visitor was told no agent is online (none is), so they can leave a message.
    assert response.json()["messages"][-1]["code"] == "queued_offline"


def test_asking_the_bot_for_a_person_hands_over_too(library, channel):
    visitor = Visitor(channel, lang="zh-hans")
    visitor.start(body="热水器显示E1怎么办")
    response = visitor.post("messages", {"body": "转人工"})
    assert response.status_code == 201
    conversation = Conversation.objects.get()
    assert conversation.status == "waiting" and conversation.ticket is not None


def test_an_agent_may_take_over_from_the_bot(library, channel, agent):
    visitor = Visitor(channel, lang="en")
    visitor.start(body=QUESTION)
    conversation = Conversation.objects.get()
    conversation_accept(conversation=conversation, agent=agent)
    conversation.refresh_from_db()
    assert conversation.status == "active"
    session = BotSession.objects.get(public_id=conversation.bot_session_id)
    assert session.outcome == BotOutcome.HANDED_OVER and session.ticket == conversation.ticket
    # The bot is silent once a person is in the chat.
    visitor.post("messages", {"body": "water heater E1 again"})
    assert conversation.messages.filter(author="bot").count() == 1


def test_feedback_needs_the_bot_in_the_chat(library, channel):
    visitor = Visitor(channel, lang="en")
    visitor.start(body=QUESTION)
    visitor.post("person")
    response = visitor.post("feedback", {"solved": True})
    assert response.status_code == 409
    assert response.json()["code"] == "chat_not_with_bot"
    assert visitor.post("feedback", {"solved": "yes"}).status_code == 422


def test_with_the_bot_switched_off_chats_go_straight_to_the_agents(channel, settings):
    settings.AFTERSALES_CHAT_BOT = False
    visitor = Visitor(channel)
    started = visitor.start(body="热水器显示E1怎么办")
    assert started["state"]["status"] == "waiting"
    assert Conversation.objects.get().bot_session_id is None
