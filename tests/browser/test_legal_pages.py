"""The privacy and accessibility pages from the footer, the download of one's data, the 429 page, and the
content security policy really enforced (the `page` fixture fails a test on any violation)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from ami.models import CallStatus, CallTransition
from tests.ami.factories import CallFactory, UserFactory
from tests.browser.test_applicant import PASSWORD, log_in
from tests.conftest import axe_violations, csp_violation, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_footer_leads_to_the_privacy_and_accessibility_pages(page):
    call = CallFactory(title="AMI Intelligence artificielle 2019", status=CallStatus.ANNOUNCED, retention_months=24)
    transition = CallTransition.objects.create(call=call, from_status=CallStatus.DELIBERATION,
                                               to_status=CallStatus.ANNOUNCED)
    CallTransition.objects.filter(pk=transition.pk).update(at=timezone.now() - timedelta(days=100))
    page.goto("/")
    page.locator("#footer").get_by_role("link", name="Données personnelles").click()
    assert page.locator("h1").inner_text() == "Données personnelles"
    row = page.locator("#retention-table tbody tr").first
    assert row.locator("th").inner_text() == "AMI Intelligence artificielle 2019"
    assert row.locator("td").first.inner_text() == "24 mois"
    assert page.get_by_role("link", name="Se connecter").last.is_visible()
    assert axe_violations(page) == []
    screenshot(page, "privacy-fr")

    page.locator("#footer").get_by_role("link", name="Accessibilité : non conforme").click()
    assert page.locator("h1").inner_text() == "Déclaration d'accessibilité"
    assert "non conforme" in page.locator("#a11y-conformity").inner_text()
    assert page.locator("#a11y-email").get_attribute("href") == "mailto:accessibilite@ami-ia.numerique.gouv.fr"
    assert axe_violations(page) == []
    screenshot(page, "accessibility-fr")


def test_a_signed_in_person_downloads_their_data(page):
    user = UserFactory(email="camille.martin@sante.gouv.fr", first_name="Camille", last_name="Martin")
    log_in(page, user.email)
    page.goto("/donnees-personnelles/")
    assert axe_violations(page) == []
    screenshot(page, "privacy-signed-in-fr")
    with page.expect_download() as download_info:
        page.locator("#download-my-data").click()
    download = download_info.value
    assert download.suggested_filename == f"mes-donnees-ami-ia-{timezone.localdate():%Y-%m-%d}.json"
    with open(download.path(), encoding="utf-8") as handle:
        data = json.load(handle)
    assert data["account"]["email"] == "camille.martin@sante.gouv.fr"
    assert data["account"]["last_login"] is not None
    assert PASSWORD not in json.dumps(data)


def test_too_many_password_resets_show_the_429_page(page):
    for _ in range(5):
        page.goto("/compte/mot-de-passe/")
        page.get_by_label("Adresse électronique").fill("personne@exemple.gouv.fr")
        page.get_by_role("button", name="Recevoir le lien").click()
        expect(page.locator("h1")).not_to_have_text("Trop de demandes")
    page.goto("/compte/mot-de-passe/")
    page.get_by_label("Adresse électronique").fill("personne@exemple.gouv.fr")
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.get_by_role("button", name="Recevoir le lien").click()
    assert answer.value.status == 429
    expect(page.locator("h1")).to_have_text("Trop de demandes")
    assert axe_violations(page) == []
    screenshot(page, "too-many-requests-fr")


def test_the_policy_is_enforced_and_its_violations_are_caught(browser, live_server):
    """What the `page` fixture relies on: Chromium blocks inline code and logs it as a CSP console error."""
    context = browser.new_context(base_url=live_server.url)
    try:
        page = context.new_page()
        messages = []
        page.on("console", lambda message: messages.append(message))
        page.goto("/accessibilite/")
        page.evaluate("""() => {
            document.body.insertAdjacentHTML('beforeend', '<p id="styled" style="color: rgb(255, 0, 0)">x</p>');
            const script = document.createElement('script');
            script.textContent = 'window.inlineRan = true';
            document.body.appendChild(script);
        }""")
        page.wait_for_timeout(200)
        assert page.evaluate("() => window.inlineRan") is None
        assert page.evaluate("() => getComputedStyle(document.getElementById('styled')).color") != "rgb(255, 0, 0)"
        caught = [m.text for m in messages if csp_violation(m)]
        assert any("inline style" in text for text in caught), caught
        assert any("inline script" in text for text in caught), caught
    finally:
        context.close()
