"""SLA sweep benchmark: one warning/breach pass over 1,000,000 open tickets in PostgreSQL.

Seeds (once) a database of its own, ``aftersales_bench_sla``: 1,000,000 open tickets, each with a
running first-response and resolution clock (2,000,000 running clocks) whose warning and due
instants are spread over the next 30 days, and ``--due`` of them (default 1,000 each) already
past their warning or their due time. Then it times, in this process:

* one claim-and-mark pass (the sweep's indexed range query with ``FOR UPDATE SKIP LOCKED`` plus the
  compare-and-set update) for a batch of warnings and a batch of breaches,
* one full pass with the shipped escalation rules (notifications, priority raises, event
  messages) over a batch of 100,

prints the claim query's PostgreSQL plan, and appends the figures to ``docs/benchmarks.md``
under "SLA sweep".

    .venv/bin/python bench/sla_sweep.py             # seeds on first run (~2 min), then ~10 s
    .venv/bin/python bench/sla_sweep.py --reseed
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- sla-bench:begin -->", "<!-- sla-bench:end -->"
DATABASE = "aftersales_bench_sla"
SERVER = "postgres://postgres@127.0.0.1:5432"


def sh(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(args, check=True, env=env)


def prepare_database(reseed: bool) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone()
        if exists and reseed:
            conn.execute(f'DROP DATABASE "{DATABASE}"')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    env = {**os.environ, "AFTERSALES_DATABASE_URL": f"{SERVER}/{DATABASE}"}
    sh(str(BIN / "aftersales"), "migrate", "--verbosity", "0", env=env)


def seed(tickets: int) -> float:
    from django.db import connection

    from aftersales.customers.models import Customer

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sla_slaclock WHERE status = 'running'")
        if cursor.fetchone()[0] >= 2 * tickets:
            return 0.0
    started = time.perf_counter()
    customer, _ = Customer.objects.get_or_create(code="BENCH", defaults={"name": "基准客户"})
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE sla_slaclock, sla_ticketsla, tickets_ticket CASCADE")
        cursor.execute(
            """
            INSERT INTO tickets_ticket (number, subject, description, type, channel, priority, status,
                resume_status, close_reason, customer_id, customer_tier, version, created_at, updated_at,
                status_changed_at, reopened_count)
            SELECT 'B' || lpad(n::text, 9, '0'), '基准工单 ' || n, '', 'repair', 'phone', 'normal',
                (ARRAY['new','accepted','diagnosing','in_service'])[1 + n %% 4], '', '', %s, 'core', 1,
                now(), now(), now(), 0
            FROM generate_series(1, %s) AS n
            """,
            [customer.pk, tickets],
        )
        # Warning and due instants spread over the next 30 days, in the future for now.
        cursor.execute(
            """
            INSERT INTO sla_slaclock (ticket_id, target, status, target_seconds, warn_after_seconds,
                started_at, due_at, warn_at)
            SELECT t.id, k.target, 'running', 86400, 64800, now(),
                now() + interval '1 hour' + (t.id % 2592000) * interval '1 second' + k.shift,
                now() + interval '30 minutes' + (t.id % 2592000) * interval '1 second' + k.shift
            FROM tickets_ticket t
            CROSS JOIN (VALUES ('first_response', interval '0'), ('resolution', interval '1 day')) AS k(target, shift)
            """
        )
        cursor.execute(
            """
            INSERT INTO sla_ticketsla (ticket_id, targets, applied_at, next_due_at, state)
            SELECT ticket_id, '{}', now(), min(due_at), 'on_track' FROM sla_slaclock GROUP BY ticket_id
            """
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE sla_slaclock")
        cursor.execute("VACUUM ANALYZE tickets_ticket")
        cursor.execute("VACUUM ANALYZE sla_ticketsla")
    return time.perf_counter() - started


def make_due(count: int) -> None:
    """Put ``count`` clocks past their warning and ``count`` others past their due time."""
    from django.db import connection

    with connection.cursor() as cursor:
        # Undo a previous run: no escalations recorded, priorities back, everything back in the
        # future and unmarked.
        cursor.execute("DELETE FROM sla_slaescalation")
        cursor.execute("DELETE FROM sla_slanotification")
        cursor.execute("DELETE FROM tickets_ticketmessage WHERE kind = 'event'")
        cursor.execute("UPDATE tickets_ticket SET priority = 'normal' WHERE priority <> 'normal'")
        cursor.execute(
            """
            UPDATE sla_slaclock SET warned_at = NULL, breached_at = NULL,
                warn_at = now() + interval '30 minutes' + (ticket_id % 2592000) * interval '1 second',
                due_at = now() + interval '1 hour' + (ticket_id % 2592000) * interval '1 second'
            WHERE warned_at IS NOT NULL OR breached_at IS NOT NULL OR warn_at <= now() + interval '10 minutes'
            """
        )
        cursor.execute(
            """
            UPDATE sla_slaclock SET warn_at = now() - interval '5 minutes'
            WHERE id IN (SELECT id FROM sla_slaclock WHERE target = 'first_response' ORDER BY id LIMIT %s)
            """,
            [count],
        )
        cursor.execute(
            """
            UPDATE sla_slaclock SET warn_at = now() - interval '10 minutes', due_at = now() - interval '1 minute',
                warned_at = now() - interval '10 minutes'
            WHERE id IN (SELECT id FROM sla_slaclock WHERE target = 'resolution' ORDER BY id LIMIT %s)
            """,
            [count],
        )
        cursor.execute("ANALYZE sla_slaclock")


def explain_claim() -> str:
    from django.db import connection, transaction
    from django.utils import timezone

    from aftersales.sla.sweep import due_for_breach, due_for_warning

    plans = []
    for queryset in (due_for_warning(timezone.now()), due_for_breach(timezone.now())):
        with transaction.atomic():
            sql, params = (
                queryset.select_for_update(skip_locked=True).values_list("pk")[:1000].query.sql_with_params()
            )
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return "\n\n".join(plans)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()

    prepare_database(args.reseed)
    os.environ["AFTERSALES_DATABASE_URL"] = f"{SERVER}/{DATABASE}"
    os.environ.setdefault("AFTERSALES_DATA_DIR", "/tmp/bench-sla")
    os.environ["DJANGO_SETTINGS_MODULE"] = "aftersales.settings"
    import django

    django.setup()
    from django.db import connection

    from aftersales.sla.models import EscalationKind, SlaClock
    from aftersales.sla.sweep import sla_sweep, sla_sweep_batch

    seed_seconds = seed(args.tickets)
    running = SlaClock.objects.filter(status="running").count()
    open_tickets = SlaClock.objects.values("ticket_id").distinct().count()

    make_due(args.due)
    plan = explain_claim()
    make_due(args.due)
    started = time.perf_counter()
    warned = sla_sweep_batch(kind=EscalationKind.WARNING, batch=args.batch, escalate_actions=False)
    warn_seconds = time.perf_counter() - started
    started = time.perf_counter()
    breached = sla_sweep_batch(kind=EscalationKind.BREACH, batch=args.batch, escalate_actions=False)
    breach_seconds = time.perf_counter() - started
    started = time.perf_counter()
    sla_sweep(batch=args.batch)
    empty_seconds = time.perf_counter() - started

    make_due(100)
    started = time.perf_counter()
    full = sla_sweep(batch=100)
    full_seconds = time.perf_counter() - started
    connection.close()

    lines = [
        f"database: {DATABASE}, PostgreSQL, {open_tickets:,} open tickets, {running:,} running clocks"
        + (f" (seeded in {seed_seconds:.0f} s)" if seed_seconds else ""),
        f"host: {platform.processor() or platform.machine()}, Python {platform.python_version()}",
        f"claim + mark {warned.warned:,} warnings (batch {args.batch}):  {warn_seconds * 1000:.0f} ms",
        f"claim + mark {breached.breached:,} breaches (batch {args.batch}):  {breach_seconds * 1000:.0f} ms",
        f"one warning/breach pass, both batches:  {(warn_seconds + breach_seconds) * 1000:.0f} ms",
        f"pass with nothing due:  {empty_seconds * 1000:.1f} ms",
        f"full pass with escalations ({full.warned} warnings, {full.breached} breaches, "
        f"{full.escalations} actions: notifications, priority raises, event messages):  {full_seconds * 1000:.0f} ms",
    ]
    print("\n".join(lines))
    print(plan)
    if not args.no_doc:
        section = "\n".join(
            [
                BEGIN,
                f"Run {dt.datetime.now(dt.UTC).date().isoformat()}: `.venv/bin/python bench/sla_sweep.py`",
                "",
                "```",
                *lines,
                "```",
                "",
                "Claim queries (`EXPLAIN ANALYZE`, warnings then breaches):",
                "",
                "```",
                plan,
                "```",
                END,
            ]
        )
        text = DOC.read_text()
        if BEGIN in text:
            head, _, rest = text.partition(BEGIN)
            _, _, tail = rest.partition(END)
            text = head + section + tail
        else:
            text = text.rstrip("\n") + "\n\n## SLA sweep\n\n" + section + "\n"
        DOC.write_text(text)


if __name__ == "__main__":
    main()
