"""Real Celery for the exactly-once tests: two workers and two beat schedulers on the machine's
Redis, each in its own process against the test database, until a condition holds."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from tests.core.test_celery_worker import database_url

ROOT = Path(__file__).resolve().parents[1]
WORKER_ARGS = ["worker", "--pool", "solo", "--loglevel", "INFO", "--without-heartbeat", "--without-gossip"]


def redis_or_skip(url: str) -> redis.Redis:
    """The Redis at ``url``; in CI a missing Redis fails the test, elsewhere it is skipped."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required in CI at {url}")
        pytest.skip("Redis is not running")
    return client


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "celery", "-A", "aftersales", *args],
        env=env,
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def run_workers_and_schedulers(
    *,
    settings_module: str,
    broker_url: str,
    workdir: Path,
    name: str,
    done: Callable[[], bool],
    timeout: float = 90,
) -> tuple[dict[str, str], str]:
    """Run two workers and two schedulers until ``done()`` or ``timeout``, then a few more
    scheduler ticks (a duplicate would show then), stop them; return their logs by file name and
    the logs' tails as one text for assertion messages."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "AFTERSALES_BROKER_URL": broker_url,
        "AFTERSALES_DATABASE_URL": database_url(),
        "AFTERSALES_DATA_DIR": str(workdir),
        "AFTERSALES_TEST_QUEUE": f"{name}-test-{uuid.uuid4().hex[:8]}",
    }
    processes = [
        _start([*WORKER_ARGS, "--hostname", f"{name}{n}@%h"], env, workdir / f"worker{n}.log") for n in (1, 2)
    ] + [
        _start(
            [
                "beat",
                "--loglevel",
                "INFO",
                "--max-interval",
                "1",
                "--schedule",
                str(workdir / f"beat{n}.schedule"),
                "--pidfile",
                str(workdir / f"beat{n}.pid"),
            ],
            env,
            workdir / f"beat{n}.log",
        )
        for n in (1, 2)
    ]
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not done():
            time.sleep(0.3)
        time.sleep(4)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    logs = {path.name: path.read_text(errors="replace") for path in workdir.glob("*.log")}
    return logs, "\n".join(f"--- {log_name}\n{text[-3000:]}" for log_name, text in logs.items())
