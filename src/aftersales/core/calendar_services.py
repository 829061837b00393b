"""Writes of business calendars and statutory holiday schedules.

Every write validates the calendar as the business-time engine will see it (inside the same
transaction, so a refused change leaves nothing behind), bumps the calendar's ``version`` and
``revision`` (cached engines in every process notice), and records one audit event.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .business_time import CalendarInvalid, check_intervals, check_time_zone, spec_for, time_to_seconds
from .calendar_models import (
    BusinessCalendar,
    CalendarOverride,
    StatutoryDay,
    StatutorySource,
    StatutoryYear,
    WorkingHours,
)
from .errors import ValidationFailed
from .models import User
from .services import audit_record, require_settings_edit

TimeRange = tuple[dt.time, dt.time]
WeeklyHours = Mapping[int, Sequence[TimeRange]]


def _hours_json(weekly_hours: WeeklyHours) -> dict[str, list[str]]:
    return {
        str(weekday): [f"{start:%H:%M}-{end:%H:%M}" for start, end in ranges]
        for weekday, ranges in sorted(weekly_hours.items())
    }


def _current_hours(calendar: BusinessCalendar) -> dict[int, list[TimeRange]]:
    weekly: dict[int, list[TimeRange]] = {}
    for row in calendar.working_hours.order_by("weekday", "start"):
        weekly.setdefault(row.weekday, []).append((row.start, row.end))
    return weekly


def calendar_validate(*, calendar: BusinessCalendar) -> None:
    """Refuse a calendar the engine could not compute with (raises ``CalendarInvalid``)."""
    spec_for(calendar).validated()


def calendar_touch(*, calendar: BusinessCalendar) -> BusinessCalendar:
    """Validate the calendar as stored now and mark it changed, so cached engines are rebuilt."""
    calendar_validate(calendar=calendar)
    BusinessCalendar.objects.filter(pk=calendar.pk).update(
        version=F("version") + 1, revision=uuid.uuid4(), updated_at=timezone.now()
    )
    calendar.refresh_from_db(fields=["version", "revision", "updated_at"])
    return calendar


def _check_ranges(ranges: Sequence[TimeRange], *, label: str) -> None:
    """Refuse inverted or overlapping hours before the database constraints would."""
    check_intervals(
        ((time_to_seconds(start), time_to_seconds(end, is_end=True)) for start, end in ranges), label=label
    )


def _replace_hours(calendar: BusinessCalendar, weekly_hours: WeeklyHours) -> None:
    for weekday, ranges in weekly_hours.items():
        if not 0 <= weekday <= 6:
            raise CalendarInvalid(_("A weekday is a number from 0 (Monday) to 6 (Sunday)."))
        _check_ranges(ranges, label=str(weekday))
    calendar.working_hours.all().delete()
    rows: list[WorkingHours] = []
    for weekday, ranges in weekly_hours.items():
        rows.extend(
            WorkingHours(calendar=calendar, weekday=weekday, start=start, end=end) for start, end in ranges
        )
    WorkingHours.objects.bulk_create(rows)


@transaction.atomic
def calendar_create(
    *,
    code: str,
    name: str,
    actor: User | None,
    name_en: str = "",
    time_zone: str = "Asia/Shanghai",
    follows_statutory_holidays: bool = True,
    is_always_open: bool = False,
    weekly_hours: WeeklyHours | None = None,
) -> BusinessCalendar:
    check_time_zone(time_zone)
    if BusinessCalendar.objects.filter(code=code).exists():
        raise ValidationFailed(_("A calendar with this code exists."), details={"code": code})
    calendar = BusinessCalendar.objects.create(
        code=code,
        name=name,
        name_en=name_en,
        time_zone=time_zone,
        follows_statutory_holidays=follows_statutory_holidays,
        is_always_open=is_always_open,
    )
    _replace_hours(calendar, weekly_hours or {})
    calendar_validate(calendar=calendar)
    audit_record(
        actor=actor,
        obj=calendar,
        action="calendar.create",
        after={
            "code": code,
            "time_zone": time_zone,
            "follows_statutory_holidays": follows_statutory_holidays,
            "is_always_open": is_always_open,
            "hours": _hours_json(weekly_hours or {}),
        },
    )
    return calendar


@transaction.atomic
def calendar_update(
    *,
    calendar: BusinessCalendar,
    actor: User | None,
    name: str | None = None,
    name_en: str | None = None,
    time_zone: str | None = None,
    follows_statutory_holidays: bool | None = None,
    is_always_open: bool | None = None,
    weekly_hours: WeeklyHours | None = None,
) -> BusinessCalendar:
    """Change a calendar's settings and, when given, replace all of its weekly hours."""
    require_settings_edit(actor)
    requested: dict[str, Any] = {
        "name": name,
        "name_en": name_en,
        "time_zone": time_zone,
        "follows_statutory_holidays": follows_statutory_holidays,
        "is_always_open": is_always_open,
    }
    changes = {key: value for key, value in requested.items() if value is not None}
    if time_zone is not None:
        check_time_zone(time_zone)
    before = {key: getattr(calendar, key) for key in changes if getattr(calendar, key) != changes[key]}
    after = {key: changes[key] for key in before}
    for key, value in changes.items():
        setattr(calendar, key, value)
    if before:
        calendar.save(update_fields=list(before))
    if weekly_hours is not None:
        old_hours = _hours_json(_current_hours(calendar))
        new_hours = _hours_json(weekly_hours)
        if old_hours != new_hours:
            _replace_hours(calendar, weekly_hours)
            before["hours"], after["hours"] = old_hours, new_hours
    calendar_touch(calendar=calendar)
    audit_record(actor=actor, obj=calendar, action="calendar.update", before=before, after=after)
    return calendar


@transaction.atomic
def calendar_override_set(
    *,
    calendar: BusinessCalendar,
    date: dt.date,
    is_working: bool,
    actor: User | None,
    hours: Sequence[TimeRange] = (),
    note: str = "",
) -> list[CalendarOverride]:
    """Make ``date`` closed, or working with ``hours`` (none: the calendar's Monday hours)."""
    require_settings_edit(actor)
    if not is_working and hours:
        raise CalendarInvalid(_("A closed day has no working hours."))
    _check_ranges(hours, label=date.isoformat())
    previous = [str(row) for row in calendar.overrides.filter(date=date)]
    calendar.overrides.filter(date=date).delete()
    if hours:
        rows = [
            CalendarOverride(calendar=calendar, date=date, is_working=True, start=start, end=end, note=note)
            for start, end in hours
        ]
    else:
        rows = [CalendarOverride(calendar=calendar, date=date, is_working=is_working, note=note)]
    CalendarOverride.objects.bulk_create(rows)
    calendar_touch(calendar=calendar)
    audit_record(
        actor=actor,
        obj=calendar,
        action="calendar.override_set",
        before={"date": date.isoformat(), "overrides": previous},
        after={"date": date.isoformat(), "overrides": [str(row) for row in rows], "note": note},
    )
    return rows


@transaction.atomic
def calendar_override_remove(*, calendar: BusinessCalendar, date: dt.date, actor: User | None) -> int:
    require_settings_edit(actor)
    previous = [str(row) for row in calendar.overrides.filter(date=date)]
    removed, _detail = calendar.overrides.filter(date=date).delete()
    if removed:
        calendar_touch(calendar=calendar)
        audit_record(
            actor=actor,
            obj=calendar,
            action="calendar.override_remove",
            before={"date": date.isoformat(), "overrides": previous},
        )
    return removed


# --------------------------------------------------------------------------- statutory schedules


@dataclass(frozen=True)
class ScheduleLine:
    line: int
    date: dt.date
    is_holiday: bool
    name: str


KINDS = {"holiday": True, "workday": False}
_LINE = re.compile(r"^(\S+)\s+(\S+)(?:\s+(.*))?$")


def statutory_schedule_parse(*, text: str, year: int) -> list[ScheduleLine]:
    """Parse an official schedule, one day a line: ``2027-01-01 holiday 元旦``, ``# comments``.

    Every problem is reported (with its line number) in one ``ValidationFailed``; nothing is
    returned half-parsed.
    """
    problems: list[dict[str, Any]] = []
    lines: list[ScheduleLine] = []
    seen: dict[dt.date, int] = {}
    if not 1900 <= year <= 2999:
        raise ValidationFailed(_("The year is not valid."), details={"year": year})
    for number, raw in enumerate(text.splitlines(), start=1):
        content = raw.split("#", 1)[0].strip()
        if not content:
            continue
        match = _LINE.match(content)
        if match is None:
            problems.append({"line": number, "error": "expected: DATE holiday|workday [NAME]"})
            continue
        date_text, kind, name = match.group(1), match.group(2).lower(), (match.group(3) or "").strip()
        try:
            date = dt.date.fromisoformat(date_text)
        except ValueError:
            problems.append({"line": number, "error": f"not a date (YYYY-MM-DD): {date_text}"})
            continue
        if kind not in KINDS:
            problems.append({"line": number, "error": f"kind must be holiday or workday: {kind}"})
            continue
        if date.year != year:
            problems.append({"line": number, "error": f"{date} is not in {year}"})
            continue
        if not KINDS[kind] and date.weekday() < 5:
            problems.append(
                {"line": number, "error": f"{date} is a weekday; an adjusted working day is a weekend day"}
            )
            continue
        if len(name) > 80:
            problems.append({"line": number, "error": "name longer than 80 characters"})
            continue
        if date in seen:
            problems.append({"line": number, "error": f"{date} already on line {seen[date]}"})
            continue
        seen[date] = number
        lines.append(ScheduleLine(line=number, date=date, is_holiday=KINDS[kind], name=name))
    if not problems and not lines:
        problems.append({"line": 0, "error": "no days in the schedule"})
    if problems:
        raise ValidationFailed(
            _("The holiday schedule has errors; nothing was imported."),
            details={"problems": problems},
            code="holiday_schedule_invalid",
        )
    return lines


def calendars_touch_all() -> int:
    """Mark every calendar changed (statutory days apply to all that follow them)."""
    return BusinessCalendar.objects.update(
        version=F("version") + 1, revision=uuid.uuid4(), updated_at=timezone.now()
    )


@transaction.atomic
def statutory_year_import(*, year: int, text: str, actor: User | None) -> StatutoryYear:
    """Load a year's official schedule, replacing what was imported for that year before."""
    lines = statutory_schedule_parse(text=text, year=year)
    year_days = StatutoryDay.objects.filter(date__year=year)
    previous = {
        "holidays": year_days.filter(is_holiday=True).count(),
        "workdays": year_days.filter(is_holiday=False).count(),
    }
    year_days.delete()
    StatutoryDay.objects.bulk_create(
        StatutoryDay(
            date=line.date, is_holiday=line.is_holiday, name=line.name, source=StatutorySource.IMPORT
        )
        for line in lines
    )
    statutory_year, created = StatutoryYear.objects.update_or_create(
        year=year, defaults={"source": StatutorySource.IMPORT, "loaded_at": timezone.now()}
    )
    calendars_touch_all()
    audit_record(
        actor=actor,
        obj=statutory_year,
        action="statutory_year.import",
        before={} if created else previous,
        after={
            "holidays": sum(line.is_holiday for line in lines),
            "workdays": sum(not line.is_holiday for line in lines),
            "days": [
                f"{line.date} {'holiday' if line.is_holiday else 'workday'} {line.name}".strip()
                for line in lines
            ],
        },
    )
    return statutory_year


def parse_time_ranges(text: str) -> list[TimeRange]:
    """``"09:00-12:00, 13:00-18:00"`` → time ranges (for forms and the command line)."""
    ranges: list[TimeRange] = []
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        try:
            start_text, end_text = (value.strip() for value in part.split("-"))
            ranges.append((dt.time.fromisoformat(start_text), dt.time.fromisoformat(end_text)))
        except ValueError as error:
            raise ValidationFailed(
                _("Write hours as 09:00-12:00, 13:00-18:00."), details={"hours": part}
            ) from error
    return ranges
