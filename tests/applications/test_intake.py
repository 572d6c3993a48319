"""Staff intake: the submissions list, the eligibility check, and the proposed administrations."""

from datetime import UTC, datetime

import factory
import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ami.models import AuditEvent, CallStatus, EligibilityQuestion, OutboundEmail
from applications.models import (
    Administration,
    AdministrationKind,
    Attachment,
    Membership,
    MembershipStatus,
    Proposal,
    ProposalStatus,
    ProposalTransition,
    Submission,
)
from applications.services import intake
from tests.ami.factories import CallFactory, TrackFactory, UserFactory
from tests.applications.factories import AdministrationFactory, MembershipFactory, ProposalFactory

pytestmark = pytest.mark.django_db

INTAKE_URLS = ["/equipe/depots/", "/equipe/administrations/"]


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EligibilityQuestion

    call = factory.SubFactory(CallFactory)
    position = factory.Sequence(lambda n: n)
    text = factory.Sequence(lambda n: f"Question {n} ?")
    ineligible_answer = False


def submitted(**kwargs):
    proposal = ProposalFactory(status=ProposalStatus.SUBMITTED, **kwargs)
    proposal.submitted_at = datetime(2019, 5, 20, 10, 0, tzinfo=UTC)
    proposal.save()
    return proposal


def snapshot_of(proposal, *, eligibility=(), attachments=()):
    return {
        "schema": 1, "call": {"slug": proposal.call.slug, "title": proposal.call.title},
        "reference": proposal.reference, "number": 1,
        "administration": {"name": proposal.administration.name, "acronym": proposal.administration.acronym,
                           "kind": proposal.administration.kind,
                           "kind_label": proposal.administration.get_kind_display(),
                           "ministry": proposal.administration.ministry},
        "title": proposal.title,
        "sections": [{"title": "Le problème à résoudre", "fields": [
            {"name": "problem", "label": "Problème à résoudre", "value": "Trop de signalements à trier à la main."}]}],
        "requested_track": None, "requested_amount_eur": 150000,
        "eligibility": list(eligibility), "attachments": list(attachments),
        "submitted_at": "2019-05-20T12:00:00+02:00", "submitted_by": "porteur@sante.gouv.fr",
    }


@pytest.fixture
def call():
    return CallFactory(status=CallStatus.CLOSED, title="AMI IA 2019", slug="ami-ia-2019", reference_prefix="AMI2019")


@pytest.fixture
def dgs():
    return AdministrationFactory(name="Direction générale de la santé", acronym="DGS")


@pytest.fixture
def owner(dgs):
    return MembershipFactory(administration=dgs).user


@pytest.fixture
def colleague(dgs):
    return MembershipFactory(administration=dgs).user


@pytest.fixture
def outsider():
    return MembershipFactory(administration__name="CHU de Bordeaux").user


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, email="programme@numerique.gouv.fr")


@pytest.fixture
def proposal(call, dgs):
    return submitted(call=call, administration=dgs, reference="AMI2019-0001", title="Tri des signalements")


def text(response):
    return response.content.decode()


# The eligibility check (service)


def test_ineligible_without_a_reason_changes_nothing(proposal, staff):
    with pytest.raises(ValidationError) as error:
        intake.record_eligibility(proposal=proposal, eligible=False, by=staff, reason="  ")
    assert error.value.code == "reason_required"
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.SUBMITTED
    assert not ProposalTransition.objects.exists() and not AuditEvent.objects.exists()


def test_ineligible_with_a_reason_records_who_when_and_why(proposal, staff):
    intake.record_eligibility(proposal=proposal, eligible=False, by=staff, reason="Porté par une entreprise.",
                              expected_status="submitted")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.INELIGIBLE
    transition = ProposalTransition.objects.get()
    assert (transition.from_status, transition.to_status, transition.by, transition.reason) == (
        "submitted", "ineligible", staff, "Porté par une entreprise.")
    assert transition.at is not None
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.call, event.target_id) == (
        "proposal.eligibility", staff, proposal.call, str(proposal.pk))
    assert event.before == {"status": "submitted"}
    assert event.after == {"status": "ineligible", "reason": "Porté par une entreprise."}


def test_eligible_then_ineligible_follows_the_transition_table(proposal, staff):
    intake.record_eligibility(proposal=proposal, eligible=True, by=staff)
    assert Proposal.objects.get().status == ProposalStatus.ELIGIBLE
    intake.record_eligibility(proposal=proposal, eligible=False, by=staff, reason="Pièce manquante.")
    assert list(ProposalTransition.objects.values_list("to_status", flat=True)) == ["eligible", "ineligible"]


def test_a_draft_cannot_be_declared_eligible(call, dgs, staff):
    draft = ProposalFactory(call=call, administration=dgs)
    with pytest.raises(ValidationError) as error:
        intake.record_eligibility(proposal=draft, eligible=True, by=staff)
    assert error.value.code == "illegal_transition"
    assert Proposal.objects.get().status == ProposalStatus.DRAFT and not AuditEvent.objects.exists()


def test_a_decision_taken_meanwhile_is_not_overwritten(proposal, staff):
    other = UserFactory(is_staff=True)
    intake.record_eligibility(proposal=proposal, eligible=False, by=other, reason="Hors périmètre.")
    stale = Proposal.objects.get()
    with pytest.raises(ValidationError) as error:
        intake.record_eligibility(proposal=stale, eligible=True, by=staff, expected_status="submitted")
    assert error.value.code == "stale"
    assert Proposal.objects.get().status == ProposalStatus.INELIGIBLE and ProposalTransition.objects.count() == 1


def test_only_staff_decide_eligibility(proposal, owner):
    with pytest.raises(PermissionDenied):
        intake.record_eligibility(proposal=proposal, eligible=True, by=owner)
    assert Proposal.objects.get().status == ProposalStatus.SUBMITTED


def test_answers_that_make_a_proposal_ineligible_are_flagged(call, proposal):
    public = QuestionFactory(call=call, text="Le porteur est-il une administration publique ?",
                             ineligible_answer=False)
    company = QuestionFactory(call=call, text="Le projet est-il porté par une entreprise ?", ineligible_answer=True)
    proposal.eligibility_answers = {str(public.pk): True, str(company.pk): True}
    review = intake.eligibility_review([public, company], intake.live_answers(proposal, [public, company]))
    assert review == [
        {"question": "Le porteur est-il une administration publique ?", "answer": True, "flagged": False},
        {"question": "Le projet est-il porté par une entreprise ?", "answer": True, "flagged": True},
    ]
    proposal.eligibility_answers = {}
    assert [row["flagged"] for row in intake.eligibility_review(
        [public, company], intake.live_answers(proposal, [public, company]))] == [False, False]


def test_likely_duplicates_of_a_proposed_administration():
    registry = [
        AdministrationFactory(name="Direction générale de la santé", acronym="DGS"),
        AdministrationFactory(name="Office français de la biodiversité", acronym="OFB"),
        AdministrationFactory(name="Autorité de sûreté nucléaire", acronym="ASN"),
    ]
    accents = Administration(name="Direction generale de la sante", acronym="")
    acronym = Administration(name="Office de la biodiversite", acronym="ofb")
    unrelated = Administration(name="Centre hospitalier universitaire de Toulouse", acronym="CHU")
    assert intake.likely_duplicates(accents, registry) == [registry[0]]
    assert intake.likely_duplicates(acronym, registry) == [registry[1]]
    assert intake.likely_duplicates(unrelated, registry) == []


# Proposed administrations (services)


@pytest.fixture
def proposed():
    agent = UserFactory(email="agent@ddtm.gouv.fr", first_name="Dominique")
    from applications.services import propose_administration

    administration, _membership = propose_administration(
        user=agent, name="DDTM Hérault", acronym="DDTM 34", kind=AdministrationKind.DECONCENTRATED,
        ministry="Transition écologique")
    return administration


def test_approving_adds_to_the_registry_and_confirms_the_proposer(proposed, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        intake.approve_administration(administration=proposed, by=staff)
    proposed.refresh_from_db()
    assert proposed.approved is True
    membership = Membership.objects.get()
    assert (membership.status, membership.confirmed_by, membership.user.email) == (
        MembershipStatus.ACTIVE, staff, "agent@ddtm.gouv.fr")
    assert membership.confirmed_at is not None
    event = AuditEvent.objects.get(action="administration.approve")
    assert (event.action, event.actor, event.after) == (
        "administration.approve", staff, {"approved": True, "confirmed_members": ["agent@ddtm.gouv.fr"]})
    [message] = mail.outbox
    assert message.to == ["agent@ddtm.gouv.fr"] and "DDTM Hérault" in message.subject
    assert "http://127.0.0.1:8000/mes-projets/" in message.body
    with pytest.raises(ValidationError):
        intake.approve_administration(administration=proposed, by=staff)
    assert AuditEvent.objects.filter(action="administration.approve").count() == 1


def test_rejecting_needs_a_reason(proposed, staff):
    with pytest.raises(ValidationError):
        intake.reject_administration(administration=proposed, by=staff, reason="")
    assert Administration.objects.filter(pk=proposed.pk, approved=False).exists()
    assert Membership.objects.get().status == MembershipStatus.PENDING and not OutboundEmail.objects.exists()


def test_rejecting_deletes_an_administration_without_proposals_and_tells_why(
        proposed, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert intake.reject_administration(administration=proposed, by=staff,
                                            reason="Nom incomplet : indiquez le nom officiel.") is True
    assert not Administration.objects.filter(pk=proposed.pk).exists() and not Membership.objects.exists()
    [message] = mail.outbox
    assert message.to == ["agent@ddtm.gouv.fr"]
    assert "Nom incomplet : indiquez le nom officiel." in message.body
    event = AuditEvent.objects.get(action="administration.reject")
    assert event.after["deleted"] is True
    assert event.before["name"] == "DDTM Hérault"


def test_rejecting_keeps_an_administration_that_carries_proposals(proposed, staff, call):
    ProposalFactory(call=call, administration=proposed)
    assert intake.reject_administration(administration=proposed, by=staff, reason="Doublon.") is False
    assert Administration.objects.get(pk=proposed.pk).approved is False
    assert Membership.objects.get().status == MembershipStatus.REVOKED


def test_merging_moves_the_requests_to_the_registered_administration(
        proposed, staff, django_capture_on_commit_callbacks):
    registered = AdministrationFactory(name="Direction départementale des territoires et de la mer de l'Hérault")
    agent = Membership.objects.get().user
    with django_capture_on_commit_callbacks(execute=True):
        assert intake.merge_administration(duplicate=proposed, into=registered, by=staff) == registered
    assert not Administration.objects.filter(pk=proposed.pk).exists()
    membership = Membership.objects.get(user=agent)
    assert (membership.administration, membership.status) == (registered, MembershipStatus.PENDING)
    [message] = mail.outbox
    assert message.to == [agent.email] and registered.name in message.body
    event = AuditEvent.objects.get(action="administration.merge")
    assert event.after["merged_into"] == registered.pk and event.after["moved_members"] == [agent.email]


def test_merging_keeps_an_existing_membership_of_the_target(proposed, staff):
    registered = AdministrationFactory()
    agent = Membership.objects.get().user
    existing = MembershipFactory(user=agent, administration=registered, status=MembershipStatus.ACTIVE)
    intake.merge_administration(duplicate=proposed, into=registered, by=staff)
    assert list(Membership.objects.filter(user=agent)) == [existing]
    assert Membership.objects.get(user=agent).status == MembershipStatus.ACTIVE


def test_merging_refuses_an_unapproved_target(proposed, staff):
    other = AdministrationFactory(approved=False)
    with pytest.raises(ValidationError):
        intake.merge_administration(duplicate=proposed, into=other, by=staff)
    with pytest.raises(ValidationError):
        intake.merge_administration(duplicate=proposed, into=proposed, by=staff)
    assert Administration.objects.filter(pk=proposed.pk).exists()
    assert not AuditEvent.objects.filter(action="administration.merge").exists()


# Who sees the pages


def test_anonymous_visitors_are_sent_to_login(client, proposal):
    for url in [*INTAKE_URLS, f"/equipe/depots/{proposal.pk}/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/compte/connexion/")


@pytest.mark.parametrize("persona", ["owner", "colleague", "outsider"])
def test_non_staff_get_404(client, request, persona, proposal, proposed):
    client.force_login(request.getfixturevalue(persona))
    for url in [*INTAKE_URLS, f"/equipe/depots/{proposal.pk}/"]:
        assert client.get(url).status_code == 404
    response = client.post(f"/equipe/depots/{proposal.pk}/", {"decision": "eligible", "expected_status": "submitted"})
    assert response.status_code == 404
    assert client.post(f"/equipe/administrations/{proposed.pk}/valider/").status_code == 404
    assert Proposal.objects.get().status == ProposalStatus.SUBMITTED
    assert Administration.objects.get(pk=proposed.pk).approved is False


# The intake list


def test_the_list_shows_submissions_only(client, staff, call, dgs, proposal):
    ProposalFactory(call=call, administration=dgs, title="Brouillon en cours")
    ProposalFactory(call=call, administration=dgs, title="Projet retiré", status=ProposalStatus.WITHDRAWN)
    client.force_login(staff)
    page = text(client.get("/equipe/depots/"))
    assert "Tri des signalements" in page and "AMI2019-0001" in page
    assert "Brouillon en cours" not in page and "Projet retiré" not in page
    assert "1 projet déposé" in page
    assert "20 mai 2019, 12:00" in page  # 10:00 UTC shown in Paris time


def test_filters_and_search(client, staff, call, dgs):
    other_call = CallFactory(title="AMI IA 2018", status=CallStatus.ANNOUNCED)
    science = TrackFactory(call=call, name="Scientifique")
    chu = AdministrationFactory(name="CHU de Bordeaux", acronym="CHUB", kind=AdministrationKind.HOSPITAL)
    submitted(call=call, administration=dgs, reference="AMI2019-0001", title="Tri des signalements")
    submitted(call=call, administration=chu, reference="AMI2019-0002", title="Recherche sémantique",
              requested_track=science)
    eligible = submitted(call=other_call, administration=dgs, reference="AMI2018-0007", title="Voicebot")
    eligible.status = ProposalStatus.ELIGIBLE
    eligible.save()
    client.force_login(staff)

    def titles(**params):
        page = client.get("/equipe/depots/", params).context["rows"]
        return sorted(row["proposal"].title for row in page)

    assert titles() == ["Recherche sémantique", "Tri des signalements", "Voicebot"]
    assert titles(call=call.pk) == ["Recherche sémantique", "Tri des signalements"]
    assert titles(track=science.pk) == ["Recherche sémantique"]
    assert titles(kind="hospital") == ["Recherche sémantique"]
    assert titles(status="eligible") == ["Voicebot"]
    assert titles(q="2018-0007") == ["Voicebot"]
    assert titles(q="sémantique") == ["Recherche sémantique"]
    assert titles(q="bordeaux") == ["Recherche sémantique"]
    assert titles(q="santé", call=call.pk) == ["Tri des signalements"]
    assert "Aucun projet déposé ne correspond" in text(client.get("/equipe/depots/", {"q": "inexistant"}))


def test_the_list_flags_answers_to_check(client, staff, call, proposal):
    question = QuestionFactory(call=call, ineligible_answer=True)
    proposal.eligibility_answers = {str(question.pk): True}
    proposal.save()
    client.force_login(staff)
    assert "1 réponse à vérifier" in text(client.get("/equipe/depots/"))


def _list_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/equipe/depots/", {"q": "Projet"})
    assert response.status_code == 200
    return len(queries)


def test_the_list_runs_a_fixed_number_of_queries(client, staff, call, django_assert_num_queries):
    QuestionFactory(call=call)
    client.force_login(staff)
    submitted(call=call, title="Projet A")
    _list_queries(client)  # warm: the user is then remembered by this process (ami/auth_memo.py)
    one = _list_queries(client)
    for name in ["Projet B", "Projet C"]:
        submitted(call=call, title=name, requested_track=TrackFactory(call=call))
    with django_assert_num_queries(one):
        response = client.get("/equipe/depots/", {"q": "Projet"})
    assert len(response.context["rows"]) == 3


def test_the_list_is_paginated_by_50_and_keeps_the_filters(client, staff, call, dgs):
    for number in range(51):
        submitted(call=call, administration=dgs, reference=f"AMI2019-{number + 1:04d}")
    client.force_login(staff)
    first = client.get("/equipe/depots/", {"call": call.pk})
    assert len(first.context["rows"]) == 50 and "page 1 sur 2" in text(first)
    assert f"?call={call.pk}&amp;page=2" in text(first)
    second = client.get("/equipe/depots/", {"call": call.pk, "page": 2})
    assert [row["proposal"].reference for row in second.context["rows"]] == ["AMI2019-0051"]


# One proposal


def test_the_detail_shows_the_snapshot_flags_attachments_and_history(client, staff, call, proposal):
    company = QuestionFactory(call=call, text="Le projet est-il porté par une entreprise ?", ineligible_answer=True)
    attachment = Attachment.objects.create(proposal=proposal, file="attachments/x.pdf", original_name="budget.pdf",
                                           label="Budget prévisionnel", size=2048, sha256="0" * 64)
    Submission.objects.create(
        proposal=proposal, number=1, proposal_version=1, sha256="0" * 64,
        submitted_at=datetime(2019, 5, 20, 10, 0, tzinfo=UTC),
        snapshot=snapshot_of(
            proposal,
            eligibility=[{"question_id": company.pk, "question": company.text, "answer": True}],
            attachments=[{"id": attachment.pk, "name": "budget.pdf", "label": "Budget prévisionnel", "size": 2048,
                          "sha256": "0" * 64}],
        ),
    )
    ProposalTransition.objects.create(proposal=proposal, from_status="draft", to_status="submitted", by=None)
    client.force_login(staff)
    page = text(client.get(f"/equipe/depots/{proposal.pk}/"))
    assert "<h1>Tri des signalements</h1>" in page
    assert "Trop de signalements à trier à la main." in page
    assert "1 réponse rend ce projet irrecevable" in page
    assert "Rend irrecevable" in page
    assert f'href="/pieces-jointes/{attachment.pk}/"' in page
    assert 'id="proposal-history"' in page and "Déposé" in page
    assert 'id="eligibility-form"' in page


def test_the_detail_of_a_proposal_without_snapshot_shows_its_current_content(client, staff, proposal):
    proposal.problem = "Les signalements arrivent par milliers."
    proposal.save()
    client.force_login(staff)
    page = text(client.get(f"/equipe/depots/{proposal.pk}/"))
    assert "Les signalements arrivent par milliers." in page and "Aucune pièce jointe." in page
    assert 'id="live-content-note"' in page


def test_marking_ineligible_from_the_page(client, staff, proposal):
    client.force_login(staff)
    url = f"/equipe/depots/{proposal.pk}/"
    response = client.post(url, {"decision": "ineligible", "reason": "", "expected_status": "submitted"})
    assert response.status_code == 200
    assert "Indiquez le motif d&#x27;irrecevabilité" in text(response)
    assert Proposal.objects.get().status == ProposalStatus.SUBMITTED and not ProposalTransition.objects.exists()

    response = client.post(url, {"decision": "ineligible", "reason": "Porté par une entreprise privée.",
                                 "expected_status": "submitted"}, follow=True)
    assert response.redirect_chain == [(url, 302)]
    page = text(response)
    assert "Décision enregistrée : le projet est « Irrecevable »." in page
    assert "Porté par une entreprise privée." in page and "programme@numerique.gouv.fr" in page
    assert Proposal.objects.get().status == ProposalStatus.INELIGIBLE


def test_a_stale_page_does_not_overwrite_a_decision(client, staff, proposal):
    intake.record_eligibility(proposal=proposal, eligible=False, by=UserFactory(is_staff=True), reason="Hors champ.")
    client.force_login(staff)
    response = client.post(f"/equipe/depots/{proposal.pk}/", {"decision": "eligible", "expected_status": "submitted"})
    assert "a changé pendant que vous l&#x27;examiniez" in text(response)
    assert Proposal.objects.get().status == ProposalStatus.INELIGIBLE


def test_no_decision_form_for_a_status_without_eligibility_transition(client, staff, call, dgs):
    draft = ProposalFactory(call=call, administration=dgs)
    client.force_login(staff)
    page = text(client.get(f"/equipe/depots/{draft.pk}/"))
    assert 'id="eligibility-form"' not in page and 'id="no-decision"' in page


# Proposed administrations (pages)


def test_the_pending_page_lists_proposer_and_likely_duplicates(client, staff, proposed):
    AdministrationFactory(name="Direction départementale des territoires et de la mer de l'Hérault",
                          acronym="DDTM 34")
    client.force_login(staff)
    page = text(client.get("/equipe/administrations/"))
    assert "DDTM Hérault (DDTM 34)" in page and "agent@ddtm.gouv.fr" in page
    assert "Doublon probable de :" in page and "Doublons probables" in page


def test_approve_reject_and_merge_from_the_page(client, staff, proposed):
    registered = AdministrationFactory(name="Direction départementale des territoires et de la mer de l'Hérault")
    second = Administration.objects.create(name="DDTM de l'Hérault bis", kind="deconcentrated", ministry="x",
                                           approved=False)
    third = Administration.objects.create(name="Préfecture 34", kind="deconcentrated", ministry="x", approved=False)
    client.force_login(staff)

    response = client.post(f"/equipe/administrations/{second.pk}/refuser/", {"reason": ""})
    assert response.status_code == 200 and "Indiquez le motif du refus" in text(response)
    assert Administration.objects.filter(pk=second.pk).exists()
    response = client.post(f"/equipe/administrations/{second.pk}/refuser/", {"reason": "Doublon."}, follow=True)
    assert "est refusée" in text(response) and not Administration.objects.filter(pk=second.pk).exists()

    response = client.post(f"/equipe/administrations/{proposed.pk}/fusionner/", {"into": ""})
    assert "Choisissez l&#x27;administration du registre dont il s&#x27;agit." in text(response)
    response = client.post(f"/equipe/administrations/{proposed.pk}/fusionner/", {"into": registered.pk}, follow=True)
    assert "est fusionnée dans" in text(response)
    assert Membership.objects.get().administration == registered

    response = client.post(f"/equipe/administrations/{third.pk}/valider/", follow=True)
    assert "est ajoutée au registre" in text(response) and "Aucune administration n'attend" in text(response)
    assert Administration.objects.get(pk=third.pk).approved is True
    assert client.post(f"/equipe/administrations/{third.pk}/valider/").status_code == 404  # already handled


def test_a_decided_proposal_offers_only_to_go_back_on_the_decision(client, staff, proposal):
    intake.record_eligibility(proposal=proposal, eligible=False, by=staff, reason="Hors champ.")
    client.force_login(staff)
    url = f"/equipe/depots/{proposal.pk}/"
    page = text(client.get(url))
    assert "Revenir sur la décision" in page
    assert 'name="decision" value="eligible"' in page and 'name="decision" value="ineligible"' not in page
    response = client.post(url, {"decision": "ineligible", "reason": "Encore.", "expected_status": "ineligible"})
    assert response.status_code == 200 and ProposalTransition.objects.count() == 1
    client.post(url, {"decision": "eligible", "reason": "Partenariat avec la DGS confirmé.",
                      "expected_status": "ineligible"})
    assert Proposal.objects.get().status == ProposalStatus.ELIGIBLE
    assert ProposalTransition.objects.last().reason == "Partenariat avec la DGS confirmé."
