"""``aftersales kb_reindex``: rebuild the knowledge-base search index from the published articles."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from aftersales.knowledge.search import rebuild_index


class Command(BaseCommand):
    help = "Rebuild the knowledge-base search index from every article's live published version."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        count = rebuild_index()
        self.stdout.write(f"indexed {count} articles in {time.monotonic() - started:.1f} s")
