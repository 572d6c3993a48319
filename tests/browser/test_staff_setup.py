"""Staff set up a call in the staff area, watch the weights reach 100, open it, and the public sees it."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from ami.models import Call, CallStatus
from tests.ami.factories import UserFactory
from tests.browser.test_applicant import PASSWORD
from tests.conftest import axe_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, email):
    page.goto("/compte/connexion/")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("#current-user")).to_have_text(email)


def paris_input(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def check_page(page, name):
    assert axe_violations(page) == []
    screenshot(page, name)


def test_staff_set_up_a_call_and_open_it(page, browser, live_server):
    staff = UserFactory(is_staff=True, email="programme@numerique.gouv.fr")
    log_in(page, staff.email)
    page.get_by_role("link", name="Espace équipe").first.click()
    expect(page.locator("h1")).to_have_text("Espace équipe")
    check_page(page, "staff-home")

    page.get_by_role("link", name="Créer un appel").click()
    expect(page.locator("h1")).to_have_text("Nouvel appel")
    page.get_by_label("Titre").fill("AMI Intelligence artificielle 2026")
    page.get_by_label("Identifiant dans l'adresse de l'appel").fill("ami-ia-2026")
    page.get_by_label("Préfixe des références des projets").fill("AMI2026")
    page.get_by_label("Description").fill("Expérimenter l'intelligence artificielle au service des usagers.")
    page.get_by_label("Qui peut candidater").fill("Les administrations de l'État et leurs opérateurs.")
    page.get_by_label("Ouverture des candidatures (heure de Paris)").fill(
        paris_input(timezone.now() - timedelta(days=1)))
    page.get_by_label("Clôture des candidatures (heure de Paris)").fill(
        paris_input(timezone.now() + timedelta(days=40)))
    check_page(page, "staff-call-create")
    page.get_by_role("button", name="Créer l'appel").click()
    expect(page.locator("h1")).to_have_text("AMI Intelligence artificielle 2026")
    expect(page.locator("#call-phase")).to_have_text("Brouillon")
    check_page(page, "staff-call-overview-draft")

    page.locator("#call-menu").get_by_role("link", name="Parcours et enveloppes").click()
    page.locator("[name='rows-0-code']").fill("technique")
    page.locator("[name='rows-0-name']").fill("Accompagnement technique et métier")
    page.locator("[name='rows-0-budget_eur']").fill("3500000")
    page.locator("[name='rows-0-max_laureates']").fill("11")
    page.get_by_role("button", name="Ajouter un parcours").click()
    expect(page.locator("[name='rows-1-code']")).to_be_focused()
    page.locator("[name='rows-1-code']").fill("scientifique")
    page.locator("[name='rows-1-name']").fill("Accompagnement scientifique")
    page.locator("[name='rows-1-budget_eur']").fill("500000")
    page.locator("[name='rows-1-max_laureates']").fill("4")
    check_page(page, "staff-tracks")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".fr-alert--success")).to_have_text("Parcours enregistrés.")
    expect(page.locator("#tracks-total")).to_contain_text("4\u202f000\u202f000\u00a0€")

    page.locator("#call-menu").get_by_role("link", name="Critères et pondération").click()
    total = page.locator("#weights-total")
    expect(total).to_contain_text("Total : 0 / 100")
    page.locator("[name='rows-0-title']").fill("Impact pour l'administration et les usagers")
    page.locator("[name='rows-0-weight']").fill("60")
    expect(total).to_contain_text("Total : 60 / 100 — il manque 40 points")
    page.get_by_role("button", name="Ajouter un critère").click()
    page.locator("[name='rows-1-title']").fill("Pertinence de l'intelligence artificielle")
    page.locator("[name='rows-1-weight']").fill("45")
    expect(total).to_contain_text("Total : 105 / 100 — 5 points de trop")
    page.get_by_role("button", name="Enregistrer").click()  # refused by the server, nothing saved
    expect(page.locator("#form-errors")).to_contain_text("égale à 100 (actuellement 105)")
    check_page(page, "staff-criteria-refused")
    assert Call.objects.get().criteria.count() == 0
    page.locator("[name='rows-1-weight']").fill("40")
    expect(total).to_contain_text("Total : 100 / 100 — le total est bien de 100")
    page.locator("[name='rows-0-rubric']").fill("Absent\nTrès faible\nFaible\nCorrect\nSolide\nRemarquable")
    check_page(page, "staff-criteria-100")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".fr-alert--success")).to_have_text("Critères enregistrés.")

    page.locator("#call-menu").get_by_role("link", name="Questions de recevabilité").click()
    page.locator("[name='rows-0-text']").fill(
        "Le projet est-il porté par une administration de l'État ou un de ses opérateurs ?")
    page.locator("[name='rows-0-ineligible_answer']").select_option("False")
    check_page(page, "staff-questions")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".fr-alert--success")).to_have_text("Questions de recevabilité enregistrées.")

    page.locator("#call-menu").get_by_role("link", name="Vue d'ensemble et phase").click()
    expect(page.locator(".readiness")).to_have_count(0)
    page.get_by_role("button", name="Ouvrir aux candidatures").click()
    expect(page.locator("#call-phase")).to_have_text("Ouvert aux candidatures")
    expect(page.locator("#transition-history")).to_contain_text("programme@numerique.gouv.fr")
    check_page(page, "staff-call-overview-open")
    assert Call.objects.get().status == CallStatus.OPEN

    page.locator("#call-menu").get_by_role("link", name="Paramètres et calendrier").click()
    expect(page.get_by_label("Identifiant dans l'adresse de l'appel")).to_be_disabled()
    check_page(page, "staff-call-edit-open")

    visitor = browser.new_context(base_url=live_server.url, locale="fr-FR").new_page()
    visitor.goto("/")
    expect(visitor.locator("#call-list .fr-card__title").first).to_have_text("AMI Intelligence artificielle 2026")
    visitor.context.close()


def test_staff_clone_a_call(page):
    from tests.ami.factories import ready_call

    ready_call(slug="ami-ia-2019", title="AMI Intelligence artificielle 2019", status=CallStatus.ANNOUNCED)
    log_in(page, UserFactory(is_staff=True).email)
    page.goto("/equipe/appels/")
    check_page(page, "staff-calls")
    page.get_by_role("link", name="Paramétrer l'appel AMI Intelligence artificielle 2019").click()
    page.locator("#call-menu").get_by_role("link", name="Copier cet appel").click()
    expect(page.get_by_label("Identifiant dans l'adresse du nouvel appel")).to_have_value("ami-ia-2019-copie")
    page.get_by_label("Titre du nouvel appel").fill("AMI Intelligence artificielle 2020")
    page.get_by_label("Identifiant dans l'adresse du nouvel appel").fill("ami-ia-2020")
    page.get_by_label("Ouverture des candidatures (heure de Paris)").fill("2030-04-01T09:00")
    page.get_by_label("Clôture des candidatures (heure de Paris)").fill("2030-05-31T23:59")
    check_page(page, "staff-call-clone")
    page.get_by_role("button", name="Créer la copie").click()
    expect(page.locator("h1")).to_have_text("AMI Intelligence artificielle 2020")
    expect(page.locator("#call-dates")).to_contain_text("31 mai 2030, 23:59")
    expect(page.locator("#overview-weights-total")).to_have_text("Total des poids : 100 / 100")
