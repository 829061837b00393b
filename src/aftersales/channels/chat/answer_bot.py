"""The knowledge base's answer bot as the chat uses it.

The bot lives in ``aftersales.knowledge.bot``, a lower layer the chat imports directly
(docs/architecture.md). The chat works without it: when ``AFTERSALES_CHAT_BOT`` is off,
conversations go straight to the agents' queue. Every call here runs in a savepoint, so a failing
bot never breaks the chat's own transaction; the visitor is then handed to a person instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from aftersales.core.errors import ApplicationError
from aftersales.knowledge import bot
from aftersales.knowledge.models import BotSession

from .conf import chat_setting

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BotAnswer:
    kind: str  # "answer" | "clarify" | "handover"
    text: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    options: list[str] = field(default_factory=list)


def bot_enabled() -> bool:
    return bool(chat_setting("AFTERSALES_CHAT_BOT"))


def _session(public_id: Any) -> BotSession | None:
    return BotSession.objects.filter(public_id=public_id).first()


def session_start(*, language: str, customer: Any = None) -> Any | None:
    """A new bot session's public id, or ``None`` when the bot is off or failing."""
    if not bot_enabled():
        return None
    try:
        with transaction.atomic():
            session = bot.bot_session_start(channel="chat", locale=language, customer=customer)
            return session.public_id
    except Exception:
        logger.exception("chat: the answer bot could not start a session")
        return None


def ask(*, session_id: Any, question: str) -> BotAnswer | None:
    if session_id is None:
        return None
    try:
        with transaction.atomic():
            session = _session(session_id)
            if session is None:
                return None
            reply = bot.bot_ask(session=session, question=question)
    except Exception:
        logger.exception("chat: the answer bot failed to answer")
        return None
    return BotAnswer(
        kind=reply.kind,
        text=str(reply.text),
        sources=[
            {"article_id": s.article_id, "title": str(s.title), "url": str(s.url)} for s in reply.sources
        ],
        options=[str(option) for option in reply.options],
    )


def resolve(*, session_id: Any, solved: bool) -> None:
    if session_id is None:
        return
    try:
        with transaction.atomic():
            session = _session(session_id)
            if session is not None:
                bot.bot_resolve(session=session, solved=solved)
    except ApplicationError as exc:
        logger.info("chat: the answer bot refused the outcome: %s", exc.code)
    except Exception:
        logger.exception("chat: the answer bot could not record the outcome")


def hand_over(*, session_id: Any, customer: Any, ticket: Any, subject: str = "") -> None:
    if session_id is None:
        return
    try:
        with transaction.atomic():
            session = _session(session_id)
            if session is not None:
                bot.bot_hand_over(session=session, customer=customer, ticket=ticket, subject=subject)
    except ApplicationError as exc:
        logger.info("chat: the answer bot refused the hand-over: %s", exc.code)
    except Exception:
        logger.exception("chat: the answer bot could not hand over")
