"""Settings for the worker and scheduler processes the multi-worker SLA test starts.

A dedicated queue and a one-second sweep, on top of the project's settings.
"""

import os

from aftersales.settings import *  # noqa: F403

CELERY_TASK_DEFAULT_QUEUE = os.environ["AFTERSALES_TEST_QUEUE"]
CELERY_BEAT_SCHEDULE = {"sla-sweep-due": {"task": "sla.sweep_due", "schedule": 1.0}}
