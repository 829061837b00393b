"""``aftersales seed_demo``: build the demo company (澜泉卫浴) with a few months of tickets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from aftersales.demo.builder import default_anchor, seed_demo
from aftersales.demo.catalogue import BRAND, DEMO_PASSWORD
from aftersales.tickets.models import Ticket


def _anchor(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--now expects an ISO date or date-time, not {value!r}") from exc
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


class Command(BaseCommand):
    help = (
        "Create a demo company: regions, teams, staff, products, customers with installed products and "
        "a few months of tickets in every stage. Same --seed and --now, same data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument("--tickets", type=int, default=2000, help="number of tickets (default 2000)")
        parser.add_argument(
            "--customers", type=int, default=None, help="number of customers (default: scaled)"
        )
        parser.add_argument("--days", type=int, default=90, help="tickets are spread over this many days")
        parser.add_argument(
            "--now",
            type=_anchor,
            default=None,
            help="the moment the demo's history ends (ISO date-time); default now",
        )
        parser.add_argument("--batch-size", type=int, default=5000, help="rows per bulk insert batch")
        parser.add_argument("--if-empty", action="store_true", help="do nothing if any ticket exists")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and Ticket.objects.exists():
            self.stdout.write("Tickets exist already: demo data not seeded.")
            return
        if options["tickets"] < 0 or options["days"] < 1 or options["batch_size"] < 1:
            raise CommandError("--tickets must be ≥ 0, --days and --batch-size ≥ 1")
        show = options["verbosity"] > 0
        bars: list[tqdm] = []

        def progress(label: str, total: int) -> Callable[[int], None]:
            bar = tqdm(total=total, desc=label, unit=" rows", disable=None if show else True, leave=show)
            bars.append(bar)
            return bar.update

        try:
            result = seed_demo(
                seed=options["seed"],
                tickets=options["tickets"],
                customers=options["customers"],
                anchor=options["now"] or default_anchor(),
                days=options["days"],
                batch_size=options["batch_size"],
                progress=progress,
            )
        finally:
            for bar in bars:
                bar.close()
        counts = result.counts
        rate = result.seconds["tickets"] / counts["tickets"] * 100_000 if counts["tickets"] else 0.0
        self.stdout.write(
            f"Seeded {BRAND}: {counts['customers']} customers, {counts['installed_products']} installed products, "
            f"{counts['tickets']} tickets, {counts['status_changes']} status changes, {counts['messages']} messages "
            f"in {result.seconds['total']:.1f} s (tickets: {result.seconds['tickets']:.1f} s, "
            f"{rate:.1f} s per 100k); tickets end at {result.anchor:%Y-%m-%d %H:%M %Z}."
        )
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role in result.logins:
            self.stdout.write(f"  {username:<32} {role}")
