"""Ticket search at scale on PostgreSQL: build N tickets quickly, then time the real selector.

    .venv/bin/python bench/ticket_search.py --size 100000            # ~3 min on 2 shared cores
    .venv/bin/python bench/ticket_search.py --size 1000000 --reuse   # keep an already built database

Build (database ``aftersales_search_bench_<size>``, dropped and created unless ``--reuse``):

1. ``migrate`` and ``seed_demo --tickets 20000 --customers 20000`` with a fixed ``--now``: the
   demo generator's realistic Chinese tickets, customers with phones, e-mails and identities,
   installed products with serials; ``seed_demo`` writes the search documents through the same
   code as ``aftersales tickets_reindex`` (jieba segmentation included in its time).
2. The rest is copied inside PostgreSQL with ``INSERT … SELECT`` (no ORM, no Python per row):
   round k copies every seeded ticket under a new id and number, gives it a customer picked
   across all customers and moves its dates back; its search document is the template's terms.
   The GIN index is dropped during the copy and built once afterwards, then ``VACUUM ANALYZE``.
   Messages, status changes and SLA clocks are not copied: search reads only tickets and documents.

Measure, in this process, through ``ticket_list_for_user`` (scope, filters, keyset page of 25,
capped count — exactly what the console and ``GET /api/v1/tickets?q=`` run): a mix of one-word
and two-word queries sampled from random tickets' own words, phone numbers in several spellings,
e-mail addresses and serial numbers of random customers, as an agent (every ticket) and as a
supervisor of one region. Prints p50/p95/p99 per kind and for the count alone.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ANCHOR = "2026-11-24T00:00:00+08:00"
TEMPLATE_TICKETS = 20_000
CUSTOMERS = 20_000
GIN = "tickets_search_document_gin"


def label(size: int) -> str:
    return f"{size // 1_000_000}m" if size % 1_000_000 == 0 else f"{size // 1000}k"


def build(base: str, size: int, data_dir: Path, reuse: bool, template: str = "") -> str:
    name = f"aftersales_search_bench_{label(size)}"
    url = f"{base.rstrip('/')}/{name}"
    if reuse:
        try:
            with psycopg.connect(url, connect_timeout=5) as conn:
                count = conn.execute("SELECT count(*) FROM tickets_ticketsearchdocument").fetchone()[0]
            if count >= size:
                print(f"reusing {name} ({count} documents)", flush=True)
                return url
        except psycopg.Error:
            pass
    assert name.startswith("aftersales_search_bench_")  # only ever drop the benchmark's own databases
    with psycopg.connect(f"{base.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if template:
            # A smaller size already built: copy its files and only add the missing tickets.
            assert template.startswith("aftersales_search_bench_")
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            conn.execute(f'CREATE DATABASE "{name}"')
    if template:
        started = time.monotonic()
        with psycopg.connect(url, autocommit=True) as conn:
            copy_tickets(conn, size, TEMPLATE_TICKETS)
        print(f"topped {template} up to {size} tickets in {time.monotonic() - started:.0f} s", flush=True)
        return url
    env = {**os.environ, "AFTERSALES_DATABASE_URL": url, "AFTERSALES_DATA_DIR": str(data_dir)}
    subprocess.run([BIN / "aftersales", "migrate", "--noinput", "-v", "0"], env=env, check=True)
    seed = min(size, TEMPLATE_TICKETS)
    started = time.monotonic()
    subprocess.run(
        [
            BIN / "aftersales",
            "seed_demo",
            "--tickets",
            str(seed),
            "--customers",
            str(CUSTOMERS),
            "--now",
            ANCHOR,
        ]
        + ["-v", "0"],
        env=env,
        check=True,
    )
    print(
        f"seed_demo {seed} tickets (with their search documents): {time.monotonic() - started:.0f} s",
        flush=True,
    )
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        copy_tickets(conn, size, seed)
    print(f"copied up to {size} tickets in {time.monotonic() - started:.0f} s", flush=True)
    return url


def copy_tickets(conn: psycopg.Connection, size: int, seed: int) -> None:
    columns = [
        row[0]
        for row in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'tickets_ticket' "
            "ORDER BY ordinal_position"
        )
    ]
    replaced = {
        "id": "t.id + %(offset)s",
        "number": "'B' || lpad(%(round)s::text, 3, '0') || t.number",
        "customer_id": "c.ids[1 + ((t.id * 7919 + %(round)s * 104729) %% cardinality(c.ids))]",
        "contact_id": "NULL",
        "installed_product_id": "NULL",
        "merged_into_id": "NULL",
        "created_at": "t.created_at - make_interval(days => %(round)s * 30)",
        "updated_at": "t.updated_at - make_interval(days => %(round)s * 30)",
        "status_changed_at": "t.status_changed_at - make_interval(days => %(round)s * 30)",
        "resolved_at": "t.resolved_at - make_interval(days => %(round)s * 30)",
        "closed_at": "t.closed_at - make_interval(days => %(round)s * 30)",
        "first_responded_at": "t.first_responded_at - make_interval(days => %(round)s * 30)",
    }
    select = ", ".join(replaced.get(column, f"t.{column}") for column in columns)
    max_id = conn.execute("SELECT max(id) FROM tickets_ticket WHERE number LIKE 'T%%'").fetchone()[0]
    existing = conn.execute("SELECT count(*) FROM tickets_ticket").fetchone()[0]
    conn.execute(f"DROP INDEX IF EXISTS {GIN}")
    first = existing // seed  # rounds already copied (a template database)
    rounds = (size + seed - 1) // seed - 1
    for round_number in range(first, rounds + 1):
        offset = round_number * (max_id + 1)
        limit = min(seed, size - seed * round_number)
        params = {"offset": offset, "round": round_number, "limit": limit}
        with conn.transaction():
            conn.execute(
                f"INSERT INTO tickets_ticket ({', '.join(columns)}) "  # noqa: S608 - our own column names
                f"SELECT {select} FROM (SELECT * FROM tickets_ticket WHERE number LIKE 'T%%' "
                "ORDER BY id LIMIT %(limit)s) t, "
                "(SELECT array_agg(id ORDER BY id) AS ids FROM customers_customer) c",
                params,
            )
            conn.execute(
                "INSERT INTO tickets_ticketsearchdocument (ticket_id, public_terms, note_terms) "
                "SELECT d.ticket_id + %(offset)s, d.public_terms, d.note_terms "
                "FROM tickets_ticketsearchdocument d JOIN tickets_ticket t ON t.id = d.ticket_id "
                "WHERE t.number LIKE 'T%%' ORDER BY t.id LIMIT %(limit)s",
                params,
            )
        print(f"  round {round_number}/{rounds}", end="\r", flush=True)
    started = time.monotonic()
    conn.execute(f"CREATE INDEX {GIN} ON tickets_ticketsearchdocument USING gin (document)")
    print(f"\nGIN index built in {time.monotonic() - started:.0f} s", flush=True)
    conn.execute("VACUUM ANALYZE")


# --- measuring -------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def spellings(national: str) -> list[str]:
    return [
        national,
        f"+86 {national[:3]}-{national[3:7]}-{national[7:]}",
        f"{national[:3]} {national[3:7]} {national[7:]}",
        f"0086{national}",
    ]


def queries(rng: random.Random, per_kind: int) -> list[tuple[str, str]]:
    from django.db import connection

    from aftersales.core.segmentation import is_cjk_term

    mix: list[tuple[str, str]] = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(ticket_id) FROM tickets_ticketsearchdocument")
        top = cursor.fetchone()[0]
        words: list[list[str]] = []
        while len(words) < per_kind * 2:
            cursor.execute(
                "SELECT public_terms FROM tickets_ticketsearchdocument WHERE ticket_id >= %s ORDER BY ticket_id LIMIT 1",
                [rng.randint(1, top)],
            )
            row = cursor.fetchone()
            terms = [term for term in (row[0].split() if row else []) if is_cjk_term(term) and len(term) > 1]
            if len(terms) >= 2:
                words.append(terms)
        mix += [("word", rng.choice(terms)) for terms in words[:per_kind]]
        for terms in words[per_kind:]:
            first, second = rng.sample(terms, 2)
            mix.append(("two words", f"{first} {second}"))
        cursor.execute(
            "SELECT phone, email FROM customers_customer WHERE phone <> '' AND email <> '' ORDER BY random() LIMIT %s",
            [per_kind],
        )
        for phone, email in cursor.fetchall():
            national = "".join(char for char in phone if char.isdigit())[-11:]
            mix.append(("phone", rng.choice(spellings(national))))
            mix.append(("e-mail", email.lower()))
        cursor.execute(
            "SELECT serial_number FROM assets_installedproduct ORDER BY random() LIMIT %s", [per_kind]
        )
        mix += [("serial", row[0]) for row in cursor.fetchall()]
    rng.shuffle(mix)
    return mix


def measure(per_kind: int, seed: int) -> list[str]:
    import django

    django.setup()
    from django.db import connection

    from aftersales.core.models import Region, User
    from aftersales.core.roles import Role
    from aftersales.tickets import search
    from aftersales.tickets.selectors import (
        TicketFilters,
        ticket_count_capped,
        ticket_list_for_user,
        visible_tickets,
    )

    rng = random.Random(seed)
    agent = User.objects.filter(role=Role.AGENT, is_active=True).order_by("id").first()
    supervisor, _ = User.objects.get_or_create(
        username="bench-supervisor@example.com",
        defaults={"role": Role.SUPERVISOR, "email": "bench-supervisor@example.com"},
    )
    region = Region.objects.filter(tickets__isnull=False).order_by("id").first()
    supervisor.regions.set([region])
    mix = queries(rng, per_kind)
    lines = []
    for who, user in (("agent", agent), ("supervisor (one region)", supervisor)):
        # Warm-up: jieba's dictionary, the connection, the plan cache of the database.
        for _kind, q in mix[:10]:
            ticket_list_for_user(user=user, filters=TicketFilters(q=q))
        timings: dict[str, list[float]] = {}
        counts: list[float] = []
        capped = 0
        for kind, q in mix:
            started = time.perf_counter()
            page = ticket_list_for_user(user=user, filters=TicketFilters(q=q))
            elapsed = (time.perf_counter() - started) * 1000
            timings.setdefault(kind, []).append(elapsed)
            timings.setdefault("all", []).append(elapsed)
            capped += page.total_is_capped
            filters = TicketFilters(q=q)
            filters.search_notes = True
            started = time.perf_counter()
            ticket_count_capped(filters.apply(visible_tickets(user)), cap=search.COUNT_CAP)
            counts.append((time.perf_counter() - started) * 1000)
        lines.append(f"\n{who}: {len(mix)} searches (page of 25 + capped count), {capped} over the cap")
        lines.append(
            f"| {'kind':<10} | {'n':>4} | {'p50 ms':>7} | {'p95 ms':>7} | {'p99 ms':>7} | {'max ms':>7} |"
        )
        lines.append(f"|{'-' * 12}|{'-' * 6}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 9}|")
        for kind, values in [
            *sorted((k, v) for k, v in timings.items() if k != "all"),
            ("all", timings["all"]),
        ]:
            lines.append(
                f"| {kind:<10} | {len(values):>4} | {statistics.median(values):>7.1f} | "
                f"{percentile(values, 0.95):>7.1f} | {percentile(values, 0.99):>7.1f} | {max(values):>7.1f} |"
            )
        lines.append(
            f"| {'count only':<10} | {len(counts):>4} | {statistics.median(counts):>7.1f} | "
            f"{percentile(counts, 0.95):>7.1f} | {percentile(counts, 0.99):>7.1f} | {max(counts):>7.1f} |"
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tickets_ticket")
        lines.insert(0, f"tickets: {cursor.fetchone()[0]}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--reuse", action="store_true", help="keep the database if it is already built")
    parser.add_argument("--per-kind", type=int, default=100, help="queries of each kind")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--template", default="", help="a smaller bench database to start from (copied)")
    args = parser.parse_args()
    data_dir = ROOT / "var" / "bench-search"
    data_dir.mkdir(parents=True, exist_ok=True)
    url = build(args.pg, args.size, data_dir, args.reuse, args.template)
    os.environ.update(
        {
            "AFTERSALES_DATABASE_URL": url,
            "AFTERSALES_DATA_DIR": str(data_dir),
            "DJANGO_SETTINGS_MODULE": "aftersales.settings",
        }
    )
    for line in measure(args.per_kind, args.seed):
        print(line)


if __name__ == "__main__":
    main()
