"""Strict parsing of the environment: a malformed value stops start-up and names the variable."""

import os
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}
DATABASE_SCHEMES = {"postgres", "postgresql", "sqlite"}


def env_str(name, default=None):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off).")


def env_int(name, default):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None


def env_list(name, default):
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url, *, name="DATABASE_URL"):
    """Turns a postgres:// or sqlite:// URL into a DATABASES entry, refusing anything else."""
    parsed = urlparse(url)
    if parsed.scheme not in DATABASE_SCHEMES:
        raise ImproperlyConfigured(
            f"{name} must start with postgres://, postgresql:// or sqlite:// (got {parsed.scheme or 'no scheme'!r})."
        )
    if parsed.scheme == "sqlite":
        path = parsed.path[1:] if parsed.path.startswith("//") else parsed.path
        if not path:
            raise ImproperlyConfigured(f"{name} names no SQLite file.")
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path}
    dbname = parsed.path.lstrip("/")
    if not dbname or not parsed.hostname:
        raise ImproperlyConfigured(f"{name} must name a host and a database (postgres://user@host:5432/name).")
    try:
        port = parsed.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a malformed port.") from None
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": dbname,
        "USER": parsed.username or "",
        "PASSWORD": parsed.password or "",
        "HOST": parsed.hostname,
        "PORT": str(port or 5432),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def redis_url_checked(url, *, name="REDIS_URL"):
    parsed = urlparse(url)
    if parsed.scheme not in {"redis", "rediss"} or not parsed.hostname:
        raise ImproperlyConfigured(f"{name} must look like redis://host:6379/0 (got {url!r}).")
    return url


def email_from_url(url, *, name="EMAIL_URL"):
    """smtp://user:pass@host:port (smtps:// or ?tls=1 for TLS) or console://."""
    parsed = urlparse(url)
    if parsed.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parsed.scheme not in {"smtp", "smtps"} or not parsed.hostname:
        raise ImproperlyConfigured(f"{name} must look like smtp://user:password@host:587 (got {parsed.scheme!r}).")
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parsed.hostname,
        "EMAIL_PORT": parsed.port or (465 if parsed.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": parsed.username or "",
        "EMAIL_HOST_PASSWORD": parsed.password or "",
        "EMAIL_USE_SSL": parsed.scheme == "smtps",
        "EMAIL_USE_TLS": "tls=1" in (parsed.query or ""),
    }
