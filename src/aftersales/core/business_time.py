"""Business-time arithmetic on business calendars: the clock behind every SLA due time.

An engine holds, per calendar, a sorted array of working intervals as UTC epoch seconds and a
parallel array of cumulative working seconds, built lazily one local year at a time. Adding a
duration and measuring the business time between two instants are then two ``bisect`` calls, and
they agree with each other by construction:

* ``between(s, e)`` is the working time in ``[s, e)``;
* ``add(s, d)`` is the earliest instant ``t >= s`` with ``between(s, t) == d`` (so ``add(s, 0)``
  is ``s``, a start outside working time counts from the next opening, and a target reached at
  closing time is due at closing time, not at the next opening).

Which intervals a local date has (see docs/sla.md, "Business calendars"):

1. the calendar's override rows for that date, if any;
2. else, if the calendar follows statutory holidays: a statutory holiday is closed, an adjusted
   working day (调休) has the calendar's Monday hours;
3. else the weekly hours of that weekday.

Statutory days come from ``chinese_calendar`` for the years it knows and from ``StatutoryDay``
rows (which win). A year neither knows falls back to weekly hours and overrides (``core.W001``
warns admins).
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core import checks
from django.db import DatabaseError, IntegrityError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .calendar_models import BusinessCalendar, CalendarOverride, StatutoryDay, StatutoryYear
from .errors import ValidationFailed

DEFAULT_CALENDAR_CODE = "standard"
DAY = 86_400
UTC = dt.UTC
# How far ahead ``add`` searches for enough working time before it calls the calendar unusable.
MAX_YEARS_AHEAD = 30

# (start, end) seconds after local midnight; end may be 86_400 (midnight at the end of the day).
Interval = tuple[int, int]


class CalendarInvalid(ValidationFailed):
    code = "calendar_invalid"
    default_message = _("The business calendar is not valid.")


# --------------------------------------------------------------------------- statutory days


@functools.cache
def library_years() -> frozenset[int]:
    """The years ``chinese_calendar`` knows (it raises NotImplementedError for others)."""
    import chinese_calendar

    years = set()
    for year in range(2000, 2100):
        try:
            chinese_calendar.get_holiday_detail(dt.date(year, 6, 1))
        except NotImplementedError:
            continue
        years.add(year)
    return frozenset(years)


@functools.cache
def library_statutory_days() -> Mapping[dt.date, tuple[bool, str]]:
    """Every statutory holiday and adjusted working day the library knows, with its name."""
    from chinese_calendar import constants

    days: dict[dt.date, tuple[bool, str]] = {}
    for date, holiday in constants.holidays.items():
        days[date] = (True, str(getattr(holiday, "value", holiday)))
    for date, holiday in constants.workdays.items():
        days[date] = (False, str(getattr(holiday, "value", holiday)))
    return days


def years_without_schedule(years: Iterable[int]) -> list[int]:
    """Those of ``years`` with neither library data nor an imported official schedule."""
    wanted = sorted(set(years) - library_years())
    if not wanted:
        return []
    loaded = set(StatutoryYear.objects.filter(year__in=wanted).values_list("year", flat=True))
    return [year for year in wanted if year not in loaded]


def missing_schedule_message(year: int) -> str:
    return str(
        _(
            "No official holiday schedule loaded for %(year)s; business time uses weekly hours only"
            " — import the State Council notice."
        )
        % {"year": year}
    )


@checks.register()
def check_statutory_schedules(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """core.W001: a year within the next 90 days has no official holiday schedule."""
    try:
        years = upcoming_years_without_schedule()
    except DatabaseError:  # not migrated yet: nothing to say
        return []
    return [
        checks.Warning(
            missing_schedule_message(year),
            hint=f"aftersales import_holidays --year {year} FILE (or the admin: statutory holiday years → add)",
            id="core.W001",
        )
        for year in years
    ]


def upcoming_years_without_schedule(*, now: dt.datetime | None = None, days_ahead: int = 90) -> list[int]:
    """Years between today and ``days_ahead`` from now that business time cannot see holidays in."""
    today = timezone.localdate(now or timezone.now(), timezone=ZoneInfo("Asia/Shanghai"))
    horizon = today + dt.timedelta(days=days_ahead)
    return years_without_schedule(range(today.year, horizon.year + 1))


# --------------------------------------------------------------------------- validation


def time_to_seconds(value: dt.time, *, is_end: bool = False) -> int:
    seconds = value.hour * 3600 + value.minute * 60 + value.second
    if is_end and seconds == 0 and value.microsecond == 0:
        return DAY
    return seconds


def check_time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise CalendarInvalid(
            _("Unknown time zone."), details={"time_zone": name}, code="calendar_time_zone_unknown"
        ) from error


def check_intervals(intervals: Iterable[Interval], *, label: str = "") -> list[Interval]:
    """Sort one day's intervals and refuse inverted or overlapping ones."""
    ordered = sorted(intervals)
    for start, end in ordered:
        if not 0 <= start < end <= DAY:
            raise CalendarInvalid(
                _("A working interval must end after it starts."),
                details={"day": label, "start": start, "end": end},
                code="calendar_interval_inverted",
            )
    for (_start, previous_end), (start, _end) in zip(ordered, ordered[1:], strict=False):
        if start < previous_end:
            raise CalendarInvalid(
                _("Working intervals overlap."),
                details={"day": label, "start": start, "end": previous_end},
                code="calendar_interval_overlap",
            )
    return ordered


# --------------------------------------------------------------------------- the engine


@dataclass(frozen=True)
class CalendarSpec:
    """Everything the engine needs from the database, as plain values (and easy to test)."""

    time_zone: str = "Asia/Shanghai"
    is_always_open: bool = False
    follows_statutory_holidays: bool = True
    weekly: tuple[tuple[Interval, ...], ...] = ((),) * 7
    overrides: Mapping[dt.date, tuple[Interval, ...]] = field(default_factory=dict)
    # date → True for a statutory holiday, False for an adjusted working day; these win over the library.
    statutory: Mapping[dt.date, bool] = field(default_factory=dict)
    use_library: bool = True

    def validated(self) -> CalendarSpec:
        check_time_zone(self.time_zone)
        if len(self.weekly) != 7:
            raise CalendarInvalid(_("Weekly hours need seven days."), code="calendar_invalid")
        weekly = tuple(tuple(check_intervals(day, label=str(index))) for index, day in enumerate(self.weekly))
        overrides = {
            date: tuple(check_intervals(day, label=date.isoformat())) for date, day in self.overrides.items()
        }
        if not self.is_always_open and not any(weekly):
            raise CalendarInvalid(
                _("The calendar has no working time: add weekly hours or make it always open."),
                code="calendar_no_working_time",
            )
        return CalendarSpec(
            time_zone=self.time_zone,
            is_always_open=self.is_always_open,
            follows_statutory_holidays=self.follows_statutory_holidays,
            weekly=weekly,
            overrides=overrides,
            statutory=dict(self.statutory),
            use_library=self.use_library,
        )


def _epoch(moment: dt.datetime) -> float:
    if moment.tzinfo is None:
        raise ValueError("business time needs timezone-aware datetimes")
    return moment.timestamp()


class _Table:
    """Working intervals of a run of local years; replaced as a whole, never mutated."""

    __slots__ = ("cum_ends", "cum_starts", "ends", "first_year", "high", "last_year", "low", "starts")

    def __init__(
        self,
        *,
        first_year: int,
        last_year: int,
        low: float,
        high: float,
        starts: list[float],
        ends: list[float],
    ):
        self.first_year = first_year
        self.last_year = last_year
        self.low = low  # epoch of the first covered local midnight
        self.high = high  # epoch of the local midnight after the last covered year
        self.starts = starts
        self.ends = ends
        self.cum_starts: list[float] = []  # working seconds before interval i
        self.cum_ends: list[float] = []  # working seconds up to the end of interval i
        total = 0.0
        for begin, finish in zip(starts, ends, strict=True):
            self.cum_starts.append(total)
            total += finish - begin
            self.cum_ends.append(total)

    def cumulative(self, epoch: float) -> float:
        index = bisect_right(self.starts, epoch) - 1
        if index < 0:
            return 0.0
        if epoch >= self.ends[index]:
            return self.cum_ends[index]
        return self.cum_starts[index] + (epoch - self.starts[index])


_EMPTY = _Table(first_year=1, last_year=0, low=0.0, high=0.0, starts=[], ends=[])


class BusinessTime:
    """Business-time arithmetic for one calendar. Thread-safe; build through ``engine_for``."""

    def __init__(self, spec: CalendarSpec):
        self.spec = spec.validated()
        self.zone = ZoneInfo(self.spec.time_zone)
        self.always_open = self.spec.is_always_open
        self._lock = threading.Lock()
        self._table = _EMPTY

    # -- which hours a local date has

    def day_intervals(self, date: dt.date) -> tuple[Interval, ...]:
        spec = self.spec
        override = spec.overrides.get(date)
        if override is not None:
            return override
        if spec.follows_statutory_holidays:
            is_holiday = spec.statutory.get(date)
            if is_holiday is None and spec.use_library and date.year in library_years():
                known = library_statutory_days().get(date)
                is_holiday = known[0] if known is not None else None
            if is_holiday is True:
                return ()
            if is_holiday is False:
                return spec.weekly[0] or spec.weekly[date.weekday()]
        return spec.weekly[date.weekday()]

    # -- lazily built interval tables

    def _midnight(self, date: dt.date) -> float:
        return dt.datetime(date.year, date.month, date.day, tzinfo=self.zone).timestamp()

    def _build(self, first_year: int, last_year: int) -> _Table:
        starts: list[float] = []
        ends: list[float] = []
        date = dt.date(first_year, 1, 1)
        stop = dt.date(last_year + 1, 1, 1)
        one_day = dt.timedelta(days=1)
        zone = self.zone
        while date < stop:
            intervals = self.day_intervals(date)
            if intervals:
                base = dt.datetime(date.year, date.month, date.day)  # noqa: DTZ001 - local wall time
                for start, end in intervals:
                    begin = (base + dt.timedelta(seconds=start)).replace(tzinfo=zone).timestamp()
                    finish = (base + dt.timedelta(seconds=end)).replace(tzinfo=zone).timestamp()
                    if finish <= begin:  # swallowed by a daylight-saving jump
                        continue
                    if ends and begin <= ends[-1]:  # touching across midnight (or a DST fold): merge
                        ends[-1] = max(ends[-1], finish)
                    else:
                        starts.append(begin)
                        ends.append(finish)
            date += one_day
        return _Table(
            first_year=first_year,
            last_year=last_year,
            low=self._midnight(dt.date(first_year, 1, 1)),
            high=self._midnight(dt.date(last_year + 1, 1, 1)),
            starts=starts,
            ends=ends,
        )

    def _cover(self, *epochs: float, extra_years: int = 0) -> _Table:
        """A table covering the local years of ``epochs`` (a year either side, and ``extra_years``)."""
        years = [dt.datetime.fromtimestamp(epoch, self.zone).year for epoch in epochs]
        with self._lock:
            table = self._table
            first, last = min(years) - 1, max(years) + 1 + extra_years
            if table.last_year >= table.first_year:
                first, last = min(first, table.first_year), max(last, table.last_year)
            if (first, last) != (table.first_year, table.last_year):
                table = self._build(first, last)
                self._table = table
            return table

    # -- the public arithmetic

    def add(self, start: dt.datetime, seconds: float) -> dt.datetime:
        """The earliest instant by which ``seconds`` of business time have passed since ``start``."""
        if seconds < 0:
            raise ValueError("business time cannot be added backwards")
        epoch = _epoch(start)
        if seconds == 0:
            return start.astimezone(UTC)
        if self.always_open:
            return dt.datetime.fromtimestamp(epoch + seconds, UTC)
        table = self._table
        if not table.low <= epoch < table.high:
            table = self._cover(epoch)
        target = table.cumulative(epoch) + seconds
        extra = 0
        while not table.cum_ends or target > table.cum_ends[-1]:
            extra += 1
            if extra > MAX_YEARS_AHEAD:
                raise CalendarInvalid(
                    _("The calendar has no working time for this long."), code="calendar_no_working_time"
                )
            table = self._cover(epoch, extra_years=extra)
            target = table.cumulative(epoch) + seconds
        index = bisect_left(table.cum_ends, target)
        due = table.starts[index] + (target - table.cum_starts[index])
        return dt.datetime.fromtimestamp(due, UTC)

    def between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Business seconds in ``[start, end)``; 0 when ``end <= start``."""
        first = _epoch(start)
        last = _epoch(end)
        if last <= first:
            return 0.0
        if self.always_open:
            return last - first
        table = self._table
        if not (table.low <= first and last < table.high):
            table = self._cover(first, last)
        return table.cumulative(last) - table.cumulative(first)

    def is_working(self, moment: dt.datetime) -> bool:
        """Whether ``moment`` falls in a working interval (intervals are half-open: [open, close))."""
        if self.always_open:
            _epoch(moment)
            return True
        epoch = _epoch(moment)
        table = self._table
        if not table.low <= epoch < table.high:
            table = self._cover(epoch)
        index = bisect_right(table.starts, epoch) - 1
        return index >= 0 and epoch < table.ends[index]

    def next_opening(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` if it is working time, else the start of the next working interval."""
        if self.is_working(moment):
            return moment.astimezone(UTC)
        epoch = _epoch(moment)
        table = self._table
        index = bisect_right(table.starts, epoch)
        while index >= len(table.starts):
            table = self._cover(epoch, extra_years=table.last_year - table.first_year + 1)
            index = bisect_right(table.starts, epoch)
            if table.last_year - table.first_year > MAX_YEARS_AHEAD:
                raise CalendarInvalid(
                    _("The calendar has no working time for this long."), code="calendar_no_working_time"
                )
        return dt.datetime.fromtimestamp(table.starts[index], UTC)


# --------------------------------------------------------------------------- loading and caching


def spec_for(calendar: BusinessCalendar) -> CalendarSpec:
    weekly: list[list[Interval]] = [[] for _day in range(7)]
    for hours in calendar.working_hours.all():
        weekly[hours.weekday].append((time_to_seconds(hours.start), time_to_seconds(hours.end, is_end=True)))
    overrides: dict[dt.date, list[Interval]] = {}
    rows: Sequence[CalendarOverride] = list(calendar.overrides.all())
    for row in rows:
        day = overrides.setdefault(row.date, [])
        if row.is_working:
            if row.start is None or row.end is None:
                day.extend(weekly[0])
            else:
                day.append((time_to_seconds(row.start), time_to_seconds(row.end, is_end=True)))
    statutory: dict[dt.date, bool] = {}
    if calendar.follows_statutory_holidays:
        statutory = dict(StatutoryDay.objects.values_list("date", "is_holiday"))
    return CalendarSpec(
        time_zone=calendar.time_zone,
        is_always_open=calendar.is_always_open,
        follows_statutory_holidays=calendar.follows_statutory_holidays,
        weekly=tuple(tuple(day) for day in weekly),
        overrides={date: tuple(day) for date, day in overrides.items()},
        statutory=statutory,
    )


_engines: dict[int, tuple[object, BusinessTime]] = {}
_engines_lock = threading.Lock()


def engine_for(calendar: BusinessCalendar) -> BusinessTime:
    """The (cached) engine of ``calendar``; rebuilt when the calendar's revision changes.

    Every calendar service, including the statutory-holiday import, bumps ``version`` and draws a
    new random ``revision``, so a calendar instance read after a change gets a fresh engine in
    every process (and a rolled-back change, as in tests, never leaves a stale one behind).
    """
    if calendar.pk is None:
        return BusinessTime(spec_for(calendar))
    key = (calendar.version, calendar.revision)
    cached = _engines.get(calendar.pk)
    if cached is not None and cached[0] == key:
        return cached[1]
    engine = BusinessTime(spec_for(calendar))
    with _engines_lock:
        _engines[calendar.pk] = (key, engine)
    return engine


def engines_clear() -> None:
    """Forget every cached engine (tests; the version check makes this unnecessary otherwise)."""
    with _engines_lock:
        _engines.clear()


def default_calendar() -> BusinessCalendar:
    """The calendar with code ``standard`` (created by migration ``core.0004``).

    Every SLA falls back on it, so its loss must not stop tickets being opened: if someone
    deleted it, the shipped definition (Monday–Friday 09:00–18:00, statutory holidays) is
    recreated through the calendar services, with an audit event, and a warning is logged.
    """
    calendar = BusinessCalendar.objects.filter(code=DEFAULT_CALENDAR_CODE).first()
    if calendar is not None:
        return calendar
    import logging

    from .calendar_services import calendar_create

    logging.getLogger(__name__).warning("the default business calendar was missing; recreating it")
    try:
        return calendar_create(
            code=DEFAULT_CALENDAR_CODE,
            name="标准工作日",
            name_en="Standard working days",
            actor=None,
            follows_statutory_holidays=True,
            weekly_hours={weekday: [(dt.time(9), dt.time(18))] for weekday in range(5)},
        )
    except (IntegrityError, ValidationFailed):
        # Another process recreated it at the same moment (calendar_create's savepoint rolled
        # back only our attempt): use theirs.
        return BusinessCalendar.objects.get(code=DEFAULT_CALENDAR_CODE)
