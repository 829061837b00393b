"""Separate processes that count in the shared rate limiter, for the cross-process tests.

Each worker is a fresh interpreter (multiprocessing "spawn"): its own Django, its own database
connection and cache client, configured with the test's database and cache settings, so nothing
is shared with the test process but the database or Redis themselves.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any


def _setup(databases: dict[str, Any], caches: dict[str, Any], overrides: dict[str, Any]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")
    from django.conf import settings

    settings.DATABASES = databases
    settings.CACHES = caches
    for name, value in overrides.items():
        setattr(settings, name, value)
    import django

    django.setup()


def _worker(
    job: str,
    databases: dict[str, Any],
    caches: dict[str, Any],
    overrides: dict[str, Any],
    arguments: dict[str, Any],
    barrier: Any,
    results: Any,
) -> None:
    _setup(databases, caches, overrides)
    if arguments.get("at"):
        # Every process on the same clock, started at the beginning of an hour: the one-hour
        # windows of the test cannot be split by a real hour boundary.
        import time_machine

        time_machine.travel(arguments["at"], tick=True).start()
    outcomes: list[Any] = []
    if job == "count":
        from aftersales.core.rate_limit import RateLimit, rate_limit_hit

        rule = RateLimit(scope=arguments["scope"], limit=arguments["limit"], window_seconds=3600)
        barrier.wait(timeout=60)
        outcomes = [rate_limit_hit(rule, arguments["key"]).is_allowed for _ in range(arguments["hits"])]
    elif job == "chat-start":
        from django.test import Client

        client = Client()
        barrier.wait(timeout=60)
        for index in range(arguments["hits"]):
            response = client.post(
                f"/chat/w/{arguments['public_key']}/start",
                data=f'{{"body": "第{index}次"}}',
                content_type="application/json",
                headers={"Origin": arguments["origin"], "X-Forwarded-For": f"198.51.100.{index % 250}"},
                REMOTE_ADDR="203.0.113.7",
            )
            outcomes.append(response.status_code)
    from django.db import connections

    connections.close_all()
    results.put(outcomes)


def run_in_processes(
    job: str,
    *,
    processes: int,
    databases: dict[str, Any],
    caches: dict[str, Any],
    arguments: dict[str, Any],
    overrides: dict[str, Any] | None = None,
) -> list[Any]:
    """Run ``job`` in ``processes`` processes that start together; every outcome, in no order."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results = context.Queue()
    workers = [
        context.Process(
            target=_worker,
            args=(job, databases, caches, overrides or {}, arguments, barrier, results),
        )
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    outcomes: list[Any] = []
    try:
        for _ in workers:
            # Generous: the test machines are shared.
            outcomes.extend(results.get(timeout=400))
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
    assert all(worker.exitcode == 0 for worker in workers), [worker.exitcode for worker in workers]
    return outcomes
