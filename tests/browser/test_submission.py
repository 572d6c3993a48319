"""An owner reviews a complete draft, submits it, gets a reference, a receipt and an email; a late submit is refused."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from ami.models import CallStatus, EligibilityQuestion
from applications.models import Proposal, Submission
from tests.ami.factories import CallFactory, TrackFactory
from tests.applications.factories import MembershipFactory, ProposalFactory, complete_draft
from tests.browser.test_applicant import log_in
from tests.conftest import axe_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def test_review_submit_receipt_then_a_late_submit_is_refused(page):
    call = CallFactory(status=CallStatus.OPEN, title="AMI Intelligence artificielle 2026", slug="ami-ia-2026",
                       reference_prefix="AMI2026", closes_at=timezone.now() + timedelta(days=3, hours=2))
    TrackFactory(call=call, code="technique", name="Accompagnement technique et métier")
    EligibilityQuestion.objects.create(call=call, text="Le projet est-il porté par une administration de l'État ?",
                                       ineligible_answer=False)
    owner = MembershipFactory(administration__name="Direction générale de la santé", administration__acronym="DGS",
                              user__email="camille.martin@sante.gouv.fr").user
    administration = owner.memberships.get().administration
    proposal = complete_draft(call=call, administration=administration, created_by=owner,
                              title="Tri des signalements d'événements sanitaires")
    late = complete_draft(call=call, administration=administration, created_by=owner, title="Recherche sémantique")
    incomplete = ProposalFactory(call=call, administration=administration, title="Détection des parcelles",
                                 problem="", team="")

    log_in(page, owner.email)
    page.goto("/mes-projets/")
    row = page.locator(f"#proposal-{proposal.pk}")
    expect(row).to_contain_text("Le projet est complet")
    missing = page.locator(f"#proposal-{incomplete.pk} .proposal-missing")
    expect(missing.get_by_role("link", name="Champ à remplir : Équipe et gouvernance")).to_have_attribute(
        "href", f"/mes-projets/{incomplete.pk}/modifier/5/#id_team")
    no_attachment = missing.get_by_role("link", name="Aucune pièce jointe : joignez au moins un document PDF.")
    expect(no_attachment).to_have_attribute("href", f"/mes-projets/{incomplete.pk}/pieces/")
    expect(page.locator("#call-ami-ia-2026 .call-deadline")).to_contain_text("(heure de Paris) — dans 3 jours")
    assert axe_violations(page) == []
    screenshot(page, "submission-my-proposals-drafts")
    row.get_by_role("link", name=re.compile("Relire et déposer")).click()

    expect(page.locator("h1")).to_have_text("Relire et déposer")
    expect(page.locator("#snapshot")).to_contain_text("Dix mille signalements par an, triés à la main.")
    expect(page.locator("#snapshot-attachments")).to_contain_text("presentation.pdf")
    assert axe_violations(page) == []
    screenshot(page, "submission-review")
    page.get_by_role("button", name="Déposer le projet").click()

    expect(page.locator("h1")).to_have_text("Projet déposé")
    expect(page.locator("[role=status]").first).to_contain_text(
        "Votre projet est déposé sous la référence AMI2026-0001 (dépôt n° 1)")
    receipt = page.get_by_role("link", name="Récépissé du dépôt n° 1 (PDF)")
    expect(receipt).to_have_attribute("href", f"/mes-projets/{proposal.pk}/recepisse/1/")
    submission = Submission.objects.get(proposal=proposal)
    expect(page.locator("#latest-sha256")).to_have_text(submission.sha256)
    download = page.request.get(f"/mes-projets/{proposal.pk}/recepisse/1/")
    assert download.status == 200 and download.headers["content-type"] == "application/pdf"
    assert download.body().startswith(b"%PDF")
    assert axe_violations(page) == []
    screenshot(page, "submission-submitted")
    assert [message.to for message in mail.outbox] == [["camille.martin@sante.gouv.fr"]]
    assert mail.outbox[0].subject.startswith("Récépissé de dépôt AMI2026-0001 (dépôt n° 1)")
    assert mail.outbox[0].attachments[0][0] == "recepisse-AMI2026-0001-depot-1.pdf"

    page.goto("/mes-projets/")
    expect(page.locator(f"#proposal-{proposal.pk} .proposal-receipts")).to_contain_text("Dépôt n° 1 du")
    assert axe_violations(page) == []
    screenshot(page, "submission-my-proposals-submitted")

    # The other draft's review page is open when the deadline passes (the call is still marked open).
    page.goto(f"/mes-projets/{late.pk}/relire/")
    call.closes_at = timezone.now() - timedelta(seconds=1)
    call.save()
    page.get_by_role("button", name="Déposer le projet").click()
    expect(page.locator("#submit-refusal")).to_contain_text("Les candidatures à cet appel sont closes depuis le")
    expect(page.locator("#submit-refusal")).to_contain_text("Votre brouillon est conservé tel quel.")
    late.refresh_from_db()
    assert (late.status, late.version, late.reference) == ("draft", 1, "")
    assert Submission.objects.filter(proposal=late).count() == 0 and len(mail.outbox) == 1
    assert Proposal.objects.get(pk=proposal.pk).status == "submitted"
    assert axe_violations(page) == []
    screenshot(page, "submission-late-refused")
