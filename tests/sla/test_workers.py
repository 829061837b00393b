"""Two Celery workers and two beat schedulers on the real Redis: each escalation happens once."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.utils import timezone

from aftersales.core.models import BusinessCalendar
from aftersales.core.roles import Role
from aftersales.sla.defaults import install_defaults
from aftersales.sla.models import SlaClock, SlaEscalation, SlaEscalationRule, SlaNotification, SlaPolicy
from aftersales.tickets.services import ticket_open
from tests.core.test_celery_worker import database_url
from tests.factories import CustomerFactory, TeamFactory, UserFactory

REDIS_URL = os.environ.get("AFTERSALES_TEST_SLA_REDIS_URL", "redis://127.0.0.1:6379/13")
ROOT = Path(__file__).resolve().parents[2]


def redis_client() -> redis.Redis | None:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        return None
    return client


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "celery", "-A", "aftersales", *args],
        env=env,
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


@pytest.mark.django_db(transaction=True)
def test_two_workers_and_two_schedulers_escalate_each_clock_exactly_once(tmp_path):
    client = redis_client()
    if client is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required in CI at {REDIS_URL}")
        pytest.skip("Redis is not running")
    client.flushdb()  # a database number of its own: nothing else lives there
    # A transactional test starts from an empty database: the 24×7 default calendar makes the
    # test independent of the hour it runs at.
    BusinessCalendar.objects.update_or_create(
        code="standard",
        defaults={"name": "7×24", "is_always_open": True, "follows_statutory_holidays": False},
    )
    install_defaults(SlaPolicy, SlaEscalationRule)
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

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.sla.celery_settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "AFTERSALES_BROKER_URL": REDIS_URL,
        "AFTERSALES_DATABASE_URL": database_url(),
        "AFTERSALES_DATA_DIR": str(tmp_path),
        "AFTERSALES_TEST_QUEUE": f"sla-test-{uuid.uuid4().hex[:8]}",
    }
    worker_args = [
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        "INFO",
        "--without-heartbeat",
        "--without-gossip",
    ]
    processes = [
        start([*worker_args, "--hostname", f"sla{n}@%h"], env, tmp_path / f"worker{n}.log") for n in (1, 2)
    ] + [
        start(
            [
                "beat",
                "--loglevel",
                "INFO",
                "--max-interval",
                "1",
                "--schedule",
                str(tmp_path / f"beat{n}.schedule"),
                "--pidfile",
                str(tmp_path / f"beat{n}.pid"),
            ],
            env,
            tmp_path / f"beat{n}.log",
        )
        for n in (1, 2)
    ]
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            done = first_response.filter(warned_at__isnull=False).count() == 6 and (
                first_response.filter(breached_at__isnull=False).count() == 3
            )
            if done:
                break
            time.sleep(0.3)
        time.sleep(4)  # several more ticks of both schedulers: a duplicate would show now
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    logs = {path.name: path.read_text(errors="replace") for path in tmp_path.glob("*.log")}
    context = "\n".join(f"--- {name}\n{text[-3000:]}" for name, text in logs.items())

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
