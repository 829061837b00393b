"""Two Celery workers and two beat schedulers on the real Redis: each escalation happens once."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from django.utils import timezone

from aftersales.core.models import BusinessCalendar
from aftersales.core.roles import Role
from aftersales.sla.defaults import install_defaults
from aftersales.sla.models import SlaClock, SlaEscalation, SlaEscalationRule, SlaNotification, SlaPolicy
from aftersales.tickets.services import ticket_open
from tests.celery_support import redis_or_skip, run_workers_and_schedulers
from tests.factories import CustomerFactory, TeamFactory, UserFactory

REDIS_URL = os.environ.get("AFTERSALES_TEST_SLA_REDIS_URL", "redis://127.0.0.1:6379/13")


@pytest.mark.django_db(transaction=True)
def test_two_workers_and_two_schedulers_escalate_each_clock_exactly_once(tmp_path):
    client = redis_or_skip(REDIS_URL)
    client.flushdb()  # a database number of its own: nothing else lives there
    # A transactional test starts from an empty database: the 24×7 default calendar makes the
    # test independent of the hour it runs at.
    BusinessCalendar.objects.update_or_create(
        code="standard",
        defaults={"name": "7×24", "is_always_open": True, "follows_statutory_holidays": False},
    )
    install_defaults(SlaPolicy, SlaEscalationRule, BusinessCalendar)
    lead = UserFactory(role=Role.SUPERVISOR)
    team = TeamFactory(lead=lead)
    agent = UserFactory(role=Role.AGENT)
    customer = CustomerFactory()
    tickets = [ticket_open(actor=agent, customer=customer, subject=f"漏水 {n}", team=team) for n in range(6)]
    breaching, warning_only = tickets[:3], tickets[3:]
    now = timezone.now()
    SlaClock.objects.filter(ticket__in=tickets).update(
        warn_at=now + dt.timedelta(days=1), due_at=now + dt.timedelta(days=2)
    )
    first_response = SlaClock.objects.filter(target="first_response")
    first_response.filter(ticket__in=breaching).update(
        warn_at=now - dt.timedelta(minutes=2), due_at=now - dt.timedelta(minutes=1)
    )
    first_response.filter(ticket__in=warning_only).update(
        warn_at=now - dt.timedelta(minutes=1), due_at=now + dt.timedelta(hours=1)
    )

    logs, context = run_workers_and_schedulers(
        settings_module="tests.sla.celery_settings",
        broker_url=REDIS_URL,
        workdir=tmp_path,
        name="sla",
        done=lambda: (
            first_response.filter(warned_at__isnull=False).count() == 6
            and first_response.filter(breached_at__isnull=False).count() == 3
        ),
    )

    assert first_response.filter(warned_at__isnull=False).count() == 6, context
    assert first_response.filter(breached_at__isnull=False).count() == 3, context
    for ticket in breaching:
        ticket.refresh_from_db()
        assert ticket.priority == "high", context  # one step up, not two
        assert ticket.messages.filter(event_code__startswith="sla.").count() == 2, context
    for ticket in warning_only:
        ticket.refresh_from_db()
        assert ticket.priority == "normal"
        assert ticket.messages.filter(event_code__startswith="sla.").count() == 1, context
    assert SlaNotification.objects.filter(user=lead, kind="warning").count() == 6
    assert SlaNotification.objects.filter(user=lead, kind="breach").count() == 3
    # warning → notify (6); breach → raise priority and notify (3 × 2).
    assert SlaEscalation.objects.count() == 12
    # Both schedulers sent sweeps and both workers ran some.
    for n in (1, 2):
        assert "Scheduler: Sending due task" in logs[f"beat{n}.log"], context
        assert re.search(r"Task sla\.sweep_due\[.*\] succeeded", logs[f"worker{n}.log"]), context
