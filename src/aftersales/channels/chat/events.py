"""Domain events of the chat; published by the chat services (no subscribers yet)."""

from __future__ import annotations

from dataclasses import dataclass

from aftersales.core.models import User

from .models import ChatMessage, Conversation


@dataclass(frozen=True)
class ChatConversationStarted:
    conversation: Conversation


@dataclass(frozen=True)
class ChatConversationQueued:
    """The visitor asked for a person: the conversation waits for an agent (its ticket exists)."""

    conversation: Conversation


@dataclass(frozen=True)
class ChatConversationAccepted:
    conversation: Conversation
    agent: User


@dataclass(frozen=True)
class ChatConversationClosed:
    conversation: Conversation
    actor: User | None
    reason: str


@dataclass(frozen=True)
class ChatMessagePosted:
    message: ChatMessage
