"""The API benchmark behind ``make bench``.

For each size (default 100k and 1M tickets): seed a PostgreSQL database with ``seed_demo``
(timed, unless ``--reuse`` finds it already seeded), serve it with gunicorn on 127.0.0.1 (2
workers × 4 threads, gthread, as ``aftersales serve`` does), and from a separate process
(``bench/api_load.py``) measure

* the filtered first queue page ``GET /api/v1/tickets?status=new&team=<id>&limit=25``,
* a ticket read ``GET /api/v1/tickets/{number}``,

at 1 and at 16 concurrent clients, and ticket creation ``POST /api/v1/tickets`` at 16 clients
for 30 s. The queue query's PostgreSQL plan is captured too. Figures are printed as a table and
written to ``docs/benchmarks.md`` between the generated-results markers.

    .venv/bin/python bench/run_all.py                       # 100k and 1M, ~35 min on 2 cores
    .venv/bin/python bench/run_all.py --sizes 100000 --reuse

The e-mail intake benchmark runs on its own: ``.venv/bin/python bench/mail_ingest.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
ANCHOR = "2026-11-24T00:00:00+08:00"  # fixed, so every run seeds the same data
QUEUE_SQL = """
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT t.*, c.*, u.*, tm.*, r.*
FROM tickets_ticket t
JOIN customers_customer c ON c.id = t.customer_id
LEFT JOIN core_user u ON u.id = t.assignee_id
LEFT JOIN core_team tm ON tm.id = t.team_id
LEFT JOIN core_region r ON r.id = t.region_id
WHERE t.status IN ('new') AND t.team_id = %s
ORDER BY t.id DESC LIMIT 26
"""
OPEN_SQL = QUEUE_SQL.replace(
    "t.status IN ('new')",
    "t.status IN ('new', 'accepted', 'diagnosing', 'solution_proposed', 'in_service', 'waiting_on_customer', 'reopened')",
)


def label(size: int) -> str:
    return f"{size // 1_000_000}m" if size % 1_000_000 == 0 else f"{size // 1000}k"


def database_url(base: str, size: int) -> str:
    return f"{base.rstrip('/')}/aftersales_bench_{label(size)}"


def env_for(url: str, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "AFTERSALES_DATABASE_URL": url,
        "AFTERSALES_DATA_DIR": str(data_dir),
        "AFTERSALES_DEBUG": "0",
        "AFTERSALES_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "aftersales.settings",
    }


def ticket_count(url: str) -> int:
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            return int(
                conn.execute("SELECT count(*) FROM tickets_ticket WHERE number LIKE 'T%%'").fetchone()[0]
            )
    except psycopg.Error:
        return -1


def prepare(base: str, size: int, data_dir: Path, reuse: bool) -> float | None:
    """Create, migrate and seed the size's database; the seconds the seed took (None if reused)."""
    url = database_url(base, size)
    if reuse and ticket_count(url) >= size:
        print(f"[{label(size)}] reusing {url}", flush=True)
        return None
    name = url.rsplit("/", 1)[1]
    assert name.startswith("aftersales_bench_")  # only ever drop the benchmark's own databases
    with psycopg.connect(f"{base.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = env_for(url, data_dir)
    subprocess.run([BIN / "aftersales", "migrate", "--noinput", "-v", "0"], env=env, check=True)
    print(f"[{label(size)}] seeding {size} tickets …", flush=True)
    started = time.monotonic()
    subprocess.run(
        [BIN / "aftersales", "seed_demo", "--tickets", str(size), "--now", ANCHOR], env=env, check=True
    )
    seconds = time.monotonic() - started
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return seconds


def facts(url: str) -> dict[str, object]:
    with psycopg.connect(url) as conn:
        teams = [row[0] for row in conn.execute("SELECT id FROM core_team ORDER BY id")]
        first, last = conn.execute("SELECT min(id), max(id) FROM customers_customer").fetchone()
        tickets = conn.execute("SELECT count(*) FROM tickets_ticket").fetchone()[0]
        new_per_team = dict(
            conn.execute(
                "SELECT team_id, count(*) FROM tickets_ticket WHERE status = 'new' AND team_id IS NOT NULL GROUP BY team_id"
            ).fetchall()
        )
        busiest = max(new_per_team, key=lambda team: new_per_team[team]) if new_per_team else teams[0]
        plan = "\n".join(row[0] for row in conn.execute(QUEUE_SQL, [busiest]))
        open_plan = "\n".join(row[0] for row in conn.execute(OPEN_SQL, [busiest]))
    return {
        "teams": teams,
        "customers": f"{first},{last}",
        "tickets": tickets,
        "new_per_team": new_per_team,
        "plan": plan,
        "open_plan": open_plan,
    }


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [
        str(BIN / "python"),
        "-m",
        "gunicorn",
        "aftersales.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--threads",
        "4",
        "--worker-class",
        "gthread",
        "--graceful-timeout",
        "5",
    ]
    server = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"the server did not come up; see {log}")


def load(
    port: int, token: str, scenario: str, clients: int, duration: float, info: dict[str, object], size: int
) -> dict[str, object]:
    command = [
        str(BIN / "python"),
        str(ROOT / "bench" / "api_load.py"),
        "--base",
        f"http://127.0.0.1:{port}",
        "--token",
        token,
        "--scenario",
        scenario,
        "--clients",
        str(clients),
        "--duration",
        str(duration),
        "--teams",
        ",".join(str(t) for t in info["teams"]),  # type: ignore[attr-defined]
        "--tickets",
        str(size),
        "--customers",
        str(info["customers"]),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    print(f"    {scenario:<6} {clients:>2} clients: {result}", flush=True)
    return result


def measure(base: str, size: int, data_dir: Path, port: int, duration: float, read_duration: float) -> dict:
    url = database_url(base, size)
    env = env_for(url, data_dir)
    token = (
        subprocess.run(
            [BIN / "aftersales", "create_token", "agent@demo.aftersales.cn", "--name", "bench"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    info = facts(url)
    server = start_server(env, port, data_dir / f"gunicorn-{label(size)}.log")
    results: dict[str, dict[str, object]] = {}
    try:
        load(port, token, "read", 4, 5, info, size)  # warm the workers and the cache
        for scenario in ("queue", "read"):
            for clients in (1, 16):
                results[f"{scenario}@{clients}"] = load(
                    port, token, scenario, clients, read_duration, info, size
                )
        results["open@1"] = load(port, token, "open", 1, read_duration, info, size)
        results["create@16"] = load(port, token, "create", 16, duration, info, size)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"size": size, "info": info, "results": results}


def render(runs: list[dict], seed_seconds: dict[int, float | None]) -> str:
    lines = [
        f"Measured {dt.datetime.now(tz=dt.UTC):%Y-%m-%d} on {platform.node() or 'this machine'}: {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, PostgreSQL on the same machine, gunicorn 2 workers × 4 threads "
        "(gthread), the load generator on the same 2 cores.",
        "",
    ]
    lines += [
        "| tickets | request | clients | rps | p50 ms | p95 ms | p99 ms | non-2xx |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        for key, result in run["results"].items():
            scenario, clients = key.split("@")
            name = {
                "queue": "queue page (status=new, team, limit 25)",
                "open": "open-work queue (7 open statuses, team, limit 25)",
                "read": "ticket read",
                "create": "create ticket",
            }[scenario]
            bad = int(result["requests"]) - int(result["ok"]) + int(result["errors"])
            lines.append(
                f"| {run['size']:,} | {name} | {clients} | {result['rps']} | {result['p50_ms']} | "
                f"{result['p95_ms']} | {result['p99_ms']} | {bad} |"
            )
    lines.append("")
    for size, seconds in seed_seconds.items():
        if seconds is not None:
            lines.append(
                f"- Seeding {size:,} tickets into PostgreSQL took {seconds:.0f} s "
                f"({seconds / size * 100_000:.0f} s per 100k, customers included)."
            )
    for run in runs:
        lines += [
            "",
            f"Queue query plan at {run['size']:,} tickets (busiest team; new tickets per team: "
            f"{run['info']['new_per_team']}):",
            "",
            "```",
            run["info"]["plan"],
            "```",
            "",
            f"Open-work queue plan at {run['size']:,} tickets:",
            "",
            "```",
            run["info"]["open_plan"],
            "```",
        ]
    return "\n".join(lines)


def write_doc(text: str) -> None:
    doc = DOC.read_text() if DOC.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in doc:
        doc += f"\n{BEGIN}\n{END}\n"
    head, rest = doc.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    DOC.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--pg",
        default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without a database name",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep a database already seeded with enough tickets"
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of create load")
    parser.add_argument("--read-duration", type=float, default=15.0, help="seconds per read scenario")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--no-kb", action="store_true", help="skip bench/kb_eval.py and bench/kb_latency.py")
    args = parser.parse_args()
    data_dir = Path(os.environ.get("BENCH_DATA_DIR", "/tmp/aftersales-bench"))
    data_dir.mkdir(parents=True, exist_ok=True)
    seed_seconds: dict[int, float | None] = {}
    runs = []
    for size in args.sizes:
        seed_seconds[size] = prepare(args.pg, size, data_dir, args.reuse)
        print(f"[{label(size)}] measuring …", flush=True)
        runs.append(measure(args.pg, size, data_dir, args.port, args.duration, args.read_duration))
    text = render(runs, seed_seconds)
    print(text)
    if not args.no_doc:
        write_doc(text)
        print(f"written to {DOC}")
    if not args.no_kb:  # knowledge search: retrieval quality and latency over 100k articles, both databases
        for script in ("kb_eval.py", "kb_latency.py"):
            subprocess.run(
                [
                    BIN / "python",
                    ROOT / "bench" / script,
                    "--pg",
                    args.pg,
                    *([] if args.no_doc else ["--doc"]),
                ],
                check=True,
            )


if __name__ == "__main__":
    main()
