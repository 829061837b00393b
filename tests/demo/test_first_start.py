"""``make run``'s first start: a history that ends now, a desk that mostly keeps its promises, and
a first SLA sweep that breaches only the few tickets meant to be late (issue 11)."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Q

from aftersales.core.models import User
from aftersales.sla.models import ClockStatus, SlaClock, SlaNotification
from aftersales.sla.selectors import compliance_report
from aftersales.sla.sweep import sla_sweep
from aftersales.tickets.lifecycle import OPEN_STATUSES
from aftersales.tickets.models import Ticket

pytestmark = pytest.mark.django_db

# A Tuesday afternoon in Shanghai.
NOW = dt.datetime(2025, 6, 17, 15, 20, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def first_start():
    with time_machine.travel(NOW, tick=False):
        out = io.StringIO()
        call_command(
            "seed_demo",
            "--tickets",
            "600",
            "--customers",
            "250",
            "--days",
            "30",
            "--verbosity",
            "0",
            stdout=out,
        )
        yield out.getvalue()


def _running_overdue(now: dt.datetime):
    return SlaClock.objects.filter(status=ClockStatus.RUNNING, due_at__lte=now)


def test_the_history_ends_now_with_most_open_tickets_on_time_a_few_at_risk_a_few_breached(first_start):
    anchor = NOW.replace(second=0)
    assert "tickets end at 2025-06-17 15:20" in first_start
    latest = Ticket.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    assert latest <= anchor
    # Tickets keep arriving until the moment of the first start (this afternoon, not last midnight).
    assert Ticket.objects.filter(created_at__gte=anchor - dt.timedelta(hours=3)).exists()
    assert not Ticket.objects.filter(status_changed_at__gt=anchor).exists()

    open_ids = set(Ticket.objects.filter(status__in=OPEN_STATUSES).values_list("pk", flat=True))
    running = SlaClock.objects.filter(ticket_id__in=open_ids, status=ClockStatus.RUNNING)
    breached = set(
        running.filter(Q(due_at__lte=NOW) | Q(breached_at__isnull=False)).values_list("ticket_id", flat=True)
    )
    at_risk = (
        set(running.filter(warn_at__lte=NOW, due_at__gt=NOW).values_list("ticket_id", flat=True)) - breached
    )

    assert len(open_ids) >= 20
    assert 1 <= len(breached) <= 0.2 * len(open_ids)
    assert 1 <= len(at_risk) <= 0.2 * len(open_ids)
    assert len(open_ids - breached - at_risk) >= 0.65 * len(open_ids)


def test_compliance_a_manager_would_believe_and_a_first_sweep_that_breaches_only_the_few_late(first_start):
    admin = User.objects.get(username="admin@demo.aftersales.cn")
    with time_machine.travel(NOW, tick=False):
        rows = compliance_report(user=admin, date_from=NOW - dt.timedelta(days=30), date_to=NOW)
    total = sum(row.total for row in rows)
    met = sum(row.met for row in rows)

    assert total >= 1000  # the finished tickets of the month count, not only the open ones
    assert 85.0 <= 100.0 * met / total <= 95.0
    # Every team keeps most of its promises.
    assert all(row.percent_met is not None and row.percent_met >= 75 for row in rows if row.total >= 30)

    # The first sweep breaches only the few tickets meant to be late.
    overdue = set(_running_overdue(NOW).filter(breached_at__isnull=True).values_list("pk", flat=True))
    open_count = Ticket.objects.filter(status__in=OPEN_STATUSES).count()

    with time_machine.travel(NOW, tick=False):
        result = sla_sweep(now=NOW, arm=False)

    assert set(SlaClock.objects.filter(breached_at=NOW).values_list("pk", flat=True)) == overdue
    assert result.breached == len(overdue)
    assert 1 <= result.breached <= 0.25 * open_count
    breach_notices = SlaNotification.objects.filter(kind="breach")
    assert breach_notices.values("ticket").distinct().count() <= 0.2 * open_count
    assert SlaNotification.objects.count() < open_count * 2

    # Seeded subjects read as a customer writes them.
    doubled = re.compile(r"([\u4e00-\u9fff]{2,})\1")
    subjects = set(Ticket.objects.values_list("subject", flat=True))
    assert not [s for s in subjects if doubled.search(s)]
