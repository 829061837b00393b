"""The shared rate limiter: atomic counts across processes, on the database cache and on Redis,
and the real client address (X-Forwarded-For only from trusted proxies)."""

from __future__ import annotations

import copy
import uuid
from collections import Counter

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.cache import cache, caches
from django.db import connection
from django.test import RequestFactory

from aftersales.core.business_time import default_calendar
from aftersales.core.cache import AtomicDatabaseCache
from aftersales.core.client_address import client_address
from aftersales.core.rate_limit import RateLimit, rate_limit_hit, rate_limit_peek, rate_limit_reset
from tests.celery_support import redis_or_skip
from tests.chat.factories import ChatChannelFactory

from .rate_limit_workers import run_in_processes

REDIS_URL = "redis://127.0.0.1:6379/9"
HOUR_START = "2026-12-02 05:00:00Z"


def _request(remote_addr: str, forwarded_for: str | None = None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers)


def _test_databases() -> dict:
    databases = copy.deepcopy(django_settings.DATABASES)
    databases["default"]["NAME"] = connection.settings_dict["NAME"]
    return databases


@pytest.fixture
def redis_cache(settings):
    """The Django cache on the machine's Redis, database 9, under a prefix of this test's own."""
    client = redis_or_skip(REDIS_URL)
    prefix = f"aftersales-test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    yield settings.CACHES
    for key in client.scan_iter(match=f"{prefix}:*", count=500):
        client.delete(key)


# ------------------------------------------------------------------------------- client address


def test_forwarded_for_from_an_untrusted_peer_is_ignored(settings):
    settings.AFTERSALES_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_address(_request("203.0.113.7", "198.51.100.1")) == "203.0.113.7"


def test_forwarded_for_is_ignored_when_no_proxy_is_trusted(settings):
    settings.AFTERSALES_TRUSTED_PROXIES = []
    assert client_address(_request("127.0.0.1", "198.51.100.1")) == "127.0.0.1"


def test_the_client_is_the_first_untrusted_hop_from_the_right(settings):
    settings.AFTERSALES_TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8::/32"]
    # A client may write anything on the left; the proxies append what they saw.
    request = _request("10.0.0.2", "1.2.3.4, 198.51.100.9, 10.0.0.5")
    assert client_address(request) == "198.51.100.9"
    assert client_address(_request("2001:db8::1", "[2001:db8::7]:443, 198.51.100.10:5123")) == "198.51.100.10"


def test_only_trusted_hops_gives_the_leftmost_of_them(settings):
    settings.AFTERSALES_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_address(_request("10.0.0.2", "10.1.1.1, 10.0.0.5")) == "10.1.1.1"


def test_garbage_in_forwarded_for_stops_at_the_last_good_hop(settings):
    settings.AFTERSALES_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_address(_request("10.0.0.2", "198.51.100.3, not-an-ip, 10.0.0.5")) == "10.0.0.5"
    assert client_address(_request("10.0.0.2", "")) == "10.0.0.2"
    assert client_address(_request("")) == "unknown"


def test_an_ipv4_mapped_peer_counts_as_its_ipv4_address(settings):
    settings.AFTERSALES_TRUSTED_PROXIES = ["127.0.0.1/32"]
    assert client_address(_request("::ffff:127.0.0.1", "198.51.100.4")) == "198.51.100.4"


# ------------------------------------------------------------------------------ one process


def test_the_default_cache_is_the_atomic_database_cache():
    assert isinstance(caches["default"], AtomicDatabaseCache)


@pytest.mark.django_db
def test_a_limit_counts_per_key_and_window_and_resets():
    rule = RateLimit(scope="t", limit=3, window_seconds=60)
    with time_machine.travel("2026-12-02 04:00:10Z", tick=False):
        assert [rate_limit_hit(rule, "a").is_allowed for _ in range(5)] == [True, True, True, False, False]
        assert rate_limit_hit(rule, "b").is_allowed
        decision = rate_limit_peek(rule, "a")
        assert (decision.count, decision.retry_after_seconds) == (5, 50)
        rate_limit_reset(rule, "a")
        assert rate_limit_peek(rule, "a").count == 0
    with time_machine.travel("2026-12-02 04:01:00Z", tick=False):
        assert rate_limit_hit(rule, "b").count == 1  # a new window


@pytest.mark.django_db
def test_an_expired_counter_starts_again_at_one():
    with time_machine.travel("2026-12-02 04:00:00Z", tick=False):
        assert cache.count_in_window("k", 10) == 1
        assert cache.count_in_window("k", 10) == 2
        assert cache.get("k") == 2
        assert cache.incr("k") == 3
    with time_machine.travel("2026-12-02 04:00:30Z", tick=False):
        assert cache.get("k") is None
        assert cache.count_in_window("k", 10) == 1


@pytest.mark.django_db
def test_django_values_still_round_trip_through_the_database_cache():
    cache.set("v", {"x": [1, 2]}, 30)
    assert cache.get("v") == {"x": [1, 2]}
    cache.set("n", 41, 30)
    assert cache.incr("n") == 42
    assert cache.get("n") == 42
    with pytest.raises(ValueError):
        cache.incr("missing")


@pytest.mark.django_db
def test_a_limit_of_zero_counts_nothing():
    rule = RateLimit(scope="off", limit=0, window_seconds=60)
    assert all(rate_limit_hit(rule, "a").is_allowed for _ in range(5))
    assert rate_limit_peek(rule, "a").count == 0


def test_the_redis_cache_counts_too(redis_cache):
    rule = RateLimit(scope="redis", limit=2, window_seconds=60)
    assert [rate_limit_hit(rule, "a").is_allowed for _ in range(3)] == [True, True, False]


# ------------------------------------------------------------------------- several processes


@pytest.mark.django_db(transaction=True)
def test_four_processes_on_the_database_cache_let_exactly_the_limit_through():
    """On SQLite or PostgreSQL (whichever the suite runs on): 4 × 150 hits at once, limit 250."""
    outcomes = run_in_processes(
        "count",
        processes=4,
        databases=_test_databases(),
        caches=django_settings.CACHES,
        arguments={"scope": "mp", "key": "same", "limit": 250, "hits": 150, "at": HOUR_START},
    )
    assert Counter(outcomes) == {True: 250, False: 350}
    with time_machine.travel(HOUR_START, tick=True):
        assert rate_limit_peek(RateLimit(scope="mp", limit=250, window_seconds=3600), "same").count == 600


@pytest.mark.django_db(transaction=True)
def test_four_processes_on_redis_let_exactly_the_limit_through(redis_cache):
    outcomes = run_in_processes(
        "count",
        processes=4,
        databases=_test_databases(),
        caches=redis_cache,
        arguments={"scope": "mp", "key": "same", "limit": 250, "hits": 150, "at": HOUR_START},
    )
    assert Counter(outcomes) == {True: 250, False: 350}
    with time_machine.travel(HOUR_START, tick=True):
        assert rate_limit_peek(RateLimit(scope="mp", limit=250, window_seconds=3600), "same").count == 600


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("shared_cache", ["database", "redis"])
def test_two_web_processes_let_no_more_chats_through_than_the_limit(shared_cache, request):
    """The issue's case (2 workers let 60 chats through a limit of 30), at half the size: 2
    processes, 30 chats from one address, a limit of 15 an hour. The visitor spoofs
    X-Forwarded-For on every request; no proxy is trusted, so it changes nothing."""
    caches = request.getfixturevalue("redis_cache") if shared_cache == "redis" else django_settings.CACHES
    channel = ChatChannelFactory()
    # The shipped default calendar must be there before the processes start: after an earlier
    # test's flush, both would otherwise race to re-create it (that race is not this test's).
    default_calendar()
    outcomes = run_in_processes(
        "chat-start",
        processes=2,
        databases=_test_databases(),
        caches=caches,
        overrides={
            "AFTERSALES_CHAT_BOT": False,
            "AFTERSALES_CHAT_STARTS_PER_IP_HOUR": 15,
            "AFTERSALES_TRUSTED_PROXIES": [],
        },
        arguments={
            "public_key": channel.public_key,
            "origin": "https://www.lanquan.example",
            "hits": 15,
            "at": HOUR_START,
        },
    )
    assert Counter(outcomes) == {201: 15, 429: 15}
    assert channel.conversations.count() == 15
