"""The agents' side in the console: the Chat page, its live stream and its actions (JSON)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aftersales.core.errors import ApplicationError, BadRequest, NotFound, ValidationFailed
from aftersales.core.models import User
from aftersales.shell.views import current_user

from .selectors import (
    agent_is_online,
    conversation_get_for_staff,
    conversation_summary,
    message_payload,
    messages_since,
)
from .services import (
    agent_presence_set,
    conversation_accept,
    conversation_agent_message,
    conversation_close,
    may_take_chats,
    normalise_language,
)
from .streams import console_events, stream_response
from .widget_strings import WIDGET_STRINGS

MAX_BODY_BYTES = 16 * 1024


def chat_agent_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not isinstance(user, User) or not may_take_chats(user):
            raise DjangoPermissionDenied
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as exc:
            return JsonResponse(exc.as_dict(), status=exc.status)

    return wrapped


def _language() -> str:
    return normalise_language(get_language())


def _json(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > MAX_BODY_BYTES:
        from aftersales.core.errors import PayloadTooLarge

        raise PayloadTooLarge(details={"max_bytes": MAX_BODY_BYTES})
    if not request.body:
        return {}
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest(_("The request body is not valid JSON."), code="malformed_request") from None
    if not isinstance(data, dict):
        raise BadRequest(_("The request body is not valid JSON."), code="malformed_request")
    return data


def _conversation_id(raw: str | None) -> int | None:
    if raw in (None, ""):
        return None
    try:
        value = int(str(raw))
    except ValueError:
        raise ValidationFailed(details={"conversation": _("Enter a whole number.")}) from None
    if value <= 0 or value > 2**62:
        raise ValidationFailed(details={"conversation": _("Enter a whole number.")})
    return value


def _detail(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    conversation = conversation_get_for_staff(user=current_user(request), conversation_id=conversation_id)
    language = _language()
    return {
        "conversation": conversation_summary(conversation, language=language),
        "messages": [
            message_payload(line, language=language, for_staff=True)
            for line in messages_since(conversation_id=conversation.pk, since_id=0, limit=1000)
        ],
    }


@chat_agent_required
@require_GET
def console(request: HttpRequest) -> HttpResponseBase:
    user = current_user(request)
    strings = {
        "waiting": _("Waiting"),
        "active": _("Active"),
        "bot": _("With the answer bot"),
        "none": _("No conversations."),
        "accept": _("Accept"),
        "close": _("Close chat"),
        "send": _("Send"),
        "ticket": _("Ticket"),
        "pick": _("Pick a conversation on the left."),
        "you": _("you"),
        "visitor": _("Visitor"),
        "agent": _("Agent"),
        "bot_author": str(WIDGET_STRINGS["bot"]),
        "placeholder": _("Type your answer… (Enter sends, Shift+Enter for a new line)"),
        "closed": _("This chat has ended; the ticket stays open for follow-up."),
        "taken_by": _("Handled by %(agent)s"),
        "waiting_for": _("waiting %(minutes)s min"),
        "sources": str(WIDGET_STRINGS["sources"]),
        "error": _("Something went wrong. Please try again."),
        "reconnecting": _("Reconnecting…"),
        "page": _("Page"),
        "visitor_left": _("The visitor has left the page"),
    }
    return render(
        request,
        "chat/console.html",
        {"nav": "chat", "is_online": agent_is_online(user=user), "strings": strings, "me": user.pk},
    )


@chat_agent_required
@require_GET
def console_stream(request: HttpRequest) -> HttpResponseBase:
    conversation_id = _conversation_id(request.GET.get("conversation"))
    raw_since = request.headers.get("Last-Event-ID") or request.GET.get("since") or "0"
    try:
        since = max(0, int(raw_since))
    except ValueError:
        raise ValidationFailed(details={"since": _("Enter a whole number.")}) from None
    if conversation_id is not None:
        conversation_get_for_staff(user=current_user(request), conversation_id=conversation_id)
    return stream_response(
        console_events(
            user=current_user(request), language=_language(), conversation_id=conversation_id, since_id=since
        )
    )


@chat_agent_required
@require_GET
def console_conversation(request: HttpRequest, conversation_id: int) -> HttpResponseBase:
    return JsonResponse(_detail(request, conversation_id))


@chat_agent_required
@require_POST
def console_presence(request: HttpRequest) -> HttpResponseBase:
    data = _json(request)
    online = data.get("online")
    if not isinstance(online, bool):
        raise ValidationFailed(details={"online": _("Answer true or false.")})
    agent_presence_set(user=current_user(request), online=online)
    return JsonResponse({"online": agent_is_online(user=current_user(request))})


@chat_agent_required
@require_POST
def console_accept(request: HttpRequest, conversation_id: int) -> HttpResponseBase:
    conversation = conversation_get_for_staff(user=current_user(request), conversation_id=conversation_id)
    conversation_accept(conversation=conversation, agent=current_user(request))
    return JsonResponse(_detail(request, conversation_id))


@chat_agent_required
@require_POST
def console_message(request: HttpRequest, conversation_id: int) -> HttpResponseBase:
    conversation = conversation_get_for_staff(user=current_user(request), conversation_id=conversation_id)
    data = _json(request)
    line = conversation_agent_message(
        conversation=conversation, agent=current_user(request), body=data.get("body", "")
    )
    return JsonResponse({"message": message_payload(line, language=_language(), for_staff=True)}, status=201)


@chat_agent_required
@require_POST
def console_close(request: HttpRequest, conversation_id: int) -> HttpResponseBase:
    conversation = conversation_get_for_staff(user=current_user(request), conversation_id=conversation_id)
    conversation_close(conversation=conversation, actor=current_user(request))
    return JsonResponse(_detail(request, conversation_id))


__all__ = ["NotFound"]
