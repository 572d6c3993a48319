"""ProConnect (issue 8), end to end against a local OpenID Connect provider started by the test (oidc_provider.py).

The test client plays the portal's side; `requests` plays the browser at the provider, which approves at once.
"""

import html
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from ami.account_security import LOGIN_METHOD, PROCONNECT
from ami.models import AuditEvent, User
from tests.ami.factories import UserFactory
from tests.ami.oidc_provider import OIDCProvider
from tests.jury.factories import JuryMemberFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]

CLIENT_ID, CLIENT_SECRET = "ami-ia-tests", "un-secret-de-test"
AGENT = {"sub": "c2f1e0a4-agent", "email": "Experte@Inria.fr", "given_name": "Claire", "usual_name": "Dupont",
         "uid": "42", "siret": "18008901303720"}


@pytest.fixture
def provider():
    server = OIDCProvider(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, claims=AGENT).start()
    yield server
    server.stop()


@pytest.fixture
def proconnect(settings, provider):
    settings.PROCONNECT_ENABLED = True
    settings.PROCONNECT_ISSUER = provider.issuer
    settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = provider.endpoint("authorize")
    settings.OIDC_OP_TOKEN_ENDPOINT = provider.endpoint("token")
    settings.OIDC_OP_USER_ENDPOINT = provider.endpoint("userinfo")
    settings.OIDC_OP_JWKS_ENDPOINT = provider.endpoint("jwks")
    settings.PROCONNECT_LOGOUT_ENDPOINT = provider.endpoint("session/end")
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "ami.proconnect.ProConnectBackend"]
    settings.OTP_REQUIRED = True
    return provider


def text(response):
    return html.unescape(response.content.decode()).replace("\xa0", " ").replace("\u202f", " ")


def sign_in(client, provider, next_url="/jury/"):
    """The whole round trip: portal → provider (auto-approved) → portal's callback, then the redirects."""
    start = client.get("/compte/proconnect/authenticate/", {"next": next_url})
    assert start.status_code == 302 and start["Location"].startswith(provider.endpoint("authorize") + "?")
    at_provider = requests.get(start["Location"], allow_redirects=False, timeout=5)
    assert at_provider.status_code == 302
    callback = at_provider.headers["Location"]
    assert callback.startswith("http://testserver/compte/proconnect/callback/?code=")
    return client.get(callback, follow=True)


def test_the_button_and_the_pages_exist_only_when_enabled(client, settings):
    assert "ProConnect" not in text(client.get("/compte/connexion/"))
    assert client.get("/compte/proconnect/authenticate/").status_code == 404
    assert client.get("/compte/proconnect/callback/?code=x&state=y").status_code == 404


def test_the_login_page_shows_the_proconnect_button(client, proconnect):
    page = text(client.get("/compte/connexion/?next=/jury/"))
    assert '<a class="fr-connect ami-proconnect" href="/compte/proconnect/authenticate/?next=/jury/">' in page
    assert "S'identifier avec" in page and '<span class="fr-connect__brand">ProConnect</span>' in page


def test_a_juror_signs_in_through_proconnect_linked_by_email_and_without_a_second_factor(client, proconnect):
    juror = JuryMemberFactory(user__email="experte@inria.fr", user__first_name="Claire").user
    response = sign_in(client, proconnect)
    assert response.redirect_chain[-1] == ("/jury/", 302)
    assert response.status_code == 200  # no detour through the second factor: ProConnect vouched for her
    assert client.session["_auth_user_id"] == str(juror.pk)
    assert client.session[LOGIN_METHOD] == PROCONNECT
    assert User.objects.count() == 1  # linked, not duplicated
    authorize = next(params for path, params in proconnect.seen if path == "/authorize")
    assert authorize["acr_values"] == "eidas1" and authorize["scope"] == "openid email given_name usual_name"
    assert authorize["nonce"] and authorize["state"]


def test_the_same_juror_with_a_password_must_give_a_second_factor(client, proconnect):
    juror = JuryMemberFactory(user__email="experte@inria.fr").user
    response = client.post("/compte/connexion/", {"username": juror.email, "password": "correct horse battery staple",
                                                  "next": "/jury/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/compte/double-authentification/activer/?next=%2Fjury%2F"


def test_staff_through_proconnect_still_give_a_second_factor(client, proconnect):
    UserFactory(email="experte@inria.fr", is_staff=True)
    response = sign_in(client, proconnect, next_url="/equipe/")
    assert response.redirect_chain[-1][0] == "/compte/double-authentification/activer/?next=%2Fequipe%2F"


def test_a_new_agent_gets_an_account_with_the_names_proconnect_gives(client, proconnect):
    sign_in(client, proconnect, next_url="/")
    user = User.objects.get()
    assert (user.email, user.first_name, user.last_name) == ("experte@inria.fr", "Claire", "Dupont")
    assert user.is_active and user.email_verified_at is not None and not user.has_usable_password()
    assert client.session["_auth_user_id"] == str(user.pk)
    assert AuditEvent.objects.get(action="account.created_through_proconnect").actor == user


def test_a_sign_up_waiting_for_its_link_is_activated_but_a_deactivated_account_stays_out(client, proconnect):
    pending = UserFactory(email="experte@inria.fr", is_active=False, email_verified_at=None)
    sign_in(client, proconnect, next_url="/")
    pending.refresh_from_db()
    assert pending.is_active and pending.email_verified_at is not None
    assert client.session["_auth_user_id"] == str(pending.pk)
    client.post("/compte/deconnexion/")
    pending.is_active = False
    pending.save()
    response = sign_in(client, proconnect, next_url="/")
    assert "La connexion avec ProConnect n'a pas abouti." in text(response)
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("claims", "tamper"),
    [
        ({"email_verified": False}, {}),  # an address the provider does not vouch for
        ({}, {"iss": "https://faux-fournisseur.example/api/v2"}),  # an ID token from another issuer
        ({}, {"aud": "un-autre-service"}),  # an ID token meant for another service
        ({}, {"nonce": "rejoue"}),  # a replayed ID token
    ],
)
def test_untrustworthy_answers_are_refused_with_a_french_message(client, proconnect, claims, tamper):
    UserFactory(email="experte@inria.fr")
    proconnect.claims.update(claims)
    proconnect.tamper.update(tamper)
    response = sign_in(client, proconnect)
    assert response.redirect_chain[-1] == ("/compte/connexion/", 302)
    assert "La connexion avec ProConnect n'a pas abouti." in text(response)
    assert "_auth_user_id" not in client.session
    assert User.objects.count() == 1


def test_a_provider_that_does_not_answer_gives_the_same_message(client, proconnect):
    start = client.get("/compte/proconnect/authenticate/")
    callback = requests.get(start["Location"], allow_redirects=False, timeout=5).headers["Location"]
    proconnect.stop()
    response = client.get(callback, follow=True)
    assert "La connexion avec ProConnect n'a pas abouti." in text(response)
    proconnect.start()  # the fixture stops it again


@pytest.mark.parametrize("logout_url", ["/compte/deconnexion/", "/compte/proconnect/logout/"])
def test_logging_out_ends_the_proconnect_session_too(client, proconnect, logout_url):
    UserFactory(email="experte@inria.fr")
    sign_in(client, proconnect, next_url="/")
    response = client.post(logout_url)
    assert "_auth_user_id" not in client.session
    location = urlparse(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == proconnect.endpoint("session/end")
    params = parse_qs(location.query)
    assert params["post_logout_redirect_uri"] == ["http://testserver/"]
    back = requests.get(response["Location"], allow_redirects=False, timeout=5)
    assert back.headers["Location"] == "http://testserver/"  # the provider knew the ID token and sends back


def test_logging_out_after_a_password_login_stays_on_the_portal(client, proconnect):
    client.force_login(UserFactory(email="agent@x.gouv.fr"))
    assert client.post("/compte/deconnexion/")["Location"] == "/"


def _settings_probe(**env):
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("PROCONNECT", "DATABASE_URL", "REDIS_URL"))}
    return subprocess.run(
        [sys.executable, "-c", "from django.conf import settings as s; print(s.AUTHENTICATION_BACKENDS[-1], "
         "s.OIDC_OP_TOKEN_ENDPOINT)"],
        cwd=ROOT, capture_output=True, text=True,
        env={**keep, "DJANGO_SETTINGS_MODULE": "ami.settings", "DEBUG": "1", **env},
    )


def test_enabling_proconnect_needs_its_issuer_and_credentials():
    refused = _settings_probe(PROCONNECT_ENABLED="1", PROCONNECT_CLIENT_ID="ami")
    assert refused.returncode != 0
    message = "PROCONNECT_ENABLED needs PROCONNECT_ISSUER, PROCONNECT_CLIENT_ID and PROCONNECT_CLIENT_SECRET."
    assert message in refused.stderr
    enabled = _settings_probe(PROCONNECT_ENABLED="1", PROCONNECT_ISSUER="https://proconnect.gouv.fr/api/v2/",
                              PROCONNECT_CLIENT_ID="ami", PROCONNECT_CLIENT_SECRET="secret")
    assert enabled.stdout.split() == ["ami.proconnect.ProConnectBackend", "https://proconnect.gouv.fr/api/v2/token"]
    assert _settings_probe().stdout.split()[0] == "ami.auth_memo.ModelBackend"
