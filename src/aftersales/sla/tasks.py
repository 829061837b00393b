"""Celery tasks of the SLA engine: thin, idempotent, explicitly named."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from .alarms import alarm_fire
from .sweep import DEFAULT_BATCH, sla_sweep


@shared_task(name="sla.sweep_due", acks_late=True, ignore_result=True)
def sweep_due(batch: int = DEFAULT_BATCH) -> dict[str, int]:
    """Warn and breach due clocks; re-enqueue while a full batch was found (more work waits)."""
    result = sla_sweep(batch=batch)
    if result.full_batch:
        sweep_due.apply_async(kwargs={"batch": batch})
    return {"warned": result.warned, "breached": result.breached, "escalations": result.escalations}


# A busy database (SQLite's single writer) retries the alarm a second later rather than leave
# the clock to the next sweep.
@shared_task(
    name="sla.clock_alarm",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    default_retry_delay=1,
)
def clock_alarm(clock_id: int, kind: str) -> bool:
    """Warn or breach one clock at its instant (sent with an ETA; idempotent, see alarms.py)."""
    return alarm_fire(clock_id=clock_id, kind=kind)
