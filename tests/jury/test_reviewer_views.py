"""The juror's pages for each persona: assigned juror, conflicted juror (automatic and declared), juror of
another call, applicant, staff, anonymous; the charter gate; scoring; the others' reviews; query counts."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ami.models import AuditEvent, CallStatus, OutboundEmail
from applications.models import Submission
from applications.services.submission import build_snapshot, snapshot_sha256
from jury.models import Conflict, ConflictSource, JuryMember, Review, ReviewStatus, Score
from tests.ami.factories import CallFactory, CriterionFactory, TrackFactory, UserFactory
from tests.applications.factories import AttachmentFactory, MembershipFactory, ProposalFactory
from tests.jury.factories import JuryMemberFactory, ReviewFactory, ScoreFactory

pytestmark = pytest.mark.django_db

RUBRIC = ["Aucun impact", "Impact marginal", "Impact limité", "Impact réel", "Impact fort", "Impact majeur"]


def submit_snapshot(proposal, number=1):
    """A Submission of `proposal` as it stands, through the submission feature's own snapshot builder."""
    at = timezone.now()
    snapshot = build_snapshot(proposal=proposal, number=number, at=at, by=None)
    return Submission.objects.create(proposal=proposal, number=number, proposal_version=number, snapshot=snapshot,
                                     sha256=snapshot_sha256(snapshot), submitted_at=at)


def accepted(**kwargs):
    return JuryMemberFactory(charter_accepted_at=timezone.now(), **kwargs)


def text(response):
    return response.content.decode()


@pytest.fixture
def call():
    call = CallFactory(status=CallStatus.REVIEW, slug="ami-ia-2019", title="AMI IA 2019", score_scale_max=5,
                       review_deadline=timezone.now() + timedelta(days=6))
    TrackFactory(call=call, code="technique", name="Technique et métier")
    TrackFactory(call=call, code="scientifique", name="Scientifique")
    CriterionFactory(call=call, position=0, title="Impact pour les usagers", weight=60, rubric=RUBRIC,
                     description="Bénéfices pour l'administration et ses usagers.")
    CriterionFactory(call=call, position=1, title="Données disponibles", weight=40)
    return call


@pytest.fixture
def proposal(call):
    proposal = ProposalFactory(call=call, reference="AMI2019-0001", title="Tri des signalements sanitaires",
                               administration__name="Direction générale de la santé",
                               requested_track=call.tracks.get(code="technique"), expertise_tags=["santé", "NLP"],
                               problem="Dix mille signalements par an.")
    AttachmentFactory(proposal=proposal, original_name="presentation.pdf", content=b"%PDF-1.4 version deposee")
    submit_snapshot(proposal)
    return proposal


@pytest.fixture
def juror(call, proposal):
    member = accepted(call=call, user__email="juree@example.gouv.fr", user__first_name="Claire",
                      user__last_name="Juré")
    ReviewFactory(proposal=proposal, juror=member, status=ReviewStatus.ASSIGNED)
    return member.user


@pytest.fixture
def other_review(call, proposal):
    """Another juror's submitted review of the same proposal."""
    member = accepted(call=call, user__first_name="Bernard", user__last_name="Expert")
    review = ReviewFactory(proposal=proposal, juror=member, status=ReviewStatus.SUBMITTED,
                           submitted_at=timezone.now(), overall_opinion="Très bon projet, données prêtes.",
                           recommendation="strong_yes")
    for criterion in call.criteria.all():
        ScoreFactory(review=review, criterion=criterion, value=4, comment=f"Avis sur {criterion.title}")
    return review


@pytest.fixture
def conflicted_automatic(call, proposal):
    """A juror assigned the proposal who is a member of the administration that carries it."""
    member = accepted(call=call, user__email="agent.dgs@example.gouv.fr")
    MembershipFactory(user=member.user, administration=proposal.administration)
    ReviewFactory(proposal=proposal, juror=member, status=ReviewStatus.ASSIGNED)
    return member.user


@pytest.fixture
def conflicted_declared(call, proposal):
    member = accepted(call=call, user__email="declare@example.gouv.fr")
    ReviewFactory(proposal=proposal, juror=member, status=ReviewStatus.ASSIGNED)
    Conflict.objects.create(juror=member, proposal=proposal, source=ConflictSource.DECLARED, reason="Ancien agent.")
    return member.user


@pytest.fixture
def juror_of_another_call():
    other_call = CallFactory(status=CallStatus.REVIEW, slug="autre-appel")
    member = accepted(call=other_call)
    ReviewFactory(proposal=ProposalFactory(call=other_call), juror=member, status=ReviewStatus.ASSIGNED)
    return member.user


@pytest.fixture
def applicant(proposal):
    return MembershipFactory(administration=proposal.administration).user


@pytest.fixture
def attachment(proposal):
    return proposal.attachments.get()


def urls(call, proposal, attachment):
    base = f"/jury/{call.slug}"
    project = f"{base}/projets/{proposal.pk}"
    return [f"{base}/", f"{base}/charte/", f"{project}/", f"{project}/evaluation/", f"{project}/conflit/",
            f"{base}/pieces-jointes/{attachment.pk}/"]


# Personas


def test_anonymous_is_sent_to_login_everywhere(client, call, proposal, attachment):
    for url in ["/jury/", *urls(call, proposal, attachment)]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/compte/connexion/"), url


@pytest.mark.parametrize("persona", ["juror_of_another_call", "applicant", "staff"])
def test_whoever_is_not_on_this_jury_gets_404_everywhere(client, request, call, proposal, attachment, persona):
    user = UserFactory(is_staff=True) if persona == "staff" else request.getfixturevalue(persona)
    client.force_login(user)
    for url in urls(call, proposal, attachment):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"accept": "on", "reason": "x", "submit": "1"}).status_code in (404, 405), url
    assert not JuryMember.objects.filter(call=call, user=user).exists()


@pytest.mark.parametrize("persona", ["conflicted_automatic", "conflicted_declared"])
def test_a_conflicted_juror_gets_404_on_the_proposal_and_never_sees_it_listed(client, request, call, proposal,
                                                                             attachment, other_review, persona):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    dashboard, charter, *proposal_urls = urls(call, proposal, attachment)
    for url in proposal_urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {f"score_{call.criteria.first().pk}": "5", "submit": "1", "reason": "x"}
                           ).status_code == 404, url
    page = text(client.get(dashboard))
    assert "Tri des signalements sanitaires" not in page and "AMI2019-0001" not in page
    assert "Aucun projet confié pour l'instant." in page and "Non commencées : 0" in page
    assert "Aucun projet ne vous est confié pour le moment" in page
    home = text(client.get("/jury/"))
    assert "Aucun projet confié pour l'instant." in home
    assert Score.objects.filter(review__juror__user=user).count() == 0


def test_the_assigned_juror_reaches_every_page(client, juror, call, proposal, attachment):
    client.force_login(juror)
    for url in urls(call, proposal, attachment):
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)  # read to the end: the test client then closes the file
        assert response.status_code == 200, url


def test_header_shows_jury_to_jurors_only(client, juror, applicant):
    assert "/jury/" not in text(client.get("/"))
    client.force_login(applicant)
    assert 'href="/jury/"' not in text(client.get("/"))
    client.force_login(juror)
    assert re.search(r'<a class="fr-nav__link" href="/jury/">Jury</a>', text(client.get("/")))
    assert 'href="/jury/" aria-current="page">Jury' in text(client.get("/jury/"))


def test_a_seat_given_or_withdrawn_shows_in_the_header_at_the_next_request(client, call, applicant):
    client.force_login(applicant)
    assert 'href="/jury/"' not in text(client.get("/"))
    assert 'href="/jury/"' not in text(client.get("/"))  # remembered by the process (ami/auth_memo.py)
    seat = JuryMemberFactory(call=call, user=applicant)
    assert 'href="/jury/"' in text(client.get("/"))
    seat.delete()
    assert 'href="/jury/"' not in text(client.get("/"))


# My juries and the charter


def test_home_lists_my_seats_with_progress_and_says_when_there_is_none(client, juror, call, applicant):
    client.force_login(juror)
    page = text(client.get("/jury/"))
    assert "AMI IA 2019" in page and "Évaluations soumises : 0 sur 1." in page
    assert f'href="/jury/{call.slug}/"' in page
    client.force_login(applicant)
    assert "Vous ne siégez dans aucun jury." in text(client.get("/jury/"))


def test_every_page_waits_for_the_charter_then_returns_where_the_juror_was_going(client, call, proposal, attachment):
    member = JuryMemberFactory(call=call)
    ReviewFactory(proposal=proposal, juror=member, status=ReviewStatus.ASSIGNED)
    client.force_login(member.user)
    _dashboard, charter, *others = urls(call, proposal, attachment)
    for url in [_dashboard, *others]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(charter), url
    response = client.post(others[1], {"submit": "1"})  # a POST is refused too, nothing saved
    assert response["Location"] == charter and not Score.objects.exists()
    home = text(client.get("/jury/"))
    assert "Commencez par accepter la charte du jury." in home and f'href="{charter}"' in home

    target = f"/jury/{call.slug}/projets/{proposal.pk}/"
    page = text(client.get(f"{charter}?next={target}"))
    for words in ["Confidentialité", "Impartialité", "conflits d'intérêts", "Fichiers téléchargés",
                  "ne les réutilise pas", "Accepter la charte"]:
        assert words in page
    response = client.post(f"{charter}?next={target}", {})
    assert "Cochez la case pour accepter la charte du jury." in text(response)
    member.refresh_from_db()
    assert member.charter_accepted_at is None

    response = client.post(f"{charter}?next={target}", {"accept": "on"})
    assert response.status_code == 302 and response["Location"] == target
    member.refresh_from_db()
    assert member.charter_accepted_at is not None
    assert AuditEvent.objects.get().action == "charter.accepted"
    assert client.get(target).status_code == 200
    page = text(client.get(charter))
    assert "Vous avez accepté cette charte le" in page and "Accepter la charte" not in page


def test_the_charter_never_redirects_outside_the_call(client, call):
    member = JuryMemberFactory(call=call)
    client.force_login(member.user)
    response = client.post(f"/jury/{call.slug}/charte/?next=https://evil.example/", {"accept": "on"})
    assert response["Location"] == f"/jury/{call.slug}/"


# The dashboard


def test_dashboard_shows_progress_deadline_next_proposal_and_filters(client, juror, call, proposal):
    member = JuryMember.objects.get(user=juror)
    scientific = ProposalFactory(call=call, reference="AMI2019-0002", title="Alertes de radioprotection",
                                 requested_track=call.tracks.get(code="scientifique"), expertise_tags=["santé"])
    ReviewFactory(proposal=scientific, juror=member, status=ReviewStatus.DRAFT)
    done = ProposalFactory(call=call, reference="AMI2019-0003", title="Contrôles sanitaires", expertise_tags=["NLP"])
    ReviewFactory(proposal=done, juror=member, status=ReviewStatus.SUBMITTED)
    call.review_deadline = datetime(2030, 6, 20, 16, 0, tzinfo=UTC)  # 18:00 in Paris (summer time)
    call.save()
    client.force_login(juror)

    page = text(client.get(f"/jury/{call.slug}/"))
    assert "Évaluations soumises : 1 sur 3." in page
    assert "Non commencées : 1" in page and "Brouillons : 1" in page and "Soumises : 1" in page
    assert "Date limite des évaluations : 20 juin 2030 à 18:00 (heure de Paris)" in page
    days = (datetime(2030, 6, 20).date() - timezone.localdate()).days
    assert f"encore {days} jours" in page
    next_block = page.split('id="next-review"')[1].split("</div>")[0]
    assert "AMI2019-0002" in next_block and "Reprendre cette évaluation" in next_block  # a draft first
    assert page.count('class="assigned-row"') == 3

    page = text(client.get(f"/jury/{call.slug}/?parcours=scientifique"))
    assert page.count('class="assigned-row"') == 1 and "Alertes de radioprotection" in page
    page = text(client.get(f"/jury/{call.slug}/?theme=NLP"))
    rows = page.split("<tbody>")[1]
    assert "Tri des signalements sanitaires" in rows and "Contrôles sanitaires" in rows
    assert "Alertes de radioprotection" not in rows
    page = text(client.get(f"/jury/{call.slug}/?parcours=technique&theme=NLP"))
    assert page.count('class="assigned-row"') == 1
    assert "Évaluations soumises : 1 sur 3." in page  # counts stay over all my proposals
    page = text(client.get(f"/jury/{call.slug}/?theme=inconnu"))
    assert page.count('class="assigned-row"') == 3  # an unknown value filters nothing


def test_dashboard_says_when_the_deadline_passed_and_when_everything_is_submitted(client, juror, call):
    call.review_deadline = timezone.now() - timedelta(days=2)
    call.save()
    Review.objects.filter(juror__user=juror).update(status=ReviewStatus.SUBMITTED)
    client.force_login(juror)
    page = text(client.get(f"/jury/{call.slug}/"))
    assert "échéance dépassée" in page and "Vous avez soumis toutes vos évaluations." in page


def test_dashboard_titles_come_from_the_snapshot_not_the_live_draft(client, juror, call, proposal):
    proposal.title = "Titre modifié après le dépôt"
    proposal.save()
    client.force_login(juror)
    page = text(client.get(f"/jury/{call.slug}/"))
    assert "Tri des signalements sanitaires" in page and "Titre modifié après le dépôt" not in page


def _dashboard_queries(client, call):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/jury/{call.slug}/?theme=santé").status_code == 200
    return len(queries)


def test_dashboard_runs_a_fixed_number_of_queries(client, juror, call, django_assert_num_queries):
    member = JuryMember.objects.get(user=juror)
    client.force_login(juror)
    assert client.get(f"/jury/{call.slug}/?parcours=technique").status_code == 200  # user and seat remembered
    one = _dashboard_queries(client, call)
    for index in range(49):
        proposal = ProposalFactory(call=call, reference=f"AMI2019-{index + 10:04d}", expertise_tags=["santé"],
                                   requested_track=call.tracks.first())
        submit_snapshot(proposal)
        ReviewFactory(proposal=proposal, juror=member, status=[ReviewStatus.ASSIGNED, ReviewStatus.DRAFT][index % 2])
    with django_assert_num_queries(one):
        page = text(client.get(f"/jury/{call.slug}/?theme=santé"))
    assert page.count('class="assigned-row"') == 50


# The proposal page


def test_the_proposal_page_shows_the_snapshot_and_its_attachment_never_the_live_draft(client, juror, call, proposal,
                                                                                    attachment):
    proposal.title, proposal.problem = "Titre du brouillon rouvert", "Texte du brouillon rouvert"
    proposal.save()
    AttachmentFactory(proposal=proposal, original_name="ajoutee-apres.pdf")
    client.force_login(juror)
    page = text(client.get(f"/jury/{call.slug}/projets/{proposal.pk}/"))
    assert "<h1>Tri des signalements sanitaires</h1>" in page
    assert "Dix mille signalements par an." in page and "brouillon rouvert" not in page
    assert f'href="/jury/{call.slug}/pieces-jointes/{attachment.pk}/"' in page and "ajoutee-apres.pdf" not in page
    assert "Déclarer un conflit d'intérêts" in page and "Évaluer ce projet" in page


def test_the_attachment_downloads_only_from_the_snapshot(client, juror, call, proposal, attachment):
    client.force_login(juror)
    response = client.get(f"/jury/{call.slug}/pieces-jointes/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="presentation.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"%PDF-1.4 version deposee"
    later = AttachmentFactory(proposal=proposal)  # uploaded after the submission: not what the jury reads
    assert client.get(f"/jury/{call.slug}/pieces-jointes/{later.pk}/").status_code == 404
    foreign = AttachmentFactory()
    assert client.get(f"/jury/{call.slug}/pieces-jointes/{foreign.pk}/").status_code == 404


def test_a_forged_proposal_id_or_another_call_slug_is_404(client, juror, juror_of_another_call, call, proposal):
    client.force_login(juror)
    unassigned = ProposalFactory(call=call)
    submit_snapshot(unassigned)
    for url in [f"/jury/{call.slug}/projets/{unassigned.pk}/", f"/jury/{call.slug}/projets/{unassigned.pk}/evaluation/",
                f"/jury/{call.slug}/projets/{unassigned.pk}/conflit/", f"/jury/{call.slug}/projets/999999/",
                f"/jury/autre-appel/projets/{proposal.pk}/", "/jury/autre-appel/", "/jury/inconnu/"]:
        assert client.get(url).status_code == 404, url
    response = client.post(f"/jury/{call.slug}/projets/{unassigned.pk}/evaluation/", {"submit": "1"})
    assert response.status_code == 404 and not Score.objects.exists()


def test_the_others_reviews_appear_only_after_my_own_submission(client, juror, call, proposal, other_review):
    client.force_login(juror)
    url = f"/jury/{call.slug}/projets/{proposal.pk}/"
    page = text(client.get(url))
    assert "Vous les verrez après avoir soumis votre propre évaluation" in page
    for hidden in ["Bernard Expert", "Très bon projet, données prêtes.", "Avis sur Impact pour les usagers",
                   "À retenir en priorité"]:
        assert hidden not in page

    Review.objects.filter(juror__user=juror).update(status=ReviewStatus.DRAFT)
    assert "Bernard Expert" not in text(client.get(url))  # a draft is not enough

    review = Review.objects.get(juror__user=juror)
    review.status, review.submitted_at = ReviewStatus.SUBMITTED, timezone.now()
    review.save()
    page = text(client.get(url))
    for shown in ["Bernard Expert", "Très bon projet, données prêtes.", "Avis sur Impact pour les usagers",
                  "À retenir en priorité", "4&nbsp;/&nbsp;5"]:
        assert shown in page


def test_a_conflicted_jurors_review_is_not_shown_to_the_others(client, juror, call, proposal, other_review):
    MembershipFactory(user=other_review.juror.user, administration=proposal.administration)
    Review.objects.filter(juror__user=juror).update(status=ReviewStatus.SUBMITTED, submitted_at=timezone.now())
    client.force_login(juror)
    page = text(client.get(f"/jury/{call.slug}/projets/{proposal.pk}/"))
    assert "Bernard Expert" not in page and "Aucun autre membre du jury n'a encore soumis" in page


# The scoring form


def form(call, notes=None, **extra):
    """POST data: {criterion position: note} plus opinion and recommendation."""
    data = {}
    for criterion in call.criteria.all():
        note = (notes or {}).get(criterion.position)
        if note is not None:
            data[f"score_{criterion.pk}"] = str(note)
            data[f"comment_{criterion.pk}"] = f"Commentaire {criterion.position}"
    return {**data, **extra}


def test_the_form_lists_every_criterion_with_its_rubric_and_the_scale(client, juror, call, proposal):
    client.force_login(juror)
    page = text(client.get(f"/jury/{call.slug}/projets/{proposal.pk}/evaluation/"))
    assert "Critère 1 sur 2 : Impact pour les usagers" in page and "Critère 2 sur 2 : Données disponibles" in page
    assert "Bénéfices pour l&#x27;administration et ses usagers." in page
    for value, level in enumerate(RUBRIC):
        assert f"{value} — {level}</label>" in page
    data = call.criteria.get(position=1)
    assert [int(v) for v in re.findall(rf'name="score_{data.pk}" value="(\d+)"', page)] == [0, 1, 2, 3, 4, 5]
    assert "De 0 à 5. Poids du critère : 60 %." in page
    assert "À retenir en priorité" in page and "Enregistrer le brouillon" in page and "Soumettre mon évaluation" in page


def test_saving_a_draft_then_coming_back_keeps_everything(client, juror, call, proposal):
    client.force_login(juror)
    url = f"/jury/{call.slug}/projets/{proposal.pk}/evaluation/"
    response = client.post(url, form(call, {0: 4}, overall_opinion="À approfondir.", save="1"))
    assert response.status_code == 302 and response["Location"] == url
    review = Review.objects.get(juror__user=juror)
    assert review.status == ReviewStatus.DRAFT and review.overall_opinion == "À approfondir."
    page = text(client.get(url))
    assert "Brouillon enregistré." in page
    impact = call.criteria.get(position=0)
    assert re.search(rf'name="score_{impact.pk}" value="4" checked', page)
    assert "À approfondir." in page and "Commentaire 0" in page
    assert text(client.get(f"/jury/{call.slug}/")).count("Brouillons : 1") == 1


def test_a_note_outside_the_scale_is_refused_with_a_clear_message(client, juror, call, proposal):
    client.force_login(juror)
    url = f"/jury/{call.slug}/projets/{proposal.pk}/evaluation/"
    for bad in ["9", "-1", "trois", "2.5"]:
        page = text(client.post(url, form(call, {0: bad}, save="1")))
        assert "Choisissez une note entière de 0 à 5." in page
    assert not Score.objects.exists() and Review.objects.get(juror__user=juror).status == ReviewStatus.ASSIGNED
    assert not AuditEvent.objects.exists()


def test_submitting_an_incomplete_review_saves_the_draft_and_lists_what_is_missing(client, juror, call, proposal):
    client.force_login(juror)
    page = text(client.post(f"/jury/{call.slug}/projets/{proposal.pk}/evaluation/", form(call, {0: 3}, submit="1")))
    assert "Brouillon enregistré, mais l&#x27;évaluation n&#x27;est pas soumise. Il manque :" in page
    missing = page.split('id="review-refusal"')[1].split("</ul>")[0]
    assert re.findall(r"<li>(.*?)</li>", missing) == [
        "la note du critère « Données disponibles »", "l&#x27;avis général", "la recommandation"]
    review = Review.objects.get(juror__user=juror)
    assert review.status == ReviewStatus.DRAFT and review.submitted_at is None


def test_submit_then_the_others_appear_and_a_second_submit_changes_nothing(client, juror, call, proposal,
                                                                          other_review):
    client.force_login(juror)
    url = f"/jury/{call.slug}/projets/{proposal.pk}/evaluation/"
    data = form(call, {0: 5, 1: 2}, overall_opinion="Projet prêt.", recommendation="yes", submit="1")
    response = client.post(url, data, follow=True)
    assert response.redirect_chain[-1][0] == f"/jury/{call.slug}/projets/{proposal.pk}/"
    page = text(response)
    assert "Évaluation soumise." in page and "Bernard Expert" in page and "Très bon projet, données prêtes." in page
    review = Review.objects.get(juror__user=juror)
    assert review.status == ReviewStatus.SUBMITTED and review.submitted_at is not None
    assert dict(review.scores.values_list("criterion__position", "value")) == {0: 5, 1: 2}

    response = client.post(url, data, follow=True)
    assert "Votre évaluation a déjà été soumise : rien n&#x27;a changé." in text(response)
    response = client.post(url, form(call, {0: 0, 1: 0}, save="1"), follow=True)
    assert "elle est définitive et ne peut plus être modifiée" in text(response)
    assert dict(review.scores.values_list("criterion__position", "value")) == {0: 5, 1: 2}
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["review.saved", "review.submitted"]
    assert client.get(url)["Location"] == f"/jury/{call.slug}/projets/{proposal.pk}/"  # the form is closed


def test_nothing_changes_once_the_call_left_the_review_phase(client, juror, call, proposal):
    call.status = CallStatus.DELIBERATION
    call.save()
    client.force_login(juror)
    url = f"/jury/{call.slug}/projets/{proposal.pk}/evaluation/"
    response = client.post(url, form(call, {0: 5, 1: 5}, save="1"), follow=True)
    assert "L&#x27;appel n&#x27;est pas en phase d&#x27;évaluation par le jury (Délibération)" in text(response)
    assert not Score.objects.exists()
    page = text(client.get(f"/jury/{call.slug}/"))
    assert "vous pouvez lire les projets, mais pas modifier les évaluations" in page
    assert "Évaluer ce projet" not in text(client.get(f"/jury/{call.slug}/projets/{proposal.pk}/"))


# Declaring a conflict


def test_declaring_a_conflict_removes_the_proposal_and_tells_staff(client, juror, call, proposal, attachment):
    UserFactory(email="programme@numerique.gouv.fr", is_staff=True)
    client.force_login(juror)
    url = f"/jury/{call.slug}/projets/{proposal.pk}/conflit/"
    page = text(client.get(url))
    assert "Motif du conflit d&#x27;intérêts" in page and "Ce projet sera retiré de vos évaluations" in page
    assert "Indiquez le motif du conflit d&#x27;intérêts." in text(client.post(url, {"reason": "  "}))
    assert not Conflict.objects.exists()

    response = client.post(url, {"reason": "J'ai travaillé à la DGS jusqu'en 2024."}, follow=True)
    assert response.redirect_chain[-1][0] == f"/jury/{call.slug}/"
    page = text(response)
    assert "Conflit d&#x27;intérêts déclaré : le projet AMI2019-0001 est retiré de vos évaluations" in page
    assert "Tri des signalements sanitaires" not in page.split("</header>")[1].split('role="status"')[-1]
    assert "Aucun projet confié pour l'instant." in page
    conflict = Conflict.objects.get()
    assert (conflict.source, conflict.reason) == (ConflictSource.DECLARED, "J'ai travaillé à la DGS jusqu'en 2024.")
    assert OutboundEmail.objects.get().to == "programme@numerique.gouv.fr"
    for other in urls(call, proposal, attachment)[2:]:
        assert client.get(other).status_code == 404, other
