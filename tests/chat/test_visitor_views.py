"""The widget's endpoints: origins, bodies, limits, errors in the visitor's language, the flow."""

from __future__ import annotations

import json

import pytest

from aftersales.channels.chat.models import ChatMessage, Conversation
from aftersales.tickets.models import Ticket

from .conftest import Visitor

pytestmark = pytest.mark.django_db


def test_the_widget_script_is_served_for_any_page(client):
    response = client.get("/chat/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert b"attachShadow" in response.content


@pytest.mark.parametrize(("lang", "expected"), [("zh-hans", "开始聊天"), ("en", "Start chat")])
def test_config_speaks_the_visitor_language(channel, lang, expected):
    visitor = Visitor(channel, lang=lang)
    response = visitor.get("config", {"lang": lang})
    assert response.status_code == 200
    data = response.json()
    assert data["strings"]["start"] == expected
    assert data["greeting"] == (channel.greeting_en if lang == "en" else channel.greeting)
    assert data["agents_online"] is False
    assert response["Access-Control-Allow-Origin"] == "https://www.lanquan.example"


def test_an_origin_the_channel_does_not_list_is_refused_and_nothing_is_created(channel):
    visitor = Visitor(channel, origin="https://evil.example")
    response = visitor.post("start", {"body": "你好"})
    assert response.status_code == 403
    assert response.json()["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response
    assert not Conversation.objects.exists()


def test_the_server_own_pages_and_a_wildcard_are_allowed(channel):
    assert Visitor(channel, origin="http://testserver").get("config").status_code == 200
    channel.allowed_origins = "*"
    channel.save()
    assert Visitor(channel, origin="https://any.example").get("config").status_code == 200


def test_a_preflight_request_is_answered_for_the_widget_headers(channel):
    visitor = Visitor(channel)
    response = visitor.client.options(visitor.url("messages"), headers=visitor.headers())
    assert response.status_code == 204
    assert "X-Chat-Token" in response["Access-Control-Allow-Headers"]
    assert response["Access-Control-Allow-Origin"] == "https://www.lanquan.example"


def test_an_unknown_channel_is_a_404_in_json(client):
    response = client.get("/chat/w/ch_nope/config?lang=en")
    assert response.status_code == 404
    assert response.json()["message"] == "This chat is not available."


def test_the_visitor_flow_start_write_and_read(visitor):
    started = visitor.start(
        body="热水器不出热水", name="王先生", email="wang@example.com", page_url="https://x/p"
    )
    assert started["state"]["status"] == "waiting"
    assert started["state"]["ticket_number"].startswith("T")
    assert [m["body"] for m in started["messages"]] == ["热水器不出热水"]
    response = visitor.post("messages", {"body": "型号 JSQ-16"})
    assert response.status_code == 201
    assert response.json()["message"]["author"] == "visitor"
    read = visitor.get("conversation", {"since": started["messages"][-1]["id"]}).json()
    assert [m["body"] for m in read["messages"]] == ["型号 JSQ-16"]
    ticket = Ticket.objects.get(number=started["state"]["ticket_number"])
    assert ticket.messages.count() == 2


def test_a_token_of_another_channel_finds_nothing(visitor, channel):
    from .factories import ChatChannelFactory

    visitor.start(body="你好")
    other = Visitor(ChatChannelFactory())
    other.token = visitor.token
    response = other.get("conversation")
    assert response.status_code == 404
    assert response.json()["code"] == "chat_not_found"


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "malformed_request"),
        (b"[1, 2]", "application/json", 400, "malformed_request"),
        (b"\xff\xfe", "application/json", 400, "malformed_request"),
        (b"body=hi", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (json.dumps({"body": "x" * 20000}).encode(), "application/json", 413, "payload_too_large"),
        (json.dumps({"body": 42}).encode(), "application/json", 422, "validation_error"),
        (json.dumps({"body": "   "}).encode(), "application/json", 422, "validation_error"),
    ],
)
def test_bad_bodies_get_a_clear_json_error_never_a_500(visitor, raw, content_type, status, code):
    visitor.start(body="你好")
    before = ChatMessage.objects.count()
    response = visitor.post("messages", raw=raw, content_type=content_type)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert ChatMessage.objects.count() == before


def test_errors_are_in_the_visitor_language(channel):
    english = Visitor(channel, lang="en")
    response = english.post("start", {"body": "hi", "email": "nope"})
    assert response.status_code == 422
    assert response.json()["details"]["email"] == "Enter a valid e-mail address."
    chinese = Visitor(channel, lang="zh-hans")
    response = chinese.post("start", {"body": "你好", "email": "nope"})
    assert response.json()["details"]["email"] == "请输入有效的电子邮箱地址。"


def test_writing_to_an_ended_chat_is_a_conflict(visitor):
    visitor.start(body="你好")
    assert visitor.post("close").json()["state"]["status"] == "closed"
    response = visitor.post("messages", {"body": "还在吗"})
    assert response.status_code == 409
    assert response.json()["code"] == "chat_closed"


def test_visitors_are_rate_limited_per_conversation(visitor, settings):
    settings.AFTERSALES_CHAT_RATE_PER_CONVERSATION = 3
    visitor.start(body="你好")
    statuses = [visitor.post("messages", {"body": f"第{i}条"}).status_code for i in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    assert ChatMessage.objects.filter(author="visitor").count() == 4


def test_new_chats_are_rate_limited_per_address(channel, settings):
    settings.AFTERSALES_CHAT_STARTS_PER_IP_HOUR = 2
    statuses = [Visitor(channel).post("start", {"body": "你好"}).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
    assert Conversation.objects.count() == 2


def test_leaving_a_message_answers_with_the_ticket_number(channel):
    visitor = Visitor(channel, lang="en")
    response = visitor.post(
        "leave-message", {"name": "Mr Zhao", "email": "zhao@example.com", "body": "Please call me back."}
    )
    assert response.status_code == 201
    data = response.json()
    ticket = Ticket.objects.get(number=data["ticket_number"])
    assert ticket.channel == "chat"
    assert data["state"]["status"] == "offline_message"
    assert (
        data["messages"][-1]["body"]
        == f"Message received as ticket {ticket.number}. We will get back to you."
    )


def test_leaving_a_message_without_contact_is_refused(channel):
    response = Visitor(channel, lang="en").post("leave-message", {"name": "Zhao", "body": "Hello"})
    assert response.status_code == 422
    assert "contact" in response.json()["details"]
    assert not Ticket.objects.exists()


def test_the_visitor_may_add_contact_details_later(visitor):
    visitor.start(body="你好")
    response = visitor.post("contact", {"name": "周女士", "phone": "13700002222"})
    assert response.status_code == 200
    assert response.json()["state"]["has_contact"] is True
    conversation = Conversation.objects.get()
    assert conversation.ticket.messages.filter(kind="note", body__contains="13700002222").exists()


def test_the_demo_page_embeds_the_widget(client, channel):
    from aftersales.channels.chat.models import ChatChannel

    shown = ChatChannel.objects.filter(is_active=True).order_by("id").first()
    response = client.get("/chat/demo/?lang=en")
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-channel="{shown.public_key}"' in body
    assert 'data-lang="en"' in body
    assert "Lanquan Bathroom" in body
