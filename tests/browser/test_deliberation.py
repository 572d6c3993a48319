"""The chair runs a what-if, applies the optimal proposal, changes one decision and locks the deliberation."""

import pytest
from playwright.sync_api import expect

from ami.models import CallStatus
from jury.models import Decision, Deliberation, JuryRole
from tests.ami.factories import CallFactory, CriterionFactory, TrackFactory, UserFactory
from tests.conftest import axe_violations, screenshot
from tests.jury.factories import JuryMemberFactory, scored_proposal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def log_in(page, email):
    page.goto("/compte/connexion/")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("#current-user")).to_have_text(email)


def deliberation_call():
    call = CallFactory(status=CallStatus.REVIEW, slug="ami-ia-2019", title="AMI Intelligence artificielle 2019",
                       score_scale_max=5, min_reviews_for_normalisation=3)
    CriterionFactory(call=call, weight=60, position=0, title="Impact")
    CriterionFactory(call=call, weight=40, position=1, title="Faisabilité")
    technical = TrackFactory(call=call, name="Accompagnement technique et métier", code="technique",
                             budget_eur=500_000, max_laureates=3, position=0)
    scientific = TrackFactory(call=call, name="Accompagnement scientifique", code="scientifique",
                              budget_eur=200_000, max_laureates=1, position=1)
    chair = JuryMemberFactory(call=call, role=JuryRole.CHAIR, user=UserFactory(email="president@exemple.gouv.fr"))
    jurors = [JuryMemberFactory(call=call) for _ in range(4)]
    plan = [
        ("AMI2019-0001", "Tri des signalements sanitaires", technical, 300_000, [5, 5], [5, 4]),
        ("AMI2019-0002", "Recherche sémantique dans le dossier patient", technical, 150_000, [4, 4], [4, 5]),
        ("AMI2019-0003", "Alertes d'exposition aux rayonnements", technical, 150_000, [4, 3], [1, 1]),
        ("AMI2019-0004", "Contrôle des sols par imagerie", technical, 200_000, [3, 3], [3, 4]),
        ("AMI2019-0005", "Modèles de langue pour la jurisprudence", scientific, 150_000, [4, 5], [5, 5]),
        ("AMI2019-0006", "Prévision des crues", scientific, 120_000, [3, 3], [3, 2]),
    ]
    for n, (reference, title, track, amount, first, second) in enumerate(plan):
        proposal = scored_proposal(call=call, track=track, reference=reference, amount=amount,
                                   marks=[(jurors[n % 4], first), (jurors[(n + 1) % 4], second)])
        proposal.title = title
        proposal.save(update_fields=["title"])
    return call, chair.user


def test_chair_runs_a_what_if_decides_and_locks(page):
    call, chair = deliberation_call()
    log_in(page, chair.email)

    page.goto(f"/equipe/appels/{call.slug}/deliberation/")
    expect(page.locator("h1")).to_have_text("Délibération — AMI Intelligence artificielle 2019")
    expect(page.locator("#decision-count")).to_have_text("6 projets restent à décider.")
    expect(page.locator("#agenda tbody tr", has_text="AMI2019-0003")).to_contain_text("désaccord")
    assert axe_violations(page) == []
    screenshot(page, "deliberation-board")

    page.get_by_role("link", name="Comparer et simuler (et si…)").click()
    expect(page.locator("h1")).to_have_text("Sélection sous enveloppe")
    page.get_by_label("Enveloppe du parcours « Accompagnement technique et métier » (€)").fill("800000")
    page.get_by_role("button", name="Calculer ce scénario").click()
    expect(page.locator("#scenario-result")).to_contain_text("Aucune décision n'a été modifiée.")
    assert axe_violations(page) == []
    screenshot(page, "deliberation-what-if")
    page.get_by_label("Enveloppe du parcours « Accompagnement technique et métier » (€)").fill("400000")
    page.get_by_label("Projets imposés").select_option(label="AMI2019-0001 — Tri des signalements sanitaires")
    page.get_by_label("Projets imposés").select_option(
        ["AMI2019-0001 — Tri des signalements sanitaires", "AMI2019-0004 — Contrôle des sols par imagerie"])
    page.get_by_role("button", name="Calculer ce scénario").click()
    expect(page.locator("#scenario-result")).to_contain_text("Ce scénario est impossible")
    expect(page.locator("#scenario-result")).to_contain_text(
        "dépassent à eux seuls l'enveloppe du parcours « Accompagnement technique et métier » : "
        "500\u202f000 € demandés pour 400\u202f000 €")
    screenshot(page, "deliberation-what-if-infeasible")
    assert not Decision.objects.exists()

    page.get_by_role("link", name="Classement et ordre du jour").click()
    page.get_by_role("button", name="Appliquer la proposition optimale").click()
    expect(page.locator(".fr-alert--success")).to_contain_text("Proposition optimale appliquée")
    expect(page.locator("#decision-count")).to_have_text("Chaque projet a une décision.")

    page.locator("#agenda").get_by_role("link", name="AMI2019-0006").click()
    expect(page.locator("h1")).to_contain_text("AMI2019-0006")
    page.locator("#decision-form label", has_text="Non retenu").click()
    page.get_by_label("Motif de la décision").fill("Données insuffisantes à ce stade ; à représenter.")
    assert axe_violations(page) == []
    screenshot(page, "deliberation-proposal")
    page.get_by_role("button", name="Enregistrer la décision").click()
    expect(page.locator(".fr-alert--success")).to_contain_text("Décision enregistrée")

    page.get_by_role("link", name="Arrêter les décisions").first.click()
    expect(page.locator("#next-phase")).to_contain_text("« Délibération »")
    assert axe_violations(page) == []
    screenshot(page, "deliberation-lock")
    page.locator("#lock-form").get_by_role("button", name="Arrêter les décisions").click()
    expect(page.locator("#locked-notice")).to_contain_text("Décisions arrêtées le")
    screenshot(page, "deliberation-locked")
    assert Deliberation.objects.get(call=call).is_locked
    assert Decision.objects.get(proposal__reference="AMI2019-0006").outcome == "not_selected"
    call.refresh_from_db()
    assert call.status == CallStatus.DELIBERATION
