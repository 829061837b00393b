"""Timelines and texts the templates show; pure functions over status changes."""

from __future__ import annotations

import datetime as dt

from django.utils import translation

from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.tickets.models import TicketStatusChange
from aftersales.web.presenters import (
    customer_actions,
    error_lines,
    format_duration,
    progress_steps,
    stage_timeline,
)

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def changes(*steps: tuple[str, int]) -> list[TicketStatusChange]:
    """Status changes at T0 + minutes, the first from nothing."""
    result, previous = [], ""
    for status, minutes in steps:
        result.append(
            TicketStatusChange(
                from_status=previous, to_status=status, occurred_at=T0 + dt.timedelta(minutes=minutes)
            )
        )
        previous = status
    return result


def states(steps) -> list[str]:
    return [step.state for step in steps]


def test_format_duration_picks_the_two_largest_units():
    with translation.override("en"):
        assert [format_duration(s) for s in (42, 720, 3 * 3600 + 1200, 2 * 86400 + 4 * 3600)] == [
            "42 s",
            "12 min",
            "3 h 20 min",
            "2 d 4 h",
        ]
    with translation.override("zh-hans"):
        assert format_duration(3 * 3600 + 1200) == "3 小时 20 分钟"


def test_stage_timeline_measures_each_stage_and_the_current_one_until_now():
    history = changes(("new", 0), ("accepted", 5), ("diagnosing", 65))
    with translation.override("en"):
        rows = stage_timeline(history, now=T0 + dt.timedelta(minutes=95))
    assert [(r.status, r.duration, r.is_current) for r in rows] == [
        ("new", "5 min", False),
        ("accepted", "1 h 0 min", False),
        ("diagnosing", "30 min", True),
    ]
    assert [r.left_at for r in rows] == [T0 + dt.timedelta(minutes=5), T0 + dt.timedelta(minutes=65), None]


def test_progress_marks_done_current_and_todo_with_times():
    steps = progress_steps(
        changes(("new", 0), ("accepted", 5), ("diagnosing", 60)), current_status="diagnosing"
    )
    assert states(steps) == ["done", "done", "current", "todo", "todo", "todo", "todo"]
    assert steps[1].reached_at == T0 + dt.timedelta(minutes=5)
    assert steps[3].reached_at is None


def test_stages_passed_over_are_shown_as_skipped():
    steps = progress_steps(changes(("new", 0), ("accepted", 5), ("resolved", 30)), current_status="resolved")
    assert states(steps) == ["done", "done", "skipped", "skipped", "skipped", "current", "todo"]
    assert steps[2].reached_at is None


def test_a_closed_ticket_is_done_throughout():
    steps = progress_steps(
        changes(("new", 0), ("accepted", 5), ("resolved", 30), ("closed", 40)), current_status="closed"
    )
    assert states(steps) == ["done", "done", "skipped", "skipped", "skipped", "done", "done"]


def test_reopening_goes_back_to_work_and_forgets_later_stages():
    history = changes(("new", 0), ("accepted", 5), ("in_service", 30), ("resolved", 60), ("reopened", 90))
    steps = progress_steps(history, current_status="reopened")
    assert states(steps) == ["done", "current", "todo", "todo", "todo", "todo", "todo"]
    assert steps[4].reached_at is None and steps[5].reached_at is None


def test_waiting_on_the_customer_keeps_the_position():
    history = changes(("new", 0), ("accepted", 5), ("diagnosing", 10), ("waiting_on_customer", 20))
    assert states(progress_steps(history, current_status="waiting_on_customer"))[:4] == [
        "done",
        "done",
        "current",
        "todo",
    ]


def test_a_cancelled_ticket_has_no_current_stage():
    steps = progress_steps(changes(("new", 0), ("cancelled", 5)), current_status="cancelled")
    assert "current" not in states(steps)


def test_customer_actions_follow_the_lifecycle_table():
    assert customer_actions("resolved") == ["closed", "reopened"]
    assert customer_actions("new") == ["cancelled"]
    assert customer_actions("diagnosing") == []


def test_error_lines_list_field_problems_of_validation_errors_only():
    with translation.override("en"):
        validation = error_lines(ValidationFailed(details={"subject": "A subject is required.", "n": 3}))
        conflict = error_lines(Conflict(details={"number": "T1"}))
    assert validation == ["Some fields are not valid.", "A subject is required."]
    assert conflict == ["The record was changed by someone else; reload and try again."]
