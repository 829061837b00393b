"""One rate limiter for every door: chat, answer bot, API, sign-in and password reset.

Counts live in the shared Django cache (Redis in production, the database cache in the embedded
default), so every web process and every node sees the same numbers. A limit is a fixed window:
``limit`` events per ``window_seconds``, windows aligned to the clock, so "try again after" is
simply the end of the current window. Counting is one atomic step per event: on Redis,
``cache.add`` makes the window's counter if it is missing and ``cache.incr`` (``INCR``) adds one;
the database cache (:class:`aftersales.core.cache.AtomicDatabaseCache`) does both in one upsert.

When the cache cannot be reached the limiter lets the request through and logs an error: a cache
outage must not lock every user out of the service.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from django.core.cache import cache

logger = logging.getLogger(__name__)

KEY_PREFIX = "rate"


@dataclass(frozen=True)
class RateLimit:
    """``limit`` events per ``window_seconds`` for each key of one ``scope`` (0 turns it off)."""

    scope: str
    limit: int
    window_seconds: int

    @property
    def is_enabled(self) -> bool:
        return self.limit > 0 and self.window_seconds > 0


@dataclass(frozen=True)
class RateDecision:
    count: int
    limit: int
    resets_at: float  # epoch seconds at which the current window ends

    @property
    def is_allowed(self) -> bool:
        return self.limit <= 0 or self.count <= self.limit

    @property
    def retry_after_seconds(self) -> int:
        return max(1, int(self.resets_at - time.time() + 0.999))


def _window(rule: RateLimit, now: float) -> tuple[int, float]:
    index = int(now // rule.window_seconds)
    return index, (index + 1) * rule.window_seconds


def window_end(rule: RateLimit) -> float:
    """Epoch seconds at which the current window of ``rule`` ends."""
    return _window(rule, time.time())[1]


def _cache_key(rule: RateLimit, key: str, index: int) -> str:
    # Keys are hashed: they carry user input (e-mail addresses, names) of any length and
    # character set, which memcached-style key rules and Redis memory should not see raw.
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{KEY_PREFIX}:{rule.scope}:{digest}:{index}"


def rate_limit_hit(rule: RateLimit, key: str) -> RateDecision:
    """Count one event for ``key`` and say whether it is still within the limit."""
    now = time.time()
    if not rule.is_enabled:
        return RateDecision(count=0, limit=0, resets_at=now)
    index, resets_at = _window(rule, now)
    cache_key = _cache_key(rule, key, index)
    # The counter outlives its window by one more window: a request that stalls between reading
    # the clock and counting still finds its counter, and expired windows clean themselves up.
    timeout = 2 * rule.window_seconds
    # The database cache counts in one statement; any other cache (Redis) adds then increments.
    count_in_window = getattr(cache, "count_in_window", None)
    for _attempt in range(3):
        try:
            if count_in_window is not None:
                count = int(count_in_window(cache_key, timeout))
            else:
                cache.add(cache_key, 0, timeout)
                count = int(cache.incr(cache_key))
        except ValueError:
            continue  # the counter vanished between add and incr (expired or culled): again
        except Exception:  # noqa: BLE001 - the cache is down: fail open, loudly
            logger.exception("rate limit %s: the cache is unavailable; not counting", rule.scope)
            return RateDecision(count=0, limit=rule.limit, resets_at=resets_at)
        return RateDecision(count=count, limit=rule.limit, resets_at=resets_at)
    logger.error("rate limit %s: could not count after three attempts", rule.scope)
    return RateDecision(count=0, limit=rule.limit, resets_at=resets_at)


def rate_limit_peek(rule: RateLimit, key: str) -> RateDecision:
    """The count so far in the current window, without counting anything."""
    now = time.time()
    if not rule.is_enabled:
        return RateDecision(count=0, limit=0, resets_at=now)
    index, resets_at = _window(rule, now)
    try:
        count = int(cache.get(_cache_key(rule, key, index)) or 0)
    except Exception:  # noqa: BLE001 - the cache is down: fail open, loudly
        logger.exception("rate limit %s: the cache is unavailable; not checking", rule.scope)
        count = 0
    return RateDecision(count=count, limit=rule.limit, resets_at=resets_at)


def rate_limit_reset(rule: RateLimit, key: str) -> None:
    """Forget the count of the current window (after a successful sign-in, for example)."""
    if not rule.is_enabled:
        return
    index, _resets_at = _window(rule, time.time())
    try:
        cache.delete(_cache_key(rule, key, index))
    except Exception:  # noqa: BLE001
        logger.exception("rate limit %s: the cache is unavailable; counter not reset", rule.scope)


def rate_limit_exceeded(rule: RateLimit, key: str) -> bool:
    """Count one event; True when it is over the limit (the short form most callers want)."""
    return not rate_limit_hit(rule, key).is_allowed
