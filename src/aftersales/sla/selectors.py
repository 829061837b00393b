"""Reads of SLA data for the console and the API, scoped to what the user may see."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Max, Q, Window
from django.db.models.functions import RowNumber, TruncDate
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.models import User
from aftersales.core.roles import Capability
from aftersales.tickets.models import Ticket, TicketType
from aftersales.tickets.selectors import visible_tickets

from .models import ClockStatus, EscalationKind, SlaClock, SlaNotification, SlaState, SlaTarget, TicketSla

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


# --- notices grouped: by kind and day, then by ticket ---------------------------------------------

NOTICE_GROUP_LIMIT = 30
NOTICE_TICKETS_PER_GROUP = 10
NOTICE_TICKETS_IN_ONE_GROUP = 200


@dataclass(frozen=True)
class NoticeTicket:
    ticket_id: int
    number: str
    subject: str
    count: int  # notices about this ticket in the group (one per target)
    unread: int
    latest: dt.datetime


@dataclass
class NoticeGroup:
    kind: str
    day: dt.date
    count: int
    ticket_count: int
    unread: int
    latest: dt.datetime
    tickets: list[NoticeTicket]

    @property
    def more(self) -> int:
        return self.ticket_count - len(self.tickets)


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)`` of a calendar day in the site's time zone, as aware times."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)


def notification_groups(
    *,
    user: User,
    unread_only: bool = True,
    kind: str | None = None,
    day: dt.date | None = None,
    tickets_per_group: int = NOTICE_TICKETS_PER_GROUP,
) -> list[NoticeGroup]:
    """The user's notices summarised: one group per kind and day (in the site's time zone), newest
    first, each with its tickets (the most recent ``tickets_per_group``; a ticket once, however
    many of its targets the group holds). Two queries, whatever the number of notices.
    """
    if kind is not None and kind not in EscalationKind.values:
        raise ValidationFailed(details={"kind": _("Not a kind of notice.")})
    zone = timezone.get_current_timezone()
    qs = SlaNotification.objects.filter(user=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    if kind is not None:
        qs = qs.filter(kind=kind)
    if day is not None:
        start, end = local_day_bounds(day)
        qs = qs.filter(created_at__gte=start, created_at__lt=end)
    unread = Count("pk", filter=Q(read_at__isnull=True))
    qs = qs.annotate(day=TruncDate("created_at", tzinfo=zone))
    group_rows = list(
        qs.values("kind", "day")
        .annotate(
            count=Count("pk"), tickets=Count("ticket", distinct=True), unread=unread, latest=Max("created_at")
        )
        .order_by("-day", "kind")[:NOTICE_GROUP_LIMIT]
    )
    if not group_rows:
        return []
    ticket_rows = (
        qs.filter(created_at__gte=local_day_bounds(min(row["day"] for row in group_rows))[0])
        .values("kind", "day", "ticket_id", "ticket__number", "ticket__subject")
        .annotate(count=Count("pk"), unread=unread, latest=Max("created_at"))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("kind"), F("day")],
                order_by=[F("latest").desc(), F("ticket_id").desc()],
            )
        )
        .filter(rank__lte=tickets_per_group)
        .order_by("-latest", "-ticket_id")
    )
    tickets: dict[tuple[str, dt.date], list[NoticeTicket]] = {}
    for row in ticket_rows:
        tickets.setdefault((row["kind"], row["day"]), []).append(
            NoticeTicket(
                ticket_id=row["ticket_id"],
                number=row["ticket__number"],
                subject=row["ticket__subject"],
                count=row["count"],
                unread=row["unread"],
                latest=row["latest"],
            )
        )
    return [
        NoticeGroup(
            kind=row["kind"],
            day=row["day"],
            count=row["count"],
            ticket_count=row["tickets"],
            unread=row["unread"],
            latest=row["latest"],
            tickets=tickets.get((row["kind"], row["day"]), []),
        )
        for row in group_rows
    ]
