"""Account security in the browser (issue 8): staff set up two-factor authentication, the lockout page, ProConnect."""

import re
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from tests.ami.factories import UserFactory
from tests.ami.oidc_provider import OIDCProvider
from tests.conftest import axe_violations, screenshot
from tests.jury.factories import JuryMemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def log_in(page, email, password=PASSWORD):
    page.goto("/compte/connexion/")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def code_from(secret):
    return f"{TOTP(b32decode(secret.replace(' ', ''))).token():06d}"


def test_staff_sets_up_two_factor_authentication_then_uses_a_recovery_code(page, settings):
    settings.OTP_REQUIRED = True
    UserFactory(email="cheffe.programme@numerique.gouv.fr", is_staff=True)

    log_in(page, "cheffe.programme@numerique.gouv.fr")
    expect(page.locator("h1")).to_have_text("Activer la double authentification")
    assert page.locator(".ami-otp-qr svg").count() == 1
    assert axe_violations(page) == []
    screenshot(page, "otp-setup")
    secret = page.locator("#otp-secret").inner_text()
    page.get_by_label("Code à 6 chiffres").fill("12")
    page.get_by_role("button", name="Activer la double authentification").click()
    expect(page.locator("#form-errors")).to_contain_text("Saisissez les 6 chiffres affichés par votre application.")
    page.get_by_label("Code à 6 chiffres").fill(code_from(secret))
    page.get_by_role("button", name="Activer la double authentification").click()

    expect(page.locator("h1")).to_have_text("Codes de secours")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-7]{8}", code) for code in codes)
    assert axe_violations(page) == []
    screenshot(page, "otp-recovery-codes")
    page.get_by_role("link", name="Continuer").click()
    expect(page).to_have_url(re.compile(r"/$"))
    page.goto("/equipe/")
    expect(page.locator("h1")).not_to_have_text("Double authentification")

    page.get_by_role("button", name="Se déconnecter").click()
    log_in(page, "cheffe.programme@numerique.gouv.fr")
    expect(page.locator("h1")).to_have_text("Double authentification")
    assert axe_violations(page) == []
    screenshot(page, "otp-verify")
    page.get_by_role("link", name="Utiliser un code de secours").click()
    expect(page.locator("h1")).to_have_text("Se connecter avec un code de secours")
    assert axe_violations(page) == []
    screenshot(page, "otp-recovery")
    page.get_by_label("Code de secours").fill(codes[0].upper())
    page.get_by_role("button", name="Utiliser ce code").click()
    expect(page.locator(".fr-alert--warning")).to_contain_text("Code de secours accepté. Il vous en reste 9")


def test_five_failed_logins_show_the_lockout_page(page):
    UserFactory(email="agent@interieur.gouv.fr")
    for _ in range(5):
        log_in(page, "agent@interieur.gouv.fr", "pas le bon mot de passe")
    expect(page.locator("h1")).to_have_text("Connexion temporairement bloquée")
    expect(page.locator("#lockout-message")).to_contain_text("bloquées pendant 15 minutes")
    assert axe_violations(page) == []
    screenshot(page, "account-lockout")


def test_a_juror_signs_in_with_the_proconnect_button(page, settings):
    claims = {"sub": "agent-1", "email": "experte@inria.fr", "given_name": "Claire", "usual_name": "Dupont"}
    provider = OIDCProvider(client_id="ami", client_secret="secret", claims=claims).start()
    try:
        settings.OTP_REQUIRED = True
        settings.PROCONNECT_ENABLED = True
        settings.PROCONNECT_ISSUER = provider.issuer
        settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = "ami", "secret"
        settings.OIDC_OP_AUTHORIZATION_ENDPOINT = provider.endpoint("authorize")
        settings.OIDC_OP_TOKEN_ENDPOINT = provider.endpoint("token")
        settings.OIDC_OP_USER_ENDPOINT = provider.endpoint("userinfo")
        settings.OIDC_OP_JWKS_ENDPOINT = provider.endpoint("jwks")
        settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "ami.proconnect.ProConnectBackend"]
        JuryMemberFactory(user__email="experte@inria.fr")

        page.goto("/compte/connexion/?next=/jury/")
        assert axe_violations(page) == []
        screenshot(page, "login-with-proconnect")
        page.get_by_role("link", name="S'identifier avec ProConnect").click()
        expect(page).to_have_url(re.compile(r"/jury/$"))
        expect(page.locator("#current-user")).to_have_text("experte@inria.fr")
    finally:
        provider.stop()
