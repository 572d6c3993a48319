"""An agent goes through the proposal form step by step, then attaches a PDF; each page passes axe."""

import re

import pytest
from playwright.sync_api import expect

from ami.models import CallStatus, EligibilityQuestion
from applications import services
from applications.models import Attachment, Proposal
from tests.ami.factories import CallFactory, TrackFactory
from tests.applications.factories import MembershipFactory, make_pdf_bytes
from tests.browser.test_applicant import log_in
from tests.conftest import axe_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def draft():
    call = CallFactory(status=CallStatus.OPEN, title="AMI Intelligence artificielle 2019", slug="ami-ia-2019")
    TrackFactory(call=call, name="Accompagnement technique et métier", budget_eur=3_500_000, position=0)
    TrackFactory(call=call, name="Accompagnement scientifique", budget_eur=500_000, position=1)
    EligibilityQuestion.objects.create(call=call, position=0, ineligible_answer=False,
                                       text="Le projet est-il porté par une administration de l'État ?")
    EligibilityQuestion.objects.create(call=call, position=1, ineligible_answer=True,
                                       text="Le projet est-il déjà financé par un autre programme ?")
    member = MembershipFactory(administration__name="Direction générale de la santé", administration__acronym="DGS",
                               user__email="camille.martin@sante.gouv.fr")
    proposal, _ = services.start_draft(call=call, administration=member.administration, by=member.user,
                                       title="Tri des signalements sanitaires")
    return proposal


def expect_step(page, number, title):
    expect(page.locator(".fr-stepper__state")).to_have_text(f"Étape {number} sur 8")
    expect(page.locator(".fr-stepper__title")).to_contain_text(title)


def test_the_stepper_saves_at_every_move_and_a_pdf_is_attached(page, draft):
    log_in(page, "camille.martin@sante.gouv.fr")
    page.goto(f"/mes-projets/{draft.pk}/modifier/")
    expect_step(page, 1, "Identité et contacts")
    expect(page.locator(".fr-stepper__details")).to_have_text(
        "Étape suivante : Le problème et les personnes concernées")
    expect(page.locator("#proposal-identity")).to_contain_text("Direction générale de la santé (DGS)")
    expect(page.locator("#steps-menu a[data-step]")).to_have_count(9)
    assert axe_violations(page) == []
    screenshot(page, "proposal-step-1")
    page.get_by_label("Résumé").fill("Trier automatiquement les signalements d'événements indésirables.")
    page.get_by_role("button", name="Enregistrer et continuer").click()

    expect_step(page, 2, "Le problème et les personnes concernées")
    expect(page.locator(".fr-alert--success")).to_contain_text("Brouillon enregistré.")
    page.get_by_label("Problème à résoudre et personnes concernées").fill("Dix mille signalements par an.")
    assert axe_violations(page) == []
    screenshot(page, "proposal-step-2")
    page.locator("#steps-menu").get_by_role("link", name="4. L'approche par l'intelligence artificielle").click()
    expect_step(page, 4, "L'approche par l'intelligence artificielle")  # the list of steps saves first, too
    draft.refresh_from_db()
    assert draft.problem == "Dix mille signalements par an."
    page.get_by_label("Approche par l'intelligence artificielle").fill("Classification de textes courts.")
    page.get_by_role("button", name="Étape précédente").click()
    expect_step(page, 3, "Les données")
    draft.refresh_from_db()
    assert draft.ai_approach == "Classification de textes courts."
    page.get_by_label("Données disponibles").fill("Cinq ans d'historique.")
    assert axe_violations(page) == []
    for number, title, label in [(4, "L'approche", None), (5, "L'équipe et la gouvernance", "Équipe et gouvernance"),
                                 (6, "Les bénéfices attendus", "Bénéfices attendus pour les agents et les usagers")]:
        page.get_by_role("button", name="Enregistrer et continuer").click()
        expect_step(page, number, title)
        assert axe_violations(page) == []
        if label:
            page.get_by_label(label).fill(f"Texte de l'étape {number}.")
    screenshot(page, "proposal-step-6")
    page.get_by_role("button", name="Enregistrer et continuer").click()

    expect_step(page, 7, "L'accompagnement demandé")
    page.get_by_label("Parcours demandé").select_option(label="Accompagnement scientifique — enveloppe de 500 000 €")
    page.get_by_label("Accompagnement demandé (€)").fill("800000")
    page.get_by_role("button", name="Enregistrer et continuer").click()
    expect(page.locator("#form-errors")).to_contain_text(
        "dépasse l'enveloppe du parcours « Accompagnement scientifique »")
    expect(page.locator("#id_requested_amount_eur-messages")).to_contain_text("(500 000 €)")
    assert axe_violations(page) == []
    screenshot(page, "proposal-step-7-over-budget")
    page.get_by_label("Accompagnement demandé (€)").fill("450000")
    page.get_by_role("button", name="Enregistrer et continuer").click()

    expect_step(page, 8, "Les questions de recevabilité")
    funded = page.locator("#eligibility fieldset").nth(1)
    warning = page.locator(".ami-ineligible-warning").nth(1)
    expect(warning).to_be_hidden()
    page.locator("#eligibility fieldset").nth(0).locator("label", has_text="Oui").click()
    funded.locator("label", has_text="Oui").click()
    expect(warning).to_be_visible()  # shown as soon as the answer makes the project ineligible
    expect(warning).to_contain_text("risque d'être jugé irrecevable")
    assert axe_violations(page) == []
    screenshot(page, "proposal-step-8-eligibility")
    page.get_by_role("button", name="Enregistrer et passer aux pièces jointes").click()

    expect(page.locator("h1")).to_have_text("Pièces jointes")
    expect(page.locator("#steps-menu [aria-current=page]")).to_have_text("Les pièces jointes")
    draft.refresh_from_db()
    questions = list(draft.call.eligibility_questions.values_list("pk", flat=True))
    assert draft.eligibility_answers == {str(questions[0]): True, str(questions[1]): True}
    assert (draft.requested_amount_eur, draft.requested_track.name, draft.data_description) == (
        450_000, "Accompagnement scientifique", "Cinq ans d'historique.")
    expect(page.locator("#no-attachments")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Fichier PDF").set_input_files(
        files=[{"name": "programme.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00 not a pdf"}])
    page.get_by_role("button", name="Joindre le fichier").click()
    expect(page.locator("#id_file-messages")).to_contain_text("Ce fichier n'est pas un PDF")
    assert axe_violations(page) == []
    screenshot(page, "attachments-refused")
    page.get_by_label("Fichier PDF").set_input_files(
        files=[{"name": "Présentation du projet.pdf", "mimeType": "application/pdf", "buffer": make_pdf_bytes(2)}])
    page.get_by_label("Description de la pièce").fill("Présentation au jury")
    page.get_by_role("button", name="Joindre le fichier").click()
    expect(page.locator("#current-attachments")).to_contain_text("Présentation du projet.pdf")
    expect(page.locator("#current-attachments")).to_contain_text("Présentation au jury")
    attachment = Attachment.objects.get()
    assert axe_violations(page) == []
    screenshot(page, "attachments-listed")

    response = page.request.get(f"/pieces-jointes/{attachment.pk}/")
    assert response.status == 200 and response.body() == make_pdf_bytes(2)
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"

    page.locator("#current-attachments").get_by_role("link", name=re.compile("Remplacer")).click()
    expect(page.locator("h1")).to_have_text("Remplacer une pièce jointe")
    assert axe_violations(page) == []
    screenshot(page, "attachments-replace")
    page.get_by_label("Fichier PDF").set_input_files(
        files=[{"name": "Présentation v2.pdf", "mimeType": "application/pdf", "buffer": make_pdf_bytes(3)}])
    page.get_by_role("button", name="Remplacer le fichier").click()
    expect(page.locator("#attachment-history")).to_contain_text("Présentation du projet.pdf")
    expect(page.locator("#current-attachments")).to_contain_text("Présentation v2.pdf")
    assert axe_violations(page) == []
    screenshot(page, "attachments-history")
    assert Proposal.objects.get().attachments.current().get().original_name == "Présentation v2.pdf"


def test_a_link_to_a_field_of_another_step_opens_that_step(page, draft):
    log_in(page, "camille.martin@sante.gouv.fr")
    page.goto(f"/mes-projets/{draft.pk}/modifier/#id_expected_benefits")
    expect_step(page, 6, "Les bénéfices attendus et leur mesure")
    assert page.url.endswith(f"/mes-projets/{draft.pk}/modifier/6/#id_expected_benefits")
