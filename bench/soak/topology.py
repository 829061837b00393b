"""The processes of the distributed set-up on one machine, and how to stop every one of them.

Each child runs in its own session (so a signal to it reaches what it forks too) under
``setpriv --pdeathsig KILL``: if the harness itself dies, even by SIGKILL, the kernel kills its
children. ``stop_all`` terminates, waits, then kills whatever is left."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
        time.sleep(0.2)
    return False


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes]
    log: Path


class Supervisor:
    """Starts named children, kills them on purpose (the faults) and all of them at the end."""

    def __init__(self, workdir: Path, env: dict[str, str]):
        self.workdir = workdir
        self.env = env
        self.children: dict[str, Child] = {}
        self.finished: list[Child] = []
        self._prefix = ["setpriv", "--pdeathsig", "KILL", "--"] if shutil.which("setpriv") else []

    def start(self, name: str, argv: list[str]) -> Child:
        log = self.workdir / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            process = subprocess.Popen(
                [*self._prefix, *argv],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        child = Child(name=name, argv=argv, process=process, log=log)
        self.children[name] = child
        return child

    def signal(self, name: str, signum: int) -> None:
        child = self.children[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.process.pid, signum)

    def kill(self, name: str) -> None:
        """SIGKILL the child's whole process group (no clean-up runs, as in a crash)."""
        self.signal(name, signal.SIGKILL)
        child = self.children.pop(name)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.process.wait(timeout=10)
        self.finished.append(child)

    def stop(self, name: str, timeout: float = 15) -> None:
        child = self.children.pop(name)
        self._terminate([child], timeout)
        self.finished.append(child)

    def dead(self) -> list[str]:
        """Children that exited without being told to."""
        return [name for name, child in self.children.items() if child.process.poll() is not None]

    def stop_all(self, timeout: float = 20) -> None:
        children = list(self.children.values())
        self.children.clear()
        self._terminate(children, timeout)
        self.finished.extend(children)

    @staticmethod
    def _terminate(children: list[Child], timeout: float) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for child in children:
            # The group too: a gunicorn master's workers, anything a child forked.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=5)


def redis_argv(port: int, workdir: Path) -> list[str]:
    return [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(workdir),
        "--protected-mode",
        "yes",
    ]


def gunicorn_argv(port: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "aftersales.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--no-control-socket",
        "--graceful-timeout",
        "10",
        "--timeout",
        "60",
    ]


def worker_argv(name: str, threads: int = 4) -> list[str]:
    # As `aftersales serve` runs its worker: the thread pool, ``--worker-threads`` (4) at a time.
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "aftersales",
        "worker",
        "--pool",
        "threads",
        "--concurrency",
        str(threads),
        "--hostname",
        f"{name}@%h",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
    ]


def beat_argv(workdir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "aftersales",
        "beat",
        "--loglevel",
        "INFO",
        "--schedule",
        str(workdir / "celerybeat-schedule"),
        "--pidfile",
        str(workdir / "celerybeat.pid"),
    ]


def aftersales(*args: str, env: dict[str, str], timeout: float = 600) -> str:
    """Run one ``aftersales`` command to completion; its standard output."""
    result = subprocess.run(
        [str(BIN / "aftersales"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"aftersales {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        )
    return result.stdout
