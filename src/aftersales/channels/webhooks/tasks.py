"""Celery tasks of the webhooks app: thin, idempotent, explicitly named."""

from __future__ import annotations

from celery import shared_task

from .services import webhook_deliveries_due, webhook_delivery_attempt
from .services.outbound import SWEEP_CHUNK
from .services.retention import webhook_logs_purge


@shared_task(name="webhooks.deliver", acks_late=True, ignore_result=True)
def deliver(delivery_id: int) -> str:
    """One attempt at one delivery; a no-op when it is not due or another worker holds it."""
    return webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task(name="webhooks.retry_due", acks_late=True, ignore_result=True)
def retry_due(chunk: int = SWEEP_CHUNK, after_id: int = 0) -> int:
    """Queue an attempt for every delivery nobody is looking after (the beat runs it every minute).

    A chunk at a time, in id order: while a chunk comes back full the sweep queues its own next
    step from the last id, so a backlog (the broker lost its queue) drains at the workers' pace.
    """
    ids = webhook_deliveries_due(limit=chunk, after_id=after_id)
    for delivery_id in ids:
        deliver.delay(delivery_id=delivery_id)
    if len(ids) >= chunk:
        retry_due.apply_async(kwargs={"chunk": chunk, "after_id": ids[-1]})
    return len(ids)


@shared_task(name="webhooks.purge_logs", acks_late=True, ignore_result=True)
def purge_logs() -> dict[str, int]:
    """Daily housekeeping of the request and delivery logs (docs/integrations.md)."""
    return webhook_logs_purge()
