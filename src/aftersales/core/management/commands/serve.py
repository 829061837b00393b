"""Run web, worker and scheduler together: the embedded default of one machine."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


def serve_url(host: str, port: int) -> str:
    """The address a browser uses for ``--host``/``--port``: a wildcard host (all interfaces)
    becomes this machine's name, an IPv6 address gets its brackets."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - naming the wildcard, not binding to it
        host = socket.gethostname() or "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


class Command(BaseCommand):
    help = "Serve the platform: gunicorn web server, a Celery worker and the Celery scheduler."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--web-workers", type=int, default=2)
        # Threads per worker (gthread): each open chat widget or console Chat page holds one
        # thread for its Server-Sent Events stream (up to a minute, then it reconnects).
        parser.add_argument("--threads", type=int, default=16)
        # The worker's tasks mostly wait on the database, the SMTP server and webhook receivers:
        # threads overlap those waits (docs/benchmarks.md, "Soak with faults").
        parser.add_argument("--worker-threads", type=int, default=4)
        parser.add_argument("--no-worker", action="store_true", help="serve the web only")

    def handle(self, *args: Any, **options: Any) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "aftersales.settings",
            "AFTERSALES_DATA_DIR": str(settings.DATA_DIR),
            # Tracking links in e-mail follow the address served (AFTERSALES_PUBLIC_URL wins).
            "AFTERSALES_SERVE_URL": serve_url(options["host"], options["port"]),
        }
        commands = [
            [
                sys.executable,
                "-m",
                "gunicorn",
                "aftersales.wsgi:application",
                "--bind",
                f"{options['host']}:{options['port']}",
                "--workers",
                str(options["web_workers"]),
                "--threads",
                str(options["threads"]),
                "--no-control-socket",  # several servers on one machine must not share one socket
                "--worker-class",
                "gthread",
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "10",
            ],
        ]
        if not options["no_worker"]:
            commands.append(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "aftersales",
                    "worker",
                    "--beat",
                    "--loglevel",
                    "INFO",
                    "--pool",
                    "threads",
                    "--concurrency",
                    str(options["worker_threads"]),
                    "--schedule",
                    str(settings.DATA_DIR / "celerybeat-schedule"),
                ]
            )
        processes = [subprocess.Popen(command, env=env) for command in commands]  # noqa: S603
        self.stdout.write(f"aftersales serving on http://{options['host']}:{options['port']}/")

        def stop(_signum: int, _frame: Any) -> None:
            for process in processes:
                if process.poll() is None:
                    process.terminate()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while all(process.poll() is None for process in processes):
                time.sleep(0.5)
        finally:
            stop(signal.SIGTERM, None)
            deadline = time.monotonic() + 15
            for process in processes:
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
        failed = [p.returncode for p in processes if p.returncode not in (0, -signal.SIGTERM, None)]
        if failed:
            raise SystemExit(failed[0])
