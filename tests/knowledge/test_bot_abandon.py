"""Idle answer-bot conversations end as abandoned, once; answered ones keep their outcome."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from aftersales.core.models import AuditEvent
from aftersales.knowledge.bot import bot_session_start, bot_sessions_abandon_idle
from aftersales.knowledge.models import BotOutcome, BotSession
from aftersales.knowledge.tasks import abandon_idle_bot_sessions

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def test_sessions_idle_for_a_day_are_abandoned_once():
    with time_machine.travel(START, tick=False):
        idle = bot_session_start(channel="help", locale="zh-hans")
        solved = bot_session_start(channel="help", locale="en")
        # Setup only: a conversation the customer confirmed (bot_resolve needs an answered question).
        BotSession.objects.filter(pk=solved.pk).update(outcome=BotOutcome.DEFLECTED)
    with time_machine.travel(START + dt.timedelta(hours=23), tick=False):
        recent = bot_session_start(channel="portal", locale="zh-hans")
    with time_machine.travel(START + dt.timedelta(hours=25), tick=False):
        assert bot_sessions_abandon_idle() == 1
        assert abandon_idle_bot_sessions() == 0
    for session in (idle, solved, recent):
        session.refresh_from_db()
    assert idle.outcome == BotOutcome.ABANDONED
    assert solved.outcome == BotOutcome.DEFLECTED
    assert recent.outcome == BotOutcome.OPEN
    assert AuditEvent.objects.filter(action="knowledge.bot.abandon_idle").count() == 1
