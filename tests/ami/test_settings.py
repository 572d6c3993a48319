"""The settings switch: embedded by default, PostgreSQL and Redis when their URLs are set."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from ami.env import database_from_url, email_from_url, env_bool

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
    "'db': str(settings.DATABASES['default']['NAME']), 'cache': settings.CACHES['default']['BACKEND'], "
    "'broker': settings.CELERY_BROKER_URL, 'eager': settings.CELERY_TASK_ALWAYS_EAGER, "
    "'tz': settings.TIME_ZONE, 'lang': settings.LANGUAGE_CODE}))"
)


def probe(**env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"}}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**clean, "DJANGO_SETTINGS_MODULE": "ami.settings", **env},
    )
    return result


def test_embedded_default_is_sqlite_and_eager_celery():
    result = probe(DEBUG="1")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["db"].endswith("var/db.sqlite3")
    assert values["cache"].endswith("LocMemCache")
    assert values["eager"] is True
    assert values["tz"] == "Europe/Paris"
    assert values["lang"] == "fr"


def test_urls_switch_to_postgresql_and_redis():
    result = probe(
        SECRET_KEY="s", DATABASE_URL="postgres://ami:pw@db.example:5433/portal", REDIS_URL="redis://cache:6379/1"
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values == {
        "engine": "django.db.backends.postgresql",
        "db": "portal",
        "cache": "ami.cache.RedisCache",  # Django's RedisCache, degrading while Redis is down
        "broker": "redis://cache:6379/1",
        "eager": False,
        "tz": "Europe/Paris",
        "lang": "fr",
    }


def test_debug_defaults_on_only_on_the_embedded_database():
    embedded = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.DEBUG)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"}},
            "DJANGO_SETTINGS_MODULE": "ami.settings",
        },
    )
    assert embedded.stdout.strip() == "True", embedded.stderr
    real = probe(DATABASE_URL="postgres://ami@db.example:5432/portal")
    assert real.returncode != 0
    assert "SECRET_KEY is required" in real.stderr


def test_production_refuses_to_start_without_secret_key():
    result = probe(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@localhost/ami", "DATABASE_URL must start with postgres://"),
        ("postgres://localhost", "DATABASE_URL must name a host and a database"),
        ("postgres://u@host:notaport/ami", "DATABASE_URL has a malformed port"),
        ("nonsense", "DATABASE_URL must start with postgres://"),
    ],
)
def test_malformed_database_url_names_the_variable(url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        database_from_url(url)


def test_malformed_database_url_stops_start_up():
    result = probe(DEBUG="1", DATABASE_URL="mysql://root@localhost/ami")
    assert result.returncode != 0
    assert "DATABASE_URL must start with postgres://" in result.stderr


def test_malformed_redis_url_stops_start_up():
    result = probe(DEBUG="1", REDIS_URL="localhost:6379")
    assert result.returncode != 0
    assert "REDIS_URL must look like redis://" in result.stderr


def test_booleans_are_parsed_strictly(monkeypatch):
    monkeypatch.setenv("DEBUG", "yes")
    assert env_bool("DEBUG") is True
    monkeypatch.setenv("DEBUG", "0")
    assert env_bool("DEBUG") is False
    monkeypatch.setenv("DEBUG", "perhaps")
    with pytest.raises(ImproperlyConfigured, match="DEBUG='perhaps' is not a boolean"):
        env_bool("DEBUG")


def test_email_url_configures_smtp():
    config = email_from_url("smtp://user:secret@smtp.example.fr:587?tls=1")
    assert config["EMAIL_HOST"] == "smtp.example.fr"
    assert config["EMAIL_PORT"] == 587
    assert config["EMAIL_USE_TLS"] is True
    assert config["EMAIL_HOST_USER"] == "user"


def test_production_settings_pass_check_deploy():
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env = {
        **clean,
        "DJANGO_SETTINGS_MODULE": "ami.settings",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "ami.example.gouv.fr",
        "SECRET_KEY": "k" * 20 + "-production-secret-with-enough-entropy-0123456789",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr  # not one warning, not even below the fail level
