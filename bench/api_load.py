"""Closed-loop HTTP load against a local aftersales server; prints one JSON line of figures.

Each of ``--clients`` threads sends one request, waits for the answer, and sends the next, for
``--duration`` seconds. Only 127.0.0.1/localhost is accepted as a target.

    python bench/api_load.py --base http://127.0.0.1:8765 --token as_… --scenario queue \
        --clients 16 --duration 30 --teams 1,2,3 --tickets 1000000 --customers 1,125000
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

OPEN_STATUSES = (
    "new",
    "accepted",
    "diagnosing",
    "solution_proposed",
    "in_service",
    "waiting_on_customer",
    "reopened",
)
SUBJECTS = (
    "智能马桶冲水无力",
    "龙头滴水",
    "热水器加热不工作",
    "花洒软管漏水",
    "浴室柜铰链损坏",
    "马桶底座漏水",
)


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def make_request(args: argparse.Namespace, rng: random.Random) -> Callable[[httpx.Client], httpx.Response]:
    teams = [int(t) for t in args.teams.split(",")] if args.teams else []
    first_customer, last_customer = (int(v) for v in args.customers.split(","))

    def queue(client: httpx.Client) -> httpx.Response:
        params = {"status": "new", "limit": "25"}
        if teams:
            params["team"] = str(rng.choice(teams))
        return client.get("/api/v1/tickets", params=params)

    def open_queue(client: httpx.Client) -> httpx.Response:
        params = [("status", status) for status in OPEN_STATUSES] + [("limit", "25")]
        if teams:
            params.append(("team", str(rng.choice(teams))))
        return client.get("/api/v1/tickets", params=params)

    def read(client: httpx.Client) -> httpx.Response:
        return client.get(f"/api/v1/tickets/T{rng.randint(1, args.tickets):07d}")

    def create(client: httpx.Client) -> httpx.Response:
        body = {
            "customer": rng.randint(first_customer, last_customer),
            "subject": rng.choice(SUBJECTS),
            "description": "压测创建的工单（bench/api_load.py）",
            "type": "repair",
            "channel": "phone",
            "priority": rng.choice(("normal", "high")),
        }
        return client.post("/api/v1/tickets", json=body)

    return {"queue": queue, "open": open_queue, "read": read, "create": create}[args.scenario]


def run(args: argparse.Namespace) -> dict[str, object]:
    host = urlsplit(args.base).hostname
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit("this load generator only targets 127.0.0.1")
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + args.duration

    def worker(number: int) -> None:
        nonlocal errors
        rng = random.Random(args.seed * 1000 + number)
        request = make_request(args, rng)
        headers = {"Authorization": f"Bearer {args.token}"}
        mine: list[float] = []
        my_statuses: dict[int, int] = {}
        my_errors = 0
        with httpx.Client(base_url=args.base, headers=headers, timeout=30) as client:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    response = request(client)
                except httpx.HTTPError:
                    my_errors += 1
                    continue
                mine.append(time.perf_counter() - started)
                my_statuses[response.status_code] = my_statuses.get(response.status_code, 0) + 1
        with lock:
            latencies.extend(mine)
            errors += my_errors
            for code, count in my_statuses.items():
                statuses[code] = statuses.get(code, 0) + count

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    ordered = sorted(latencies)
    ok = sum(count for code, count in statuses.items() if 200 <= code < 300)
    return {
        "scenario": args.scenario,
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "requests": len(ordered),
        "ok": ok,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": errors,
        "rps": round(ok / elapsed, 1),
        "p50_ms": round(percentile(ordered, 0.50) * 1000, 1),
        "p95_ms": round(percentile(ordered, 0.95) * 1000, 1),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 1),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 1) if ordered else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default="http://127.0.0.1:8765")
    parser.add_argument("--token", required=True)
    parser.add_argument("--scenario", choices=("queue", "open", "read", "create"), required=True)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--teams", default="", help="comma-separated team ids for the queue filter")
    parser.add_argument("--tickets", type=int, default=1000, help="ticket numbers T0000001…T<n> exist")
    parser.add_argument("--customers", default="1,1", help="first,last customer id for new tickets")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    args.duration = min(args.duration, 300.0)  # bounded in time, whatever is asked
    print(json.dumps(run(args), ensure_ascii=False))


if __name__ == "__main__":
    main()
