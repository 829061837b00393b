"""The console's Chat page and actions, the staff API, and the Server-Sent Event streams."""

from __future__ import annotations

import json

import pytest

from aftersales.channels.chat.models import AgentPresence, Conversation
from aftersales.channels.chat.services import conversation_accept, conversation_agent_message
from aftersales.core.roles import Role
from tests.factories import UserFactory, customer_user

from .conftest import Visitor

pytestmark = pytest.mark.django_db


def read_events(response) -> list[tuple[str, dict, str | None]]:
    """Every event of a finished stream as (event, data, id)."""
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    raw = b"".join(response.streaming_content).decode()
    events = []
    for block in raw.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            fields[name] = fields.get(name, "") + value
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"]), fields.get("id")))
    return events


def test_the_visitor_stream_sends_lines_after_the_cursor_then_ends(visitor, agent):
    started = visitor.start(body="第一句")
    first_id = started["messages"][0]["id"]
    conversation = Conversation.objects.get()
    conversation_accept(conversation=conversation, agent=agent)
    conversation_agent_message(conversation=conversation, agent=agent, body="您好，我是客服")

    events = read_events(visitor.get("stream", {"since": first_id}))
    messages = [(data["author"], data["body"]) for event, data, _ in events if event == "message"]
    assert ("visitor", "第一句") not in messages
    assert messages[-1] == ("agent", "您好，我是客服")
    ids = [int(event_id) for event, _, event_id in events if event == "message"]
    assert ids == sorted(ids) and ids[0] > first_id
    states = [data for event, data, _ in events if event == "state"]
    assert states[0]["status"] == "active" and states[0]["agent_name"] == str(agent)
    assert events[-1][0] == "bye"


def test_the_stream_of_an_ended_chat_says_goodbye_at_once(visitor, settings):
    settings.AFTERSALES_CHAT_STREAM_SECONDS = 30
    visitor.start(body="你好")
    visitor.post("close")
    events = read_events(visitor.get("stream"))
    assert [event for event, _, _ in events] == ["message", "message", "state", "bye"]
    assert events[-2][1]["status"] == "closed"
    assert events[-1][1] == {"reconnect": False}


def test_the_stream_resumes_from_last_event_id(visitor):
    started = visitor.start(body="一")
    visitor.post("messages", {"body": "二"})
    response = visitor.client.get(
        visitor.url("stream"),
        headers={**visitor.headers(), "Last-Event-ID": str(started["messages"][0]["id"])},
    )
    bodies = [data["body"] for event, data, _ in read_events(response) if event == "message"]
    assert bodies == ["二"]


def test_a_stream_needs_the_conversation_token(visitor):
    visitor.start(body="你好")
    visitor.token = "wrong"
    response = visitor.get("stream")
    assert response.status_code == 404


def test_a_token_in_the_url_is_not_accepted(visitor):
    # URLs land in access logs: the token is taken from the X-Chat-Token header only.
    visitor.start(body="你好")
    token = visitor.token
    response = visitor.client.get(visitor.url("stream"), {"token": token}, headers={"Origin": visitor.origin})
    assert response.status_code == 404


def test_a_bad_cursor_is_a_422_not_a_500(visitor):
    visitor.start(body="你好")
    response = visitor.get("stream", {"since": "abc"})
    assert response.status_code == 422


def test_the_console_page_is_for_desk_staff(staff_login, agent):
    assert staff_login(agent).get("/chat/console/").status_code == 200
    assert staff_login(customer_user()).get("/chat/console/").status_code == 403
    assert staff_login(UserFactory(role=Role.TECHNICIAN)).get("/chat/console/").status_code == 403
    from django.test import Client

    assert Client().get("/chat/console/").status_code == 302


def test_the_console_nav_links_to_the_chat(staff_login, agent):
    body = staff_login(agent).get("/console/").content.decode()
    assert 'href="/chat/console/"' in body


def test_an_agent_goes_online_accepts_answers_and_closes(staff_login, agent, visitor):
    console = staff_login(agent)
    response = console.post("/chat/console/presence", {"online": True}, content_type="application/json")
    assert response.json() == {"online": True}
    assert AgentPresence.objects.get(user=agent).is_online
    assert visitor.get("config").json()["agents_online"] is True

    visitor.start(body="洗衣机漏水")
    conversation = Conversation.objects.get()
    accepted = console.post(f"/chat/console/{conversation.pk}/accept")
    assert accepted.status_code == 200
    assert accepted.json()["conversation"]["status"] == "active"

    sent = console.post(
        f"/chat/console/{conversation.pk}/messages", {"body": "请拍照看看"}, content_type="application/json"
    )
    assert sent.status_code == 201
    seen = visitor.get("conversation").json()["messages"]
    assert seen[-1]["body"] == "请拍照看看" and seen[-1]["author_name"] == str(agent)

    closed = console.post(f"/chat/console/{conversation.pk}/close")
    assert closed.json()["conversation"]["status"] == "closed"
    conversation.refresh_from_db()
    assert conversation.ticket.status == "accepted"


def test_a_second_agent_gets_a_conflict(staff_login, agent, visitor):
    visitor.start(body="你好")
    conversation = Conversation.objects.get()
    staff_login(agent).post(f"/chat/console/{conversation.pk}/accept")
    other = staff_login(UserFactory(role=Role.AGENT), "en")
    response = other.post(f"/chat/console/{conversation.pk}/accept")
    assert response.status_code == 409
    assert response.json()["code"] == "chat_taken"


def test_console_actions_refuse_bad_input(staff_login, agent, visitor):
    console = staff_login(agent)
    assert console.post("/chat/console/presence", "nope", content_type="application/json").status_code == 400
    assert (
        console.post("/chat/console/presence", {"online": "yes"}, content_type="application/json").status_code
        == 422
    )
    assert console.post("/chat/console/999999/accept").status_code == 404
    assert console.get("/chat/console/stream", {"conversation": "x"}).status_code == 422


def test_the_console_stream_lists_the_queue_and_the_open_conversation(staff_login, agent, visitor):
    visitor.start(body="等待中的对话")
    conversation = Conversation.objects.get()
    events = read_events(staff_login(agent).get("/chat/console/stream", {"conversation": conversation.pk}))
    queue = next(data for event, data, _ in events if event == "queue")
    assert [c["id"] for c in queue["conversations"]] == [conversation.pk]
    assert queue["conversations"][0]["status"] == "waiting"
    assert next(data for event, data, _ in events if event == "conversation")["id"] == conversation.pk
    assert [data["body"] for event, data, _ in events if event == "message"] == ["等待中的对话"]


def test_the_console_stream_keeps_an_online_agent_online(staff_login, agent):
    console = staff_login(agent)
    console.post("/chat/console/presence", {"online": True}, content_type="application/json")
    AgentPresence.objects.filter(user=agent).update(last_seen_at="2000-01-01T00:00:00Z")
    read_events(console.get("/chat/console/stream"))
    assert AgentPresence.objects.get(user=agent).is_available()


def test_the_api_lists_and_reads_conversations(api_as, agent, channel):
    first = Visitor(channel)
    first.start(body="一号对话")
    second = Visitor(channel)
    second.start(body="二号对话")
    second.post("close")
    api = api_as(agent)
    waiting = api.get("/api/v1/chat/conversations", {"status": "waiting"}).json()
    assert [item["status"] for item in waiting["items"]] == ["waiting"]
    page = api.get("/api/v1/chat/conversations", {"limit": 1}).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = api.get("/api/v1/chat/conversations", {"limit": 1, "cursor": page["next_cursor"]}).json()
    assert rest["items"][0]["id"] < page["items"][0]["id"]
    detail = api.get(f"/api/v1/chat/conversations/{waiting['items'][0]['id']}").json()
    assert detail["messages"][0]["body"] == "一号对话"
    assert detail["ticket_number"].startswith("T")
    assert api.get("/api/v1/chat/conversations/999999").status_code == 404
    assert api.get("/api/v1/chat/conversations", {"status": "nope"}).status_code == 422


def test_customers_cannot_read_chats_through_the_api(api_as, visitor):
    visitor.start(body="你好")
    response = api_as(customer_user()).get("/api/v1/chat/conversations")
    assert response.status_code == 403


def test_the_ticket_page_links_back_to_the_chat(staff_login, agent, visitor):
    visitor.start(body="马桶漏水")
    conversation = Conversation.objects.get()
    body = staff_login(agent).get(f"/console/tickets/{conversation.ticket.number}/").content.decode()
    assert f'href="/chat/console/?c={conversation.pk}"' in body
    assert f"Conversation {conversation.pk}" in body
