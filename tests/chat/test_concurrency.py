"""Two agents clicking "Accept" at the same moment: exactly one gets the chat (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from aftersales.channels.chat.models import ChatMessage, Conversation
from aftersales.channels.chat.services import conversation_accept, conversation_start
from aftersales.core.errors import Conflict
from aftersales.core.roles import Role
from aftersales.tickets.models import TicketStatusChange
from tests.factories import UserFactory

from .factories import ChatChannelFactory


@pytest.mark.django_db(transaction=True)
def test_two_agents_accepting_at_once_one_wins():
    channel = ChatChannelFactory()
    agents = [UserFactory(role=Role.AGENT), UserFactory(role=Role.AGENT)]
    conversation, _ = conversation_start(channel=channel, body="同时接入")
    barrier = threading.Barrier(len(agents))
    outcomes: list[str] = []

    def take(agent) -> None:
        stale = Conversation.objects.get(pk=conversation.pk)
        barrier.wait()
        try:
            conversation_accept(conversation=stale, agent=agent)
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["conflict", "won"]
    conversation.refresh_from_db()
    assert conversation.status == "active" and conversation.assigned_agent in agents
    assert ChatMessage.objects.filter(conversation=conversation, event_code="agent_joined").count() == 1
    assert TicketStatusChange.objects.filter(ticket=conversation.ticket, to_status="accepted").count() == 1
    assert connection.vendor in ("sqlite", "postgresql")


@pytest.mark.django_db
def test_the_api_list_costs_the_same_for_one_or_many_conversations(
    api_as, agent, django_assert_max_num_queries
):
    channel = ChatChannelFactory()
    for index in range(12):
        conversation_start(channel=channel, body=f"问题{index}")
    api = api_as(agent)
    with django_assert_max_num_queries(6):
        response = api.get("/api/v1/chat/conversations", {"limit": 10})
    assert len(response.json()["items"]) == 10
