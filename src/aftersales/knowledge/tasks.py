"""Celery tasks of the knowledge base: thin, idempotent, explicitly named."""

from __future__ import annotations

from celery import shared_task

from .bot import bot_sessions_abandon_idle
from .services import publish_due as publish_due_versions

BATCH = 200


@shared_task(name="knowledge.publish_due", acks_late=True, ignore_result=True)
def publish_due(batch: int = BATCH) -> int:
    """Make scheduled article versions live once their effective time has come.

    Safe to run twice or on several schedulers: each article is switched with its row locked and
    only if the due version is not live yet. Re-enqueues itself while a full batch was found."""
    made_live = publish_due_versions(batch=batch)
    if made_live >= batch:
        publish_due.apply_async(kwargs={"batch": batch})
    return made_live


@shared_task(name="knowledge.abandon_idle_bot_sessions", acks_late=True, ignore_result=True)
def abandon_idle_bot_sessions() -> int:
    """Bot conversations idle for a day end as abandoned (idempotent; locked rows are skipped)."""
    return bot_sessions_abandon_idle()
