"""Settings for the worker and scheduler processes of the multi-worker webhook test:
a queue of its own, a one-second retry sweep and one-second back-off."""

import os

from aftersales.settings import *  # noqa: F403

CELERY_TASK_DEFAULT_QUEUE = os.environ["AFTERSALES_TEST_QUEUE"]
CELERY_BEAT_SCHEDULE = {"webhooks-retry-due": {"task": "webhooks.retry_due", "schedule": 1.0}}
AFTERSALES_WEBHOOK_RETRY_DELAYS = [1, 1, 1, 1, 1]
AFTERSALES_WEBHOOK_ALLOW_PRIVATE = True  # the receiver listens on 127.0.0.1
