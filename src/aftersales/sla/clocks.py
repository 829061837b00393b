"""The clocks: started, paused, resumed, met and re-planned as a ticket moves.

Every due and warning instant is computed in business time on the clock's calendar
(``core.business_time``), so a promise of "1 hour" made at 17:30 on a Friday falls due on Monday
morning when the calendar says so. Handlers in ``handlers.py`` call these functions inside the
ticket service's transaction, so a ticket and its clocks never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from aftersales.core import business_time
from aftersales.core.models import BusinessCalendar, User
from aftersales.core.services import audit_record
from aftersales.tickets.lifecycle import FINAL_STATUSES, TicketStatus
from aftersales.tickets.models import Ticket

from .alarms import alarms_arm_after_commit
from .models import ACTIVE_CLOCK, ClockStatus, SlaClock, SlaState, SlaTarget, TicketSla
from .policies import policies_for_ticket

T = SlaTarget
S = TicketStatus

# A stage clock runs while the ticket is in the stage and is met when the ticket leaves it.
STAGE_TARGET_FOR_STATUS: dict[str, str] = {
    S.NEW: T.STAGE_ACCEPT,
    S.ACCEPTED: T.STAGE_DIAGNOSE,
    S.DIAGNOSING: T.STAGE_PROPOSE,
    S.IN_SERVICE: T.STAGE_COMPLETE,
}
STATUS_FOR_STAGE_TARGET = {target: status for status, target in STAGE_TARGET_FOR_STATUS.items()}
# Clocks started when a ticket is opened.
OPENING_TARGETS = (T.FIRST_RESPONSE, T.RESOLUTION, T.ON_SITE)
STAGES_BEFORE_SERVICE = frozenset(
    {S.NEW, S.ACCEPTED, S.DIAGNOSING, S.SOLUTION_PROPOSED, S.WAITING_ON_CUSTOMER}
)


# --- business time ----------------------------------------------------------------------------


class _Engines:
    """Calendars and their engines for one unit of work (a handler call, a sweep batch)."""

    def __init__(self) -> None:
        self._by_id: dict[int | None, Any] = {}
        self._default_id: int | None = None
        self._default_loaded = False

    def default_calendar_id(self) -> int | None:
        if not self._default_loaded:
            calendar = business_time.default_calendar()
            self._default_id = getattr(calendar, "pk", None)
            self._by_id.setdefault(self._default_id, business_time.engine_for(calendar))
            self._default_loaded = True
        return self._default_id

    def engine(self, calendar_id: int | None) -> Any:
        if calendar_id is None:
            calendar_id = self.default_calendar_id()
        if calendar_id not in self._by_id:
            calendar = (
                BusinessCalendar.objects.filter(pk=calendar_id).first() if calendar_id is not None else None
            )
            self._by_id[calendar_id] = business_time.engine_for(
                calendar if calendar is not None else business_time.default_calendar()
            )
        return self._by_id[calendar_id]


def _signed_remaining(engine: Any, now: dt.datetime, due_at: dt.datetime) -> int:
    """Business seconds from ``now`` to ``due_at``; negative when the clock is overdue."""
    if due_at >= now:
        return round(engine.between(now, due_at))
    return -round(engine.between(due_at, now))


def _schedule(
    engine: Any, now: dt.datetime, *, remaining: int, warn_remaining: int, due_at: dt.datetime | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """Due and warning instants ``remaining`` / ``warn_remaining`` business seconds from ``now``."""
    due = (
        engine.add(now, remaining)
        if remaining > 0
        else (due_at if due_at is not None and due_at <= now else now)
    )
    warn = engine.add(now, warn_remaining) if warn_remaining > 0 else min(now, due)
    return due, min(warn, due)


def warn_after(seconds: int, percent: int) -> int:
    return max(1, min(seconds, seconds * percent // 100))


# --- applying the policy ----------------------------------------------------------------------


def ticket_sla_apply(*, ticket: Ticket, actor: User | None, now: dt.datetime | None = None) -> TicketSla:
    """Record the targets that apply to ``ticket`` now; re-plan live clocks if they changed."""
    now = now or timezone.now()
    engines = _Engines()
    targets, policy_id, calendar_id = _resolved_targets(ticket, engines)
    existing = TicketSla.objects.filter(pk=ticket.pk).first()
    if existing is None:
        sla = TicketSla.objects.create(
            ticket=ticket, policy_id=policy_id, calendar_id=calendar_id, targets=targets, applied_at=now
        )
        audit_record(
            actor=actor, obj=ticket, action="sla.apply", after={"policy": policy_id, "targets": targets}
        )
        return sla
    if existing.targets == targets and existing.policy_id == policy_id:
        return existing
    before = {"policy": existing.policy_id, "targets": existing.targets}
    TicketSla.objects.filter(pk=ticket.pk).update(
        policy_id=policy_id, calendar_id=calendar_id, targets=targets, applied_at=now
    )
    existing.policy_id, existing.calendar_id, existing.targets = policy_id, calendar_id, targets
    _replan_clocks(ticket=ticket, targets=targets, now=now, engines=engines)
    audit_record(
        actor=actor,
        obj=ticket,
        action="sla.reapply",
        before=before,
        after={"policy": policy_id, "targets": targets},
    )
    sla_summary_refresh(ticket_id=ticket.pk)
    return existing


def _resolved_targets(ticket: Ticket, engines: _Engines) -> tuple[dict[str, Any], int | None, int | None]:
    """The targets that apply to ``ticket`` (as stored on ``TicketSla``), its primary policy and
    calendar."""
    resolution = policies_for_ticket(ticket)
    targets = {target: applied.as_json() for target, applied in resolution.targets.items()}
    for applied in targets.values():
        applied["calendar"] = applied["calendar"] or engines.default_calendar_id()
    policy_id = resolution.primary.pk if resolution.primary else None
    calendar_id = (
        resolution.primary.calendar_id if resolution.primary else None
    ) or engines.default_calendar_id()
    return targets, policy_id, calendar_id


def _replan_clocks(*, ticket: Ticket, targets: dict[str, Any], now: dt.datetime, engines: _Engines) -> None:
    live = list(SlaClock.objects.filter(ACTIVE_CLOCK, ticket=ticket))
    for clock in live:
        applied = targets.get(clock.target)
        if applied is None:
            _stop(SlaClock.objects.filter(pk=clock.pk), ClockStatus.CANCELLED, now)
            continue
        seconds = int(applied["seconds"])
        new_warn_after = warn_after(seconds, int(applied["warn_at_percent"]))
        if seconds == clock.target_seconds and new_warn_after == clock.warn_after_seconds:
            continue
        engine = engines.engine(clock.calendar_id)
        values: dict[str, Any] = {
            "target_seconds": seconds,
            "warn_after_seconds": new_warn_after,
            "policy_id": applied["policy"],
        }
        if clock.status == ClockStatus.PAUSED:
            elapsed = clock.target_seconds - (clock.remaining_seconds_when_paused or 0)
            values["remaining_seconds_when_paused"] = seconds - elapsed
        else:
            elapsed = clock.target_seconds - _signed_remaining(engine, now, clock.due_at)
            due, warn = _schedule(
                engine, now, remaining=seconds - elapsed, warn_remaining=new_warn_after - elapsed
            )
            values.update(due_at=due, warn_at=warn)
        SlaClock.objects.filter(pk=clock.pk).update(**values)
    # Targets the ticket did not have before start now, if the ticket still owes them.
    started = set(SlaClock.objects.filter(ticket=ticket).values_list("target", flat=True).distinct())
    owed = [t for t in _owed_targets(ticket) if t not in started and t in targets]
    _start(ticket=ticket, targets=owed, now=now, engines=engines, applied=targets)


def _owed_targets(ticket: Ticket) -> list[str]:
    if ticket.status in FINAL_STATUSES or ticket.status == S.RESOLVED:
        return []
    owed: list[str] = [T.RESOLUTION]
    if ticket.first_responded_at is None:
        owed.append(T.FIRST_RESPONSE)
    if ticket.status in STAGES_BEFORE_SERVICE:
        owed.append(T.ON_SITE)
    stage = STAGE_TARGET_FOR_STATUS.get(ticket.status)
    if stage:
        owed.append(stage)
    return owed


# --- starting and stopping ---------------------------------------------------------------------


def _start(
    *,
    ticket: Ticket,
    targets: Iterable[str],
    now: dt.datetime,
    engines: _Engines,
    applied: dict[str, Any] | None = None,
) -> list[SlaClock]:
    if applied is None:
        sla = TicketSla.objects.filter(pk=ticket.pk).first()
        applied = sla.targets if sla is not None else {}
    wanted = [t for t in targets if t in applied]
    if not wanted:
        return []
    running = set(
        SlaClock.objects.filter(ACTIVE_CLOCK, ticket=ticket, target__in=wanted).values_list(
            "target", flat=True
        )
    )
    clocks: list[SlaClock] = []
    for target in wanted:
        if target in running:
            continue
        setting = applied[target]
        seconds = int(setting["seconds"])
        warn_seconds = warn_after(seconds, int(setting["warn_at_percent"]))
        engine = engines.engine(setting["calendar"])
        due, warn = _schedule(engine, now, remaining=seconds, warn_remaining=warn_seconds)
        clocks.append(
            SlaClock(
                ticket=ticket,
                target=target,
                policy_id=setting["policy"],
                calendar_id=setting["calendar"],
                target_seconds=seconds,
                warn_after_seconds=warn_seconds,
                started_at=now,
                due_at=due,
                warn_at=warn,
            )
        )
    return SlaClock.objects.bulk_create(clocks)


def _record_overdue(queryset: QuerySet[SlaClock], now: dt.datetime) -> None:
    """Stamp the warning and the breach of running clocks that fell due before ``now`` but that
    neither an alarm nor the sweep has seen yet, at the instants they fell due.

    Called before a clock stops or pauses: a promise missed by a second is still missed, and
    once the clock stops the sweep no longer looks at it. Escalation actions are not run here
    (the moment has passed; the clock is met, cancelled or waiting on the customer), only the
    facts the ticket page and the compliance report read are recorded. Met exactly at the due
    instant is in time.
    """
    running = queryset.filter(status=ClockStatus.RUNNING)
    running.filter(warned_at__isnull=True, warn_at__lt=now).update(warned_at=F("warn_at"))
    running.filter(breached_at__isnull=True, due_at__lt=now).update(breached_at=F("due_at"))


def _stop(queryset: QuerySet[SlaClock], status: str, now: dt.datetime) -> int:
    _record_overdue(queryset, now)
    values: dict[str, Any] = {"status": status, "stopped_at": now, "paused_at": None}
    if status == ClockStatus.MET:
        values["met_at"] = now
    return queryset.filter(ACTIVE_CLOCK).update(**values)


def clocks_meet(*, ticket: Ticket, targets: Iterable[str], now: dt.datetime) -> int:
    return _stop(SlaClock.objects.filter(ticket=ticket, target__in=list(targets)), ClockStatus.MET, now)


def clocks_cancel(*, ticket: Ticket, now: dt.datetime, targets: Iterable[str] | None = None) -> int:
    queryset = SlaClock.objects.filter(ticket=ticket)
    if targets is not None:
        queryset = queryset.filter(target__in=list(targets))
    return _stop(queryset, ClockStatus.CANCELLED, now)


def clocks_pause(*, ticket: Ticket, now: dt.datetime) -> None:
    engines = _Engines()
    _record_overdue(SlaClock.objects.filter(ticket=ticket), now)
    for clock in SlaClock.objects.filter(ticket=ticket, status=ClockStatus.RUNNING):
        remaining = _signed_remaining(engines.engine(clock.calendar_id), now, clock.due_at)
        SlaClock.objects.filter(pk=clock.pk, status=ClockStatus.RUNNING).update(
            status=ClockStatus.PAUSED, paused_at=now, remaining_seconds_when_paused=remaining
        )


def clocks_resume(*, ticket: Ticket, now: dt.datetime, to_status: str) -> None:
    engines = _Engines()
    for clock in SlaClock.objects.filter(ticket=ticket, status=ClockStatus.PAUSED):
        stage_status = STATUS_FOR_STAGE_TARGET.get(clock.target)
        if stage_status is not None and stage_status != to_status:
            # The ticket left that stage while waiting: the stage ended when the wait began.
            SlaClock.objects.filter(pk=clock.pk, status=ClockStatus.PAUSED).update(
                status=ClockStatus.MET, met_at=clock.paused_at, stopped_at=now, paused_at=None
            )
            continue
        remaining = clock.remaining_seconds_when_paused or 0
        elapsed = clock.target_seconds - remaining
        due, warn = _schedule(
            engines.engine(clock.calendar_id),
            now,
            remaining=remaining,
            warn_remaining=clock.warn_after_seconds - elapsed,
            due_at=clock.due_at,
        )
        SlaClock.objects.filter(pk=clock.pk, status=ClockStatus.PAUSED).update(
            status=ClockStatus.RUNNING,
            paused_at=None,
            remaining_seconds_when_paused=None,
            due_at=due,
            warn_at=warn,
        )


# --- reacting to the ticket --------------------------------------------------------------------


def on_ticket_opened(*, ticket: Ticket, actor: User | None) -> None:
    now = ticket.created_at
    sla = ticket_sla_apply(ticket=ticket, actor=actor, now=now)
    targets: list[str] = list(OPENING_TARGETS)
    stage = STAGE_TARGET_FOR_STATUS.get(ticket.status)
    if stage:
        targets.append(stage)
    _start(ticket=ticket, targets=targets, now=now, engines=_Engines(), applied=sla.targets)
    sla_summary_refresh(ticket_id=ticket.pk)


@transaction.atomic
def ticket_sla_replay_history(
    *, ticket: Ticket, changes: Sequence[tuple[str, str, dt.datetime]]
) -> TicketSla:
    """Run the clocks of a ticket loaded in bulk (demo data, an import) as if its recorded
    history had happened live: the policy applied when it was opened, the opening promises
    started then, the first response met when it was given, and every stage change of
    ``changes`` (``(from_status, to_status, at)`` in order; the opening has no from-status)
    handled at its instant by the same code as a live change. Promises missed along the way
    are recorded as breached at their due instants (without escalating: that moment is past);
    clocks still running at the end are left to the sweep. Idempotent; no audit event per
    ticket (the bulk load records its own)."""
    existing = TicketSla.objects.filter(pk=ticket.pk).first()
    if existing is not None:
        return existing
    engines = _Engines()
    created = ticket.created_at
    targets, policy_id, calendar_id = _resolved_targets(ticket, engines)
    sla = TicketSla.objects.create(
        ticket=ticket, policy_id=policy_id, calendar_id=calendar_id, targets=targets, applied_at=created
    )
    final_status, final_changed_at = ticket.status, ticket.status_changed_at
    ticket.status, ticket.status_changed_at = S.NEW, created
    _start(
        ticket=ticket,
        targets=[*OPENING_TARGETS, T.STAGE_ACCEPT],
        now=created,
        engines=engines,
        applied=targets,
    )
    first_response = ticket.first_responded_at
    for from_status, to_status, at in changes:
        if not from_status:
            continue  # the opening
        if first_response is not None and first_response <= at:
            clocks_meet(ticket=ticket, targets=[T.FIRST_RESPONSE], now=first_response)
            first_response = None
        ticket.status, ticket.status_changed_at = to_status, at
        _stage_changed(ticket=ticket, from_status=from_status, to_status=to_status, engines=engines)
    if first_response is not None:
        clocks_meet(ticket=ticket, targets=[T.FIRST_RESPONSE], now=first_response)
    ticket.status, ticket.status_changed_at = final_status, final_changed_at
    sla_summary_refresh(ticket_id=ticket.pk)
    return sla


def on_ticket_stage_changed(*, ticket: Ticket, from_status: str, to_status: str) -> None:
    _stage_changed(ticket=ticket, from_status=from_status, to_status=to_status, engines=_Engines())
    sla_summary_refresh(ticket_id=ticket.pk)


def _stage_changed(*, ticket: Ticket, from_status: str, to_status: str, engines: _Engines) -> None:
    now = ticket.status_changed_at
    if to_status == S.WAITING_ON_CUSTOMER:
        clocks_pause(ticket=ticket, now=now)
    elif from_status == S.WAITING_ON_CUSTOMER:
        clocks_resume(ticket=ticket, now=now, to_status=to_status)
    elif to_status not in FINAL_STATUSES:
        left_stage = STAGE_TARGET_FOR_STATUS.get(from_status)
        if left_stage:
            clocks_meet(ticket=ticket, targets=[left_stage], now=now)
    if to_status in (S.IN_SERVICE, S.RESOLVED):
        clocks_meet(ticket=ticket, targets=[T.ON_SITE], now=now)
    if to_status == S.RESOLVED:
        clocks_meet(ticket=ticket, targets=[T.RESOLUTION, *STAGE_TARGET_FOR_STATUS.values()], now=now)
        clocks_cancel(ticket=ticket, now=now)
    elif to_status in FINAL_STATUSES:
        clocks_cancel(ticket=ticket, now=now)
    elif to_status == S.REOPENED:
        _start(ticket=ticket, targets=[T.RESOLUTION], now=now, engines=engines)
    entered_stage = STAGE_TARGET_FOR_STATUS.get(to_status)
    if entered_stage:
        _start(ticket=ticket, targets=[entered_stage], now=now, engines=engines)


def on_ticket_merged(*, ticket: Ticket, now: dt.datetime) -> None:
    """A ticket closed as a duplicate: its promises end here, cancelled (the case goes on in the
    ticket it was merged into). A breach that already happened stays recorded on the clock, but
    the compliance report leaves merged tickets out, so a case is counted once."""
    clocks_cancel(ticket=ticket, now=now)
    sla_summary_refresh(ticket_id=ticket.pk)


def on_message_added(
    *, ticket: Ticket, kind: str, is_from_customer: bool, is_staff_author: bool, at: dt.datetime
) -> None:
    if kind != "reply" or ticket.status in FINAL_STATUSES:
        return
    if is_from_customer:
        _start(ticket=ticket, targets=[T.NEXT_RESPONSE], now=at, engines=_Engines())
    elif is_staff_author:
        clocks_meet(ticket=ticket, targets=[T.FIRST_RESPONSE, T.NEXT_RESPONSE], now=at)
    else:
        return
    sla_summary_refresh(ticket_id=ticket.pk)


# --- the summary the queues read ---------------------------------------------------------------


def sla_summary_refresh(*, ticket_id: int, arm: bool = True) -> None:
    """Recompute ``TicketSla.next_due_at`` and ``state`` from the ticket's clocks; with ``arm``,
    send the alarms of instants now within the horizon after commit (every clock change ends
    here, so a started, resumed or re-planned clock fires on time; see ``alarms.py``)."""
    if arm:
        alarms_arm_after_commit(ticket_id=ticket_id)
    rows = list(
        SlaClock.objects.filter(ticket_id=ticket_id).values_list(
            "status", "due_at", "warned_at", "breached_at"
        )
    )
    running = [r for r in rows if r[0] == ClockStatus.RUNNING]
    if running:
        next_due: dt.datetime | None = min(r[1] for r in running)
        if any(r[3] is not None for r in running):
            state = SlaState.BREACHED
        elif any(r[2] is not None for r in running):
            state = SlaState.WARNING
        else:
            state = SlaState.ON_TRACK
    else:
        next_due = None
        if any(r[0] == ClockStatus.PAUSED for r in rows):
            state = SlaState.PAUSED
        elif any(r[3] is not None for r in rows):
            state = SlaState.BREACHED
        elif any(r[0] == ClockStatus.MET for r in rows):
            state = SlaState.MET
        else:
            state = SlaState.NONE
    TicketSla.objects.filter(pk=ticket_id).update(next_due_at=next_due, state=state)
