"""First response per channel: how fast each channel's contacts were answered, against its target.

The documents promise an answer on the phone within 60 s, in the chat within 30 s, by e-mail
within 4 h and on social media within 2 h; the shipped policies (``defaults.py``) carry these
figures, and an administrator may change them, so the target shown is the active policy's for a
ticket of that channel and nothing else (the default policy where a channel has none).

For the tickets opened in a period, per channel:

- ``count`` opened, ``responded`` answered by staff (``Ticket.first_responded_at``);
- median and 90th percentile of the time to the first response, in wall-clock seconds
  (``first_responded_at − created_at``) and in business seconds on the calendar of the ticket's
  first-response clock (the SLA engine's view: a mail at 23:00 answered at 09:10 took 10 minutes);
- ``within_target``: answered within the channel's target in business time, and ``settled``:
  the tickets whose outcome is known (answered, or unanswered and already past the target) —
  ``within_target_percent`` is their ratio;
- ``breached``: the first-response clocks the SLA engine marked breached. A ticket's own
  target may be stricter than the channel's (an urgent or complaint ticket), so this count is
  the engine's verdict, not a recount against the channel target.

Percentiles interpolate linearly between the closest ranks (the median of 10, 20, 30, 40 is 25).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core import business_time
from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.models import BusinessCalendar, User
from aftersales.core.roles import Capability
from aftersales.tickets.models import Channel
from aftersales.tickets.selectors import visible_tickets

from .models import SlaClock, SlaPolicy, SlaTarget
from .policies import resolve_policies

EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
MAX_PERIOD = dt.timedelta(days=400)
DEFAULT_PERIOD = dt.timedelta(days=30)
# The channels the documents set a first-response target for: always listed, even when quiet.
DOCUMENT_CHANNELS = (Channel.PHONE, Channel.CHAT, Channel.EMAIL, Channel.SOCIAL)


@dataclass
class ChannelFirstResponse:
    channel: str
    label: str
    target_seconds: int | None
    count: int = 0
    responded: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None
    median_business_seconds: float | None = None
    p90_business_seconds: float | None = None
    within_target: int = 0
    settled: int = 0
    within_target_percent: float | None = None
    breached: int = 0
    _wall: list[float] = field(default_factory=list, repr=False)
    _business: list[float] = field(default_factory=list, repr=False)


@dataclass(frozen=True)
class FirstResponseReport:
    since: dt.datetime
    until: dt.datetime
    team_id: int | None
    channels: list[ChannelFirstResponse]


def percentile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks of the sorted ``values``; ``None`` if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 1)


def channel_targets() -> dict[str, int | None]:
    """The first-response target (seconds) of a plain ticket of each channel under the active policies."""
    policies = list(SlaPolicy.objects.filter(is_active=True))
    targets: dict[str, int | None] = {}
    for channel in Channel.values:
        criteria = {"ticket_type": "", "priority": "", "customer_tier": "", "channel": channel}
        applied = resolve_policies(criteria, policies).targets.get(SlaTarget.FIRST_RESPONSE)
        targets[channel] = applied.seconds if applied else None
    return targets


def _period(
    since: dt.datetime | None, until: dt.datetime | None, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    def aware(value: dt.datetime) -> dt.datetime:
        return value if timezone.is_aware(value) else timezone.make_aware(value)

    until = aware(until) if until is not None else now
    since = aware(since) if since is not None else until - DEFAULT_PERIOD
    for name, value in (("since", since), ("until", until)):
        if not EARLIEST <= value <= LATEST:
            raise ValidationFailed(details={name: _("Choose a date between 2000 and 2100.")})
    if since >= until:
        raise ValidationFailed(details={"until": _("The end of the period must come after its start.")})
    if until - since > MAX_PERIOD:
        raise ValidationFailed(details={"since": _("Choose a period of at most 400 days.")})
    return since, until


def first_response_report(
    *,
    user: User,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    team_id: int | None = None,
    now: dt.datetime | None = None,
) -> FirstResponseReport:
    """First response by channel for the tickets ``user`` may see opened in ``[since, until)``.

    Three queries (tickets, their first-response clocks, the active policies) and the calendars.
    Only for those holding ``report.view``.
    """
    if not user.can(Capability.REPORT_VIEW):
        raise PermissionDenied()
    now = now or timezone.now()
    since, until = _period(since, until, now)
    tickets = visible_tickets(user).filter(created_at__gte=since, created_at__lt=until)
    if team_id is not None:
        tickets = tickets.filter(team_id=team_id)
    rows = list(tickets.values_list("id", "channel", "created_at", "first_responded_at"))
    # {ticket id: (calendar id, breached at)} of the latest first-response clock of each ticket.
    clocks: dict[int, tuple[int | None, dt.datetime | None]] = {}
    for clock_ticket_id, clock_calendar_id, clock_breached_at in (
        SlaClock.objects.filter(ticket_id__in=tickets.values("pk"), target=SlaTarget.FIRST_RESPONSE)
        .order_by("id")
        .values_list("ticket_id", "calendar_id", "breached_at")
    ):
        clocks[clock_ticket_id] = (clock_calendar_id, clock_breached_at)
    targets = channel_targets()
    engines: dict[int | None, Any] = {}

    def engine(calendar_id: int | None) -> Any:
        if calendar_id not in engines:
            calendar = BusinessCalendar.objects.filter(pk=calendar_id).first() if calendar_id else None
            engines[calendar_id] = business_time.engine_for(calendar or business_time.default_calendar())
        return engines[calendar_id]

    by_channel: dict[str, ChannelFirstResponse] = {}

    def entry_for(channel: str) -> ChannelFirstResponse:
        if channel not in by_channel:
            label = str(Channel(channel).label) if channel in Channel.values else channel
            by_channel[channel] = ChannelFirstResponse(
                channel=channel, label=label, target_seconds=targets.get(channel)
            )
        return by_channel[channel]

    for document_channel in DOCUMENT_CHANNELS:
        entry_for(document_channel)
    breached: dict[str, int] = defaultdict(int)
    for ticket_id, channel, created_at, responded_at in rows:
        entry = entry_for(channel)
        entry.count += 1
        calendar_id, breached_at = clocks.get(ticket_id, (None, None))
        if breached_at is not None:
            breached[channel] += 1
        calendar_engine = engine(calendar_id)
        target = entry.target_seconds
        if responded_at is not None:
            entry.responded += 1
            wall = max(0.0, (responded_at - created_at).total_seconds())
            business = calendar_engine.between(created_at, responded_at) if responded_at > created_at else 0.0
            entry._wall.append(wall)
            entry._business.append(business)
            if target is not None:
                entry.settled += 1
                entry.within_target += business <= target
        elif target is not None and now > created_at and calendar_engine.between(created_at, now) > target:
            entry.settled += 1  # unanswered and already late: a miss whatever happens next
    order = {value: index for index, value in enumerate(Channel.values)}
    report = sorted(by_channel.values(), key=lambda e: order.get(e.channel, len(order)))
    for entry in report:
        entry.median_seconds = percentile(entry._wall, 0.5)
        entry.p90_seconds = percentile(entry._wall, 0.9)
        entry.median_business_seconds = percentile(entry._business, 0.5)
        entry.p90_business_seconds = percentile(entry._business, 0.9)
        entry.breached = breached[entry.channel]
        if entry.settled:
            entry.within_target_percent = round(100.0 * entry.within_target / entry.settled, 1)
    return FirstResponseReport(since=since, until=until, team_id=team_id, channels=report)
