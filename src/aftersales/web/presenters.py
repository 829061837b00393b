"""Shapes domain data for the templates: timelines, durations, error texts. No database access."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from aftersales.shell.views import error_lines as error_lines
from aftersales.tickets.lifecycle import CUSTOMER_TRANSITIONS, STANDARD_PROCESS, TicketStatus
from aftersales.tickets.models import TicketStatusChange


def format_duration(seconds: float) -> str:
    """A short, human duration: "45 s", "12 min", "3 h 20 min", "2 d 4 h"."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)d min") % {"m": minutes}
    return _("%(s)d s") % {"s": secs}


@dataclass
class StageRow:
    status: str
    label: str
    entered_at: dt.datetime
    left_at: dt.datetime | None
    duration: str
    actor: Any
    note: str
    is_current: bool


def stage_timeline(changes: Sequence[TicketStatusChange], *, now: dt.datetime) -> list[StageRow]:
    """One row per stage the ticket went through, with the time spent in it."""
    labels = dict(TicketStatus.choices)
    rows: list[StageRow] = []
    for index, change in enumerate(changes):
        following = changes[index + 1] if index + 1 < len(changes) else None
        left_at = following.occurred_at if following is not None else None
        end = left_at or now
        rows.append(
            StageRow(
                status=change.to_status,
                label=str(labels.get(change.to_status, change.to_status)),
                entered_at=change.occurred_at,
                left_at=left_at,
                duration=format_duration((end - change.occurred_at).total_seconds()),
                actor=change.actor,
                note=change.note,
                is_current=following is None,
            )
        )
    return rows


@dataclass
class ProgressStep:
    status: str
    label: str
    state: str  # "done", "skipped", "current" or "todo"
    reached_at: dt.datetime | None


def progress_steps(changes: Sequence[TicketStatusChange], *, current_status: str) -> list[ProgressStep]:
    """The standard process as the customer sees it: which stages are done and when.

    Stages the ticket passed over (a question answered right after acceptance) are "skipped".
    A reopened ticket is being worked again, so the stages after "accepted" count as not
    reached until the ticket gets there again; pauses (waiting on the customer) keep the
    position the ticket had.
    """
    order = [str(status) for status in STANDARD_PROCESS]
    accepted_index = order.index(TicketStatus.ACCEPTED)
    reached: dict[str, dt.datetime] = {}
    position = 0
    for change in changes:
        target = change.to_status
        if target == TicketStatus.REOPENED:
            reached = {status: at for status, at in reached.items() if order.index(status) <= accepted_index}
            position = accepted_index
        elif target in order:
            reached[target] = change.occurred_at
            position = order.index(target)
    labels = dict(TicketStatus.choices)
    steps: list[ProgressStep] = []
    for index, status in enumerate(order):
        if index < position:
            # A consultation answered at once never had an on-site visit: say so, don't tick it.
            state = "done" if status in reached else "skipped"
        elif index == position:
            finished = status == TicketStatus.CLOSED or current_status == TicketStatus.CANCELLED
            state = "done" if finished else "current"
        else:
            state = "todo"
        steps.append(
            ProgressStep(
                status=status, label=str(labels[status]), state=state, reached_at=reached.get(status)
            )
        )
    return steps


CUSTOMER_ACTION_LABELS = {
    TicketStatus.CLOSED: "confirm",
    TicketStatus.REOPENED: "reject",
    TicketStatus.CANCELLED: "withdraw",
}


def customer_actions(status: str) -> list[str]:
    """The transitions a customer may ask for from ``status``, in a stable order."""
    targets = {str(to) for (frm, to) in CUSTOMER_TRANSITIONS if frm == status}
    return [
        str(target)
        for target in (TicketStatus.CLOSED, TicketStatus.REOPENED, TicketStatus.CANCELLED)
        if target in targets
    ]
