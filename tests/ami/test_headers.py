"""Security headers: the content security policy everywhere, framing, sniffing and referrer, HSTS in production."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ami.factories import UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def policy(response):
    """The Content-Security-Policy header as {directive: [sources]}."""
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


@pytest.mark.parametrize("url", ["/", "/donnees-personnelles/", "/accessibilite/", "/compte/connexion/",
                                 "/compte/inscription/", "/page-qui-n-existe-pas/"])
def test_every_page_carries_a_strict_content_security_policy(client, url):
    directives = policy(client.get(url))
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["base-uri"] == ["'self'"]
    assert not any("unsafe" in source for sources in directives.values() for source in sources)


def test_pages_forbid_framing_sniffing_and_leaking_the_referrer(client):
    client.force_login(UserFactory())
    response = client.get("/mes-projets/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_my_data_download_carries_the_headers_too(client):
    client.force_login(UserFactory())
    response = client.get("/compte/mes-donnees/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert policy(response)["default-src"] == ["'self'"]


PRODUCTION_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client, override_settings
# Production serves the collected, hashed static files; this probe has not run collectstatic.
override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
response = Client().get("/accessibilite/", secure=True, headers={"host": "ami.example.gouv.fr"})
redirect = Client().get("/accessibilite/", headers={"host": "ami.example.gouv.fr"})
print(json.dumps({
    "status": response.status_code,
    "hsts": response.get("Strict-Transport-Security"),
    "csp": response.get("Content-Security-Policy"),
    "redirect": [redirect.status_code, redirect.get("Location")],
    "cookies_secure": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
}))
"""


def production_env(**extra):
    clean = {k: v for k, v in os.environ.items()
             if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    return {
        **clean,
        "DJANGO_SETTINGS_MODULE": "ami.settings",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "ami.example.gouv.fr",
        "SECRET_KEY": "k" * 20 + "-production-secret-with-enough-entropy-0123456789",
        **extra,
    }


def test_production_sends_hsts_redirects_to_https_and_secures_cookies():
    result = subprocess.run([sys.executable, "-c", PRODUCTION_PROBE], cwd=ROOT, capture_output=True, text=True,
                            env=production_env())
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["status"] == 200
    assert values["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert "frame-ancestors 'none'" in values["csp"]
    assert values["redirect"] == [301, "https://ami.example.gouv.fr/accessibilite/"]
    assert values["cookies_secure"] == [True, True]


def test_production_with_redis_and_postgresql_passes_check_deploy_without_any_warning():
    """The embedded production case is in tests/ami/test_settings.py; this one is the deployment of the README."""
    env = production_env(DATABASE_URL="postgres://ami:pw@db.example:5432/ami", REDIS_URL="redis://cache:6379/0")
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "System check identified no issues (0 silenced)."
    assert "WARNING" not in result.stderr and "?:" not in result.stdout
