"""Reads of SLA data for the console and the API, scoped to what the user may see."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.models import User
from aftersales.core.roles import Capability
from aftersales.tickets.models import Ticket, TicketType
from aftersales.tickets.selectors import visible_tickets

from .models import ClockStatus, SlaClock, SlaNotification, SlaState, SlaTarget, TicketSla

MAX_PAGE_SIZE = 100
GROUPS = {"team": "ticket__team", "region": "ticket__region", "type": "ticket__type"}


@dataclass(frozen=True)
class TargetSummary:
    target: str
    label: str
    status: str  # running, paused, met, cancelled
    state: str  # on_track, warning, breached, paused, met, cancelled
    started_at: dt.datetime
    due_at: dt.datetime | None
    warn_at: dt.datetime | None
    warned_at: dt.datetime | None
    breached_at: dt.datetime | None
    met_at: dt.datetime | None
    target_seconds: int
    remaining_seconds: int | None  # business seconds while paused; wall-clock seconds otherwise


@dataclass(frozen=True)
class SlaSummary:
    state: str
    next_due_at: dt.datetime | None
    policy_id: int | None
    policy_name: str | None
    applied_at: dt.datetime | None
    targets: list[TargetSummary]


def _clock_state(clock: SlaClock) -> str:
    if clock.status == ClockStatus.CANCELLED:
        return SlaState.BREACHED if clock.breached_at else "cancelled"
    if clock.breached_at is not None:
        return SlaState.BREACHED
    if clock.status == ClockStatus.MET:
        return SlaState.MET
    if clock.status == ClockStatus.PAUSED:
        return SlaState.PAUSED
    return SlaState.WARNING if clock.warned_at is not None else SlaState.ON_TRACK


def target_summary(clock: SlaClock, now: dt.datetime) -> TargetSummary:
    if clock.status == ClockStatus.PAUSED:
        remaining: int | None = clock.remaining_seconds_when_paused
    elif clock.status == ClockStatus.RUNNING:
        remaining = int((clock.due_at - now).total_seconds())
    else:
        remaining = None
    return TargetSummary(
        target=clock.target,
        label=str(SlaTarget(clock.target).label),
        status=clock.status,
        state=_clock_state(clock),
        started_at=clock.started_at,
        due_at=None if clock.status == ClockStatus.PAUSED else clock.due_at,
        warn_at=None if clock.status == ClockStatus.PAUSED else clock.warn_at,
        warned_at=clock.warned_at,
        breached_at=clock.breached_at,
        met_at=clock.met_at,
        target_seconds=clock.target_seconds,
        remaining_seconds=remaining,
    )


def ticket_sla_summary(ticket: Ticket, *, now: dt.datetime | None = None) -> SlaSummary:
    """The SLA panel of one ticket: its state, next due time and every target (latest clock each).

    Two queries: the applied policy and the ticket's clocks.
    """
    now = now or timezone.now()
    sla = TicketSla.objects.select_related("policy").filter(pk=ticket.pk).first()
    latest: dict[str, SlaClock] = {}
    for clock in SlaClock.objects.filter(ticket_id=ticket.pk).order_by("id"):
        latest[clock.target] = clock
    order = list(SlaTarget.values)
    clocks = sorted(latest.values(), key=lambda c: order.index(c.target))
    return SlaSummary(
        state=sla.state if sla else SlaState.NONE,
        next_due_at=sla.next_due_at if sla else None,
        policy_id=sla.policy_id if sla else None,
        policy_name=sla.policy.display_name if sla and sla.policy else None,
        applied_at=sla.applied_at if sla else None,
        targets=[target_summary(clock, now) for clock in clocks],
    )


def ticket_sla_badges(ticket_ids: list[int]) -> dict[int, tuple[str, dt.datetime | None]]:
    """``{ticket_id: (state, next_due_at)}`` for a page of a queue: one query."""
    return {
        row[0]: (row[1], row[2])
        for row in TicketSla.objects.filter(pk__in=ticket_ids).values_list(
            "ticket_id", "state", "next_due_at"
        )
    }


# --- at risk: open tickets by time to breach ----------------------------------------------------


def encode_due_cursor(due_at: dt.datetime, ticket_id: int) -> str:
    micros = int(due_at.timestamp() * 1_000_000)
    return base64.urlsafe_b64encode(f"due:{micros}:{ticket_id}".encode()).decode().rstrip("=")


def decode_due_cursor(cursor: str) -> tuple[dt.datetime, int]:
    try:
        text = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode("ascii")).decode("ascii")
        prefix, micros, ticket_id = text.split(":")
        if prefix != "due" or int(ticket_id) < 0:
            raise ValueError(prefix)
        due = dt.datetime.fromtimestamp(int(micros) / 1_000_000, dt.UTC)
        return due, int(ticket_id)
    except (ValueError, UnicodeError, binascii.Error, OverflowError, OSError) as exc:
        raise ValidationFailed(details={"cursor": _("Not a cursor this server issued.")}) from exc


def tickets_by_time_to_breach(
    *,
    user: User,
    cursor: str | None = None,
    limit: int = 25,
    team_id: int | None = None,
    assignee_id: int | None = None,
    state: str | None = None,
) -> tuple[list[Ticket], str | None]:
    """Open tickets the user may see, soonest (or most overdue) first; keyset paged.

    Each ticket carries ``ticket.sla`` (state, next_due_at) loaded in the same query.
    """
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    qs = (
        visible_tickets(user)
        .filter(sla__next_due_at__isnull=False)
        .select_related("sla", "customer", "assignee", "team")
    )
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    if assignee_id is not None:
        qs = qs.filter(assignee_id=assignee_id)
    if state:
        qs = qs.filter(sla__state=state)
    if cursor:
        due, last_id = decode_due_cursor(cursor)
        qs = qs.filter(Q(sla__next_due_at__gt=due) | Q(sla__next_due_at=due, id__gt=last_id))
    rows = list(qs.order_by("sla__next_due_at", "id")[: limit + 1])
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_due_cursor(last.sla.next_due_at, last.pk)  # type: ignore[arg-type]
    return page, next_cursor


# --- compliance -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComplianceRow:
    key: Any
    label: str
    total: int
    met: int
    breached: int
    percent_met: float | None


EARLIEST = dt.datetime(2000, 1, 1)  # noqa: DTZ001 - bounds compared without a zone
LATEST = dt.datetime(2100, 1, 1)  # noqa: DTZ001


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value)


def compliance_report(
    *,
    user: User,
    group_by: str = "team",
    date_from: dt.datetime | None = None,
    date_to: dt.datetime | None = None,
    target: str | None = None,
) -> list[ComplianceRow]:
    """Settled promises (met, or breached) falling due in ``[date_from, date_to)``, by group.

    A clock counts as breached if it was ever breached, even if met later. Tickets merged into
    another are left out: the case is counted once, on the ticket it continued in. Reports are for
    those holding ``report.view`` (the web page and the API ask this one question).
    """
    if not user.can(Capability.REPORT_VIEW):
        raise PermissionDenied()
    if group_by not in GROUPS:
        raise ValidationFailed(details={"group_by": _("Group by team, region or type.")})
    if target is not None and target not in SlaTarget.values:
        raise ValidationFailed(details={"target": _("Not an SLA target.")})
    for name, value in (("from", date_from), ("to", date_to)):
        if value is not None and not (EARLIEST <= value.replace(tzinfo=None) <= LATEST):
            raise ValidationFailed(details={name: _("Choose a date between 2000 and 2100.")})
    date_from = _aware(date_from)
    date_to = _aware(date_to)
    field = GROUPS[group_by]
    qs = SlaClock.objects.filter(Q(status=ClockStatus.MET) | Q(breached_at__isnull=False))
    qs = qs.filter(ticket__in=visible_tickets(user).values("pk"), ticket__merged_into__isnull=True)
    if date_from is not None:
        qs = qs.filter(due_at__gte=date_from)
    if date_to is not None:
        qs = qs.filter(due_at__lt=date_to)
    if target:
        qs = qs.filter(target=target)
    label_fields = {
        "team": ["ticket__team__name", "ticket__team__name_en"],
        "region": ["ticket__region__name", "ticket__region__name_en"],
        "type": [],
    }[group_by]
    rows = (
        qs.values(field, *label_fields)
        .annotate(total=Count("id"), breached=Count("id", filter=Q(breached_at__isnull=False)))
        .order_by(field)
    )
    english = (get_language() or "").startswith("en")
    report: list[ComplianceRow] = []
    for row in rows:
        key = row[field]
        if group_by == "type":
            label = str(TicketType(key).label) if key in TicketType.values else str(key)
        elif key is None:
            label = str(_("None"))
        else:
            name, name_en = row[label_fields[0]], row[label_fields[1]]
            label = name_en if english and name_en else name
        total, breached = int(row["total"]), int(row["breached"])
        report.append(
            ComplianceRow(
                key=key,
                label=label,
                total=total,
                met=total - breached,
                breached=breached,
                percent_met=round(100.0 * (total - breached) / total, 1) if total else None,
            )
        )
    return report


def notifications_for(*, user: User, unread_only: bool = True, limit: int = 50) -> list[SlaNotification]:
    qs = SlaNotification.objects.filter(user=user).select_related("ticket", "clock")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return list(qs.order_by("-id")[:limit])
