"""Real Celery workers on the real Redis: a phone-style promise (a few seconds here, 60 s in
production) warns and breaches within a couple of seconds of its instants, with no sweep
running, once each although every alarm is delivered twice to two workers."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time
import uuid

import pytest
from django.db import connection

from aftersales.celery import app
from aftersales.core.models import BusinessCalendar
from aftersales.core.roles import Role
from aftersales.sla.alarms import alarms_planned, alarms_send
from aftersales.sla.defaults import install_defaults
from aftersales.sla.models import SlaClock, SlaEscalation, SlaEscalationRule, SlaPolicy
from aftersales.tickets.services import ticket_open
from tests.celery_support import ROOT, WORKER_ARGS, redis_or_skip
from tests.core.test_celery_worker import database_url
from tests.factories import CustomerFactory, TeamFactory, UserFactory

# A Redis database number of this test's own (the exactly-once sweep test uses 13).
REDIS_URL = os.environ.get("AFTERSALES_TEST_SLA_ALARM_REDIS_URL", "redis://127.0.0.1:6379/12")
PROMISE = dt.timedelta(seconds=10)  # warned at 5 s (50 %), due at 10 s
TOLERANCE = dt.timedelta(seconds=2)


def _start_workers(tmp_path, queue: str) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.sla.celery_settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "AFTERSALES_BROKER_URL": REDIS_URL,
        "AFTERSALES_DATABASE_URL": database_url(),
        "AFTERSALES_DATA_DIR": str(tmp_path),
        "AFTERSALES_TEST_QUEUE": queue,
    }
    return [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "celery", "-A", "aftersales", *WORKER_ARGS, "--hostname", f"alarm{n}@%h"],
            env=env,
            cwd=ROOT,
            stdout=(tmp_path / f"worker{n}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for n in (1, 2)
    ]


def _logs(tmp_path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in tmp_path.glob("*.log"))


@pytest.mark.django_db(transaction=True)
def test_workers_fire_a_short_promise_within_two_seconds_of_its_instants(tmp_path):
    client = redis_or_skip(REDIS_URL)
    if connection.vendor == "sqlite" and "memory" in connection.settings_dict["NAME"]:
        pytest.skip("the worker processes cannot see an in-memory database")
    client.flushdb()  # a database number of its own: nothing else lives there
    install_defaults(SlaPolicy, SlaEscalationRule, BusinessCalendar)
    SlaPolicy.objects.filter(channel="phone").update(first_response=PROMISE, warn_at_percent=50)
    team = TeamFactory(lead=UserFactory(role=Role.SUPERVISOR))
    agent, customer = UserFactory(role=Role.AGENT), CustomerFactory()
    queue = f"sla-alarm-test-{uuid.uuid4().hex[:8]}"
    workers = _start_workers(tmp_path, queue)
    try:
        deadline = time.monotonic() + 150  # a loaded machine starts workers slowly
        while time.monotonic() < deadline and _logs(tmp_path).count(" ready.") < 2:
            time.sleep(0.2)
        assert _logs(tmp_path).count(" ready.") == 2, _logs(tmp_path)

        ticket = ticket_open(
            actor=agent, customer=customer, subject="来电：热水器报错", channel="phone", team=team
        )
        first = SlaClock.objects.get(ticket=ticket, target="first_response")
        assert first.due_at - first.started_at == PROMISE
        # What the opening armed (planned as of the opening: a loaded machine may be slow here).
        alarms = alarms_planned(now=ticket.created_at, ticket_id=ticket.pk)
        assert {(a.clock_id, a.kind) for a in alarms} == {(first.pk, "warning"), (first.pk, "breach")}
        # The ticket's own alarms went to the test process's broker; send them (twice, as a
        # redelivery would) to the workers' Redis queue.
        with app.connection_for_write(REDIS_URL) as broker:
            assert alarms_send(alarms + alarms, connection=broker, queue=queue) == 4

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            first.refresh_from_db()
            if first.breached_at is not None:
                break
            time.sleep(0.1)
        time.sleep(2)  # a duplicate would show now
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
    context = _logs(tmp_path)
    first.refresh_from_db()
    assert first.warned_at is not None and first.breached_at is not None, context
    assert dt.timedelta(0) <= first.warned_at - first.warn_at <= TOLERANCE, (first.warned_at, first.warn_at)
    assert dt.timedelta(0) <= first.breached_at - first.due_at <= TOLERANCE, (first.breached_at, first.due_at)
    # warning → notify; breach → raise the priority and notify: once each.
    assert SlaEscalation.objects.filter(clock=first).count() == 3, context
    ticket.refresh_from_db()
    assert ticket.priority == "high", context
    assert "Task sla.sweep_due[" not in context  # no sweep ran: the alarms did it
    assert "raised unexpected" not in context, context
    assert len(re.findall(r"Task sla\.clock_alarm\[[^]]+\] succeeded in [0-9.]+s: True", context)) == 2, (
        context
    )
    print(
        f"warned {first.warned_at - first.warn_at} after, breached {first.breached_at - first.due_at} after"
    )
