"""The sweep: find clocks whose warning or breach instant has passed, claim them, escalate once.

Shape (after Sentry's auto-resolve sweep): one short transaction per batch; the claim is an
indexed range query over a partial index that holds only clocks still waiting for that event
(``status = 'running' AND warned_at IS NULL``, ordered by ``warn_at``); on PostgreSQL the rows
are locked with ``FOR UPDATE SKIP LOCKED`` so concurrent sweepers take disjoint batches; the
claim is made by a compare-and-set ``UPDATE … WHERE warned_at IS NULL`` whose row count is
checked, and escalation actions run in that same transaction. A second sweeper, a retried task
or a second scheduler therefore finds nothing to do for a clock already handled, and the
``SlaEscalation`` ledger's unique constraint makes "once per clock and rule" a database fact.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from aftersales.tickets.models import Ticket

from .alarms import alarms_planned, alarms_send
from .escalation import escalate
from .models import ClockStatus, EscalationKind, SlaClock

logger = logging.getLogger(__name__)

DEFAULT_BATCH = 500


@dataclass
class SweepResult:
    warned: int = 0
    breached: int = 0
    escalations: int = 0
    full_batch: bool = False
    armed: int = 0
    clock_ids: list[int] = field(default_factory=list)


def due_for_warning(now: dt.datetime) -> QuerySet[SlaClock]:
    return SlaClock.objects.filter(
        status=ClockStatus.RUNNING, warned_at__isnull=True, warn_at__lte=now
    ).order_by("warn_at")


def due_for_breach(now: dt.datetime) -> QuerySet[SlaClock]:
    return SlaClock.objects.filter(
        status=ClockStatus.RUNNING, breached_at__isnull=True, due_at__lte=now
    ).order_by("due_at")


def _claim_ids(queryset: QuerySet[SlaClock], limit: int) -> list[int]:
    if not connection.features.has_select_for_update_skip_locked:
        return list(queryset.values_list("pk", flat=True)[:limit])
    # Lock the tickets before their clocks, the order every ticket service takes (a transition
    # locks its ticket, then its handlers move the clocks): clock-then-ticket deadlocked against
    # transitions under load. A ticket locked by someone else is skipped; the next pass (or the
    # clock's alarm) takes its clocks.
    candidates = list(queryset.values_list("pk", "ticket_id")[:limit])
    ticket_ids = {ticket_id for _, ticket_id in candidates}
    locked_tickets = set(
        Ticket.objects.select_for_update(skip_locked=True)
        .filter(pk__in=ticket_ids)
        .values_list("pk", flat=True)
    )
    ids = [clock_id for clock_id, ticket_id in candidates if ticket_id in locked_tickets]
    return list(queryset.filter(pk__in=ids).select_for_update(skip_locked=True).values_list("pk", flat=True))


def sla_sweep_batch(
    *,
    kind: str,
    now: dt.datetime | None = None,
    batch: int = DEFAULT_BATCH,
    escalate_actions: bool = True,
    clock_id: int | None = None,
) -> SweepResult:
    """Claim and mark up to ``batch`` clocks for ``kind`` (warning or breach), escalating each
    once; only ``clock_id`` when given (an alarm)."""
    now = now or timezone.now()
    result = SweepResult()
    stamp, pending = (
        ("warned_at", due_for_warning(now))
        if kind == EscalationKind.WARNING
        else ("breached_at", due_for_breach(now))
    )
    if clock_id is not None:
        pending = pending.filter(pk=clock_id)
    with transaction.atomic():
        ids = _claim_ids(pending, batch)
        result.full_batch = len(ids) == batch
        if not ids:
            return result
        # Compare-and-set: only rows still unmarked change; the row count says how many we own.
        # Inside this transaction the rows are locked (PostgreSQL) or the database is (SQLite's
        # IMMEDIATE transactions), so the rows updated are exactly ``ids`` when the counts agree.
        claimed = SlaClock.objects.filter(Q(pk__in=ids), **{f"{stamp}__isnull": True}).update(**{stamp: now})
        if claimed != len(ids):
            # Someone else marked some of them between our read and our write (not possible with
            # the locks above, but cheap to honour): re-read which ones carry our stamp.
            ids = list(SlaClock.objects.filter(pk__in=ids, **{stamp: now}).values_list("pk", flat=True))
        result.clock_ids = ids
        if kind == EscalationKind.WARNING:
            result.warned = len(ids)
        else:
            result.breached = len(ids)
        if escalate_actions:
            result.escalations = escalate(clock_ids=ids, kind=kind, now=now)
    return result


def sla_sweep(*, now: dt.datetime | None = None, batch: int = DEFAULT_BATCH, arm: bool = True) -> SweepResult:
    """One pass: a batch of warnings, then a batch of breaches, then alarms for the instants
    coming into the horizon (``alarms.py``). ``full_batch``: run again."""
    now = now or timezone.now()
    warned = sla_sweep_batch(kind=EscalationKind.WARNING, now=now, batch=batch)
    breached = sla_sweep_batch(kind=EscalationKind.BREACH, now=now, batch=batch)
    armed = alarms_send(alarms_planned(now=now)) if arm else 0
    return SweepResult(
        warned=warned.warned,
        breached=breached.breached,
        escalations=warned.escalations + breached.escalations,
        full_batch=warned.full_batch or breached.full_batch,
        clock_ids=warned.clock_ids + breached.clock_ids,
        armed=armed,
    )
