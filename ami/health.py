"""Health probes for /healthz: each returns (ok, detail) and never raises."""

from django.conf import settings
from django.core.cache import cache
from django.db import connection


def database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, connection.vendor
    except Exception as error:  # noqa: BLE001 - any failure means "down"
        return False, type(error).__name__


def cache_backend():
    probe = getattr(cache, "probe", None)  # ami.cache.RedisCache: a PING, since its reads never fail
    if probe is not None:
        return probe()
    try:
        cache.set("healthz", "ok", 5)
        return cache.get("healthz") == "ok", settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    except Exception as error:  # noqa: BLE001
        return False, type(error).__name__


def broker_and_workers():
    """In eager mode tasks run in-process; otherwise ask the broker which workers answer a ping."""
    if not settings.REDIS_URL:
        return {"broker": "in-process", "broker_ok": True, "workers": "eager", "workers_ok": True}
    from ami.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
        broker_ok = True
    except Exception:  # noqa: BLE001
        return {"broker": "redis", "broker_ok": False, "workers": 0, "workers_ok": False}
    try:
        replies = app.control.inspect(timeout=0.5).ping() or {}
    except Exception:  # noqa: BLE001
        replies = {}
    return {"broker": "redis", "broker_ok": broker_ok, "workers": len(replies), "workers_ok": bool(replies)}


def cache_errors():
    """Cache errors this process swallowed (ami/cache.py) since it started."""
    from ami.cache import state

    return state()["errors"]
