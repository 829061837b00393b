"""Server-Sent Events for the widget and the console.

Deliberately simple: the generator looks at the database about once a second for lines after a
since-id cursor, sends a keep-alive comment now and then and ends after a fixed lifetime, after
which the browser reconnects with the last id it saw. That needs no broker and works the same
under the threaded development server, gunicorn's threaded workers and the tests' live server;
every web node serves every stream because the state lives in the database.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.http import StreamingHttpResponse

from .conf import chat_setting
from .models import Conversation
from .selectors import (
    agent_is_online,
    console_conversations,
    conversation_state,
    conversation_summary,
    message_payload,
    messages_since,
)
from .services import agent_presence_heartbeat, conversation_visitor_seen

SEEN_EVERY_SECONDS = 20.0


def sse(event: str, data: Any, event_id: int | None = None) -> str:
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"event: {event}")
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    lines.extend(f"data: {part}" for part in payload.split("\n"))
    return "\n".join(lines) + "\n\n"


def stream_response(events: Iterator[str]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(events, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


def _loop(
    step: Callable[[], Iterator[str]],
    *,
    on_beat: Callable[[], None] | None = None,
    done: Callable[[], bool] | None = None,
) -> Iterator[str]:
    lifetime = float(chat_setting("AFTERSALES_CHAT_STREAM_SECONDS"))
    poll = max(0.05, float(chat_setting("AFTERSALES_CHAT_POLL_SECONDS")))
    heartbeat = float(chat_setting("AFTERSALES_CHAT_HEARTBEAT_SECONDS"))
    started = last_beat = time.monotonic()
    last_seen = started - SEEN_EVERY_SECONDS
    yield "retry: 1500\n\n"
    while True:
        yield from step()
        if done is not None and done():
            yield sse("bye", {"reconnect": False})
            return
        now = time.monotonic()
        if now - last_seen >= SEEN_EVERY_SECONDS and on_beat is not None:
            on_beat()
            last_seen = now
        if now - started >= lifetime:
            yield sse("bye", {"reconnect": True})
            return
        if now - last_beat >= heartbeat:
            yield ": keep-alive\n\n"
            last_beat = now
        time.sleep(poll)


def visitor_events(*, conversation: Conversation, since_id: int) -> Iterator[str]:
    cursor: dict[str, Any] = {"since": since_id, "state": None}
    conversation_id = conversation.pk
    language = conversation.language

    def step() -> Iterator[str]:
        current = (
            Conversation.objects.select_related("channel", "ticket", "assigned_agent")
            .filter(pk=conversation_id)
            .first()
        )
        if current is None:
            cursor["done"] = True
            yield sse("gone", {})
            return
        while True:
            lines = messages_since(conversation_id=conversation_id, since_id=int(cursor["since"] or 0))
            for line in lines:
                cursor["since"] = line.pk
                yield sse("message", message_payload(line, language=language), event_id=line.pk)
            if len(lines) < 200:
                break
        state = conversation_state(current)
        if state != cursor["state"]:
            cursor["state"] = state
            yield sse("state", state)
        # An ended chat has nothing more to say: the stream ends instead of polling on.
        cursor["done"] = not current.is_open

    return _loop(
        step,
        on_beat=lambda: conversation_visitor_seen(conversation=conversation),
        done=lambda: bool(cursor.get("done")),
    )


def console_events(*, user: Any, language: str, conversation_id: int | None, since_id: int) -> Iterator[str]:
    cursor: dict[str, Any] = {"since": since_id, "queue": None, "open": None}

    def step() -> Iterator[str]:
        rows = console_conversations(user=user)
        queue = {
            "conversations": [conversation_summary(c, language=language) for c in rows],
            "me_online": agent_is_online(user=user),
        }
        if queue != cursor["queue"]:
            cursor["queue"] = queue
            yield sse("queue", queue)
        if conversation_id is None:
            return
        current = (
            Conversation.objects.select_related("channel", "ticket", "assigned_agent")
            .filter(pk=conversation_id)
            .first()
        )
        if current is None:
            return
        summary = conversation_summary(current, language=language)
        if summary != cursor["open"]:
            cursor["open"] = summary
            yield sse("conversation", summary)
        for line in messages_since(conversation_id=conversation_id, since_id=int(cursor["since"])):
            cursor["since"] = line.pk
            yield sse("message", message_payload(line, language=language, for_staff=True), event_id=line.pk)

    def beat() -> None:
        agent_presence_heartbeat(user=user)

    return _loop(step, on_beat=beat)
