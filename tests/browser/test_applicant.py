"""An agent joins an administration, starts a draft on an open call, and autosave keeps their text."""

import re

import pytest
from playwright.sync_api import expect

from ami.models import CallStatus
from applications import services
from applications.models import Membership, Proposal
from tests.ami.factories import CallFactory, TrackFactory, UserFactory
from tests.applications.factories import AdministrationFactory, MembershipFactory
from tests.conftest import axe_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def log_in(page, email):
    page.goto("/compte/connexion/")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("#current-user")).to_have_text(email)


def test_join_an_administration_then_draft_with_autosave(page):
    call = CallFactory(status=CallStatus.OPEN, title="AMI Intelligence artificielle 2019", slug="ami-ia-2019")
    TrackFactory(call=call, name="Accompagnement technique et métier")
    TrackFactory(call=call, name="Accompagnement scientifique")
    dgs = AdministrationFactory(name="Direction générale de la santé", acronym="DGS", ministry="Ministère de la Santé")
    AdministrationFactory(name="Office français de la biodiversité", acronym="OFB", ministry="Transition écologique")
    colleague = MembershipFactory(administration=dgs).user
    agent = UserFactory(email="camille.martin@sante.gouv.fr")

    log_in(page, agent.email)
    page.goto("/mon-administration/nouvelle/")
    assert page.locator("h1").inner_text() == "Proposer une administration"
    assert axe_violations(page) == []
    screenshot(page, "applicant-propose-administration")
    page.goto("/mon-administration/")
    assert page.get_by_role("link", name="Membres à confirmer").count() == 0  # not a confirmed member yet
    assert page.locator("h1").inner_text() == "Mon administration"
    page.get_by_label("Rechercher votre administration").fill("santé")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator("#search-results [role=status]")).to_have_text("1 administration trouvée pour « santé ».")
    assert axe_violations(page) == []
    screenshot(page, "applicant-join-search")
    page.locator("#join-administration label", has_text="Direction générale de la santé (DGS)").click()  # DSFR radios
    page.get_by_role("button", name="Demander à rejoindre").click()
    expect(page.locator("#pending-notice")).to_contain_text("Votre demande attend sa confirmation")
    assert axe_violations(page) == []
    screenshot(page, "applicant-join-pending")

    services.confirm_membership(membership=Membership.objects.get(user=agent), by=colleague)
    MembershipFactory(administration=dgs, status="pending", user__email="dominique.petit@sante.gouv.fr")
    page.goto("/mon-administration/membres/")
    expect(page.locator("#pending-members")).to_contain_text("dominique.petit@sante.gouv.fr")
    assert axe_violations(page) == []
    screenshot(page, "applicant-members")
    page.get_by_role("button", name="Confirmer").click()
    expect(page.locator("#no-pending")).to_have_text("Aucune demande en attente.")

    page.goto("/mes-projets/")
    expect(page.locator("#call-ami-ia-2019 h2")).to_have_text("AMI Intelligence artificielle 2019")
    assert "(heure de Paris)" in page.locator("#call-ami-ia-2019 .call-deadline").inner_text()
    assert axe_violations(page) == []
    screenshot(page, "applicant-my-proposals-empty")
    page.locator("#call-ami-ia-2019").get_by_role("link", name=re.compile("Nouveau projet")).click()
    assert page.locator("h1").inner_text() == "Nouveau projet"
    assert axe_violations(page) == []
    screenshot(page, "applicant-new-draft")
    page.get_by_label("Titre du projet").fill("Tri des signalements d'événements sanitaires")
    page.get_by_role("button", name="Créer le brouillon").click()

    expect(page.locator("h1")).to_have_text("Modifier le brouillon")
    proposal = Proposal.objects.get()
    assert page.url.endswith(f"/mes-projets/{proposal.pk}/modifier/")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Enregistrer et continuer").click()  # one page per section of the form
    expect(page.locator(".fr-stepper__state")).to_have_text("Étape 2 sur 8")
    typed = "Plus de 10 000 signalements par an sont triés à la main par les agents des ARS."
    page.get_by_label("Problème à résoudre et personnes concernées").fill(typed)
    expect(page.locator("#autosave-status")).to_contain_text("Enregistré à", timeout=15000)
    assert re.fullmatch(r"Enregistré à \d\d:\d\d", page.locator("#autosave-status").inner_text())
    screenshot(page, "applicant-edit-draft-saved")

    page.reload()
    expect(page.get_by_label("Problème à résoudre et personnes concernées")).to_have_value(typed)
    assert page.locator("#autosave-restore").is_hidden()  # the server copy is current: nothing to restore
    proposal.refresh_from_db()
    assert (proposal.problem, proposal.version) == (typed, 3)

    page.goto("/mes-projets/")
    row = page.locator("#call-ami-ia-2019 .proposal-row")
    expect(row).to_contain_text("Tri des signalements d'événements sanitaires")
    assert axe_violations(page) == []
    screenshot(page, "applicant-my-proposals")


def test_autosave_says_when_the_session_expired_and_keeps_the_text(page):
    call = CallFactory(status=CallStatus.OPEN, slug="ouvert")
    member = MembershipFactory()
    proposal, _ = services.start_draft(call=call, administration=member.administration, by=member.user, title="Projet")
    log_in(page, member.user.email)
    page.goto(f"/mes-projets/{proposal.pk}/modifier/")
    page.context.clear_cookies()  # the session ends (the CSRF cookie goes with it: the form's token is used)
    page.get_by_label("Résumé").fill("Texte tapé après l'expiration")
    expect(page.locator("#autosave-status")).to_have_text(
        "Session expirée : reconnectez-vous dans un autre onglet, votre texte est conservé", timeout=15000)
    expect(page.get_by_label("Résumé")).to_have_value("Texte tapé après l'expiration")
    stored = page.evaluate(f"window.localStorage.getItem('ami-draft-{proposal.pk}-1')")
    assert "Texte tapé après l'expiration" in stored
    screenshot(page, "applicant-edit-draft-expired")
    # Signed in again, the page offers the browser's copy (newer than the server's) and saves it.
    page.on("dialog", lambda dialog: dialog.accept())  # the "unsaved changes" warning when leaving
    log_in(page, member.user.email)
    page.goto(f"/mes-projets/{proposal.pk}/modifier/")
    expect(page.get_by_label("Résumé")).to_have_value("")
    expect(page.locator("#autosave-restore")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "applicant-edit-draft-restore")
    page.get_by_role("button", name="Restaurer ma copie").click()
    expect(page.get_by_label("Résumé")).to_have_value("Texte tapé après l'expiration")
    expect(page.locator("#autosave-status")).to_contain_text("Enregistré à", timeout=15000)
    proposal.refresh_from_db()
    assert proposal.summary == "Texte tapé après l'expiration"
