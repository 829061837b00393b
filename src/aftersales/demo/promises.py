"""The SLA promises a demo ticket is planned against, so its history looks like a working desk.

A real desk keeps most of its promises: it answers within the first-response target, moves each
stage on before the stage's limit and resolves before the resolution is due. The demo plans each
ticket's steps with the durations of ``lifecycle.plan_hours`` and then, for most tickets, ends
each step before a random share of the promise that governs it (counted in business time on the
promise's own calendar, exactly as the SLA engine counts it). A share of tickets is left to its
natural pace and misses some promises: those are the breaches a manager expects to see. Because
the shares are drawn up to 90 % of a promise, a few open tickets are past their warning at the
end of the history (at risk), and a few late ones are overdue: the first sweep after ``make run``
warns and breaches only those.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from aftersales.core import business_time
from aftersales.core.models import BusinessCalendar
from aftersales.sla.models import SlaPolicy, SlaTarget
from aftersales.sla.policies import resolve_policies
from aftersales.tickets.lifecycle import TicketStatus

S = TicketStatus
T = SlaTarget

# Tickets with late steps (one, sometimes more): each overruns the promises governing it.
LATE_SHARE = 0.3
ANOTHER_LATE_STEP = 0.3
# A late step still under way at the end of the history is more often caught up in time.
CATCH_UP = 0.6
# The stage each status's stay is limited by (the clocks in ``sla.clocks``).
STAGE_OF_STATUS = {
    S.NEW: T.STAGE_ACCEPT,
    S.ACCEPTED: T.STAGE_DIAGNOSE,
    S.DIAGNOSING: T.STAGE_PROPOSE,
    S.IN_SERVICE: T.STAGE_COMPLETE,
}
MIN_STEP = dt.timedelta(seconds=5)
# Stages whose pace is not the desk's: the customer's answer, its confirmation.
UNHURRIED = frozenset({S.WAITING_ON_CUSTOMER, S.RESOLVED, S.CLOSED, S.CANCELLED})


@dataclass(frozen=True)
class Promise:
    seconds: int
    engine: Any  # core.business_time.BusinessTime

    def share_from(self, start: dt.datetime, share: float) -> dt.datetime:
        """The instant ``share`` of this promise after ``start``, in the promise's business time."""
        return self.engine.add(start, self.seconds * share)


def kept_share(rng: random.Random) -> float:
    """How much of a promise a step on time uses: mostly well within, a few past the warning."""
    return 0.1 + 0.8 * rng.random() ** 1.5


def missed_share(rng: random.Random) -> float:
    """How far a late step overruns its promise: a little, mostly (a desk catches up)."""
    return 1.05 + 1.5 * rng.random() ** 2


def resolution_share(rng: random.Random) -> float:
    """When the work is done, as a share of the resolution target: visits wait for appointments,
    so the pipeline uses more of this promise than of the stage limits."""
    return 0.25 + 0.65 * rng.random() ** 0.8


class Promises:
    """The targets of every combination of ticket criteria, from the active policies (resolved as
    ``sla.policies`` resolves them), with each calendar's engine loaded once."""

    def __init__(self) -> None:
        self.policies = list(SlaPolicy.objects.filter(is_active=True))
        default = business_time.default_calendar()
        self.default_id = default.pk
        self.engines: dict[int | None, Any] = {default.pk: business_time.engine_for(default)}
        self._cache: dict[tuple[str, str, str, str], dict[str, Promise]] = {}

    def _engine(self, calendar_id: int | None) -> Any:
        key = calendar_id or self.default_id
        if key not in self.engines:
            calendar = BusinessCalendar.objects.filter(pk=key).first()
            self.engines[key] = (
                business_time.engine_for(calendar) if calendar else self.engines[self.default_id]
            )
        return self.engines[key]

    def for_ticket(self, *, ticket_type: str, priority: str, tier: str, channel: str) -> dict[str, Promise]:
        key = (ticket_type, priority, tier, channel)
        if key not in self._cache:
            criteria = {
                "ticket_type": ticket_type,
                "priority": priority,
                "customer_tier": tier,
                "channel": channel,
            }
            resolution = resolve_policies(criteria, self.policies)
            self._cache[key] = {
                target: Promise(seconds=applied.seconds, engine=self._engine(applied.calendar_id))
                for target, applied in resolution.targets.items()
            }
        return self._cache[key]


def plan_moments(
    *,
    rng: random.Random,
    path: list[TicketStatus],
    hours: list[float],
    created: dt.datetime,
    anchor: dt.datetime,
    promises: dict[str, Promise] | None,
    on_time: bool,
) -> list[dt.datetime]:
    """The instants of ``path``'s steps up to ``anchor``: the planned durations, each step ended
    before its share of every promise that governs it; a ticket not ``on_time`` has one step
    that overruns its promises instead."""
    moments: list[dt.datetime] = []
    at = created
    stage_started = created
    resolution_started = created
    done_share = resolution_share(rng)
    late_steps: set[int] = set()
    if not on_time and len(path) > 1:
        late_steps = {rng.randrange(1, len(path))}
        late_steps |= {step for step in range(1, len(path)) if rng.random() < ANOTHER_LATE_STEP}
    for step, (status, spent) in enumerate(zip(path, hours, strict=True)):
        if step == 0:
            moment = created
        else:
            previous = path[step - 1]
            moment = at + dt.timedelta(hours=spent)
            if promises:
                late = step in late_steps
                if late and at + dt.timedelta(hours=spent) > anchor and rng.random() < CATCH_UP:
                    late = False  # work still open now: the desk has been chasing what runs late
                caps = _caps(
                    rng,
                    promises,
                    previous=previous,
                    status=status,
                    created=created,
                    stage_started=stage_started,
                    resolution_started=resolution_started,
                    resolution_share=missed_share(rng) if late else done_share,
                    late=late,
                )
                # A promise already missed (an earlier step ran late) no longer hurries the work.
                caps = [instant for instant in caps if instant > at + MIN_STEP]
                chased = promises.get(T.RESOLUTION)
                if not caps and chased and previous not in UNHURRIED:
                    # Nothing left to keep (the resolution is lost): the desk still finishes
                    # the work within a share of a resolution target from here.
                    caps = [chased.share_from(at, kept_share(rng) / 2)]
                if late and caps:
                    moment = min(caps)  # past at least one promise
                elif caps:
                    moment = min(moment, *caps)
        if moment > anchor:
            break
        moments.append(moment)
        at = stage_started = moment
        if status == S.REOPENED:
            resolution_started = moment
    return moments


def _caps(
    rng: random.Random,
    promises: dict[str, Promise],
    *,
    previous: TicketStatus,
    status: TicketStatus,
    created: dt.datetime,
    stage_started: dt.datetime,
    resolution_started: dt.datetime,
    resolution_share: float,
    late: bool = False,
) -> list[dt.datetime]:
    caps: list[dt.datetime] = []

    def cap(target: str, start: dt.datetime, share: float | None = None) -> None:
        promise = promises.get(target)
        if promise is not None:
            if share is None:
                share = missed_share(rng) if late else kept_share(rng)
            caps.append(promise.share_from(start, share))

    if previous == S.WAITING_ON_CUSTOMER:
        return caps  # the customer's pace: every clock is paused
    if previous == S.NEW:
        cap(T.FIRST_RESPONSE, created)
    stage = STAGE_OF_STATUS.get(previous)
    if stage:
        cap(stage, stage_started)
    if status == S.IN_SERVICE:
        cap(T.ON_SITE, created)
    if previous not in (S.RESOLVED, S.CLOSED, S.CANCELLED) and status != S.WAITING_ON_CUSTOMER:
        # Every step before the resolution ends before the ticket's planned resolution instant.
        cap(T.RESOLUTION, resolution_started, resolution_share)
    return caps
