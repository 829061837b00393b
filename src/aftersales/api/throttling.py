"""Per-token request limit: a fixed one-minute window counted in the cache (O(1) per request)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.throttling import BaseThrottle


class TokenRateThrottle(BaseThrottle):
    window_seconds = 60

    def allow_request(self, request: HttpRequest) -> bool:
        limit = int(getattr(settings, "AFTERSALES_API_RATE_PER_MINUTE", 0) or 0)
        user = getattr(request, "auth", None)
        if limit <= 0 or user is None:
            return True
        now = time.time()
        window = int(now // self.window_seconds)
        # The caller may be a user or another authenticated principal (a CTI source): ids of
        # different kinds must not share a counter.
        key = f"api-throttle:{user._meta.label_lower}:{user.pk}:{window}"
        count = 1 if cache.add(key, 1, self.window_seconds + 10) else cache.incr(key)
        return count <= limit

    def wait(self) -> float | None:
        return self.window_seconds - time.time() % self.window_seconds
