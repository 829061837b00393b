"""Periodic housekeeping of the chat."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="chat.close_abandoned", acks_late=True)
def close_abandoned(idle_minutes: int = 30) -> int:
    """Close chats whose visitor left long ago, so the agents' queue shows only live ones."""
    return services.conversations_close_abandoned(idle_minutes=idle_minutes)
