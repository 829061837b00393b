"""Business-time arithmetic: properties (hypothesis) and known dates on Chinese calendars."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.core.business_time import BusinessTime, CalendarInvalid, CalendarSpec

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
HOUR = 3600
DAY_HOURS = ((9 * HOUR, 18 * HOUR),)
LUNCH_HOURS = ((9 * HOUR, 12 * HOUR), (13 * HOUR, 18 * HOUR))

STANDARD = BusinessTime(CalendarSpec(weekly=(DAY_HOURS,) * 5 + ((), ())))
LUNCH_BREAK = BusinessTime(
    CalendarSpec(
        weekly=(LUNCH_HOURS,) * 5 + (((10 * HOUR, 14 * HOUR),), ()),
        overrides={dt.date(2025, 12, 31): (), dt.date(2026, 1, 3): ((8 * HOUR, 86_400),)},
    )
)
NEW_YORK = BusinessTime(CalendarSpec(time_zone="America/New_York", weekly=(DAY_HOURS,) * 5 + ((), ())))
ALWAYS_OPEN = BusinessTime(CalendarSpec(is_always_open=True))
ENGINES = [STANDARD, LUNCH_BREAK, NEW_YORK]

PROPERTY = settings(derandomize=True, max_examples=300, deadline=None, database=None)
starts = st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 12, 31)).map(
    lambda naive: naive.replace(tzinfo=UTC)
)
durations = st.floats(min_value=0, max_value=72 * HOUR, allow_nan=False).map(
    lambda seconds: round(seconds, 3)
)
engines = st.sampled_from(ENGINES)
TOLERANCE = 1e-6


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


# --------------------------------------------------------------------------- properties


@PROPERTY
@given(engine=engines, start=starts, first=durations, second=durations)
def test_add_is_monotone_in_duration(engine, start, first, second):
    low, high = sorted((first, second))
    assert engine.add(start, low) <= engine.add(start, high)


@PROPERTY
@given(engine=engines, first=starts, second=starts, duration=durations)
def test_add_is_monotone_in_start(engine, first, second, duration):
    early, late = sorted((first, second))
    assert engine.add(early, duration) <= engine.add(late, duration)


@PROPERTY
@given(engine=engines, start=starts, duration=durations)
def test_between_measures_what_add_added(engine, start, duration):
    due = engine.add(start, duration)
    assert due >= start
    assert abs(engine.between(start, due) - duration) <= TOLERANCE


@PROPERTY
@given(engine=engines, start=starts, first=durations, second=durations)
def test_add_is_additive(engine, start, first, second):
    in_two_steps = engine.add(engine.add(start, first), second)
    in_one_step = engine.add(start, first + second)
    assert abs((in_two_steps - in_one_step).total_seconds()) <= TOLERANCE


@PROPERTY
@given(engine=engines, points=st.lists(starts, min_size=3, max_size=3))
def test_between_is_additive_over_a_split_point(engine, points):
    start, middle, end = sorted(points)
    whole = engine.between(start, end)
    assert abs(engine.between(start, middle) + engine.between(middle, end) - whole) <= TOLERANCE
    assert 0 <= whole <= (end - start).total_seconds()
    assert engine.between(end, start) == 0


@PROPERTY
@given(engine=engines, start=starts, duration=durations.filter(lambda seconds: seconds > 0))
def test_a_start_outside_working_time_counts_from_the_next_opening(engine, start, duration):
    opening = engine.next_opening(start)
    assert engine.is_working(opening)
    assert engine.between(start, opening) == 0
    assert engine.add(start, duration) == engine.add(opening, duration)
    if not engine.is_working(start):
        assert opening > start


@PROPERTY
@given(engine=engines, start=starts, duration=durations.filter(lambda seconds: seconds > 0))
def test_a_due_time_is_reached_in_working_time(engine, start, duration):
    due = engine.add(start, duration)
    moment = dt.timedelta(seconds=min(duration, 0.001))
    assert engine.between(due - moment, due) > 0  # the clock was running just before
    assert engine.between(start, due - moment) < duration  # and not earlier: the earliest instant


@PROPERTY
@given(start=starts, duration=durations)
def test_always_open_is_plain_arithmetic(start, duration):
    assert ALWAYS_OPEN.add(start, duration) == start + dt.timedelta(seconds=duration)
    assert ALWAYS_OPEN.between(start, start + dt.timedelta(seconds=duration)) == pytest.approx(duration)
    assert ALWAYS_OPEN.is_working(start)


# --------------------------------------------------------------------------- known dates


def test_national_day_2025_one_hour_from_the_last_working_evening():
    # 2025-09-30 is the last working day before 2025-10-01…08; 17:30 leaves 30 minutes that day.
    opened = local(2025, 9, 30, 17, 30)
    due = STANDARD.add(opened, HOUR)
    assert due == local(2025, 10, 9, 9, 30)
    assert due.tzinfo == UTC
    assert STANDARD.between(opened, due) == HOUR


def test_national_day_2025_adjusted_working_days_are_worked():
    assert STANDARD.is_working(local(2025, 9, 28, 10))  # Sunday, 调休
    assert STANDARD.is_working(local(2025, 10, 11, 10))  # Saturday, 调休
    assert not STANDARD.is_working(local(2025, 10, 8, 10))  # Wednesday, holiday
    assert not STANDARD.is_working(local(2025, 10, 12, 10))  # an ordinary Sunday


def test_spring_festival_2026():
    # Holiday 2026-02-15…23; adjusted working days Saturday 2026-02-14 and Saturday 2026-02-28.
    assert STANDARD.is_working(local(2026, 2, 14, 10))
    assert not STANDARD.is_working(local(2026, 2, 16, 10))
    assert STANDARD.add(local(2026, 2, 14, 17), 2 * HOUR) == local(2026, 2, 24, 10)
    week = STANDARD.between(local(2026, 2, 14), local(2026, 3, 1))
    assert week == (1 + 4 + 1) * 9 * HOUR  # Sat 14th, Tue–Fri 24th–27th, Sat 28th


def test_a_2027_date_uses_weekly_hours_without_error():
    friday_evening = local(2027, 1, 1, 17)  # New Year's Day, unknown to the library: weekly hours
    assert STANDARD.is_working(friday_evening)
    assert STANDARD.add(friday_evening, 2 * HOUR) == local(2027, 1, 4, 10)
    assert STANDARD.between(local(2027, 2, 1), local(2027, 2, 8)) == 5 * 9 * HOUR


def test_an_imported_2027_holiday_is_honoured():
    engine = BusinessTime(
        CalendarSpec(
            weekly=(DAY_HOURS,) * 5 + ((), ()),
            statutory={dt.date(2027, 1, 1): True, dt.date(2027, 1, 2): False},
        )
    )
    assert not engine.is_working(local(2027, 1, 1, 10))
    assert engine.is_working(local(2027, 1, 2, 10))  # an adjusted working Saturday
    assert engine.add(local(2026, 12, 31, 17), 2 * HOUR) == local(2027, 1, 2, 10)


def test_imported_rows_win_over_the_library():
    engine = BusinessTime(
        CalendarSpec(weekly=(DAY_HOURS,) * 5 + ((), ()), statutory={dt.date(2025, 10, 8): False})
    )
    assert engine.is_working(local(2025, 10, 8, 10))


def test_a_calendar_without_statutory_holidays_works_on_national_day():
    engine = BusinessTime(CalendarSpec(weekly=(DAY_HOURS,) * 5 + ((), ()), follows_statutory_holidays=False))
    assert engine.is_working(local(2025, 10, 1, 10))
    assert not engine.is_working(local(2025, 9, 28, 10))


def test_an_adjusted_working_day_has_monday_hours():
    engine = BusinessTime(
        CalendarSpec(weekly=(LUNCH_HOURS, DAY_HOURS, DAY_HOURS, DAY_HOURS, DAY_HOURS, (), ()))
    )
    assert engine.between(local(2025, 9, 28), local(2025, 9, 29)) == 8 * HOUR
    assert not engine.is_working(local(2025, 9, 28, 12, 30))


def test_overrides_win_over_statutory_days_and_weekly_hours():
    engine = BusinessTime(
        CalendarSpec(
            weekly=(DAY_HOURS,) * 5 + ((), ()),
            overrides={dt.date(2025, 10, 1): ((10 * HOUR, 12 * HOUR),), dt.date(2025, 9, 30): ()},
        )
    )
    assert not engine.is_working(local(2025, 9, 30, 10))
    assert engine.between(local(2025, 10, 1), local(2025, 10, 2)) == 2 * HOUR


def test_lunch_break_is_not_business_time():
    assert LUNCH_BREAK.add(local(2025, 11, 3, 11, 30), HOUR) == local(2025, 11, 3, 13, 30)
    assert not LUNCH_BREAK.is_working(local(2025, 11, 3, 12, 30))


def test_a_target_reached_at_closing_is_due_at_closing():
    assert STANDARD.add(local(2025, 11, 3, 17), HOUR) == local(2025, 11, 3, 18)
    assert not STANDARD.is_working(local(2025, 11, 3, 18))  # intervals are [open, close)


def test_add_zero_is_the_start_and_next_opening_moves_forward():
    friday_night = local(2025, 11, 7, 20)
    assert STANDARD.add(friday_night, 0) == friday_night
    assert STANDARD.next_opening(friday_night) == local(2025, 11, 10, 9)
    assert STANDARD.add(friday_night, 1) == local(2025, 11, 10, 9, 0, 1)


def test_midnight_end_and_days_joined_across_midnight():
    engine = BusinessTime(CalendarSpec(weekly=(((18 * HOUR, 86_400),), ((0, 2 * HOUR),), (), (), (), (), ())))
    monday_evening = local(2025, 11, 3, 23)
    assert engine.is_working(monday_evening)
    assert engine.add(monday_evening, 2 * HOUR) == local(2025, 11, 4, 1)


def test_year_boundaries_and_long_durations():
    assert STANDARD.add(local(2026, 12, 31, 17), 9 * HOUR) == local(2027, 1, 1, 17)
    due = STANDARD.add(local(2025, 1, 2, 9), 2000 * 9 * HOUR)  # about eight working years
    assert STANDARD.between(local(2025, 1, 2, 9), due) == pytest.approx(2000 * 9 * HOUR)
    assert STANDARD.between(local(2003, 1, 1), local(2003, 1, 8)) == 5 * 9 * HOUR


def test_daylight_saving_time_zone():
    # US clocks went forward on 2025-03-09: a Monday 09:00 New York opening is 13:00 UTC after.
    assert NEW_YORK.next_opening(dt.datetime(2025, 3, 8, tzinfo=UTC)) == dt.datetime(
        2025, 3, 10, 13, tzinfo=UTC
    )
    assert NEW_YORK.next_opening(dt.datetime(2025, 3, 1, tzinfo=UTC)) == dt.datetime(
        2025, 3, 3, 14, tzinfo=UTC
    )


def test_24x7_calendar():
    start = local(2025, 10, 1, 3)
    assert ALWAYS_OPEN.add(start, 5 * 60) == local(2025, 10, 1, 3, 5)
    assert ALWAYS_OPEN.between(start, local(2025, 10, 2, 3)) == 24 * HOUR


def test_naive_and_negative_arguments_are_refused():
    with pytest.raises(ValueError):
        STANDARD.add(dt.datetime(2025, 1, 1), 60)  # noqa: DTZ001
    with pytest.raises(ValueError):
        STANDARD.add(local(2025, 1, 2, 10), -1)


# --------------------------------------------------------------------------- bad configuration


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        (CalendarSpec(), "calendar_no_working_time"),
        (CalendarSpec(time_zone="Mars/Olympus", is_always_open=True), "calendar_time_zone_unknown"),
        (CalendarSpec(weekly=(((10 * HOUR, 9 * HOUR),),) + ((),) * 6), "calendar_interval_inverted"),
        (
            CalendarSpec(weekly=(((9 * HOUR, 12 * HOUR), (11 * HOUR, 13 * HOUR)),) + ((),) * 6),
            "calendar_interval_overlap",
        ),
    ],
)
def test_bad_configuration_is_refused(spec, code):
    with pytest.raises(CalendarInvalid) as refused:
        BusinessTime(spec)
    assert refused.value.code == code
    assert str(refused.value.message)


def test_a_calendar_closed_for_decades_is_refused_not_looped():
    closed = {dt.date(2025, 1, 1) + dt.timedelta(days=offset): () for offset in range(365 * 40)}
    engine = BusinessTime(CalendarSpec(weekly=(DAY_HOURS,) * 7, overrides=closed, use_library=False))
    with pytest.raises(CalendarInvalid):
        engine.add(local(2025, 1, 2, 10), HOUR)
