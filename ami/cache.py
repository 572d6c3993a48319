"""The shared cache on Redis, degrading instead of failing while Redis is unreachable (issue 8, faults).

Django's RedisCache raises `redis.ConnectionError` on every call while Redis is down, so every page that
touches the cache (the public pages, the rate limits) would answer 500. This backend then serves each
call from a small cache in the memory of the process (a LocMemCache of FALLBACK_ENTRIES entries), with
the same semantics: reads miss until something is written, `add` and `incr` behave as usual. Each
error is counted (`state()`, shown by /healthz) and logged, at most once every LOG_EVERY_SECONDS per
process. After a failure the backend does not call Redis again for RETRY_AFTER_SECONDS (each call
would cost a connection attempt, or a timeout when the host does not answer): the first call after that
delay tries again, so the shared cache comes back by itself with Redis (what was written to the memory
meanwhile is forgotten, as a cache may).

While Redis is down each process counts the rate limits on its own (so a client may make up to one
quota per process), and keeps its own public pages and their version (ami/page_cache.py): a change
bumped in one process reaches the others when their entries expire (PUBLIC_PAGE_CACHE_SECONDS).
Nothing is lost: the cache holds no data of record.
"""

import logging
import threading
import time
from functools import wraps

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
RETRY_AFTER_SECONDS = 2.0
LOG_EVERY_SECONDS = 30.0
FALLBACK_ENTRIES = 1000

_lock = threading.Lock()
_state = {"errors": 0, "last_error": "", "down_until": 0.0, "logged_at": 0.0, "outage": False}
_recovery_hooks = []


def on_recovery(hook):
    """Registers a function called (once per outage and process) at the first call that reaches Redis again:
    what this process wrote meanwhile went to its own memory, so versions kept in the shared cache may be
    behind (jury/dashboard_cache.py bumps its global version then)."""
    if hook not in _recovery_hooks:
        _recovery_hooks.append(hook)


def degraded():
    """True while this process serves the cache from its own memory (Redis failed less than RETRY_AFTER_SECONDS
    ago)."""
    return _skipping()


def _recovered():
    with _lock:
        if not _state["outage"]:
            return
        _state["outage"] = False
    for hook in _recovery_hooks:
        try:
            hook()
        except Exception:  # noqa: BLE001 - a hook must not turn a cache read into an error page
            logger.exception("cache recovery hook %s failed", hook)


def state():
    """{"errors": swallowed errors since this process started, "last_error": "ConnectionError: …" or ""}."""
    with _lock:
        return {"errors": _state["errors"], "last_error": _state["last_error"]}


def _unreachable(error, operation):
    now = time.monotonic()
    with _lock:
        _state["errors"] += 1
        _state["last_error"] = f"{type(error).__name__}: {error}"[:300]
        _state["down_until"] = now + RETRY_AFTER_SECONDS
        _state["outage"] = True
        log = now - _state["logged_at"] >= LOG_EVERY_SECONDS
        if log:
            _state["logged_at"] = now
    if log:
        logger.warning("cache unreachable (%s during %s): serving from this process's memory; %s errors so far",
                       _state["last_error"], operation, _state["errors"])


def _skipping():
    return time.monotonic() < _state["down_until"]


def _degrading(method):
    """Runs the method on Redis; while Redis is unreachable, the same method on the process's memory cache."""

    @wraps(method)
    def wrapper(self, *args, **kwargs):
        if not _skipping():
            try:
                result = method(self, *args, **kwargs)
            except UNREACHABLE as error:
                _unreachable(error, method.__name__)
            else:
                if _state["outage"]:
                    _recovered()
                return result
        return getattr(self._fallback, method.__name__)(*args, **kwargs)

    return wrapper


class ReusingClient(RedisCacheClient):
    """Django's client builds a new `redis.Redis` object (and its table of 170 response callbacks) for every
    cache call, about 0.2 ms of CPU; this one keeps one per connection pool. The backend instance, hence this
    client, belongs to one thread; a `redis.Redis` object only borrows connections from its pool."""

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(index)
        if client is None:
            client = clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(DjangoRedisCache):
    """django.core.cache.backends.redis.RedisCache that degrades to a memory cache (module docstring)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingClient
        # One memory per process, shared by its threads (each thread has its own instance of this backend).
        self._fallback = LocMemCache(f"ami-cache-fallback:{server}", {
            "TIMEOUT": params.get("TIMEOUT", 300), "KEY_PREFIX": params.get("KEY_PREFIX", ""),
            "OPTIONS": {"MAX_ENTRIES": FALLBACK_ENTRIES},
        })

    add = _degrading(DjangoRedisCache.add)
    get = _degrading(DjangoRedisCache.get)
    set = _degrading(DjangoRedisCache.set)
    touch = _degrading(DjangoRedisCache.touch)
    delete = _degrading(DjangoRedisCache.delete)
    get_many = _degrading(DjangoRedisCache.get_many)
    has_key = _degrading(DjangoRedisCache.has_key)
    incr = _degrading(DjangoRedisCache.incr)
    set_many = _degrading(DjangoRedisCache.set_many)
    delete_many = _degrading(DjangoRedisCache.delete_many)
    clear = _degrading(DjangoRedisCache.clear)

    def probe(self):
        """(ok, detail) from a PING to Redis, whatever the recent errors; never raises (for /healthz)."""
        try:
            self._cache.get_client(write=True).ping()
        except Exception as error:  # noqa: BLE001 - any failure means "down"
            return False, type(error).__name__
        with _lock:
            _state["down_until"] = 0.0
        return True, type(self).__name__


def is_shared(backend):
    """True when `backend` is Redis and answers now: what it holds is what every process sees (Django's own
    RedisCache, or this one while it is not serving from the process's memory)."""
    if isinstance(backend, RedisCache):
        return not degraded()
    return isinstance(backend, DjangoRedisCache)


def trusted():
    """Whether the default cache may hold what must never be stale across processes (the remembered users and
    seats, the dashboards): Redis answering, or a cache of this process when SINGLE_PROCESS_CACHE says the site
    runs in one process (never our Redis while it is degraded)."""
    from django.conf import settings
    from django.core.cache import caches

    backend = caches["default"]
    if isinstance(backend, DjangoRedisCache):
        return is_shared(backend)
    return settings.SINGLE_PROCESS_CACHE
