"""A juror accepts the charter, scores a proposal on every criterion, submits, then sees the other juror's review."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from ami.models import CallStatus
from applications.models import Submission
from applications.services.submission import build_snapshot, snapshot_sha256
from jury.models import JuryMember, Review, ReviewStatus
from tests.ami.factories import CallFactory, CriterionFactory, TrackFactory, UserFactory
from tests.applications.factories import AttachmentFactory, ProposalFactory
from tests.conftest import axe_violations, screenshot
from tests.jury.factories import JuryMemberFactory, ReviewFactory, ScoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
RUBRICS = {
    "Impact pour l'administration et ses usagers": [
        "Aucun bénéfice identifié", "Bénéfice marginal", "Bénéfice limité à quelques agents",
        "Bénéfice réel pour un service", "Bénéfice fort pour les agents et les usagers", "Bénéfice majeur et mesuré"],
    "Pertinence de l'IA": [
        "L'IA n'est pas la réponse", "Pertinence douteuse", "Une solution plus simple suffirait peut-être",
        "Pertinente", "Très pertinente", "Indispensable"],
    "Existence et accessibilité des données": [
        "Aucune donnée", "Données à créer", "Données partielles", "Données disponibles à nettoyer",
        "Données disponibles et documentées", "Données prêtes et accessibles"],
}


def log_in(page, email):
    page.goto("/compte/connexion/")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("#current-user")).to_have_text(email)


def check(page, name):
    assert axe_violations(page) == [], name
    screenshot(page, name)


def seed():
    call = CallFactory(status=CallStatus.REVIEW, slug="ami-ia-2019", title="AMI Intelligence artificielle 2019",
                       review_deadline=timezone.now() + timedelta(days=9), score_scale_max=5)
    track = TrackFactory(call=call, code="technique", name="Accompagnement technique et métier")
    TrackFactory(call=call, code="scientifique", name="Accompagnement scientifique")
    for position, (title, rubric) in enumerate(RUBRICS.items()):
        CriterionFactory(call=call, position=position, title=title, weight=[40, 35, 25][position], rubric=rubric)
    proposal = ProposalFactory(
        call=call, reference="AMI2019-0007", title="Tri des signalements d'événements sanitaires indésirables",
        administration__name="Direction générale de la santé", administration__acronym="DGS",
        administration__ministry="Ministère de la Santé", requested_track=track, expertise_tags=["santé", "NLP"],
        problem="Plus de 10 000 signalements par an sont triés à la main par les agents des ARS.",
        data_description="Cinq ans de signalements anonymisés.", ai_approach="Classification de textes courts.",
        team="Deux agents, un data scientist.", expected_benefits="Des alertes traitées en un jour au lieu de dix.",
    )
    AttachmentFactory(proposal=proposal, original_name="presentation-dgs.pdf", label="Présentation du projet")
    at = timezone.now() - timedelta(days=30)
    snapshot = build_snapshot(proposal=proposal, number=1, at=at, by=None)
    Submission.objects.create(proposal=proposal, number=1, proposal_version=1, snapshot=snapshot,
                              sha256=snapshot_sha256(snapshot), submitted_at=at)
    second = ProposalFactory(call=call, reference="AMI2019-0008", title="Ciblage des contrôles sanitaires",
                             requested_track=track, expertise_tags=["contrôle"])
    juror = JuryMemberFactory(call=call, user=UserFactory(email="claire.dupont@inria.fr", first_name="Claire",
                                                          last_name="Dupont"))
    ReviewFactory(proposal=proposal, juror=juror, status=ReviewStatus.ASSIGNED)
    ReviewFactory(proposal=second, juror=juror, status=ReviewStatus.ASSIGNED)
    colleague = JuryMemberFactory(call=call, charter_accepted_at=timezone.now(),
                                  user=UserFactory(first_name="Bernard", last_name="Martin"))
    other = ReviewFactory(proposal=proposal, juror=colleague, status=ReviewStatus.SUBMITTED,
                          submitted_at=timezone.now() - timedelta(days=1), recommendation="strong_yes",
                          overall_opinion="Projet mûr, données prêtes : à soutenir en priorité.")
    for criterion in call.criteria.all():
        ScoreFactory(review=other, criterion=criterion, value=4, comment="Solide.")
    return call, proposal, juror


def test_juror_accepts_the_charter_scores_submits_and_then_sees_the_other_review(page):
    call, proposal, juror = seed()
    log_in(page, juror.user.email)

    page.get_by_role("link", name="Jury", exact=True).click()
    expect(page.locator("h1")).to_have_text("Mes jurys")
    expect(page.locator("#seat-ami-ia-2019")).to_contain_text("Commencez par accepter la charte du jury.")
    check(page, "juror-home")

    page.get_by_role("link", name="AMI Intelligence artificielle 2019").click()
    expect(page.locator("h1")).to_have_text("Charte du jury")
    page.get_by_role("button", name="Accepter la charte").click()
    expect(page.locator("#id_accept-messages")).to_contain_text("Cochez la case pour accepter la charte du jury.")
    check(page, "juror-charter")
    page.locator("label[for=id_accept]").click()  # DSFR checkboxes: the label carries the box
    page.get_by_role("button", name="Accepter la charte").click()

    expect(page.locator("h1")).to_have_text("Mes évaluations")
    expect(page.locator("[role=status]").first).to_contain_text("acceptation de la charte du jury est enregistrée")
    assert JuryMember.objects.get(pk=juror.pk).charter_accepted_at is not None
    expect(page.locator("#progress-summary")).to_have_text("Évaluations soumises : 0 sur 2.")
    expect(page.locator("#review-deadline")).to_contain_text("(heure de Paris)")
    expect(page.locator("#days-left")).to_have_text(re.compile(r"encore (8|9) jours"))
    check(page, "juror-dashboard")
    page.get_by_label("Thème d'expertise").select_option("NLP")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.locator(".assigned-row")).to_have_count(1)

    page.get_by_role("link", name="Tri des signalements d'événements sanitaires indésirables").click()
    expect(page.locator("h1")).to_have_text("Tri des signalements d'événements sanitaires indésirables")
    expect(page.locator("#snapshot")).to_contain_text("Plus de 10 000 signalements par an")
    expect(page.locator("#snapshot-attachments")).to_contain_text("presentation-dgs.pdf")
    expect(page.locator("#others-hidden")).to_be_visible()
    expect(page.locator("#autres-evaluations")).not_to_contain_text("Bernard Martin")
    check(page, "juror-proposal-before")

    page.get_by_role("link", name="Évaluer ce projet").click()
    expect(page.locator("h1")).to_have_text("Évaluer le projet")
    check(page, "juror-review-form")
    for criterion, note in zip(call.criteria.order_by("position"), [5, 4, 3], strict=True):
        page.locator(f"label[for=id_score_{criterion.pk}_{note}]").click()
        page.get_by_label(f"Commentaire sur « {criterion.title} »").fill(f"Note {note} : argumentée.")
    opinion = page.get_by_role("textbox", name=re.compile(r"^Avis général"))
    opinion.fill("Projet utile et réaliste ; vigilance sur la qualité des données.")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.locator("[role=status]").first).to_contain_text("Brouillon enregistré.")
    assert Review.objects.get(juror=juror, proposal=proposal).status == ReviewStatus.DRAFT

    page.get_by_role("button", name="Soumettre mon évaluation").click()  # the recommendation is missing
    expect(page.locator("#review-refusal")).to_contain_text("la recommandation")
    check(page, "juror-review-incomplete")
    page.locator("#review-form label", has_text="À retenir en priorité").click()
    page.get_by_role("button", name="Soumettre mon évaluation").click()

    expect(page.locator("h1")).to_have_text("Tri des signalements d'événements sanitaires indésirables")
    expect(page.locator("[role=status]").first).to_contain_text("Évaluation soumise.")
    others = page.locator("#autres-evaluations")
    expect(others).to_contain_text("Bernard Martin")
    expect(others).to_contain_text("Projet mûr, données prêtes : à soutenir en priorité.")
    expect(others).to_contain_text("À retenir en priorité")
    review = Review.objects.get(juror=juror, proposal=proposal)
    assert review.status == ReviewStatus.SUBMITTED and review.recommendation == "strong_yes"
    assert sorted(review.scores.values_list("value", flat=True)) == [3, 4, 5]
    check(page, "juror-proposal-after")

    page.goto(f"/jury/{call.slug}/")
    expect(page.locator("#progress-summary")).to_have_text("Évaluations soumises : 1 sur 2.")
    expect(page.locator("#next-review")).to_contain_text("AMI2019-0008")
