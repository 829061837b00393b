"""Alarms: each clock's warning and breach fire within a second or two of their instant.

The sweep runs every 30 s, too coarse for the 60 s phone and 30 s chat promises. So whenever a
ticket's clocks change (started, resumed, re-planned), the instants that fall within the next
``SLA_ALARM_HORIZON_SECONDS`` get a Celery task ``sla.clock_alarm`` with that ETA, sent after
commit; the sweep arms the later ones as they come into the horizon and still catches anything
an alarm missed (a lost message, a worker that died holding it). Only the near future is armed
because brokers hold ETA tasks in the worker: Redis gives them back after its visibility
timeout (1 h by default) and the filesystem broker loses them with the worker.

An alarm changes nothing by itself: it runs the sweep's claim for that one clock (compare-and-set
on ``warned_at``/``breached_at``, escalations in the ledger), so an alarm sent twice, an alarm
and a sweep, or two workers still warn and escalate once. An alarm that arrives early (the clock
moved, or the worker's clock runs ahead) arms itself again for the instant it finds.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import ClockStatus, EscalationKind, SlaClock

logger = logging.getLogger(__name__)

DEFAULT_HORIZON_SECONDS = 120
# The sweep arms at most this many instants per pass (more wait for the next pass).
SWEEP_ARM_LIMIT = 5000


@dataclass(frozen=True)
class Alarm:
    clock_id: int
    kind: str  # EscalationKind: warning or breach
    at: dt.datetime


def horizon() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "SLA_ALARM_HORIZON_SECONDS", DEFAULT_HORIZON_SECONDS))


def _pending(now: dt.datetime, until: dt.datetime) -> tuple[QuerySet[SlaClock], QuerySet[SlaClock]]:
    """Running clocks whose warning / breach is still to come in ``(now, until]`` (the sweep's
    partial indexes serve both)."""
    running = SlaClock.objects.filter(status=ClockStatus.RUNNING)
    warnings = running.filter(warned_at__isnull=True, warn_at__gt=now, warn_at__lte=until)
    breaches = running.filter(breached_at__isnull=True, due_at__gt=now, due_at__lte=until)
    return warnings, breaches


def alarms_planned(
    *, now: dt.datetime, ticket_id: int | None = None, limit: int = SWEEP_ARM_LIMIT
) -> list[Alarm]:
    """The alarms to arm: unfired warnings and breaches due within the horizon after ``now``
    (of one ticket, or of all)."""
    warnings, breaches = _pending(now, now + horizon())
    if ticket_id is not None:
        warnings, breaches = warnings.filter(ticket_id=ticket_id), breaches.filter(ticket_id=ticket_id)
    alarms = [
        Alarm(clock_id=pk, kind=EscalationKind.WARNING, at=at)
        for pk, at in warnings.order_by("warn_at").values_list("pk", "warn_at")[:limit]
    ]
    alarms += [
        Alarm(clock_id=pk, kind=EscalationKind.BREACH, at=at)
        for pk, at in breaches.order_by("due_at").values_list("pk", "due_at")[:limit]
    ]
    return alarms


def alarms_send(alarms: Iterable[Alarm], **options: Any) -> int:
    """Send one ``sla.clock_alarm`` per alarm with its ETA; best effort (the sweep is the
    safety net), so a broker that is down costs precision, never the caller's request.
    ``options`` go to ``apply_async`` (a test passes its broker connection and queue)."""
    if current_app.conf.task_always_eager:
        return 0  # an eager task would run now, not at its ETA: the sweep does the work
    from .tasks import clock_alarm

    sent = 0
    for alarm in alarms:
        try:
            clock_alarm.apply_async(
                kwargs={"clock_id": alarm.clock_id, "kind": alarm.kind}, eta=alarm.at, retry=False, **options
            )
        except Exception:  # noqa: BLE001 — any broker failure; the sweep still fires the clock
            logger.warning("SLA alarm not sent (the sweep will catch it): %s", alarm, exc_info=True)
            continue
        sent += 1
    return sent


def alarms_arm_after_commit(*, ticket_id: int, now: dt.datetime | None = None) -> None:
    """Plan the ticket's alarms within the horizon now and send them once the transaction that
    changed its clocks commits (a rolled-back change arms nothing)."""
    alarms = alarms_planned(now=now or timezone.now(), ticket_id=ticket_id)
    if alarms:
        transaction.on_commit(lambda: alarms_send(alarms))


def alarm_fire(*, clock_id: int, kind: str, now: dt.datetime | None = None) -> bool:
    """Warn or breach ``clock_id`` if it is due and still unmarked (exactly once, escalating as
    the sweep does); re-arm if its instant is still ahead. True if this call marked it."""
    from .sweep import sla_sweep_batch

    now = now or timezone.now()
    result = sla_sweep_batch(kind=kind, now=now, clock_id=clock_id)
    if result.clock_ids:
        return True
    warnings, breaches = _pending(now, now + horizon())
    ahead = (warnings if kind == EscalationKind.WARNING else breaches).filter(pk=clock_id)
    instant = ahead.values_list("warn_at" if kind == EscalationKind.WARNING else "due_at", flat=True).first()
    if instant is not None:
        alarms_send([Alarm(clock_id=clock_id, kind=kind, at=instant)])
    return False
