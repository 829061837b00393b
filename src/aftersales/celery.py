"""The Celery application.

The embedded default uses kombu's filesystem transport (folders under the data directory), so
one machine needs no broker server; ``AFTERSALES_BROKER_URL`` selects Redis or RabbitMQ.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")

app = Celery("aftersales")
app.config_from_object("django.conf:settings", namespace="CELERY")


@task_prerun.connect
@task_postrun.connect
def _recycle_database_connections(task: Any = None, **_kwargs: Any) -> None:
    """Around every task, what Django does around every request: drop a connection that broke or
    outlived ``CONN_MAX_AGE``, keep the others. Celery's own Django fix-up closes every connection
    before and after each task unless ``CELERY_DB_REUSE_MAX`` is set (settings.py sets it high):
    a new PostgreSQL connection, a server process forked, for every e-mail and webhook sent."""
    if task is not None and getattr(task.request, "is_eager", False):
        return  # run inline, inside the caller's request and transaction: not ours to touch
    from django.db import close_old_connections

    close_old_connections()


app.autodiscover_tasks()
