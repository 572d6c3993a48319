"""Account security (issue 8): password rules, lockout per account and per address, session cookies and timeouts."""

import html
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.test import RequestFactory
from django.utils import timezone

from ami.account_security import LOCAL, LOGIN_AT, LOGIN_METHOD, SEEN_AT, client_ip, login_username
from ami.models import User
from ami.sessions import SessionStore
from tests.ami.factories import UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
LOGIN = "/compte/connexion/"


def attempt(client, email, password="mauvais mot de passe", ip="203.0.113.7"):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


def text(response):
    """The page, with the French typography's narrow and non-breaking spaces made plain."""
    return html.unescape(response.content.decode()).replace("\xa0", " ").replace("\u202f", " ")


# Passwords


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Court 2026", "Ce mot de passe est trop court. Il doit contenir au minimum 12 caractères."),
        ("314159265358979", "Ce mot de passe est entièrement numérique."),
        ("password12345", "Ce mot de passe est trop courant."),
        ("camille.martin.sante", "Le mot de passe est trop semblable au champ « adresse électronique »."),
    ],
)
def test_signup_refuses_weak_passwords_in_french(client, password, message):
    response = client.post("/compte/inscription/", {
        "email": "camille.martin.sante@sante.gouv.fr", "first_name": "Camille", "last_name": "Martin",
        "password1": password, "password2": password,
    })
    assert message in text(response)
    assert not User.objects.exists()


# Lockout


def test_five_failures_lock_the_account_with_a_clear_french_page(client):
    agent = UserFactory(email="agent@interieur.gouv.fr")
    for _ in range(4):
        assert "Adresse électronique ou mot de passe incorrect" in text(attempt(client, agent.email))
    fifth = attempt(client, agent.email)
    assert fifth.status_code == 429
    page = text(fifth)
    assert "Connexion temporairement bloquée" in page
    assert "Trop de tentatives de connexion ont échoué (5 au plus)." in page
    assert "bloquées pendant 15 minutes" in page
    # Even the right password, from another address, in capitals: the account stays locked.
    locked = attempt(client, "AGENT@interieur.gouv.fr", PASSWORD, ip="198.51.100.20")
    assert locked.status_code == 429 and "Connexion temporairement bloquée" in text(locked)
    assert "_auth_user_id" not in client.session


def test_five_failures_from_one_address_lock_that_address_for_every_account(client):
    victim = UserFactory(email="victime@culture.gouv.fr")
    for index in range(5):
        attempt(client, f"inconnu{index}@x.gouv.fr", ip="203.0.113.50")
    assert attempt(client, victim.email, PASSWORD, ip="203.0.113.50").status_code == 429
    assert "_auth_user_id" not in client.session
    elsewhere = attempt(client, victim.email, PASSWORD, ip="198.51.100.9")
    assert elsewhere.status_code == 302 and client.session["_auth_user_id"] == str(victim.pk)


def test_the_lock_ends_after_the_cool_off(client):
    agent = UserFactory(email="agent@armees.gouv.fr")
    for _ in range(5):
        attempt(client, agent.email)
    assert attempt(client, agent.email, PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert attempt(client, agent.email, PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(agent.pk)


def test_a_success_resets_the_count(client):
    agent = UserFactory(email="agent@justice.gouv.fr")
    for _ in range(4):
        attempt(client, agent.email)
    assert attempt(client, agent.email, PASSWORD).status_code == 302
    client.post("/compte/deconnexion/")
    for _ in range(4):
        assert attempt(client, agent.email).status_code == 200
    assert attempt(client, agent.email, PASSWORD).status_code == 302


def test_the_lockout_reads_remote_addr_unless_a_proxy_header_is_named(settings):
    request = RequestFactory().post(LOGIN, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    settings.RATELIMIT_IP_META_KEY = None
    assert client_ip(request) == "10.0.0.2"  # a client cannot choose its address by sending the header
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_FORWARDED_FOR"
    assert client_ip(request) == "203.0.113.9"  # the address the trusted proxy appended, last
    assert login_username(request, {"username": "  Agent@X.gouv.fr "}) == "agent@x.gouv.fr"


# Sessions


def test_login_gives_a_new_session_key_and_stamps_it(client):
    agent = UserFactory(email="agent@ecologie.gouv.fr")
    session = client.session
    session["visited"] = True
    session.save()
    client.cookies["sessionid"] = session.session_key
    before = session.session_key
    response = attempt(client, agent.email, PASSWORD)
    after = client.cookies["sessionid"].value
    assert response.status_code == 302 and after != before
    assert not Session.objects.filter(session_key=before).exists()  # the old key no longer opens anything
    assert client.session[LOGIN_METHOD] == LOCAL
    assert abs(client.session[LOGIN_AT] - time.time()) < 5


def test_session_cookie_is_http_only_and_lasts_thirty_minutes_of_inactivity(client):
    agent = UserFactory(email="agent@travail.gouv.fr")
    cookie = attempt(client, agent.email, PASSWORD).cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["max-age"] == 30 * 60
    assert cookie["samesite"] == "Lax"


def test_a_request_renews_the_inactivity_timeout_at_most_once_a_minute(client):
    agent = UserFactory(email="agent@agriculture.gouv.fr")
    client.force_login(agent)
    key = client.session.session_key
    soon = timezone.now() + timedelta(minutes=1)
    Session.objects.filter(session_key=key).update(expire_date=soon)
    assert client.get("/mes-projets/").status_code == 200
    assert Session.objects.get(session_key=key).expire_date == soon  # renewed at login, less than a minute ago
    session = client.session
    session[SEEN_AT] -= 60
    session.save()
    Session.objects.filter(session_key=key).update(expire_date=soon)
    response = client.get("/mes-projets/")
    expiry = Session.objects.get(session_key=key).expire_date
    assert timedelta(minutes=29) < expiry - timezone.now() <= timedelta(minutes=30)
    assert response.cookies["sessionid"]["max-age"] == 30 * 60


def test_an_idle_session_is_over(client):
    agent = UserFactory(email="agent@outre-mer.gouv.fr")
    client.force_login(agent)
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    # Thirty idle minutes also end the copy read through Redis (ami/sessions.py), stored for the same time.
    caches[settings.SESSION_CACHE_ALIAS].delete(SessionStore.cache_key_prefix + key)
    response = client.get("/mes-projets/")
    assert response.status_code == 302 and response["Location"].startswith("/compte/connexion/")


def test_a_session_ends_ten_hours_after_login_however_active(client):
    agent = UserFactory(email="agent@mer.gouv.fr")
    client.force_login(agent)
    session = client.session
    session[LOGIN_AT] = int(time.time()) - 10 * 3600 + 60  # one minute left
    session.save()
    assert client.get("/mes-projets/").status_code == 200
    session = client.session
    session[LOGIN_AT] = int(time.time()) - 10 * 3600 - 1
    session.save()
    response = client.get("/mes-projets/", follow=True)
    assert response.redirect_chain[0] == ("/compte/connexion/?next=/mes-projets/", 302)
    assert "Votre session a expiré : reconnectez-vous pour continuer." in text(response)
    assert "_auth_user_id" not in client.session


def test_the_absolute_timeout_comes_from_the_environment(settings, client):
    settings.SESSION_ABSOLUTE_TIMEOUT = 60
    agent = UserFactory(email="agent@sports.gouv.fr")
    client.force_login(agent)
    session = client.session
    session[LOGIN_AT] = int(time.time()) - 61
    session.save()
    assert client.get("/mes-projets/").status_code == 302


def _production_settings(**env):
    probe = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'secure': s.SESSION_COOKIE_SECURE, 'httponly': s.SESSION_COOKIE_HTTPONLY, 'age': s.SESSION_COOKIE_AGE, "
        "'absolute': s.SESSION_ABSOLUTE_TIMEOUT, 'otp': s.OTP_REQUIRED, "
        "'limit': s.AXES_FAILURE_LIMIT, 'cooloff': s.AXES_COOLOFF_TIME, 'params': s.AXES_LOCKOUT_PARAMETERS, "
        "'backends': s.AUTHENTICATION_BACKENDS, 'validators': len(s.AUTH_PASSWORD_VALIDATORS)}))"
    )
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "DEBUG", "SESSION"))}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
        env={**keep, "DJANGO_SETTINGS_MODULE": "ami.settings", "DEBUG": "0", "SECRET_KEY": "x" * 50, **env},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_secure_the_session_cookie_and_lock_out():
    values = _production_settings()
    assert values == {
        "secure": True, "httponly": True, "age": 1800, "absolute": 36000, "otp": True,
        "limit": 5, "cooloff": 0.25, "params": ["username", "ip_address"],
        "backends": ["ami.account_security.LoginAttemptsBackend", "ami.auth_memo.ModelBackend"],
        "validators": 4,
    }
    tuned = _production_settings(SESSION_COOKIE_AGE="900", SESSION_ABSOLUTE_TIMEOUT="28800", AXES_COOLOFF_MINUTES="30")
    assert (tuned["age"], tuned["absolute"], tuned["cooloff"]) == (900, 28800, 0.5)
