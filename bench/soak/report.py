"""The figures: requests by kind and status, latency, throughput, faults, checks (Markdown)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict

from .checks import Check, Window
from .traffic import Request


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def requests_table(requests: list[Request], seconds: float) -> str:
    by_kind: dict[str, list[Request]] = defaultdict(list)
    for request in requests:
        by_kind[request.kind].append(request)
    lines = [
        "| request | sent | 2xx | 4xx | 5xx | no answer | p50 ms | p95 ms | p99 ms | statuses |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for kind in sorted(by_kind) + ["all"]:
        rows = requests if kind == "all" else by_kind[kind]
        latencies = [r.latency * 1000 for r in rows if r.status]
        statuses = Counter(r.status for r in rows)
        spread = ", ".join(f"{s or 'none'}×{n}" for s, n in sorted(statuses.items()))
        lines.append(
            f"| {kind} | {len(rows)} | {sum(v for s, v in statuses.items() if 200 <= s < 300)} "
            f"| {sum(v for s, v in statuses.items() if 400 <= s < 500)} "
            f"| {sum(v for s, v in statuses.items() if s >= 500)} | {statuses.get(0, 0)} "
            f"| {_percentile(latencies, 50):.0f} | {_percentile(latencies, 95):.0f} | {_percentile(latencies, 99):.0f} "
            f"| {spread} |"
        )
    lines.append("")
    lines.append(f"Throughput: {len(requests) / max(seconds, 1e-9):.1f} requests/s over {seconds:.0f} s.")
    return "\n".join(lines)


def faults_table(windows: list[Window], t0: float) -> str:
    lines = ["| fault | from (s) | to (s) | what |", "|---|---:|---:|---|"]
    lines += [f"| {w.name} | {w.start - t0:.0f} | {w.end - t0:.0f} | {w.detail} |" for w in windows]
    return "\n".join(lines)


def checks_table(checks: list[Check], limit: int = 15) -> str:
    lines = ["| check | result | figures |", "|---|---|---|"]
    lines += [f"| {c.name} | {'pass' if c.passed else '**FAIL**'} | {c.summary} |" for c in checks]
    for check in checks:
        if check.problems:
            lines.append("")
            lines.append(f"{check.name} — {len(check.problems)} problem(s):")
            lines += [f"  - {p}" for p in check.problems[:limit]]
            if len(check.problems) > limit:
                lines.append(f"  - … {len(check.problems) - limit} more (see results.json)")
    return "\n".join(lines)


def lock_summary(samples: list[tuple[float, int, str]], t0: float) -> str:
    """Seconds in which the platform's queries waited for a lock (sampled once a second)."""
    if not samples:
        return "no query was seen waiting for a lock."
    worst = max(samples, key=lambda sample: sample[1])
    return (
        f"queries waited for a lock in {len(samples)} one-second samples, at most {worst[1]} at once "
        f"(+{worst[0] - t0:.0f} s; oldest running query then: `{worst[2][:100]}`)."
    )
