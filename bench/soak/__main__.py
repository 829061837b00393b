"""Soak with faults: the distributed topology on one machine under mixed traffic while a worker
is killed, Redis restarts, SMTP refuses and the webhook receiver fails; then the books are checked.

    .venv/bin/python -m bench.soak --duration 90 --clients 16      # a short run while developing
    make soak                                                      # 10 minutes, 32 clients

See docs/benchmarks.md, "Soak with faults". Exit status 0 when every check passed, 1 when one
failed, 2 when the run itself could not be completed (set-up failed, time ran out, Ctrl-C).
Every process it started is stopped on the way out."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import secrets
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from . import checks, report
from .sink_process import SinkProcess
from .topology import (
    ROOT,
    Supervisor,
    aftersales,
    beat_argv,
    free_port,
    gunicorn_argv,
    redis_argv,
    wait_for_port,
    worker_argv,
)
from .traffic import Facts, Load

SEED_ANCHOR = "2026-11-24T00:00:00+08:00"


class RunAborted(Exception):
    pass


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of traffic (default 600)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients, 16–64 (default 32)")
    parser.add_argument("--think-ms", default="50-250", help="pause between a client's requests, ms (range)")
    parser.add_argument(
        "--fault-seconds", type=float, default=60, help="length of the SMTP and webhook faults"
    )
    parser.add_argument(
        "--smtp-refusal",
        choices=["closed+data", "rcpt"],
        default="closed+data",
        help="how SMTP refuses: port closed then 451 at DATA (default), or 450 at RCPT (greylisting)",
    )
    parser.add_argument(
        "--drain-timeout", type=float, default=300, help="longest wait for the queues to drain"
    )
    parser.add_argument(
        "--grace", type=float, default=15, help="seconds after a fault in which 5xx are excused"
    )
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--database", default="aftersales_soak", help="dropped and created at start")
    parser.add_argument("--redis-port", type=int, default=6391, help="the harness's own redis-server")
    parser.add_argument("--web-threads", type=int, default=8, help="threads per web process")
    parser.add_argument(
        "--worker-threads", type=int, default=4, help="threads per worker (as `aftersales serve`)"
    )
    parser.add_argument("--seed-tickets", type=int, default=50, help="demo tickets seeded before the run")
    parser.add_argument("--workdir", type=Path, help="logs, data directory, results (default: a temp dir)")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="one more environment variable for the platform's processes (repeatable)",
    )
    parser.add_argument("--max-wall", type=float, help="hard limit on the whole run, seconds")
    args = parser.parse_args(argv)
    if not args.database.startswith("aftersales_soak"):
        parser.error("--database must start with aftersales_soak (it is dropped)")
    low, _, high = args.think_ms.partition("-")
    args.think = (int(low), int(high or low))
    if args.max_wall is None:
        args.max_wall = args.duration + args.drain_timeout + 900
    return args


def app_env(args: argparse.Namespace, workdir: Path, smtp_port: int) -> dict[str, str]:
    broker = f"redis://127.0.0.1:{args.redis_port}/0"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aftersales.settings",
        "PYTHONPATH": str(ROOT),
        "AFTERSALES_DATABASE_URL": f"{args.pg.rstrip('/')}/{args.database}",
        "AFTERSALES_BROKER_URL": broker,
        "AFTERSALES_DATA_DIR": str(workdir / "data"),
        "AFTERSALES_SECRET_KEY": secrets.token_urlsafe(40),
        "AFTERSALES_DEBUG": "0",
        "AFTERSALES_LOG_LEVEL": "WARNING",
        "AFTERSALES_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}?timeout=10",
        "AFTERSALES_MAIL_FROM": "service@soak.example",
        # The soak measures loss and duplication, not the throttles: one address sends everything.
        "AFTERSALES_API_RATE_PER_MINUTE": "0",
        "AFTERSALES_CHAT_BOT": "0",
        "AFTERSALES_CHAT_RATE_PER_IP": "0",
        "AFTERSALES_CHAT_RATE_PER_CONVERSATION": "0",
        "AFTERSALES_CHAT_STARTS_PER_IP_HOUR": "0",
        # The harness's webhook receiver listens on 127.0.0.1, which the platform refuses by default.
        "AFTERSALES_WEBHOOK_ALLOW_PRIVATE": "1",
    }
    for item in args.env:
        name, _, value = item.partition("=")
        env[name] = value
    # A shared cache on the same Redis, once the settings read one.
    if "AFTERSALES_CACHE_URL" in (ROOT / "src" / "aftersales" / "settings.py").read_text():
        env["AFTERSALES_CACHE_URL"] = f"redis://127.0.0.1:{args.redis_port}/1"
    return env


def prepare_database(args: argparse.Namespace, env: dict[str, str], receiver_url: str) -> dict[str, Any]:
    with psycopg.connect(f"{args.pg.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    log("migrating")
    aftersales("migrate", "--noinput", "-v", "0", env=env)
    log(f"seeding the demo company ({args.seed_tickets} tickets)")
    aftersales("seed_demo", "--tickets", str(args.seed_tickets), "--now", SEED_ANCHOR, env=env)
    import subprocess

    out = subprocess.run(
        [sys.executable, "-m", "bench.soak.seed", receiver_url],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    facts: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    facts["agent_token"] = (
        aftersales("create_token", "agent@demo.aftersales.cn", env=env).strip().splitlines()[-1]
    )
    facts["admin_token"] = (
        aftersales("create_token", "admin@demo.aftersales.cn", env=env).strip().splitlines()[-1]
    )
    return facts


_started = time.monotonic()


def log(text: str) -> None:
    print(f"[soak {time.monotonic() - _started:7.1f}s] {text}", flush=True)


class Soak:
    def __init__(self, args: argparse.Namespace, workdir: Path):
        self.args = args
        self.workdir = workdir
        self.sinks = SinkProcess(free_port(), free_port(), workdir)
        self.smtp = self.sinks.smtp
        self.receiver = self.sinks.receiver
        self.env = app_env(args, workdir, self.smtp.port)
        self.supervisor = Supervisor(workdir, self.env)
        self.web_ports = [free_port(), free_port()]
        self.windows: list[checks.Window] = []
        self.killed: set[str] = set()
        self.unexpected_deaths: list[str] = []
        self.lock_waits: list[tuple[float, int, str]] = []  # (when, queries waiting, oldest query)
        self._monitor: psycopg.Connection[Any] | None = None
        self.loop_lag: tuple[float, float] = (0.0, 0.0)  # the worst lag of the load generator, and when

    # -- topology -------------------------------------------------------------------------------

    def start_redis(self) -> None:
        self.supervisor.start("redis", redis_argv(self.args.redis_port, self.workdir))
        if not wait_for_port(self.args.redis_port, 15):
            raise RunAborted(f"redis-server did not listen on {self.args.redis_port} (port taken?)")

    def start_services(self) -> None:
        for n, port in enumerate(self.web_ports, 1):
            self.supervisor.start(f"web{n}", gunicorn_argv(port, self.args.web_threads))
        self.supervisor.start("worker1", worker_argv("soak-w1", self.args.worker_threads))
        self.supervisor.start("worker2", worker_argv("soak-w2", self.args.worker_threads))
        self.supervisor.start("beat", beat_argv(self.workdir))
        for port in self.web_ports:
            if not wait_for_port(port, 60):
                raise RunAborted(f"gunicorn did not listen on {port}; see {self.workdir}/logs")
            deadline = time.monotonic() + 180
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=30).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RunAborted(f"/readyz on {port} never answered 200")
                time.sleep(1)

    # -- faults ---------------------------------------------------------------------------------

    async def faults(self, duration: float, t0: float) -> None:
        length = min(self.args.fault_seconds, max(10.0, duration * 0.2))

        async def at(fraction: float) -> None:
            await asyncio.sleep(max(0.0, t0 + duration * fraction - time.time()))

        await at(0.15)
        start = time.time()
        self.killed.add("worker1")
        await asyncio.to_thread(self.supervisor.kill, "worker1")
        log("fault: worker1 killed with SIGKILL")
        await asyncio.sleep(20)
        self.supervisor.start("worker1b", worker_argv("soak-w1b", self.args.worker_threads))
        log("fault: replacement worker1b started")
        self.windows.append(
            checks.Window("worker killed", start, time.time(), "kill -9 worker1; worker1b 20 s later")
        )

        await at(0.35)
        start = time.time()
        self.killed.add("redis")
        await asyncio.to_thread(self.supervisor.stop, "redis", 10)
        log("fault: redis stopped")
        await asyncio.sleep(5)
        self.supervisor.start("redis", redis_argv(self.args.redis_port, self.workdir))
        while not await asyncio.to_thread(wait_for_port, self.args.redis_port, 1):
            pass
        self.killed.discard("redis")
        log("fault: redis started again (empty: no persistence)")
        self.windows.append(
            checks.Window("Redis restarted", start, time.time(), "stopped, started 5 s later, empty")
        )

        await at(0.5)
        start = time.time()
        if self.args.smtp_refusal == "rcpt":
            await asyncio.to_thread(self.smtp.fail, "rcpt")
            log("fault: SMTP answers 450 at RCPT (greylisting)")
            await asyncio.sleep(length)
            detail = f"450 at RCPT for {length:.0f} s"
        else:
            await asyncio.to_thread(self.smtp.fail, "closed")
            log("fault: SMTP port closed")
            await asyncio.sleep(length / 2)
            await asyncio.to_thread(self.smtp.fail, "data")
            log("fault: SMTP answers 451 at DATA")
            await asyncio.sleep(length / 2)
            detail = f"{length / 2:.0f} s port closed, then 451 at DATA"
        await asyncio.to_thread(self.smtp.heal)
        log("fault: SMTP accepting again")
        self.windows.append(checks.Window("SMTP refusing", start, time.time(), detail))

        await at(0.65)
        start = time.time()
        self.receiver.failing = True
        log("fault: webhook receiver answers 500")
        await asyncio.sleep(length)
        self.receiver.failing = False
        log("fault: webhook receiver answers 200 again")
        self.windows.append(
            checks.Window("webhook receiver failing", start, time.time(), f"500 for {length:.0f} s")
        )

    async def watch(self, stop: asyncio.Event) -> None:
        """Note children that die on their own (not one the faults killed), and how late the
        harness's own event loop wakes up (a stalled load generator would look like a stalled server)."""
        while not stop.is_set():
            expected = time.monotonic() + 1
            await asyncio.sleep(1)
            lag = time.monotonic() - expected
            if lag > self.loop_lag[0]:
                self.loop_lag = (lag, time.time())
            with contextlib.suppress(Exception):
                sample = await asyncio.to_thread(self.lock_sample)
                if sample[0]:
                    self.lock_waits.append((time.time(), *sample))
            for name in self.supervisor.dead():
                if name not in self.killed and name not in self.unexpected_deaths:
                    self.unexpected_deaths.append(name)
                    log(f"!! {name} exited by itself (see {self.workdir}/logs/{name}.log)")

    async def drive(self, load: Load) -> tuple[float, float]:
        stop = asyncio.Event()
        t0 = time.time()
        watcher = asyncio.create_task(self.watch(stop))
        faults = asyncio.create_task(self.faults(self.args.duration, t0))
        try:
            await load.run(self.args.duration, stop)
            await faults  # they all end inside the duration; this waits for a slow restart
        finally:
            stop.set()
            faults.cancel()
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await faults
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        return t0, time.time()

    def lock_sample(self) -> tuple[int, str]:
        """How many of the platform's queries wait for a lock now, and the oldest running query."""
        if self._monitor is None:
            self._monitor = psycopg.connect(self.env["AFTERSALES_DATABASE_URL"], autocommit=True)
        row = self._monitor.execute(
            "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'),"
            " (SELECT left(query, 160) FROM pg_stat_activity WHERE datname = current_database()"
            "  AND state <> 'idle' AND pid <> pg_backend_pid() ORDER BY xact_start LIMIT 1)"
            " FROM pg_stat_activity WHERE datname = current_database()"
        ).fetchone()
        return (int(row[0]), str(row[1] or "")) if row else (0, "")

    # -- drain ----------------------------------------------------------------------------------

    def backlog(self, conn: psycopg.Connection[Any]) -> dict[str, int]:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM mail_outboundemail WHERE status IN ('queued', 'sending')),"
            " (SELECT count(*) FROM webhooks_webhookdelivery WHERE status IN ('pending', 'delivering')),"
            " (SELECT count(*) FROM mail_inboundemail WHERE status = 'pending')"
        ).fetchone()
        assert row is not None
        return {"e-mail queued": row[0], "webhooks pending": row[1], "inbound mail pending": row[2]}

    def drain(self, conn: psycopg.Connection[Any]) -> tuple[float, dict[str, int]]:
        started = time.monotonic()
        deadline = started + self.args.drain_timeout
        quiet = 0
        last_report = 0.0
        while True:
            counts = self.backlog(conn)
            quiet = quiet + 1 if not any(counts.values()) else 0
            if quiet >= 3 or time.monotonic() > deadline:
                return time.monotonic() - started, counts
            if time.monotonic() - last_report > 15:
                log(f"draining: {counts}")
                last_report = time.monotonic()
            time.sleep(2)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="aftersales-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "data").mkdir(exist_ok=True)

    def abort(signum: int, _frame: Any) -> None:
        raise RunAborted(f"stopped by signal {signal.Signals(signum).name}")

    # A hard bound on the whole run, and a clean stop on SIGTERM.
    signal.signal(signal.SIGALRM, abort)
    signal.signal(signal.SIGTERM, abort)
    # Ctrl-C raises KeyboardInterrupt even when SIGINT came in ignored (a background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.alarm(int(args.max_wall))
    soak = Soak(args, workdir)
    log(f"work directory {workdir}; {args.clients} clients for {args.duration:.0f} s")
    status = 2
    try:
        soak.sinks.start()
        soak.start_redis()
        facts = prepare_database(args, soak.env, soak.receiver.url)
        soak.receiver.secret = facts["endpoint_secret"]
        log("starting 2 web processes, 2 workers, beat")
        soak.start_services()
        run = "SK" + secrets.token_hex(3)
        load = Load(
            Facts(
                run=run,
                ports=soak.web_ports,
                agent_token=facts["agent_token"],
                admin_token=facts["admin_token"],
                source_key=facts["source_key"],
                source_secret=facts["source_secret"],
                chat_key=facts["chat_key"],
                customers=[tuple(c) for c in facts["customers"]],
            ),
            clients=args.clients,
            think_ms=args.think,
        )
        log(f"traffic starts (run id {run})")
        t0, t1 = asyncio.run(soak.drive(load))
        log(
            f"traffic stopped: {len(load.requests)} requests; {load.mail_pending} posted e-mails answered pending"
        )
        db_url = soak.env["AFTERSALES_DATABASE_URL"]
        with psycopg.connect(db_url, autocommit=True) as conn:
            drain_seconds, left = soak.drain(conn)
            log(f"drained in {drain_seconds:.0f} s, left: {left}")
            for name in soak.supervisor.dead():
                if name not in soak.unexpected_deaths:
                    soak.unexpected_deaths.append(name)
            soak.supervisor.stop_all()
            soak.sinks.collect()
            results = [
                checks.check_tickets(conn, load),
                *checks.check_messages(conn, load),
                checks.check_transitions(conn, load),
                checks.check_mail_intake(conn, t0),
                checks.check_server_errors(load, soak.windows, args.grace, t0),
                *checks.check_outbound(
                    conn, t0, soak.smtp.log.accepted, soak.receiver.log.accepted, soak.receiver.bad_signatures
                ),
                checks.check_notified(load, soak.smtp.log.accepted, soak.receiver.log.accepted),
                checks.check_traffic_got_through(load),
                checks.Check(
                    f"queues drained within {args.drain_timeout:.0f} s",
                    not any(left.values()),
                    f"{drain_seconds:.0f} s; left {left}",
                ),
                checks.Check(
                    "no process died by itself",
                    not soak.unexpected_deaths,
                    ", ".join(soak.unexpected_deaths) or "none",
                ),
            ]
        text = "\n\n".join(
            [
                f"## Soak {run}: {args.clients} clients, {t1 - t0:.0f} s of traffic, "
                f"2 web × {args.web_threads} threads, 2 workers, beat, PostgreSQL, Redis",
                report.requests_table(load.requests, t1 - t0),
                report.faults_table(soak.windows, t0)
                + f"\n\nSMTP refusals seen: {soak.smtp.log.refused}; webhook 500s served: {soak.receiver.log.refused}; "
                f"the load generator's worst event-loop lag: {soak.loop_lag[0]:.1f} s at +{soak.loop_lag[1] - t0:.0f} s; "
                + report.lock_summary(soak.lock_waits, t0),
                report.checks_table(results),
            ]
        )
        print("\n" + text + "\n", flush=True)
        (workdir / "report.md").write_text(text + "\n")
        (workdir / "results.json").write_text(
            json.dumps(
                {
                    "run": run,
                    "t0": t0,
                    "t1": t1,
                    "windows": [dataclasses.asdict(w) for w in soak.windows],
                    "loop_lag": soak.loop_lag,
                    "lock_waits": soak.lock_waits,
                    "checks": [dataclasses.asdict(c) for c in results],
                    "requests": [dataclasses.asdict(r) for r in load.requests],
                    "writes": [{**dataclasses.asdict(w), "tickets": sorted(w.tickets)} for w in load.writes],
                },
                ensure_ascii=False,
                default=str,
            )
        )
        failed = [c.name for c in results if not c.passed]
        log(f"{'FAILED: ' + '; '.join(failed) if failed else 'all checks passed'} (details in {workdir})")
        status = 1 if failed else 0
    except (RunAborted, KeyboardInterrupt) as exc:
        log(f"aborted: {str(exc) or 'Ctrl-C'}")
    except Exception as exc:  # noqa: BLE001 - report, clean up, exit 2
        log(f"the run failed: {exc.__class__.__name__}: {exc}")
        import traceback

        traceback.print_exc()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip the clean-up
        soak.supervisor.stop_all()
        soak.sinks.close()
        if soak._monitor is not None:
            soak._monitor.close()
        log(f"all processes stopped; logs in {workdir}/logs")
    return status


if __name__ == "__main__":
    sys.exit(main())
