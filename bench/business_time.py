"""Business-time throughput: ``add`` and ``between`` per second on one core.

Uses the ``standard`` calendar (Mon–Fri 09:00–18:00, China's statutory holidays) over random
starts in 2025–2026 and SLA durations from 5 minutes to 72 hours. The engine's interval tables
are built before timing (they are built once per calendar and year in a real process).

    AFTERSALES_DATA_DIR=/tmp/bench-bt .venv/bin/aftersales migrate
    AFTERSALES_DATA_DIR=/tmp/bench-bt .venv/bin/python bench/business_time.py [--calls 200000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time

import django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")
    django.setup()
    from aftersales.core.business_time import default_calendar, engine_for, engines_clear

    calendar = default_calendar()
    engines_clear()
    began = time.perf_counter()
    engine = engine_for(calendar)
    engine.add(dt.datetime(2025, 6, 1, tzinfo=dt.UTC), 3600)  # loads the calendar, builds 2024–2026
    cold_seconds = time.perf_counter() - began
    began = time.perf_counter()
    for _call in range(100_000):
        engine_for(calendar)
    lookup_seconds = time.perf_counter() - began
    rng = random.Random(args.seed)
    low = dt.datetime(2025, 1, 1, tzinfo=dt.UTC).timestamp()
    high = dt.datetime(2027, 1, 1, tzinfo=dt.UTC).timestamp()
    starts = [
        dt.datetime.fromtimestamp(rng.uniform(low, high), dt.UTC).replace(microsecond=0)
        for _call in range(args.calls)
    ]
    durations = [rng.uniform(5 * 60, 72 * 3600) for _call in range(args.calls)]
    engine.add(starts[0], durations[0])  # build the tables
    engine.add(dt.datetime(2027, 6, 1, tzinfo=dt.UTC), 1)

    add = engine.add
    began = time.perf_counter()
    dues = [add(start, duration) for start, duration in zip(starts, durations, strict=True)]
    add_seconds = time.perf_counter() - began

    between = engine.between
    began = time.perf_counter()
    measured = [between(start, due) for start, due in zip(starts, dues, strict=True)]
    between_seconds = time.perf_counter() - began

    worst = max(abs(got - wanted) for got, wanted in zip(measured, durations, strict=True))
    print(f"calls: {args.calls:,} (standard calendar, starts 2025–2026, durations 5 min – 72 h)")
    print(f"add:     {args.calls / add_seconds:>12,.0f} per second")
    print(f"between: {args.calls / between_seconds:>12,.0f} per second")
    print(f"first engine (load + three years of intervals): {cold_seconds * 1000:.1f} ms")
    print(f"engine_for (cached): {100_000 / lookup_seconds:>12,.0f} per second")
    print(f"largest |between(s, add(s, d)) - d|: {worst:.2e} s")


if __name__ == "__main__":
    main()
