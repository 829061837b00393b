"""The widget's endpoints (plain Django views; JSON in, JSON out) and the widget script itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import override
from django.views.decorators.http import require_GET

from aftersales.core.errors import ValidationFailed

from . import answer_bot
from .conf import chat_setting
from .models import ChatChannel, Conversation
from .selectors import agents_available, conversation_state, message_payload, messages_since
from .services import (
    conversation_bot_feedback,
    conversation_close,
    conversation_leave_message,
    conversation_request_agent,
    conversation_set_contact,
    conversation_start,
    conversation_visitor_message,
    normalise_language,
)
from .streams import stream_response, visitor_events
from .visitor_http import client_ip, json_error, rate_limited, read_json, visitor_endpoint
from .widget_strings import WIDGET_STRINGS

WIDGET_JS = Path(__file__).resolve().parent / "static" / "chat" / "widget.js"


@require_GET
def widget_js(request: HttpRequest) -> HttpResponseBase:
    """The embeddable script, at a stable address outside /static/."""
    response = HttpResponse(WIDGET_JS.read_bytes(), content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _since(request: HttpRequest) -> int:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("since") or "0"
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(details={"since": _("Enter a whole number.")}) from None
    if value < 0 or value > 2**62:
        raise ValidationFailed(details={"since": _("Enter a whole number.")})
    return value


def _conversation_json(conversation: Conversation, language: str, since_id: int = 0) -> dict[str, Any]:
    conversation.refresh_from_db()
    return {
        "state": conversation_state(conversation),
        "messages": [
            message_payload(line, language=language)
            for line in messages_since(conversation_id=conversation.pk, since_id=since_id, limit=500)
        ],
    }


@visitor_endpoint(methods=("GET",), needs_conversation=False)
def config(request: HttpRequest, channel: ChatChannel, conversation: None, language: str) -> HttpResponseBase:
    return JsonResponse(
        {
            "channel": channel.public_key,
            "name": channel.name,
            "language": language,
            "greeting": channel.greeting_for(language),
            "agents_online": agents_available(channel=channel),
            "bot": answer_bot.bot_enabled(),
            "strings": {key: str(value) for key, value in WIDGET_STRINGS.items()},
        }
    )


@visitor_endpoint(methods=("POST",), needs_conversation=False)
def start(request: HttpRequest, channel: ChatChannel, conversation: None, language: str) -> HttpResponseBase:
    data = read_json(request)
    limit = int(chat_setting("AFTERSALES_CHAT_STARTS_PER_IP_HOUR"))
    if rate_limited(f"start:{client_ip(request)}", limit, window=3600):
        return json_error(request, status=429, code="throttled", message=_("Too many requests; slow down."))
    started, token = conversation_start(
        channel=channel,
        language=language,
        body=data.get("body", ""),
        name=data.get("name", ""),
        email=data.get("email", ""),
        phone=data.get("phone", ""),
        page_url=data.get("page_url", ""),
    )
    return JsonResponse({"token": token, **_conversation_json(started, language)}, status=201)


@visitor_endpoint(methods=("GET",), needs_conversation=True)
def conversation(
    request: HttpRequest, channel: ChatChannel, conversation: Conversation, language: str
) -> HttpResponseBase:
    return JsonResponse(_conversation_json(conversation, language, since_id=_since(request)))


@visitor_endpoint(methods=("POST",), needs_conversation=True)
def message(
    request: HttpRequest, channel: ChatChannel, conversation: Conversation, language: str
) -> HttpResponseBase:
    data = read_json(request)
    line = conversation_visitor_message(conversation=conversation, body=data.get("body", ""))
    return JsonResponse({"message": message_payload(line, language=language)}, status=201)


@visitor_endpoint(methods=("POST",), needs_conversation=True)
def person(
    request: HttpRequest, channel: ChatChannel, conversation: Conversation, language: str
) -> HttpResponseBase:
    read_json(request)
    conversation_request_agent(conversation=conversation)
    return JsonResponse(_conversation_json(conversation, language))


@visitor_endpoint(methods=("POST",), needs_conversation=True)
def feedback(
    request: HttpRequest, channel: ChatChannel, conversation: Conversation, language: str
) -> HttpResponseBase:
    data = read_json(request)
    solved = data.get("solved")
    if not isinstance(solved, bool):
        raise ValidationFailed(details={"solved": _("Answer true or false.")})
    conversation_bot_feedback(conversation=conversation, solved=solved)
    return JsonResponse(_conversation_json(conversation, language))


@visitor_endpoint(methods=("POST",), needs_conversation=True)
def contact(
    request: HttpRequest, channel: ChatChannel, conversation: Conversation, language: str
) -> HttpResponseBase:
    data = read_json(request)
    conversation_set_contact(
        conversation=conversation,
        name=data.get("name", ""),
        email=data.get("email", ""),
        phone=data.get("phone", ""),
    )
    return JsonResponse(_conversation_json(conversation, language))


@visitor_endpoint(methods=("POST",), needs_conversation=True)
def close(
    request: HttpRequest, channel: ChatChannel, conversation: Conversation, language: str
) -> HttpResponseBase:
    read_json(request)
    conversation_close(conversation=conversation, actor=None)
    return JsonResponse(_conversation_json(conversation, language))


@visitor_endpoint(methods=("POST",), needs_conversation=False)
def leave_message(
    request: HttpRequest, channel: ChatChannel, conversation: None, language: str
) -> HttpResponseBase:
    """Leave a message (no agent online). With the token of an open chat, that chat becomes the message."""
    data = read_json(request)
    existing = None
    token = request.headers.get("X-Chat-Token") or ""
    if token:
        from .selectors import conversation_for_visitor

        existing = conversation_for_visitor(channel=channel, token=token)
    elif rate_limited(
        f"start:{client_ip(request)}", int(chat_setting("AFTERSALES_CHAT_STARTS_PER_IP_HOUR")), window=3600
    ):
        return json_error(request, status=429, code="throttled", message=_("Too many requests; slow down."))
    left = conversation_leave_message(
        channel=channel,
        language=language,
        name=data.get("name", ""),
        email=data.get("email", ""),
        phone=data.get("phone", ""),
        body=data.get("body", ""),
        page_url=data.get("page_url", ""),
        conversation=existing,
    )
    left.refresh_from_db()
    return JsonResponse(
        {"ticket_number": left.ticket.number if left.ticket else "", **_conversation_json(left, language)},
        status=201,
    )


@visitor_endpoint(methods=("GET",), needs_conversation=True)
def stream(
    request: HttpRequest, channel: ChatChannel, conversation: Conversation, language: str
) -> HttpResponseBase:
    return stream_response(visitor_events(conversation=conversation, since_id=_since(request)))


def demo(request: HttpRequest) -> HttpResponseBase:
    """A fake company page (澜泉卫浴) with the widget embedded, to try the chat."""
    channels = ChatChannel.objects.filter(is_active=True).order_by("id")
    wanted = str(request.GET.get("channel") or "")[:40]
    channel = (channels.filter(public_key=wanted) if wanted else channels).first()
    language = normalise_language(request.GET.get("lang") or getattr(request, "LANGUAGE_CODE", "zh-hans"))
    with override(language):
        return render(request, "chat/demo.html", {"channel": channel, "widget_lang": language})
