"""Staff announce the results: counts and previews, confirmation, progress of the sending, public page live."""

import pytest
from django.core import mail
from django.utils import timezone

from ami.models import CallStatus
from applications.models import ProposalStatus
from jury.models import Deliberation, Outcome
from tests.ami.factories import CallFactory, TrackFactory, UserFactory
from tests.applications.factories import MembershipFactory, ProposalFactory
from tests.browser.test_applicant import log_in
from tests.conftest import axe_violations, screenshot
from tests.jury.factories import DecisionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_announce_then_follow_the_sending_then_the_public_page(page):
    call = CallFactory(status=CallStatus.DELIBERATION, slug="ami-annonce", title="AMI IA — annonce")
    track = TrackFactory(call=call, name="Accompagnement technique et métier", budget_eur=1_000_000)
    for n, outcome in enumerate([Outcome.LAUREATE, Outcome.LAUREATE, Outcome.WAITING_LIST, Outcome.NOT_SELECTED], 1):
        owner = MembershipFactory(user__email=f"porteur{n}@example.gouv.fr").user
        proposal = ProposalFactory(call=call, administration=owner.memberships.get().administration, created_by=owner,
                                   reference=f"AMI-{n:04d}", title=f"Projet {n}", status=ProposalStatus.ELIGIBLE)
        DecisionFactory(proposal=proposal, outcome=outcome, track=track, rank=n, reason=f"Motif {n}.",
                        granted_amount_eur=200_000 if outcome == Outcome.LAUREATE else None)
    Deliberation.objects.create(call=call, locked_at=timezone.now())
    UserFactory(email="programme@example.gouv.fr", is_staff=True)
    log_in(page, "programme@example.gouv.fr")

    page.goto(f"/appels/{call.slug}/laureats/")
    assert page.locator("h1").inner_text().startswith("Page introuvable") or page.title().startswith("Page")

    page.goto(f"/equipe/appels/{call.slug}/annonce/")
    counts = page.locator("#announce-counts tbody").inner_text()
    assert "Lauréat\t2\t2" in counts and "Liste d'attente\t1\t1" in counts
    assert "Projet 1" in page.locator("[data-preview='laureate']").inner_text()
    assert axe_violations(page) == []
    screenshot(page, "announce-confirm")

    page.get_by_role("button", name="Annoncer les résultats").click()  # unticked: the browser keeps the form
    assert page.url.endswith("/annonce/")
    call.refresh_from_db()
    assert call.status == CallStatus.DELIBERATION
    page.locator("label[for='id_confirm']").click()  # the DSFR draws the box on the label
    assert page.locator("#id_confirm").is_checked()
    page.get_by_role("button", name="Annoncer les résultats").click()

    page.wait_for_url(f"**/equipe/appels/{call.slug}/courriels/")
    assert "Résultats annoncés : 4 messages partent." in page.content()
    assert page.locator("#outbox-progress progress").get_attribute("value") == "100"
    assert page.locator("[data-count='sent']").inner_text() == "4"
    assert axe_violations(page) == []
    screenshot(page, "announce-outbox")
    assert sorted(m.to[0] for m in mail.outbox) == [f"porteur{n}@example.gouv.fr" for n in range(1, 5)]

    page.goto(f"/appels/{call.slug}/laureats/")
    assert page.locator("#laureate-count").inner_text() == "2 projets lauréats"
    assert axe_violations(page) == []
    screenshot(page, "announce-public-laureates")
