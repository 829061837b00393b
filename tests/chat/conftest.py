from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from aftersales.channels.chat.services import agent_presence_set

from .factories import ChatChannelFactory


@pytest.fixture(autouse=True)
def _chat_settings(settings):
    settings.AFTERSALES_CHAT_BOT = False
    settings.AFTERSALES_CHAT_STREAM_SECONDS = 0.3
    settings.AFTERSALES_CHAT_POLL_SECONDS = 0.05
    settings.AFTERSALES_CHAT_HEARTBEAT_SECONDS = 0.1
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def channel(db):
    return ChatChannelFactory()


@pytest.fixture
def online_agent(agent):
    agent_presence_set(user=agent, online=True)
    return agent


class Visitor:
    """The widget, as a test client: JSON bodies, the token in a header, an Origin."""

    def __init__(self, channel, origin: str | None = "https://www.lanquan.example", lang: str = "zh-hans"):
        self.channel = channel
        self.client = Client()
        self.origin = origin
        self.lang = lang
        self.token = ""

    def url(self, name: str) -> str:
        return f"/chat/w/{self.channel.public_key}/{name}"

    def headers(self) -> dict[str, str]:
        headers = {"X-Chat-Lang": self.lang}
        if self.origin:
            headers["Origin"] = self.origin
        if self.token:
            headers["X-Chat-Token"] = self.token
        return headers

    def post(self, name: str, data=None, raw: bytes | None = None, content_type: str = "application/json"):
        import json

        body = raw if raw is not None else json.dumps(data or {})
        return self.client.post(self.url(name), data=body, content_type=content_type, headers=self.headers())

    def get(self, name: str, params: dict | None = None):
        return self.client.get(self.url(name), data=params or {}, headers=self.headers())

    def start(self, **data):
        response = self.post("start", data)
        assert response.status_code == 201, response.content
        self.token = response.json()["token"]
        return response.json()


@pytest.fixture
def visitor(channel):
    return Visitor(channel)


@pytest.fixture
def staff_login():
    def make(user, language: str = "en") -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(user)
        return client

    return make
