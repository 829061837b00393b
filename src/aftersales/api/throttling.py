"""Per-token request limit: a fixed one-minute window in the shared rate limiter (O(1) per request)."""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from aftersales.core.rate_limit import RateLimit, rate_limit_hit


class TokenRateThrottle(BaseThrottle):
    window_seconds = 60

    def allow_request(self, request: HttpRequest) -> bool:
        limit = int(getattr(settings, "AFTERSALES_API_RATE_PER_MINUTE", 0) or 0)
        user = getattr(request, "auth", None)
        if limit <= 0 or user is None:
            return True
        rule = RateLimit(scope="api-token", limit=limit, window_seconds=self.window_seconds)
        # The caller may be a user or another authenticated principal (a CTI source): ids of
        # different kinds must not share a counter.
        return rate_limit_hit(rule, f"{user._meta.label_lower}:{user.pk}").is_allowed

    def wait(self) -> float | None:
        return self.window_seconds - time.time() % self.window_seconds
