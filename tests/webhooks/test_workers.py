"""Two Celery workers and two beat schedulers on the real Redis post outbound webhooks to a real
local HTTP server that fails at first: every delivery arrives exactly once, signed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis

from aftersales.channels.webhooks import signing
from aftersales.channels.webhooks.models import WebhookDelivery
from aftersales.core.roles import Role
from aftersales.tickets.services import ticket_open
from tests.core.test_celery_worker import database_url
from tests.factories import CustomerFactory, UserFactory

from .factories import WebhookEndpointFactory
from .receiver import Receiver

REDIS_URL = os.environ.get("AFTERSALES_TEST_WEBHOOKS_REDIS_URL", "redis://127.0.0.1:6379/10")
ROOT = Path(__file__).resolve().parents[2]


def redis_available() -> bool:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        return False
    return True


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "celery", "-A", "aftersales", *args],
        env=env,
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


@pytest.mark.django_db(transaction=True)
def test_two_workers_and_two_schedulers_deliver_each_webhook_exactly_once(tmp_path):
    if not redis_available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required in CI at {REDIS_URL}")
        pytest.skip("Redis is not running")
    # The first four requests fail (500, dropped, 503, 500), then the receiver recovers.
    failures = {0: 500, 1: 0, 2: 503, 3: 500}
    receiver = Receiver(answer=lambda n: failures.get(n, 200)).start()
    endpoint = WebhookEndpointFactory(url=receiver.url, event_types=["ticket.opened"])
    agent = UserFactory(role=Role.AGENT)
    tickets = [ticket_open(actor=agent, customer=CustomerFactory(), subject=f"漏水 {n}") for n in range(5)]
    assert WebhookDelivery.objects.filter(status="pending").count() == 5

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.webhooks.celery_settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "AFTERSALES_BROKER_URL": REDIS_URL,
        "AFTERSALES_DATABASE_URL": database_url(),
        "AFTERSALES_DATA_DIR": str(tmp_path),
        "AFTERSALES_TEST_QUEUE": f"webhooks-test-{uuid.uuid4().hex[:8]}",
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
        start([*worker_args, "--hostname", f"hooks{n}@%h"], env, tmp_path / f"worker{n}.log") for n in (1, 2)
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
            if WebhookDelivery.objects.filter(status="delivered").count() == 5:
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
        receiver.stop()
    logs = {path.name: path.read_text(errors="replace") for path in tmp_path.glob("*.log")}
    context = "\n".join(f"--- {name}\n{text[-3000:]}" for name, text in logs.items())

    assert WebhookDelivery.objects.filter(status="delivered").count() == 5, context
    delivered = [r for r in receiver.requests if r.answered == 200]
    event_ids = [r.headers[signing.EVENT_ID_HEADER] for r in delivered]
    assert len(event_ids) == len(set(event_ids)) == 5, context  # each exactly once
    assert len(receiver.requests) == 5 + len(failures), context  # and no attempt beyond the retries
    numbers = set()
    for request in delivered:
        assert signing.verify(
            secret=endpoint.secret, header=request.headers[signing.SIGNATURE_HEADER], body=request.body
        )
        numbers.add(json.loads(request.body)["data"]["ticket"]["number"])
    assert numbers == {ticket.number for ticket in tickets}
    assert sum(d.attempts for d in WebhookDelivery.objects.all()) == 5 + len(failures)
    for n in (1, 2):
        assert "Scheduler: Sending due task" in logs[f"beat{n}.log"], context
