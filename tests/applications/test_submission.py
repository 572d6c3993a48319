"""Submitting a proposal: completeness, the deadline in Paris time, once per version, snapshots, receipts."""

import hashlib
import io
import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from ami.models import AuditEvent, CallStatus, EligibilityQuestion
from applications import services as draft_services
from applications.models import Proposal, ProposalStatus, ProposalTransition, Submission
from applications.services import submission as services
from tests.ami.factories import CallFactory, TrackFactory, UserFactory
from tests.applications.factories import AttachmentFactory, MembershipFactory, ProposalFactory, complete_draft
from tests.jury.factories import DecisionFactory

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def call():
    call = CallFactory(status=CallStatus.OPEN, title="AMI IA 2026", slug="ami-ia-2026", reference_prefix="AMI2026",
                       opens_at=timezone.now() - timedelta(days=30), closes_at=timezone.now() + timedelta(days=3))
    TrackFactory(call=call, code="technique", name="Technique et métier")
    EligibilityQuestion.objects.create(call=call, text="Le projet est-il porté par une administration ?",
                                       ineligible_answer=False)
    return call


@pytest.fixture
def owner():
    return MembershipFactory(administration__name="Direction générale de la santé", administration__acronym="DGS",
                             user__email="camille.martin@sante.gouv.fr").user


@pytest.fixture
def administration(owner):
    return owner.memberships.get().administration


@pytest.fixture
def colleague(administration):
    return MembershipFactory(administration=administration).user


@pytest.fixture
def outsider():
    return MembershipFactory(administration__name="CHU de Bordeaux").user


@pytest.fixture
def draft(call, administration, owner):
    return complete_draft(call=call, administration=administration, created_by=owner)


def text(response):
    return response.content.decode()


def submit(client, proposal, version=None):
    return client.post(f"/mes-projets/{proposal.pk}/deposer/",
                       {"version": proposal.version if version is None else version}, follow=True)


def pdf_text(data):
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def receipt_text(submission):
    with submission.receipt_pdf.open("rb") as handle:
        return pdf_text(handle.read())


def article(page, proposal):
    return re.search(rf'<article[^>]*id="proposal-{proposal.pk}".*?</article>', page, re.S).group(0)


# Completeness


def test_missing_items_lists_every_required_field_question_and_attachment(call, administration):
    proposal = ProposalFactory(call=call, administration=administration, title="Projet", summary="  ",
                               requested_amount_eur=None)
    question = call.eligibility_questions.get()
    assert services.missing_items(proposal) == [
        "Champ à remplir : Résumé",
        "Champ à remplir : Problème à résoudre et personnes concernées",
        "Champ à remplir : Données disponibles",
        "Champ à remplir : Approche par l'intelligence artificielle",
        "Champ à remplir : Équipe et gouvernance",
        "Champ à remplir : Bénéfices attendus pour les agents et les usagers",
        "Champ à remplir : Parcours demandé",
        "Champ à remplir : Accompagnement demandé (€)",
        f"Question de recevabilité sans réponse : {question.text}",
        "Aucune pièce jointe : joignez au moins un document PDF.",
    ]


def test_a_complete_draft_misses_nothing_and_a_replaced_attachment_does_not_count(draft):
    assert services.missing_items(draft) == []
    draft.attachments.update(replaced_at=timezone.now())
    assert services.missing_items(draft) == ["Aucune pièce jointe : joignez au moins un document PDF."]


def test_an_incomplete_draft_is_refused_with_the_list_and_nothing_changes(client, owner, draft):
    Proposal.objects.filter(pk=draft.pk).update(team="", eligibility_answers={})
    client.force_login(owner)
    page = text(submit(client, draft))
    assert 'id="submit-refusal"' in page and "Le projet n'est pas déposé" in page
    assert "<li>Champ à remplir : Équipe et gouvernance</li>" in page
    assert "<li>Question de recevabilité sans réponse : Le projet est-il porté par une administration ?</li>" in page
    draft.refresh_from_db()
    assert (draft.status, draft.version, draft.reference, draft.submitted_at) == ("draft", 1, "", None)
    assert not Submission.objects.exists() and not AuditEvent.objects.filter(action="proposal.submit").exists()


def test_the_review_page_lists_what_is_missing_with_links_and_offers_no_submit_button(client, owner, draft):
    draft.attachments.all().delete()
    Proposal.objects.filter(pk=draft.pk).update(problem="")
    client.force_login(owner)
    page = text(client.get(f"/mes-projets/{draft.pk}/relire/"))
    assert f'<a href="/mes-projets/{draft.pk}/modifier/2/#id_problem">' in page  # the form's step 2
    assert (f'<a href="/mes-projets/{draft.pk}/pieces/">Aucune pièce jointe : joignez au moins un document PDF.</a>'
            in page)
    assert 'id="submit-form"' not in page


# The deadline, on the server clock, in Paris time


def test_a_submit_one_second_after_closes_at_is_refused_and_the_draft_is_intact(owner, draft):
    before = Proposal.objects.filter(pk=draft.pk).values().get()
    with pytest.raises(services.SubmissionRefused) as refused:
        services.submit_proposal(proposal=draft, version=1, by=owner, at=draft.call.closes_at + timedelta(seconds=1))
    assert refused.value.code == "late"
    assert "votre projet n'a pas été déposé. Votre brouillon est conservé tel quel." in refused.value.message
    assert Proposal.objects.filter(pk=draft.pk).values().get() == before
    assert not Submission.objects.exists() and not ProposalTransition.objects.exists()


def test_a_submit_one_second_before_closes_at_is_accepted(owner, draft):
    submission = services.submit_proposal(proposal=draft, version=1, by=owner,
                                          at=draft.call.closes_at - timedelta(seconds=1))
    assert submission.number == 1


def test_a_call_closing_at_2359_paris_accepts_a_submit_at_2330_paris_that_is_2230_utc(owner, administration):
    call = CallFactory(status=CallStatus.OPEN, opens_at=datetime(2026, 11, 1, tzinfo=PARIS),
                       closes_at=datetime(2026, 12, 12, 23, 59, tzinfo=PARIS))
    evening = datetime(2026, 12, 12, 22, 30, tzinfo=UTC)  # 23:30 in Paris (UTC+1 in winter)
    proposal = complete_draft(call=call, administration=administration, created_by=owner)
    submission = services.submit_proposal(proposal=proposal, version=1, by=owner, at=evening)
    assert submission.submitted_at == evening
    assert submission.snapshot["submitted_at"] == "2026-12-12T23:30:00+01:00"
    other = complete_draft(call=call, administration=administration, created_by=owner)
    with pytest.raises(services.SubmissionRefused, match="closes depuis le 12 décembre 2026 à 23 h 59"):
        services.submit_proposal(proposal=other, version=1, by=owner, at=datetime(2026, 12, 12, 23, 0, tzinfo=UTC))


def test_a_late_submit_through_the_page_says_so_and_keeps_the_draft(client, owner, draft):
    draft.call.closes_at = timezone.now() - timedelta(minutes=1)  # still OPEN: nobody closed it yet
    draft.call.save()
    client.force_login(owner)
    page = text(submit(client, draft))
    assert "Les candidatures à cet appel sont closes depuis le" in page
    assert "Votre brouillon est conservé tel quel." in page
    draft.refresh_from_db()
    assert (draft.status, draft.version, draft.reference) == ("draft", 1, "")


# Once per version


def test_a_double_submit_of_the_same_version_gives_one_submission_and_one_email(
        client, owner, draft, django_capture_on_commit_callbacks):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        first = text(submit(client, draft))
    with django_capture_on_commit_callbacks(execute=True):
        second = text(submit(client, draft, version=1))
    assert "Votre projet est déposé sous la référence AMI2026-0001 (dépôt n° 1)" in first
    assert "Ce projet a déjà été déposé (référence AMI2026-0001, dépôt n° 1)" in second
    assert Submission.objects.count() == 1
    assert [message.to for message in mail.outbox] == [["camille.martin@sante.gouv.fr"]]
    assert AuditEvent.objects.filter(action="proposal.submit").count() == 1


def test_the_database_refuses_a_second_submission_of_the_same_version(owner, draft):
    submission = services.submit_proposal(proposal=draft, version=1, by=owner)
    with pytest.raises(IntegrityError):
        Submission.objects.create(proposal=draft, number=2, proposal_version=1, snapshot={}, sha256="0" * 64,
                                  submitted_at=timezone.now())
    assert submission.proposal_version == 1


def test_a_replay_that_slips_past_the_check_lands_on_the_existing_submission(owner, draft, monkeypatch):
    """The unique constraint is the last word even when the first check saw nothing (a race)."""
    first = services.submit_proposal(proposal=draft, version=1, by=owner)
    Proposal.objects.filter(pk=draft.pk).update(status=ProposalStatus.DRAFT)  # as if the race read a draft
    real_filter = Submission.objects.filter

    def blind_filter(*args, **kwargs):
        found = real_filter(*args, **kwargs)
        return found.none() if "proposal_version" in kwargs else found

    monkeypatch.setattr(Submission.objects, "filter", blind_filter)
    monkeypatch.setattr(services.Submission.objects, "filter", blind_filter)
    with pytest.raises(services.AlreadySubmitted):
        services.submit_proposal(proposal=draft, version=1, by=owner)
    monkeypatch.undo()
    assert list(Submission.objects.values_list("number", flat=True)) == [1]
    assert Proposal.objects.get(pk=draft.pk).status == ProposalStatus.DRAFT  # the second attempt rolled back
    assert first.number == 1


def test_a_stale_version_is_refused_and_nothing_changes(owner, colleague, draft):
    draft_services.save_draft(proposal=draft, data={"team": "Trois agents."}, version=1, by=colleague)
    with pytest.raises(services.SubmissionRefused, match="modifié depuis que vous l'avez relu"):
        services.submit_proposal(proposal=draft, version=1, by=owner)
    assert not Submission.objects.exists()
    assert Proposal.objects.get(pk=draft.pk).status == ProposalStatus.DRAFT


def test_a_version_that_is_not_a_number_is_refused_with_a_message(client, owner, draft):
    client.force_login(owner)
    page = text(client.post(f"/mes-projets/{draft.pk}/deposer/", {"version": "abc"}))
    assert "Le formulaire de dépôt est incomplet" in page and not Submission.objects.exists()


# Reopen, resubmit, withdraw, restore


def test_reopen_keeps_the_reference_and_a_resubmit_is_number_2_with_another_version(owner, draft):
    first = services.submit_proposal(proposal=draft, version=1, by=owner)
    services.reopen_proposal(proposal=draft, by=owner)
    draft.refresh_from_db()
    assert (draft.status, draft.reference, draft.version) == ("draft", "AMI2026-0001", 2)
    with pytest.raises(services.AlreadySubmitted) as replay:  # the old request replayed after the reopen
        services.submit_proposal(proposal=draft, version=1, by=owner)
    assert replay.value.submission == first
    second = services.submit_proposal(proposal=draft, version=2, by=owner)
    assert (second.number, second.proposal_version, second.snapshot["reference"]) == (2, 2, "AMI2026-0001")
    assert list(Submission.objects.values_list("number", flat=True)) == [1, 2]
    assert [e.action for e in AuditEvent.objects.all()] == ["proposal.submit", "proposal.reopen", "proposal.submit"]
    assert list(ProposalTransition.objects.values_list("from_status", "to_status")) == [
        ("draft", "submitted"), ("submitted", "draft"), ("draft", "submitted")]


def test_editing_after_a_reopen_does_not_change_the_first_snapshot(owner, draft):
    first = services.submit_proposal(proposal=draft, version=1, by=owner)
    stored, digest = json.dumps(first.snapshot, sort_keys=True), first.sha256
    services.reopen_proposal(proposal=draft, by=owner)
    draft_services.save_draft(proposal=draft, data={"title": "Nouveau titre", "problem": "Autre texte."},
                              version=2, by=owner)
    services.submit_proposal(proposal=draft, version=3, by=owner)
    first.refresh_from_db()
    assert (json.dumps(first.snapshot, sort_keys=True), first.sha256) == (stored, digest)
    assert first.snapshot["title"] == "Tri des signalements sanitaires"
    assert Submission.objects.get(number=2).snapshot["title"] == "Nouveau titre"


def test_withdraw_and_restore_before_the_deadline_only(owner, draft):
    services.submit_proposal(proposal=draft, version=1, by=owner)
    services.withdraw_proposal(proposal=draft, by=owner)
    assert Proposal.objects.get(pk=draft.pk).status == ProposalStatus.WITHDRAWN
    late = draft.call.closes_at + timedelta(seconds=1)
    with pytest.raises(services.SubmissionRefused, match="La date limite de dépôt est passée"):
        services.reopen_proposal(proposal=draft, by=owner, at=late)
    services.reopen_proposal(proposal=draft, by=owner)
    restored = Proposal.objects.get(pk=draft.pk)
    assert (restored.status, restored.reference, restored.version) == ("draft", "AMI2026-0001", 2)
    with pytest.raises(services.SubmissionRefused, match="ne peut plus être retiré"):
        services.withdraw_proposal(proposal=draft, by=owner, at=late)
    assert [e.action for e in AuditEvent.objects.all()] == ["proposal.submit", "proposal.withdraw", "proposal.restore"]
    assert Submission.objects.count() == 1  # withdrawing keeps the submissions


def test_reopen_of_a_draft_is_refused(owner, draft):
    with pytest.raises(services.SubmissionRefused, match="Seul un projet déposé ou retiré"):
        services.reopen_proposal(proposal=draft, by=owner)


def test_reopen_and_withdraw_through_the_pages(client, owner, draft):
    services.submit_proposal(proposal=draft, version=1, by=owner)
    client.force_login(owner)
    page = text(client.post(f"/mes-projets/{draft.pk}/rouvrir/", follow=True))
    assert "sa référence AMI2026-0001 est conservée" in page and "Modifier le brouillon" in page
    page = text(client.post(f"/mes-projets/{draft.pk}/retirer/", follow=True))
    assert "est retiré : il ne sera pas examiné" in page
    assert Proposal.objects.get(pk=draft.pk).status == ProposalStatus.WITHDRAWN
    Proposal.objects.filter(pk=draft.pk).update(status=ProposalStatus.WITHDRAWN)
    draft.call.closes_at = timezone.now() - timedelta(seconds=1)
    draft.call.save()
    page = text(client.post(f"/mes-projets/{draft.pk}/rouvrir/", follow=True))
    assert "La date limite de dépôt est passée" in page
    assert Proposal.objects.get(pk=draft.pk).status == ProposalStatus.WITHDRAWN


# The snapshot


def test_the_snapshot_follows_the_contract_and_its_sha256_is_the_canonical_json(owner, draft):
    submission = services.submit_proposal(proposal=draft, version=1, by=owner)
    submission.refresh_from_db()
    snapshot = submission.snapshot
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert submission.sha256 == hashlib.sha256(canonical).hexdigest()
    assert sorted(snapshot) == sorted(["schema", "call", "reference", "number", "administration", "title",
                                       "sections", "requested_track", "requested_amount_eur", "eligibility",
                                       "attachments", "submitted_at", "submitted_by"])
    attachment = draft.attachments.get()
    question = draft.call.eligibility_questions.get()
    assert (snapshot["schema"], snapshot["reference"], snapshot["number"]) == (1, "AMI2026-0001", 1)
    assert snapshot["call"] == {"slug": "ami-ia-2026", "title": "AMI IA 2026"}
    assert snapshot["administration"] == {
        "name": "Direction générale de la santé", "acronym": "DGS", "kind": "central",
        "kind_label": "Direction d'administration centrale", "ministry": "Ministère de l'Intérieur"}
    assert snapshot["sections"][1] == {"title": "Le problème et les personnes concernées", "fields": [
        {"name": "problem", "label": "Problème à résoudre et personnes concernées",
         "value": "Dix mille signalements par an, triés à la main."}]}
    assert [[f["name"] for f in s["fields"]] for s in snapshot["sections"]] == [
        ["title", "summary"], ["problem"], ["data_description"], ["ai_approach"], ["team"], ["expected_benefits"]]
    assert snapshot["requested_track"] == {"code": "technique", "name": "Technique et métier"}
    assert snapshot["requested_amount_eur"] == 150_000
    assert snapshot["eligibility"] == [{"question_id": question.pk, "question": question.text, "answer": True}]
    assert snapshot["attachments"] == [{"id": attachment.pk, "name": "presentation.pdf",
                                        "label": "Présentation du projet", "size": attachment.size,
                                        "sha256": attachment.sha256}]
    assert snapshot["submitted_by"] == "camille.martin@sante.gouv.fr"
    assert datetime.fromisoformat(snapshot["submitted_at"]) == submission.submitted_at


def test_the_snapshot_is_in_french_whatever_the_language(owner, draft):
    from django.utils import translation

    with translation.override("en"):
        submission = services.submit_proposal(proposal=draft, version=1, by=owner)
    assert submission.snapshot["sections"][0]["title"] == "Identité et contacts"
    assert submission.snapshot["sections"][0]["fields"][1]["label"] == "Résumé"
    assert submission.snapshot["administration"]["kind_label"] == "Direction d'administration centrale"


# The receipt


def test_the_receipt_pdf_holds_the_reference_the_sha256_and_the_content(owner, draft):
    submission = services.submit_proposal(proposal=draft, version=1, by=owner)
    services.render_receipt_pdf(submission=submission)
    content = receipt_text(submission)
    flat = re.sub(r"\s+", "", content)
    assert "Récépissé de dépôt" in content
    assert "AMI2026-0001" in content and submission.sha256 in flat
    assert draft.attachments.get().sha256 in flat
    assert "Direction générale de la santé" in content and "Tri des signalements sanitaires" in content
    assert "camille.martin@sante.gouv.fr" in content
    local = timezone.localtime(submission.submitted_at)
    assert f"{local.hour} h {local.minute:02d} min {local.second:02d} s" in content
    assert "Dix mille signalements par an, triés à la main." in content
    assert "Problème à résoudre et personnes concernées — 47 caractères" in content  # the character count of that field


def test_the_receipt_pdf_is_rendered_once(owner, draft):
    submission = services.submit_proposal(proposal=draft, version=1, by=owner)
    name = services.render_receipt_pdf(submission=submission)
    again = Submission.objects.get(pk=submission.pk)
    assert services.render_receipt_pdf(submission=again) == name


def test_html_in_fields_is_shown_escaped_on_the_review_page_and_in_the_pdf(client, owner, call, administration):
    payload = "<script>alert('x')</script><b>gras</b>"
    proposal = complete_draft(call=call, administration=administration, created_by=owner, title=payload,
                              problem=payload)
    client.force_login(owner)
    page = text(client.get(f"/mes-projets/{proposal.pk}/relire/"))
    assert "<script>alert" not in page and "<b>gras</b>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&lt;b&gt;gras&lt;/b&gt;" in page
    submission = services.submit_proposal(proposal=proposal, version=1, by=owner)
    services.render_receipt_pdf(submission=submission)
    assert payload in receipt_text(submission)  # printed as text, not interpreted


def test_the_receipt_is_downloaded_by_members_and_staff_only(client, owner, colleague, outsider, draft):
    services.submit_proposal(proposal=draft, version=1, by=owner)
    url = f"/mes-projets/{draft.pk}/recepisse/1/"
    for user in (owner, colleague, UserFactory(is_staff=True)):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'attachment; filename="recepisse-AMI2026-0001-depot-1.pdf"'
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content).startswith(b"%PDF")
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 404
    client.force_login(owner)
    assert client.get(f"/mes-projets/{draft.pk}/recepisse/2/").status_code == 404


# Pages and personas


def test_the_review_page_shows_everything_and_the_submit_form_with_the_version(client, colleague, draft):
    client.force_login(colleague)
    page = text(client.get(f"/mes-projets/{draft.pk}/relire/"))
    assert "<h1>Relire et déposer</h1>" in page
    for value in ("Tri des signalements sanitaires", "Direction générale de la santé (DGS)", "Technique et métier",
                  "150\u202f000\u00a0€", "Dix mille signalements par an, triés à la main.",
                  "Cinq ans d&#x27;historique.",
                  "Classification de textes.", "Deux agents et un data scientist.", "presentation.pdf",
                  "Le projet est-il porté par une administration ?", draft.attachments.get().sha256):
        assert value in page, value
    assert re.search(r'<input type="hidden" name="version" value="1">', page)
    assert re.search(r"Clôture le \d+ \w+ \d{4} à \d+ h \d\d \(heure de Paris\) — dans [23] jours", page)


def test_after_submitting_the_page_shows_the_reference_digest_and_receipt(client, owner, draft):
    client.force_login(owner)
    page = text(submit(client, draft))
    submission = Submission.objects.get()
    assert "<h1>Projet déposé</h1>" in page and "Déposé sous la référence AMI2026-0001" in page
    assert submission.sha256 in page
    assert f'href="/mes-projets/{draft.pk}/recepisse/1/"' in page
    assert "Rouvrir pour modifier" in page and "Retirer le projet" in page


def test_a_submitted_proposal_is_shown_from_its_snapshot_without_reading_the_draft_data(client, owner, draft):
    client.force_login(owner)
    submit(client, draft)
    attachment_name = Submission.objects.get().snapshot["attachments"][0]["name"]
    with CaptureQueriesContext(connection) as queries:
        page = text(client.get(f"/mes-projets/{draft.pk}/relire/"))
    statements = " ".join(query["sql"] for query in queries.captured_queries)
    assert 'FROM "ami_eligibilityquestion"' not in statements and 'FROM "applications_attachment"' not in statements
    assert "Déposé sous la référence AMI2026-0001" in page and attachment_name in page


@pytest.mark.parametrize("path", ["relire/", "deposer/", "rouvrir/", "retirer/"])
def test_outsiders_get_404_staff_not_members_403_anonymous_login(client, outsider, draft, path):
    url = f"/mes-projets/{draft.pk}/{path}"
    method = client.get if path == "relire/" else client.post
    client.force_login(outsider)
    assert method(url).status_code == 404
    client.force_login(UserFactory(is_staff=True))
    assert method(url).status_code == 403
    client.logout()
    assert method(url)["Location"].startswith("/compte/connexion/")
    assert Proposal.objects.get(pk=draft.pk).status == ProposalStatus.DRAFT


def test_submit_refuses_get(client, owner, draft):
    client.force_login(owner)
    assert client.get(f"/mes-projets/{draft.pk}/deposer/").status_code == 405


# Mes projets


def test_my_proposals_shows_countdown_missing_items_receipts_and_actions(client, owner, call, administration, draft):
    incomplete = ProposalFactory(call=call, administration=administration, title="Brouillon incomplet")
    services.submit_proposal(proposal=draft, version=1, by=owner)
    client.force_login(owner)
    page = text(client.get("/mes-projets/"))
    deadline = timezone.localtime(call.closes_at)
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre"]
    expected = (f"Clôture le {deadline.day} {months[deadline.month - 1]} {deadline.year} à {deadline.hour} h "
                f"{deadline.minute:02d} (heure de Paris) — dans 3 jours")  # rounded up
    assert expected in page
    row = article(page, incomplete)
    assert f'<a href="/mes-projets/{incomplete.pk}/modifier/2/#id_problem">Champ à remplir : Problème' in row
    assert "Aucune pièce jointe : joignez au moins un document PDF." in row
    assert "Continuer la saisie" in row and "Relire et déposer" in row
    submitted = article(page, draft)
    assert "AMI2026-0001" in submitted and "Déposé" in submitted
    assert f'href="/mes-projets/{draft.pk}/recepisse/1/"' in submitted
    assert "Rouvrir pour modifier" in submitted and "Retirer" in submitted and "Continuer la saisie" not in submitted


def test_my_proposals_shows_the_decision_only_once_results_are_public(client, owner, administration):
    call = CallFactory(status=CallStatus.DELIBERATION, title="AMI IA 2019",
                       opens_at=datetime(2019, 4, 2, tzinfo=PARIS),
                       closes_at=datetime(2019, 5, 31, 23, 59, tzinfo=PARIS))
    track = TrackFactory(call=call, name="Accompagnement scientifique")
    proposal = ProposalFactory(call=call, administration=administration, status=ProposalStatus.LAUREATE,
                               reference="AMI2019-0004")
    DecisionFactory(proposal=proposal, track=track, granted_amount_eur=125_000)
    client.force_login(owner)
    assert "Décision :" not in text(client.get("/mes-projets/"))
    call.status = CallStatus.ANNOUNCED
    call.save()
    page = text(client.get("/mes-projets/"))
    assert "<strong>Décision :</strong> Lauréat — Accompagnement scientifique — 125\u202f000\u00a0€" in page
    assert "Candidatures closes le 31 mai 2019 à 23 h 59 (heure de Paris)" in page


def test_a_submit_reads_the_questions_and_the_attachments_once(client, owner, draft):
    client.force_login(owner)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/mes-projets/{draft.pk}/deposer/", {"version": draft.version})
    assert response.status_code == 302
    statements = " ".join(query["sql"] for query in queries.captured_queries)
    assert statements.count('FROM "ami_eligibilityquestion"') == 1
    assert statements.count('FROM "applications_attachment"') == 1
    assert Submission.objects.filter(proposal=draft).count() == 1


def _count_queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/mes-projets/").status_code == 200
    return len(queries)


def test_my_proposals_keeps_a_fixed_number_of_queries(client, owner, call, administration,
                                                      django_assert_num_queries):
    first = complete_draft(call=call, administration=administration, created_by=owner)
    services.submit_proposal(proposal=first, version=1, by=owner)
    client.force_login(owner)
    _count_queries(client)  # warm: the user is then remembered by this process (ami/auth_memo.py)
    one = _count_queries(client)
    announced = CallFactory(status=CallStatus.ANNOUNCED)
    DecisionFactory(proposal=ProposalFactory(call=announced, administration=administration),
                    track=TrackFactory(call=announced))
    second = complete_draft(call=call, administration=administration, created_by=owner)
    AttachmentFactory(proposal=second)
    with django_assert_num_queries(one):
        page = text(client.get("/mes-projets/"))
    assert page.count('class="proposal-row') == 3
