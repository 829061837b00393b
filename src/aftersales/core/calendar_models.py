"""Business calendars: when a service organisation works, for business-time SLA arithmetic.

The engine that computes with these rows is ``core.business_time``; every write goes through
``core.calendar_services``, which also bumps ``BusinessCalendar.version`` so that cached engines
in every process notice the change.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import BilingualName

MIDNIGHT = dt.time(0)

__all__ = [
    "BusinessCalendar",
    "CalendarOverride",
    "StatutoryDay",
    "StatutorySource",
    "StatutoryYear",
    "Weekday",
    "WorkingHours",
]


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class StatutorySource(models.TextChoices):
    LIBRARY = "chinese-calendar", _("chinese-calendar library")
    IMPORT = "import", _("Imported notice")


# An interval ends after it starts; an end of 00:00 means midnight at the end of the day.
_INTERVAL_ORDERED = Q(end__gt=F("start")) | Q(end=MIDNIGHT)


class BusinessCalendar(BilingualName, models.Model):
    """Weekly working hours in a time zone, optionally following China's statutory holidays."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    follows_statutory_holidays = models.BooleanField(_("follows statutory holidays"), default=True)
    is_always_open = models.BooleanField(
        _("always open (24×7)"),
        default=False,
        help_text=_("Every instant is business time; weekly hours and holidays are ignored."),
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    # Drawn anew on every change (with version): the key of cached business-time engines.
    revision = models.UUIDField(_("revision"), default=uuid.uuid4, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.display_name


class WorkingHours(models.Model):
    """One working interval of a weekday; a day may have several (09:00–12:00, 13:00–18:00)."""

    calendar = models.ForeignKey(
        BusinessCalendar,
        verbose_name=_("calendar"),
        on_delete=models.CASCADE,
        related_name="working_hours",
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"), help_text=_("00:00 means midnight at the end of the day."))

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["calendar", "weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="working_hours_weekday_range"
            ),
            models.CheckConstraint(condition=_INTERVAL_ORDERED, name="working_hours_end_after_start"),
            models.UniqueConstraint(
                fields=["calendar", "weekday", "start"], name="working_hours_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class CalendarOverride(models.Model):
    """A date that differs from the week: a company closure, or extra or different hours.

    A closed date has one row with ``is_working=False`` and no hours. A working date has either
    one row without hours (the calendar's Monday hours) or one row per working interval.
    """

    calendar = models.ForeignKey(
        BusinessCalendar,
        verbose_name=_("calendar"),
        on_delete=models.CASCADE,
        related_name="overrides",
    )
    date = models.DateField(_("date"))
    is_working = models.BooleanField(_("working"), default=False)
    start = models.TimeField(_("start"), null=True, blank=True)
    end = models.TimeField(_("end"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        ordering = ["calendar", "date", "start"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(start__isnull=True, end__isnull=True)
                    | (Q(is_working=True, start__isnull=False, end__isnull=False) & _INTERVAL_ORDERED)
                ),
                name="calendar_override_hours_valid",
            ),
            models.UniqueConstraint(
                fields=["calendar", "date"],
                condition=Q(start__isnull=True),
                name="calendar_override_one_whole_day",
            ),
            models.UniqueConstraint(
                fields=["calendar", "date", "start"], name="calendar_override_unique_start"
            ),
        ]

    def __str__(self) -> str:
        if not self.is_working:
            return f"{self.date:%Y-%m-%d} {_('closed')}"
        if self.start is None or self.end is None:
            return f"{self.date:%Y-%m-%d} {_('working')}"
        return f"{self.date:%Y-%m-%d} {self.start:%H:%M}–{self.end:%H:%M}"


class StatutoryDay(models.Model):
    """A statutory holiday (``is_holiday``) or an adjusted working day (调休) from an official notice.

    Rows in this table win over the ``chinese-calendar`` library for the same date.
    """

    date = models.DateField(_("date"), unique=True)
    is_holiday = models.BooleanField(_("statutory holiday"))
    name = models.CharField(_("name"), max_length=80, blank=True)
    source = models.CharField(
        _("source"), max_length=20, choices=StatutorySource.choices, default=StatutorySource.IMPORT
    )

    class Meta:
        verbose_name = _("statutory day")
        verbose_name_plural = _("statutory days")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=StatutorySource.values), name="statutory_day_source_valid"
            )
        ]

    def __str__(self) -> str:
        kind = _("holiday") if self.is_holiday else _("adjusted working day")
        return f"{self.date:%Y-%m-%d} {kind} {self.name}".strip()


class StatutoryYear(models.Model):
    """A year whose official holiday schedule has been loaded into ``StatutoryDay``."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    source = models.CharField(
        _("source"), max_length=20, choices=StatutorySource.choices, default=StatutorySource.IMPORT
    )
    loaded_at = models.DateTimeField(_("loaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("statutory holiday year")
        verbose_name_plural = _("statutory holiday years")
        ordering = ["year"]
        constraints = [
            models.CheckConstraint(condition=Q(year__gte=1900, year__lte=2999), name="statutory_year_range"),
            models.CheckConstraint(
                condition=Q(source__in=StatutorySource.values), name="statutory_year_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return str(self.year)
