"""A visitor browses the calls, the 2019 call and its laureates, in French then English."""

import pytest

from ami import demo
from tests.conftest import axe_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_call_and_laureates_in_both_languages(page):
    demo.seed()
    page.goto("/")
    assert page.locator("h1").inner_text().startswith("Appels à manifestation d'intérêt")
    cards = page.locator("#call-list .fr-card__title").all_inner_texts()
    assert cards[0] == "AMI Intelligence artificielle — appel de démonstration"
    assert axe_violations(page) == []
    screenshot(page, "home-fr")

    page.get_by_role("link", name="AMI Intelligence artificielle 2019").click()
    assert page.locator("h1").inner_text() == "AMI Intelligence artificielle 2019"
    assert "25\u00a0%" in page.locator("#criteria-table").inner_text()
    assert "3\u202f500\u202f000\u00a0€" in page.locator("#tracks-table").inner_text()
    assert axe_violations(page) == []
    screenshot(page, "call-2019-fr")

    page.get_by_role("link", name="Voir les lauréats").click()
    assert page.locator("#laureate-count").inner_text() == "15 projets lauréats"
    assert page.locator("tr.laureate-row").count() == 15
    assert axe_violations(page) == []
    screenshot(page, "laureates-2019-fr")

    page.locator("#translate-desktop-button").click()
    page.locator("#translate-desktop button[data-language='en']").click()
    page.wait_for_load_state()
    assert page.locator("#laureate-count").inner_text() == "15 laureate projects"
    assert page.locator("html").get_attribute("lang") == "en"
    assert axe_violations(page) == []
    screenshot(page, "laureates-2019-en")

    page.goto("/appels/ami-ia-2019/")
    screenshot(page, "call-2019-en")
    page.goto("/")
    screenshot(page, "home-en")
    page.locator("#translate-desktop-button").click()
    page.locator("#translate-desktop button[data-language='fr']").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("h1").inner_text().startswith("Appels à manifestation d'intérêt")


def test_unknown_page_is_the_dsfr_404(page):
    response = page.goto("/appels/inconnu/")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Page non trouvée"
    assert axe_violations(page) == []
