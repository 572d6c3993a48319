"""Staff invite a juror (the outbox holds the link), the juror joins, staff run the assignment and see the loads."""

import re

import pytest
from playwright.sync_api import expect

from ami.models import CallStatus, OutboundEmail
from applications.models import ProposalStatus
from jury.models import JuryMember, JuryRole
from tests.ami.factories import CallFactory, UserFactory
from tests.applications.factories import AdministrationFactory, MembershipFactory, ProposalFactory
from tests.conftest import axe_violations, screenshot
from tests.jury.factories import JuryMemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def log_in(page, email):
    page.goto("/compte/connexion/")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("#current-user")).to_have_text(email)


def test_staff_invite_a_juror_then_run_the_assignment(page, browser, live_server):
    call = CallFactory(status=CallStatus.REVIEW, slug="ami-ia-2019", title="AMI Intelligence artificielle 2019",
                       reviews_per_proposal=2)
    dgs = AdministrationFactory(name="Direction générale de la santé", acronym="DGS", ministry="Santé")
    titles = ["Tri des signalements sanitaires", "Recherche sémantique dans le dossier patient",
              "Alertes d'exposition aux rayonnements", "Détection de l'artificialisation des sols",
              "Ciblage des contrôles en restauration", "Préparation des réunions de concertation"]
    for index, title in enumerate(titles):
        ProposalFactory(call=call, status=ProposalStatus.ELIGIBLE, reference=f"AMI2019-{index + 1:04d}", title=title,
                        administration=dgs if index == 0 else AdministrationFactory(), expertise_tags=["santé"])
    JuryMemberFactory(call=call, role=JuryRole.CHAIR, user__first_name="Anne", user__last_name="Présidente",
                      pair_label="", expertise=["NLP"])
    JuryMemberFactory(call=call, user__first_name="Bruno", user__last_name="Expert", max_load=4)
    MembershipFactory(administration=dgs, user__email="agent@sante.gouv.fr", user__first_name="Agathe")
    UserFactory(is_staff=True, email="programme@exemple.gouv.fr")

    log_in(page, "programme@exemple.gouv.fr")
    page.goto(f"/equipe/appels/{call.slug}/jury/")
    expect(page.locator("h1")).to_have_text("Jury")
    page.get_by_label("Adresse électronique de la personne invitée").fill("agent@sante.gouv.fr")
    page.get_by_label("Expertises").fill("santé, NLP")
    page.get_by_role("button", name="Vérifier les conflits").click()
    expect(page.locator("#conflict-check")).to_contain_text("1 projet déposé lui serait caché")
    expect(page.locator("#conflict-check")).to_contain_text("AMI2019-0001 — Tri des signalements sanitaires")
    assert axe_violations(page) == []
    screenshot(page, "jury-staff-invite-check")
    page.get_by_label("Adresse électronique de la personne invitée").fill("claire.martin@inria.fr")
    page.get_by_role("button", name="Vérifier les conflits").click()
    expect(page.locator("#conflict-check")).to_contain_text("Aucun compte n'existe pour cette adresse")
    page.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.locator(".fr-alert--success")).to_contain_text("Invitation envoyée à claire.martin@inria.fr.")
    expect(page.locator("#jury-invitations")).to_contain_text("En attente")
    assert axe_violations(page) == []
    screenshot(page, "jury-staff-members")

    email = OutboundEmail.objects.get(to="claire.martin@inria.fr")
    path = re.search(r"https?://[^/\s]+(/jury/invitation/\S+/)", email.body_text).group(1)
    invitee_context = browser.new_context(base_url=live_server.url, locale="fr-FR",
                                          viewport={"width": 1280, "height": 900})
    invitee = invitee_context.new_page()
    invitee.goto(path)
    expect(invitee.locator("#invitation-summary")).to_contain_text("claire.martin@inria.fr")
    assert axe_violations(invitee) == []
    screenshot(invitee, "jury-invitation-signup")
    invitee.locator("#id_first_name").fill("Claire")
    invitee.locator("#id_last_name").fill("Martin")
    invitee.locator("#id_password1").fill("une phrase de passe solide")
    invitee.locator("#id_password2").fill("une phrase de passe solide")
    invitee.get_by_role("button", name="Créer mon compte et rejoindre le jury").click()
    expect(invitee).to_have_url(re.compile(r"/jury/ami-ia-2019/charte/$"))
    assert JuryMember.objects.get(user__email="claire.martin@inria.fr").expertise == ["santé", "NLP"]
    invitee.goto(path)
    expect(invitee.locator("#invitation-refused")).to_contain_text("Cette invitation a déjà été utilisée")
    invitee_context.close()

    page.goto(f"/equipe/appels/{call.slug}/jury/affectation/")
    expect(page.locator("#uncovered-count")).to_contain_text("6 projets sans tous leurs évaluateurs")
    page.get_by_role("button", name="Lancer l'affectation automatique").click()
    expect(page.locator(".fr-alert--success")).to_contain_text("Affectation terminée : 12 évaluations créées")
    expect(page.locator("#uncovered-count")).to_have_text("Tous les projets ont leurs évaluateurs")
    expect(page.locator("#imbalance")).to_have_text("Charges identiques")
    loads = page.locator("#loads .ami-load").all_inner_texts()
    assert sorted(loads) == ["4", "4", "4"]
    assert axe_violations(page) == []
    screenshot(page, "jury-staff-assignment")

    for name, heading in (("conflits", "Conflits d'intérêts"), ("expertises", "Expertises des projets"),
                          ("suivi", "Suivi des évaluations")):
        page.goto(f"/equipe/appels/{call.slug}/jury/{name}/")
        expect(page.locator("h1")).to_have_text(heading)
        assert axe_violations(page) == []
        screenshot(page, f"jury-staff-{name}")
