"""``aftersales tickets_reindex``: rebuild every ticket's search document (``tickets/search.py``).

Run it once after upgrading to the release that added ticket search (tickets written before it
have no document); ``seed_demo`` builds the documents of the tickets it writes with the same code.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from aftersales.tickets.search import reindex_tickets


class Command(BaseCommand):
    help = "Rebuild the search document of every ticket (subject, description, thread, names, serial)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="tickets per batch")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        count = reindex_tickets(batch_size=max(1, options["batch_size"]))
        self.stdout.write(f"indexed {count} tickets in {time.monotonic() - started:.1f} s")
