"""Legal walks through the ticket state machine, with plausible time spent in each stage.

A ticket's whole future is planned when it is opened (the stages its type goes through, a pause
waiting on the customer, a reopening, a cancellation); its stage *today* is wherever that plan
has got to at the anchor time. Old tickets are therefore mostly closed and recent ones still in
work, the way a real queue looks.
"""

from __future__ import annotations

import math
import random

from aftersales.tickets.lifecycle import TicketStatus, can_transition

S = TicketStatus

# The stages after "new" that each type of request goes through (seed 004's standard process).
PROCESS: dict[str, tuple[TicketStatus, ...]] = {
    "repair": (S.ACCEPTED, S.DIAGNOSING, S.SOLUTION_PROPOSED, S.IN_SERVICE, S.RESOLVED),
    "installation": (S.ACCEPTED, S.IN_SERVICE, S.RESOLVED),
    "maintenance": (S.ACCEPTED, S.IN_SERVICE, S.RESOLVED),
    "consultation": (S.ACCEPTED, S.RESOLVED),
    "complaint": (S.ACCEPTED, S.DIAGNOSING, S.SOLUTION_PROPOSED, S.RESOLVED),
    "return_exchange": (S.ACCEPTED, S.DIAGNOSING, S.SOLUTION_PROPOSED, S.IN_SERVICE, S.RESOLVED),
    "upgrade": (S.ACCEPTED, S.SOLUTION_PROPOSED, S.IN_SERVICE, S.RESOLVED),
}

# Median hours spent in the previous stage before entering this one.
MEDIAN_HOURS: dict[TicketStatus, float] = {
    S.ACCEPTED: 0.4,
    S.DIAGNOSING: 1.0,
    S.SOLUTION_PROPOSED: 3.0,
    S.IN_SERVICE: 30.0,  # waiting for the appointment
    S.RESOLVED: 3.0,
    S.WAITING_ON_CUSTOMER: 0.5,
    S.REOPENED: 30.0,
    S.CANCELLED: 8.0,
    S.CLOSED: 30.0,
}
RESUME_MEDIAN_HOURS = 24.0  # how long a customer takes to answer
AUTO_CLOSE_HOURS = 7 * 24.0  # a resolved ticket nobody confirms closes by itself after 7 days
PRIORITY_PACE = {"urgent": 0.3, "high": 0.6, "normal": 1.0, "low": 1.5}
CANCELLABLE = frozenset({S.NEW, S.ACCEPTED, S.DIAGNOSING, S.SOLUTION_PROPOSED, S.WAITING_ON_CUSTOMER})


def plan_path(rng: random.Random, ticket_type: str) -> list[TicketStatus]:
    """A legal sequence of statuses from NEW to CLOSED or CANCELLED for a ticket of this type."""
    stages = list(PROCESS[ticket_type])
    if ticket_type == "repair":
        if rng.random() < 0.2:
            stages.remove(S.DIAGNOSING)
        elif rng.random() < 0.1:
            stages.remove(S.SOLUTION_PROPOSED)
    elif ticket_type == "consultation" and rng.random() < 0.3:
        stages = [S.ACCEPTED, S.SOLUTION_PROPOSED, S.RESOLVED]
    path = [S.NEW, *stages]
    if rng.random() < 0.15:  # a pause waiting on the customer, then back to the same stage
        i = rng.randrange(len(path) - 1)
        path[i + 1 : i + 1] = [S.WAITING_ON_CUSTOMER, path[i]]
    if rng.random() < 0.06:  # the customer says the problem is back
        path += [S.REOPENED, rng.choice((S.DIAGNOSING, S.IN_SERVICE)), S.RESOLVED]
    if rng.random() < 0.05:
        first_resolved = path.index(S.RESOLVED)
        cut = rng.choice([j for j in range(first_resolved) if path[j] in CANCELLABLE])
        path = [*path[: cut + 1], S.CANCELLED]
    else:
        path.append(S.CLOSED)
    return path


def is_legal(path: list[str]) -> bool:
    return (
        bool(path)
        and path[0] == S.NEW
        and all(can_transition(a, b) for a, b in zip(path, path[1:], strict=False))
    )


def plan_hours(
    rng: random.Random, path: list[TicketStatus], priority: str, channel: str
) -> tuple[list[float], bool]:
    """Hours spent before each step of ``path`` (0 for the opening), and whether it closed by itself.

    A call is accepted while the customer is on the line; written requests wait in the "new"
    queue, some of them for a day or more (the backlog the demo's queues show).
    """
    pace = PRIORITY_PACE.get(priority, 1.0) * (rng.uniform(3, 10) if rng.random() < 0.12 else 1.0)
    if channel == "phone":
        intake = 0.05 * math.exp(rng.gauss(0, 0.5))
    else:
        intake = (
            1.5 * pace * math.exp(rng.gauss(0, 1.0)) * (rng.uniform(5, 30) if rng.random() < 0.12 else 1.0)
        )
    hours = [0.0]
    auto_closed = False
    for previous, status in zip(path, path[1:], strict=False):
        if previous == S.NEW and status != S.CANCELLED:
            spent = intake
        elif status == S.CLOSED:
            if rng.random() < 0.65:
                spent = min(MEDIAN_HOURS[S.CLOSED] * math.exp(rng.gauss(0, 0.8)), AUTO_CLOSE_HOURS - 1)
            else:
                spent, auto_closed = AUTO_CLOSE_HOURS, True
        elif previous == S.WAITING_ON_CUSTOMER:
            spent = RESUME_MEDIAN_HOURS * math.exp(rng.gauss(0, 0.9))
        elif previous == S.ACCEPTED and status == S.RESOLVED:
            spent = 0.6 * pace * math.exp(rng.gauss(0, 0.8))  # an answer on the phone
        else:
            spent = MEDIAN_HOURS[status] * pace * math.exp(rng.gauss(0, 0.8))
        hours.append(max(spent, 1 / 60))
    return hours, auto_closed
