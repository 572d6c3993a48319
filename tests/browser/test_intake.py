"""Programme staff check eligibility at intake and validate an administration proposed by an agent."""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from ami.models import CallStatus, EligibilityQuestion
from applications import services
from applications.models import (
    AdministrationKind,
    Attachment,
    Membership,
    MembershipStatus,
    Proposal,
    ProposalStatus,
    Submission,
)
from applications.services.submission import build_snapshot, snapshot_sha256
from tests.ami.factories import CallFactory, TrackFactory, UserFactory
from tests.applications.factories import AdministrationFactory, ProposalFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def log_in(page, email):
    page.goto("/compte/connexion/")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("#current-user")).to_have_text(email)


def submitted(call, administration, reference, title, **kwargs):
    return ProposalFactory(call=call, administration=administration, reference=reference, title=title,
                           status=ProposalStatus.SUBMITTED, submitted_at=datetime(2019, 5, 28, 14, 30, tzinfo=UTC),
                           **kwargs)


def test_staff_filter_the_intake_and_mark_a_proposal_ineligible(page):
    from tests.conftest import axe_violations, screenshot

    call = CallFactory(status=CallStatus.CLOSED, title="AMI Intelligence artificielle 2019", slug="ami-ia-2019")
    technical = TrackFactory(call=call, name="Accompagnement technique et métier")
    company = EligibilityQuestion.objects.create(
        call=call, position=0, text="Le projet est-il porté par une entreprise privée ?", ineligible_answer=True)
    dgs = AdministrationFactory(name="Direction générale de la santé", acronym="DGS", ministry="Santé")
    chu = AdministrationFactory(name="CHU de Bordeaux", acronym="CHUB", kind=AdministrationKind.HOSPITAL,
                                ministry="Santé")
    submitted(call, dgs, "AMI2019-0001", "Tri des signalements d'événements sanitaires", requested_track=technical)
    target = submitted(call, chu, "AMI2019-0002", "Recherche sémantique dans le dossier patient",
                       requested_track=technical, eligibility_answers={str(company.pk): True},
                       problem="Les médecins cherchent longtemps une information dans le dossier.")
    submitted(call, chu, "AMI2019-0003", "Prévision des passages aux urgences")
    Attachment.objects.create(proposal=target, file="attachments/x.pdf", original_name="lettre-de-soutien.pdf",
                              label="Lettre de soutien de la direction", size=183_000, sha256="a" * 64)
    at = datetime(2019, 5, 28, 14, 30, tzinfo=UTC)
    snapshot = build_snapshot(proposal=target, number=1, at=at, by=None)
    Submission.objects.create(proposal=target, number=1, proposal_version=target.version, snapshot=snapshot,
                              sha256=snapshot_sha256(snapshot), submitted_at=at)
    staff = UserFactory(is_staff=True, email="programme@numerique.gouv.fr")

    log_in(page, staff.email)
    page.goto("/equipe/depots/")
    expect(page.locator("h1")).to_have_text("Projets déposés")
    expect(page.locator("#intake-count")).to_have_text("3 projets déposés")
    assert axe_violations(page) == []
    screenshot(page, "staff-intake-list")

    page.get_by_label("Type d'administration").select_option(label="Établissement hospitalier")
    page.get_by_label("Rechercher").fill("sémantique")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.locator("#intake-count")).to_have_text("1 projet déposé")
    expect(page.locator(".intake-row")).to_have_count(1)
    expect(page.locator(".intake-row .intake-flags")).to_have_text("1 réponse à vérifier")
    assert axe_violations(page) == []
    screenshot(page, "staff-intake-filtered")

    page.get_by_role("link", name="Recherche sémantique dans le dossier patient").click()
    expect(page.locator("h1")).to_have_text("Recherche sémantique dans le dossier patient")
    expect(page.locator("#eligibility-hint")).to_contain_text("Le projet est-il porté par une entreprise privée ?")
    expect(page.locator("#snapshot")).to_contain_text("Les médecins cherchent longtemps")
    expect(page.locator("#snapshot-attachments")).to_contain_text("lettre-de-soutien.pdf")
    assert axe_violations(page) == []
    screenshot(page, "staff-intake-detail")

    page.locator("#eligibility-form label[for=id_decision_1]").click()  # DSFR radios
    page.get_by_role("button", name="Enregistrer la décision").click()
    expect(page.locator("#eligibility-form")).to_contain_text("Indiquez le motif d'irrecevabilité")
    assert Proposal.objects.get(pk=target.pk).status == ProposalStatus.SUBMITTED
    assert axe_violations(page) == []
    screenshot(page, "staff-intake-detail-error")

    page.locator("#eligibility-form label[for=id_decision_1]").click()
    page.get_by_label("Motif").fill("Le projet est porté par une entreprise privée, sans administration partenaire.")
    page.get_by_role("button", name="Enregistrer la décision").click()
    expect(page.get_by_role("status").first).to_have_text("Décision enregistrée : le projet est « Irrecevable ».")
    expect(page.locator("#proposal-status")).to_have_text("Irrecevable")
    history = page.locator("#proposal-history")
    expect(history).to_contain_text("Irrecevable")
    expect(history).to_contain_text("programme@numerique.gouv.fr")
    expect(history).to_contain_text("sans administration partenaire")
    assert axe_violations(page) == []
    screenshot(page, "staff-intake-detail-decided")
    assert Proposal.objects.get(pk=target.pk).status == ProposalStatus.INELIGIBLE


def test_staff_approve_a_proposed_administration(page):
    from tests.conftest import axe_violations, screenshot

    registered = AdministrationFactory(name="Direction départementale des territoires et de la mer de l'Hérault",
                          acronym="DDTM 34", kind=AdministrationKind.DECONCENTRATED, ministry="Transition écologique")
    agent = UserFactory(email="agent@ofb.gouv.fr")
    proposed, _ = services.propose_administration(
        user=agent, name="Office français de la biodiversité", acronym="OFB",
        kind=AdministrationKind.ESTABLISHMENT, ministry="Transition écologique")
    services.propose_administration(user=UserFactory(email="agent@herault.gouv.fr"), name="DDTM de l'Hérault",
                                    acronym="DDTM 34", kind=AdministrationKind.DECONCENTRATED,
                                    ministry="Transition écologique")
    staff = UserFactory(is_staff=True)

    log_in(page, staff.email)
    page.goto("/equipe/administrations/")
    expect(page.locator("h1")).to_have_text("Administrations à valider")
    expect(page.locator(".pending-administration")).to_have_count(2)
    duplicate = page.locator(".pending-administration", has_text="DDTM de l'Hérault")
    expect(duplicate.locator(".duplicates")).to_contain_text("Direction départementale des territoires")
    assert axe_violations(page) == []
    screenshot(page, "staff-pending-administrations")

    section = page.locator(f"#pending-{proposed.pk}")
    expect(section).to_contain_text("agent@ofb.gouv.fr")
    section.get_by_role("button", name="Valider et confirmer le demandeur").click()
    expect(page.get_by_role("status").first).to_contain_text("« Office français de la biodiversité » est ajoutée")
    expect(page.locator(".pending-administration")).to_have_count(1)
    assert axe_violations(page) == []
    screenshot(page, "staff-pending-administrations-approved")
    proposed.refresh_from_db()
    assert proposed.approved is True
    assert Membership.objects.get(user=agent).status == MembershipStatus.ACTIVE

    # The other one is a duplicate: the likely original is preselected, merging moves the request to it.
    expect(duplicate.get_by_label("C'est en fait l'administration")).to_have_value(str(registered.pk))
    duplicate.get_by_role("button", name="Fusionner").click()
    expect(page.get_by_role("status").first).to_contain_text("est fusionnée dans")
    expect(page.locator("#no-pending-administrations")).to_be_visible()
    assert Membership.objects.get(user__email="agent@herault.gouv.fr").administration == registered
