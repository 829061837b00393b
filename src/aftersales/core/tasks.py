"""Periodic housekeeping of the core app."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="core.purge_idempotency_records", acks_late=True)
def purge_idempotency_records(max_age_hours: int = 48) -> int:
    """Forget the answers kept for retried requests once no client would still retry them."""
    return services.idempotency_records_purge(max_age_hours=max_age_hours)
