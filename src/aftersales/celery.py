"""The Celery application.

The embedded default uses kombu's filesystem transport (folders under the data directory), so
one machine needs no broker server; ``AFTERSALES_BROKER_URL`` selects Redis or RabbitMQ.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")

app = Celery("aftersales")
app.config_from_object("django.conf:settings", namespace="CELERY")


app.autodiscover_tasks()
