"""Data protection: the privacy and accessibility pages, the download of one's data, the retention purge."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from ami import audit
from ami.models import AuditEvent, CallStatus, CallTransition, EmailStatus, OutboundEmail
from applications.models import Attachment, MembershipStatus, ProposalStatus, Submission
from applications.services.retention import retention_ends_at
from applications.services.submission import build_snapshot, snapshot_sha256
from jury.models import Decision, Outcome, Review, Score
from tests.ami.factories import CallFactory, CriterionFactory, TrackFactory, UserFactory
from tests.applications.factories import AdministrationFactory, AttachmentFactory, MembershipFactory, ProposalFactory
from tests.jury.factories import DecisionFactory, JuryMemberFactory, ReviewFactory, ScoreFactory

pytestmark = pytest.mark.django_db

TEXTS = {
    "summary": "Trier les signalements plus vite.",
    "problem": "Dix mille signalements par an, triés à la main par Mme Martin.",
    "data_description": "Cinq ans d'historique.",
    "ai_approach": "Classification de textes.",
    "team": "Jeanne Martin (cheffe de projet), Paul Durand (data scientist).",
    "expected_benefits": "Des alertes traitées en un jour au lieu de dix.",
}


def announce(call, *, months_ago=0, days_ago=0):
    """Marks `call` announced, with its transition to ANNOUNCED dated in the past."""
    call.status = CallStatus.ANNOUNCED
    call.save(update_fields=["status"])
    transition = CallTransition.objects.create(call=call, from_status=CallStatus.DELIBERATION,
                                               to_status=CallStatus.ANNOUNCED)
    at = timezone.now() - timedelta(days=months_ago * 31 + days_ago)
    CallTransition.objects.filter(pk=transition.pk).update(at=at)
    return at


def submitted(proposal, *, by=None, receipt=True):
    """One Submission of `proposal` (snapshot, hash, optional receipt PDF in storage)."""
    at = timezone.now() - timedelta(days=800)
    snapshot = build_snapshot(proposal=proposal, number=1, at=at, by=by)
    submission = Submission.objects.create(proposal=proposal, number=1, proposal_version=proposal.version,
                                           snapshot=snapshot, sha256=snapshot_sha256(snapshot), submitted_by=by,
                                           submitted_at=at)
    if receipt:
        submission.receipt_pdf.save("recepisse.pdf", ContentFile(b"%PDF-1.4 receipt"), save=True)
    return submission


# Pages


def test_privacy_page_says_what_is_kept_why_and_for_how_long_per_call(client):
    announced = CallFactory(title="AMI IA 2019", retention_months=24, status=CallStatus.ANNOUNCED)
    at = announce(announced, months_ago=3)
    CallFactory(title="AMI IA démo", retention_months=12, status=CallStatus.OPEN)
    CallFactory(title="Appel en préparation", status=CallStatus.DRAFT)
    response = client.get("/donnees-personnelles/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Données personnelles</h1>" in html
    assert "mission d'intérêt public" in html
    assert "Journal d'audit : qui a fait quoi, et quand" in html
    table = html.split('id="retention-table"')[1].split("</table>")[0]
    assert "AMI IA 2019" in table and "24 mois" in table
    assert f"{timezone.localtime(at).day} " in table
    end = timezone.localtime(retention_ends_at(announced))
    assert str(end.year) in table
    assert "AMI IA démo" in table and "12 mois" in table and "Pas encore annoncés" in table
    assert "Appel en préparation" not in table  # drafts are not public
    assert reverse("my_data") not in html  # anonymous: a login link instead
    assert f'{reverse("login")}?next=/donnees-personnelles/' in html


def test_privacy_page_offers_the_download_to_a_signed_in_person(client):
    client.force_login(UserFactory())
    html = client.get("/donnees-personnelles/").content.decode()
    assert f'id="download-my-data" href="{reverse("my_data")}"' in html


def test_accessibility_statement_states_non_conformity_tests_contact_and_recourse(client):
    response = client.get("/accessibilite/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Déclaration d'accessibilité</h1>" in html
    assert "<strong>non conforme</strong>" in html
    assert "axe-core" in html
    assert 'href="mailto:accessibilite@ami-ia.numerique.gouv.fr"' in html
    assert "Défenseur des droits" in html and "Libre réponse 71120" in html


def test_footer_links_both_pages(client):
    html = client.get("/").content.decode()
    footer = html.split('id="footer"')[1]
    assert f'href="{reverse("accessibility")}">Accessibilité : non conforme</a>' in footer
    assert f'href="{reverse("privacy")}">Données personnelles</a>' in footer


# My data


def test_my_data_needs_a_signed_in_person(client):
    response = client.get("/compte/mes-donnees/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_my_data_is_a_json_download_of_everything_about_me_and_nothing_about_others(client):
    me = UserFactory(email="jeanne.martin@sante.gouv.fr", first_name="Jeanne", last_name="Martin")
    colleague = UserFactory(email="paul.durand@sante.gouv.fr")
    administration = AdministrationFactory(name="Direction générale de la santé", acronym="DGS")
    MembershipFactory(user=me, administration=administration, status=MembershipStatus.ACTIVE)
    call = CallFactory(slug="ami-ia-2019", status=CallStatus.REVIEW)
    criterion = CriterionFactory(call=call, title="Impact", position=0)
    mine = ProposalFactory(call=call, administration=administration, created_by=me, reference="AMI2019-0001",
                           title="Tri des signalements", status=ProposalStatus.SUBMITTED, **TEXTS)
    ProposalFactory(call=call, administration=administration, created_by=colleague, title="Projet de Paul")
    submission = submitted(mine, by=me, receipt=False)
    other_call = CallFactory(slug="ami-ia-2018", status=CallStatus.REVIEW)
    other_criterion = CriterionFactory(call=other_call, title="Faisabilité", position=0)
    seat = JuryMemberFactory(call=other_call, user=me, role="member", pair_label="B2")
    review = ReviewFactory(proposal=ProposalFactory(call=other_call, reference="AMI2018-0003"), juror=seat,
                           overall_opinion="Solide.", recommendation="yes")
    ScoreFactory(review=review, criterion=other_criterion, value=4, comment="Données disponibles.")
    audit.record(action="proposal.submit", actor=me, call=call, target=mine, after={"number": 1})
    audit.record(action="proposal.submit", actor=colleague, call=call, target=mine, after={"number": 2})
    OutboundEmail.objects.create(key="receipt:1", to=me.email, subject="Récépissé", body_text="…", kind="receipt")
    OutboundEmail.objects.create(key="receipt:2", to=colleague.email, subject="Autre", body_text="…")
    assert criterion  # the call has a criterion, as a real one does

    client.force_login(me)
    response = client.get("/compte/mes-donnees/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="mes-donnees-ami-ia-{timezone.localdate():%Y-%m-%d}.json"')
    assert response["Cache-Control"] == "private, no-store"
    data = json.loads(response.content)
    assert data["account"]["email"] == "jeanne.martin@sante.gouv.fr"
    assert (data["account"]["first_name"], data["account"]["last_name"]) == ("Jeanne", "Martin")
    assert [(m["administration"], m["status"]) for m in data["memberships"]] == [
        ("Direction générale de la santé", "active")]
    assert [p["title"] for p in data["proposals"]] == ["Tri des signalements"]
    assert data["proposals"][0]["team"] == TEXTS["team"]
    assert [(s["reference"], s["number"], s["sha256"]) for s in data["submissions"]] == [
        ("AMI2019-0001", 1, submission.sha256)]
    assert data["submissions"][0]["snapshot"]["submitted_by"] == "jeanne.martin@sante.gouv.fr"
    assert data["jury"]["seats"] == [{"call": "ami-ia-2018", "role": "member", "pair": "B2", "expertise": [],
                                      "charter_accepted_at": None}]
    assert data["jury"]["reviews"] == [{
        "call": "ami-ia-2018", "proposal": "AMI2018-0003", "status": "submitted", "recommendation": "yes",
        "overall_opinion": "Solide.", "submitted_at": None,
        "scores": [{"criterion": "Faisabilité", "value": 4, "comment": "Données disponibles.",
                    "comment_public": False}],
    }]
    assert [(e["action"], e["after"]) for e in data["audit"]] == [("proposal.submit", {"number": 1})]
    assert [e["subject"] for e in data["emails"]] == ["Récépissé"]
    assert "Projet de Paul" not in response.content.decode()
    assert "paul.durand" not in response.content.decode()


# The retention purge


@pytest.fixture
def expired_call():
    """A call announced 25 months ago, keeping personal data 24 months: its non-selected proposals are due."""
    call = CallFactory(slug="ami-ia-2018", reference_prefix="AMI2018", retention_months=24)
    track = TrackFactory(call=call, code="technique")
    CriterionFactory(call=call, title="Impact", position=0, weight=60)
    CriterionFactory(call=call, title="Faisabilité", position=1, weight=40)
    announce(call, months_ago=25)
    return call, track


def _proposal(call, track, reference, status, **extra):
    owner = UserFactory()
    proposal = ProposalFactory(call=call, reference=reference, status=status, requested_track=track,
                               requested_amount_eur=120_000, created_by=owner, **TEXTS, **extra)
    first = AttachmentFactory(proposal=proposal, original_name="ancienne.pdf")
    AttachmentFactory(proposal=proposal, original_name="presentation.pdf", replaces=first)
    Attachment.objects.filter(pk=first.pk).update(replaced_at=timezone.now())
    submitted(proposal, by=owner)
    return proposal


def _reviewed(proposal, notes):
    criteria = list(proposal.call.criteria.order_by("position"))
    review = ReviewFactory(proposal=proposal, overall_opinion="L'équipe de Mme Martin est solide.",
                           recommendation="no")
    for criterion, note in zip(criteria, notes, strict=True):
        ScoreFactory(review=review, criterion=criterion, value=note, comment="Voir l'équipe de Mme Martin.")
    return review


def _files(proposal):
    names = [a.file.name for a in Attachment.objects.filter(proposal=proposal)]
    return names + [s.receipt_pdf.name for s in proposal.submissions.all() if s.receipt_pdf]


def run_purge(django_capture_on_commit_callbacks, *args):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_personal_data", *args, stdout=out)
    return out.getvalue()


def test_purge_erases_the_personal_data_of_non_selected_proposals_and_keeps_statistics(
        expired_call, django_capture_on_commit_callbacks):
    call, track = expired_call
    rejected = _proposal(call, track, "AMI2018-0002", ProposalStatus.NOT_SELECTED)
    review = _reviewed(rejected, [2, 3])
    _reviewed(rejected, [4, 4])
    DecisionFactory(proposal=rejected, outcome=Outcome.NOT_SELECTED, track=None, granted_amount_eur=None,
                    score=48, rank=9, reason="Données insuffisantes.")
    email = OutboundEmail.objects.create(key="announce:2", to="porteur@sante.gouv.fr", subject="Résultats",
                                         body_text="Bonjour Mme Martin", proposal=rejected, call=call,
                                         status=EmailStatus.SENT)
    old_submission, title = rejected.submissions.get(), rejected.title
    files = _files(rejected)
    assert len(files) == 3 and all(default_storage.exists(name) for name in files)

    output = run_purge(django_capture_on_commit_callbacks)

    assert "purged AMI2018-0002: 2 attachment(s), 1 receipt(s), 6 text field(s)" in output
    rejected.refresh_from_db()
    assert [getattr(rejected, name) for name in TEXTS] == [""] * 6
    assert rejected.created_by is None
    assert (rejected.title, rejected.reference, rejected.requested_amount_eur, rejected.requested_track) == (
        title, "AMI2018-0002", 120_000, track)
    assert not Attachment.objects.filter(proposal=rejected).exists()
    assert not any(default_storage.exists(name) for name in files)
    submission = rejected.submissions.get()
    assert (submission.receipt_pdf.name, submission.submitted_by) == ("", None)
    snapshot = submission.snapshot
    assert snapshot["anonymised"] is True
    assert snapshot["original_sha256"] == old_submission.sha256
    assert submission.sha256 == snapshot_sha256(snapshot) != old_submission.sha256
    assert (snapshot["reference"], snapshot["requested_amount_eur"], snapshot["requested_track"]) == (
        "AMI2018-0002", 120_000, {"code": "technique", "name": track.name})
    assert (snapshot["sections"], snapshot["attachments"], snapshot["submitted_by"]) == ([], [], "")
    assert snapshot["scores"] == [{"criterion": "Impact", "scores": 2, "mean": 3.0},
                                  {"criterion": "Faisabilité", "scores": 2, "mean": 3.5}]
    assert "Mme Martin" not in json.dumps(snapshot)
    # Scores, recommendations and the decision stay; the jury's words about the team go.
    assert sorted(Score.objects.filter(review__proposal=rejected).values_list("value", flat=True)) == [2, 3, 4, 4]
    assert set(Score.objects.filter(review__proposal=rejected).values_list("comment", flat=True)) == {""}
    review.refresh_from_db()
    assert (review.overall_opinion, review.recommendation) == ("", "no")
    assert Decision.objects.get(proposal=rejected).reason == "Données insuffisantes."
    email.refresh_from_db()
    assert (email.to, email.body_text, email.key, email.subject) == ("", "", "announce:2", "Résultats")
    entry = AuditEvent.objects.get(action="proposal.purge_personal_data")
    assert (entry.target_id, entry.call, entry.actor) == (str(rejected.pk), call, None)
    assert entry.before == {"fields": list(TEXTS), "attachments": 2, "receipts": 1, "submissions": 1,
                            "comments": 2 + 2, "opinions": 2, "emails": 1}
    assert "Mme Martin" not in json.dumps(entry.before)
    assert audit.verify()[0] is True


def test_purge_touches_only_non_selected_ineligible_and_withdrawn_proposals(
        expired_call, django_capture_on_commit_callbacks):
    call, track = expired_call
    purged = {status: _proposal(call, track, f"AMI2018-00{n}", status) for n, status in enumerate(
        [ProposalStatus.NOT_SELECTED, ProposalStatus.INELIGIBLE, ProposalStatus.WITHDRAWN], start=10)}
    kept = {status: _proposal(call, track, f"AMI2018-00{n}", status) for n, status in enumerate(
        [ProposalStatus.LAUREATE, ProposalStatus.WAITING_LIST, ProposalStatus.ELIGIBLE], start=20)}

    run_purge(django_capture_on_commit_callbacks)

    for proposal in purged.values():
        proposal.refresh_from_db()
        assert proposal.team == "" and not proposal.attachments.exists()
    for proposal in kept.values():
        proposal.refresh_from_db()
        assert proposal.team == TEXTS["team"]
        assert proposal.attachments.count() == 2
        assert "anonymised" not in proposal.submissions.get().snapshot
    assert AuditEvent.objects.filter(action="proposal.purge_personal_data").count() == 3


def test_purge_waits_for_the_end_of_the_call_s_own_retention_period(django_capture_on_commit_callbacks):
    recent = CallFactory(retention_months=24)
    announce(recent, months_ago=23)
    longer = CallFactory(retention_months=36)
    announce(longer, months_ago=25)
    never_announced = CallFactory(retention_months=1, status=CallStatus.DELIBERATION)
    proposals = [_proposal(c, None, f"REF-{n}", ProposalStatus.NOT_SELECTED)
                 for n, c in enumerate([recent, longer, never_announced])]

    output = run_purge(django_capture_on_commit_callbacks)

    assert output.strip() == "0 proposal(s) purged."
    for proposal in proposals:
        proposal.refresh_from_db()
        assert proposal.problem == TEXTS["problem"]
    assert not AuditEvent.objects.filter(action="proposal.purge_personal_data").exists()


def test_dry_run_lists_and_changes_nothing(expired_call, django_capture_on_commit_callbacks):
    call, track = expired_call
    proposal = _proposal(call, track, "AMI2018-0005", ProposalStatus.INELIGIBLE)
    files = _files(proposal)

    output = run_purge(django_capture_on_commit_callbacks, "--dry-run")

    assert "would purge AMI2018-0005 (ineligible)" in output
    assert "1 proposal(s) would be purged." in output
    proposal.refresh_from_db()
    assert proposal.problem == TEXTS["problem"] and proposal.attachments.count() == 2
    assert all(default_storage.exists(name) for name in files)
    assert not AuditEvent.objects.filter(action="proposal.purge_personal_data").exists()


def test_purge_is_idempotent(expired_call, django_capture_on_commit_callbacks):
    call, track = expired_call
    proposal = _proposal(call, track, "AMI2018-0006", ProposalStatus.NOT_SELECTED)
    run_purge(django_capture_on_commit_callbacks)
    snapshot = proposal.submissions.get().snapshot
    events = AuditEvent.objects.count()

    output = run_purge(django_capture_on_commit_callbacks)

    assert output.strip() == "0 proposal(s) purged."
    assert AuditEvent.objects.count() == events
    assert proposal.submissions.get().snapshot == snapshot


def test_a_purged_proposal_still_renders_for_staff(expired_call, client, django_capture_on_commit_callbacks):
    call, track = expired_call
    proposal = _proposal(call, track, "AMI2018-0007", ProposalStatus.NOT_SELECTED)
    run_purge(django_capture_on_commit_callbacks)
    client.force_login(UserFactory(is_staff=True))
    response = client.get(reverse("applications:intake_detail", args=[proposal.pk]))
    assert response.status_code == 200
    assert "AMI2018-0007" in response.content.decode()
    assert TEXTS["team"] not in response.content.decode()
    assert Review.objects.count() == 0
