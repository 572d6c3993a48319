"""ami/cache.py: the Redis cache that degrades to the process's memory while Redis is unreachable."""

import time

import pytest
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from ami import cache as degrading
from tests import servers
from tests.servers import free_port

throwaway_redis = servers.throwaway_redis  # the fixture, for this module


@pytest.fixture
def dead_redis(monkeypatch):
    """Both caches on a port where nothing listens, and a fresh error state."""
    monkeypatch.setattr(degrading, "_state",
                        {"errors": 0, "last_error": "", "down_until": 0.0, "logged_at": 0.0, "outage": False})
    url = f"redis://127.0.0.1:{free_port()}/0"
    params = {"KEY_PREFIX": "t", "OPTIONS": {"socket_connect_timeout": 0.5}}
    return degrading.RedisCache(url, params), DjangoRedisCache(url, params)


def test_django_redis_cache_fails_on_a_dead_server_which_is_why_ours_exists(dead_redis):
    from redis.exceptions import ConnectionError

    _ours, django_cache = dead_redis
    with pytest.raises(ConnectionError):
        django_cache.get("key")


def test_a_dead_redis_serves_the_cache_from_memory_with_the_same_semantics(dead_redis):
    cache, _ = dead_redis
    assert cache.get("page") is None
    cache.set("page", {"content": b"<h1>Appels</h1>"}, 60)
    assert cache.get("page") == {"content": b"<h1>Appels</h1>"}
    assert cache.add("counter", 1, 60) is True
    assert cache.add("counter", 1, 60) is False
    assert cache.incr("counter") == 2
    with pytest.raises(ValueError):
        cache.incr("missing")
    assert cache.get_or_set("computed", lambda: "valeur") == "valeur"
    cache.delete("page")
    assert cache.get("page", "absent") == "absent"


def test_errors_are_counted_and_redis_is_not_called_again_for_a_while(dead_redis, monkeypatch):
    cache, _ = dead_redis
    cache.get("a")
    assert degrading.state()["errors"] == 1
    assert "ConnectionError" in degrading.state()["last_error"]
    cache.get("b")  # within RETRY_AFTER_SECONDS: straight to memory, no new attempt
    assert degrading.state()["errors"] == 1
    monkeypatch.setattr(degrading, "_state", {**degrading._state, "down_until": time.monotonic() - 1})
    cache.get("c")
    assert degrading.state()["errors"] == 2


def test_probe_reports_a_dead_redis_without_raising(dead_redis):
    cache, _ = dead_redis
    assert cache.probe() == (False, "ConnectionError")


def test_a_live_redis_is_used_and_the_probe_clears_the_pause(dead_redis, throwaway_redis):
    cache = degrading.RedisCache(throwaway_redis.url, {"KEY_PREFIX": "t"})
    degrading._state["down_until"] = time.monotonic() + 60
    assert cache.probe() == (True, "RedisCache")
    cache.set("shared", "oui", 60)
    assert DjangoRedisCache(throwaway_redis.url, {"KEY_PREFIX": "t"}).get("shared") == "oui"
    assert degrading.state()["errors"] == 0


def test_the_first_call_that_reaches_redis_again_runs_the_recovery_hooks_once(dead_redis, throwaway_redis, monkeypatch):
    dead, _ = dead_redis
    calls = []
    monkeypatch.setattr(degrading, "_recovery_hooks", [])
    degrading.on_recovery(lambda: calls.append("bump"))
    dead.get("a")  # the outage: this process now writes to its own memory
    assert degrading.degraded() and calls == []
    live = degrading.RedisCache(throwaway_redis.url, {"KEY_PREFIX": "t"})
    monkeypatch.setattr(degrading, "_state", {**degrading._state, "down_until": time.monotonic() - 1})
    assert not degrading.degraded()
    live.set("k", 1, 60)
    assert calls == ["bump"]
    live.get("k")
    assert calls == ["bump"]  # once per outage


def test_a_failing_recovery_hook_does_not_fail_the_cache_call(dead_redis, throwaway_redis, monkeypatch):
    dead, _ = dead_redis
    monkeypatch.setattr(degrading, "_recovery_hooks", [])
    degrading.on_recovery(lambda: 1 / 0)
    dead.get("a")
    monkeypatch.setattr(degrading, "_state", {**degrading._state, "down_until": time.monotonic() - 1})
    live = degrading.RedisCache(throwaway_redis.url, {"KEY_PREFIX": "t"})
    live.set("k", "v", 60)
    assert live.get("k") == "v"


def test_one_redis_client_per_pool_is_kept_instead_of_one_per_call(throwaway_redis):
    cache = degrading.RedisCache(throwaway_redis.url, {"KEY_PREFIX": "t"})
    cache.set("a", 1, 60)
    client = cache._cache.get_client(write=True)
    cache.set("b", 2, 60)
    assert cache._cache.get_client(write=True) is client
    assert cache.get("a") == 1 and cache.get("b") == 2
