from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _create_cache_table(*, using: str = "default", **_kwargs: Any) -> None:
    """Make the database cache's table (the shared rate-limit counters) on every ``migrate``:
    a fresh install, the test database and a switch away from Redis all get it. Idempotent."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


class CoreConfig(AppConfig):
    name = "aftersales.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        post_migrate.connect(_create_cache_table, sender=self, dispatch_uid="core.create_cache_table")
        from . import login_throttle  # noqa: F401 - connects the sign-in signal handlers
