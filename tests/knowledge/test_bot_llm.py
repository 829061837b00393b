"""The optional LLM, against a real local HTTP server speaking the OpenAI-compatible protocol."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from aftersales.knowledge import bot, llm

from .web_support import build_library

pytestmark = pytest.mark.django_db


class FakeCompletions:
    """A tiny /v1/chat/completions server: records requests, answers with ``self.content``."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.content = ""
        self.status = 200
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                fake.requests.append({"path": self.path, "body": json.loads(self.rfile.read(length))})
                fake.headers.append(dict(self.headers))
                payload = json.dumps(
                    {"choices": [{"index": 0, "message": {"role": "assistant", "content": fake.content}}]}
                ).encode()
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeCompletions:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_llm(settings) -> Iterator[FakeCompletions]:
    with FakeCompletions() as fake:
        settings.AFTERSALES_LLM_URL = fake.url
        settings.AFTERSALES_LLM_MODEL = "tiny-test-model"
        settings.AFTERSALES_LLM_API_KEY = "sk-test"
        settings.AFTERSALES_LLM_TIMEOUT = 5
        yield fake


@pytest.fixture
def library(db):
    return build_library()


def test_llm_is_off_by_default(settings, library):
    with FakeCompletions() as fake:
        settings.AFTERSALES_LLM_URL = ""
        reply = bot.bot_ask(
            session=bot.bot_session_start(channel="help", locale="en"), question="water heater E1"
        )
    assert reply.kind == "answer"
    assert fake.requests == []
    assert not llm.llm_enabled()


def test_llm_words_the_answer_from_the_retrieved_extracts_only(fake_llm, library):
    fake_llm.content = "Open the gas valve and restart the heater after 30 seconds [1]."
    reply = bot.bot_ask(
        session=bot.bot_session_start(channel="help", locale="en"), question="My water heater shows E1"
    )
    assert reply.kind == "answer"
    assert reply.text == "Open the gas valve and restart the heater after 30 seconds [1]."
    assert [s.article_id for s in reply.sources] == [library["e1_en"].pk]

    request = fake_llm.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["model"] == "tiny-test-model"
    system, user = request["body"]["messages"]
    assert (
        system["role"] == "system" and "ONLY from the numbered knowledge-base extracts" in system["content"]
    )
    assert "[1] The water heater shows error E1" in user["content"]
    assert "Check that the gas valve is open" in user["content"]
    assert "three-year warranty" not in user["content"]  # extracts, not whole articles
    assert user["content"].endswith("Question: My water heater shows E1")
    assert fake_llm.headers[0]["Authorization"] == "Bearer sk-test"


def test_llm_answer_citing_nothing_falls_back_to_the_extract(fake_llm, library):
    fake_llm.content = "I think you should buy a new heater."
    reply = bot.bot_ask(
        session=bot.bot_session_start(channel="help", locale="en"), question="water heater E1"
    )
    assert len(fake_llm.requests) == 1
    assert reply.kind == "answer"
    assert reply.text.startswith("From our help centre")
    assert "Check that the gas valve is open" in reply.text


def test_llm_citing_an_extract_it_was_not_given_falls_back(fake_llm, library):
    fake_llm.content = "See [7]."
    reply = bot.bot_ask(
        session=bot.bot_session_start(channel="help", locale="en"), question="water heater E1"
    )
    assert "Check that the gas valve is open" in reply.text


def test_llm_server_error_falls_back(fake_llm, library):
    fake_llm.status = 500
    fake_llm.content = "whatever [1]"
    reply = bot.bot_ask(
        session=bot.bot_session_start(channel="help", locale="en"), question="water heater E1"
    )
    assert reply.kind == "answer"
    assert "Check that the gas valve is open" in reply.text


def test_llm_unreachable_falls_back(settings, library):
    with FakeCompletions() as fake:
        url = fake.url
    settings.AFTERSALES_LLM_URL = url  # the server is closed: connection refused
    settings.AFTERSALES_LLM_TIMEOUT = 2
    reply = bot.bot_ask(
        session=bot.bot_session_start(channel="help", locale="en"), question="water heater E1"
    )
    assert reply.kind == "answer"
    assert "Check that the gas valve is open" in reply.text


def test_llm_is_not_asked_when_nothing_matches(fake_llm, library):
    fake_llm.content = "Bitcoin is fine [1]."
    reply = bot.bot_ask(
        session=bot.bot_session_start(channel="help", locale="en"),
        question="Can I pay my invoice with bitcoin?",
    )
    assert reply.kind == "handover"
    assert fake_llm.requests == []


def test_llm_prompt_is_in_the_sessions_language(fake_llm, library):
    fake_llm.content = "请先确认燃气阀门已打开，然后断电 30 秒后重启 [1]。"
    reply = bot.bot_ask(
        session=bot.bot_session_start(channel="help", locale="zh-hans"), question="热水器显示E1怎么办"
    )
    assert reply.text == fake_llm.content
    system = fake_llm.requests[0]["body"]["messages"][0]["content"]
    assert "只根据下面编号的知识库摘录回答" in system
