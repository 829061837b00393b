"""A real Celery worker, on a real Redis broker, runs the project's tasks against the test database."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid

import pytest
import redis
from django.db import connection

from aftersales.celery import app
from aftersales.core.models import IdempotencyRecord
from tests.factories import UserFactory

REDIS_URL = os.environ.get("AFTERSALES_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_available() -> bool:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        return False
    return True


def database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    return f"sqlite:///{settings['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_worker_on_redis_runs_a_task(tmp_path):
    if not redis_available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required in CI at {REDIS_URL}")
        pytest.skip("Redis is not running")
    if connection.vendor == "sqlite" and "memory" in connection.settings_dict["NAME"]:
        pytest.skip("the worker process cannot see an in-memory database")
    user = UserFactory()
    long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    IdempotencyRecord.objects.create(
        user=user,
        scope="s",
        key="stale",
        request_hash="h",
        response_status=201,
        response_body={},
        created_at=long_ago,
    )
    IdempotencyRecord.objects.create(
        user=user, scope="s", key="fresh", request_hash="h", response_status=201, response_body={}
    )
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "AFTERSALES_BROKER_URL": REDIS_URL,
        "AFTERSALES_DATABASE_URL": database_url(),
        "AFTERSALES_DATA_DIR": str(tmp_path),
    }
    worker = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "aftersales",
            "worker",
            "--pool",
            "solo",
            "--queues",
            queue,
            "--loglevel",
            "WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        with app.connection_for_write(REDIS_URL) as broker:
            result = app.send_task(
                "core.purge_idempotency_records", kwargs={"max_age_hours": 24}, queue=queue, connection=broker
            )
        deadline = time.monotonic() + 60
        while IdempotencyRecord.objects.filter(key="stale").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    output = worker.stdout.read().decode(errors="replace") if worker.stdout else ""
    assert not IdempotencyRecord.objects.filter(key="stale").exists(), output
    assert IdempotencyRecord.objects.filter(key="fresh").exists()
    assert result.id


def _stale_record(key: str) -> None:
    IdempotencyRecord.objects.create(
        user=UserFactory(),
        scope="s",
        key=key,
        request_hash="h",
        response_status=201,
        response_body={},
        created_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )


def _sessions_started() -> int:
    """PostgreSQL sessions ever opened on the test database (a backend reports within a second)."""
    time.sleep(1.5)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_a_worker_keeps_its_database_connection_across_tasks(tmp_path):
    """Celery's Django fix-up closed the connection around every task: a PostgreSQL session (a
    forked server process) per e-mail or webhook sent. Now a worker thread keeps its connection."""
    if connection.vendor != "postgresql":
        pytest.skip("counts PostgreSQL sessions (pg_stat_database.sessions)")
    if not redis_available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required in CI at {REDIS_URL}")
        pytest.skip("Redis is not running")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "AFTERSALES_BROKER_URL": REDIS_URL,
        "AFTERSALES_DATABASE_URL": database_url(),
        "AFTERSALES_DATA_DIR": str(tmp_path),
    }
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "celery", "-A", "aftersales", "worker", "--pool", "threads"]
        + ["--concurrency", "1", "--queues", queue, "--loglevel", "WARNING"]
        + ["--without-heartbeat", "--without-gossip", "--without-mingle"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )

    def run(tasks: int, key: str) -> None:
        """``tasks`` purges in order on the worker's one thread; only the last deletes ``key``."""
        _stale_record(key)
        with app.connection_for_write(REDIS_URL) as broker:
            for index in range(tasks):
                hours = 24 if index == tasks - 1 else 10**6
                app.send_task(
                    "core.purge_idempotency_records",
                    kwargs={"max_age_hours": hours},
                    queue=queue,
                    connection=broker,
                )
        deadline = time.monotonic() + 90
        while IdempotencyRecord.objects.filter(key=key).exists() and time.monotonic() < deadline:
            time.sleep(0.1)

    try:
        run(1, "warm-up")  # the worker is up and its thread has connected
        before = _sessions_started()
        run(30, "last")
        after = _sessions_started()
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    output = worker.stdout.read().decode(errors="replace") if worker.stdout else ""
    assert not IdempotencyRecord.objects.filter(key__in=["warm-up", "last"]).exists(), output
    assert after - before <= 1, f"{after - before} new database sessions for 30 tasks"
