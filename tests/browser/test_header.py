"""The DSFR header: a long e-mail address never squeezes the Marianne block, and the mobile menu carries the
account links and the language menu without DSFR having to copy them (a copy made after DSFR styled the
language collapse carried style attributes that the content security policy blocks)."""

import pytest
from playwright.sync_api import expect

from tests.ami.factories import UserFactory
from tests.browser.test_staff_setup import log_in
from tests.conftest import axe_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_EMAIL = "responsable.programme.intelligence-artificielle@numerique.gouv.fr"


def logo_is_whole(page):
    """The Marianne block (logo and "République française") is not cut: its box is as wide as its content."""
    return page.locator(".fr-header__brand-top").evaluate("(top) => top.scrollWidth <= top.clientWidth + 1")


def test_long_email_leaves_the_marianne_block_whole(page):
    UserFactory(is_staff=True, email=LONG_EMAIL)
    log_in(page, LONG_EMAIL)
    user = page.locator("#current-user")
    assert user.get_attribute("title") == LONG_EMAIL
    assert user.evaluate("(element) => element.getBoundingClientRect().width") < 300
    assert logo_is_whole(page)
    logo = page.locator(".fr-header__logo").bounding_box()
    tools = page.locator(".fr-header__tools").bounding_box()
    assert logo["x"] + logo["width"] <= tools["x"] + 1, "the tools overlap the Marianne block"
    assert axe_violations(page) == []
    screenshot(page, "header-long-email")


def test_mobile_menu_has_account_links_and_language_menu(page):
    UserFactory(email="agent@justice.gouv.fr")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/compte/connexion/")
    menu_links = page.locator("#menu-modal .fr-header__menu-links").first
    before = menu_links.inner_html()
    assert 'id="current-user' not in before  # anonymous: log in and sign up links
    assert "Se connecter" in before and "Créer un compte" in before
    page.get_by_label("Adresse électronique").fill("agent@justice.gouv.fr")
    from tests.browser.test_applicant import PASSWORD

    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.locator("#content").get_by_role("button", name="Se connecter").click()
    page.locator("#menu-button").click()
    expect(page.locator("#menu-modal")).to_be_visible()
    expect(page.locator("#current-user-mobile")).to_have_text("agent@justice.gouv.fr")
    assert page.locator("#current-user").count() == 1  # DSFR did not add a second copy
    page.locator("#translate-mobile-button").click()
    page.locator("#translate-mobile button[data-language='en']").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    page.locator("#menu-button").click()
    expect(page.locator("#menu-modal")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "header-mobile-menu-en")
    page.locator("#translate-mobile-button").click()
    page.locator("#translate-mobile button[data-language='fr']").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "fr"
