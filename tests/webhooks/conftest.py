"""The webhook tests post to a receiver on 127.0.0.1, which production refuses by default."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _allow_local_receivers(settings):
    settings.AFTERSALES_WEBHOOK_ALLOW_PRIVATE = True
