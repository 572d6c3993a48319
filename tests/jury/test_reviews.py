"""The juror's services: charter, draft, submission, declared conflict; each refusal changes nothing."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from ami.models import AuditEvent, CallStatus, OutboundEmail
from jury.models import Conflict, ConflictSource, Review, ReviewStatus, Score
from jury.services import reviews as services
from tests.ami.factories import CallFactory, CriterionFactory, UserFactory
from tests.applications.factories import MembershipFactory, ProposalFactory
from tests.jury.factories import JuryMemberFactory, ReviewFactory, ScoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def call():
    call = CallFactory(status=CallStatus.REVIEW, score_scale_max=5)
    CriterionFactory(call=call, position=0, title="Impact", weight=60)
    CriterionFactory(call=call, position=1, title="Données", weight=40)
    return call


@pytest.fixture
def review(call):
    proposal = ProposalFactory(call=call, reference="AMI-0001")
    juror = JuryMemberFactory(call=call, user__email="juree@example.gouv.fr")
    return ReviewFactory(proposal=proposal, juror=juror, status=ReviewStatus.ASSIGNED)


def criteria(call):
    impact, data = call.criteria.order_by("position")
    return impact, data


def draft_data(call, impact_value=4, data_value=3, **overrides):
    impact, data = criteria(call)
    return {
        "scores": {impact.pk: {"value": impact_value, "comment": "Fort impact."},
                   data.pk: {"value": data_value, "comment": ""}},
        "overall_opinion": "Projet solide.",
        "recommendation": "yes",
        **overrides,
    }


def notes(review):
    return dict(Score.objects.filter(review=review).values_list("criterion__title", "value"))


def actions():
    return list(AuditEvent.objects.values_list("action", flat=True))


# The charter


def test_accepting_the_charter_is_dated_audited_and_happens_once(review):
    member = review.juror
    assert services.accept_charter(member=member, by=member.user) is True
    member.refresh_from_db()
    first = member.charter_accepted_at
    assert first is not None
    event = AuditEvent.objects.get()
    assert (event.action, event.before, event.actor) == ("charter.accepted", {"charter_accepted_at": None}, member.user)
    assert services.accept_charter(member=member, by=member.user) is False
    member.refresh_from_db()
    assert member.charter_accepted_at == first and actions() == ["charter.accepted"]


def test_nobody_accepts_the_charter_for_someone_else(review):
    with pytest.raises(PermissionDenied):
        services.accept_charter(member=review.juror, by=UserFactory())
    review.juror.refresh_from_db()
    assert review.juror.charter_accepted_at is None and actions() == []


# Saving a draft


def test_saving_writes_notes_comments_opinion_and_audits_before_and_after(call, review):
    impact, data = criteria(call)
    services.save_review(review=review, data=draft_data(call), by=review.juror.user)
    review.refresh_from_db()
    assert (review.status, review.overall_opinion, review.recommendation) == ("draft", "Projet solide.", "yes")
    assert notes(review) == {"Impact": 4, "Données": 3}
    assert Score.objects.get(review=review, criterion=impact).comment == "Fort impact."
    event = AuditEvent.objects.get()
    assert event.action == "review.saved"
    assert event.before == {"status": "assigned", "recommendation": "", "scores": {}}
    assert event.after == {"status": "draft", "recommendation": "yes",
                           "scores": {str(impact.pk): 4, str(data.pk): 3}}

    services.save_review(review=review, data=draft_data(call, impact_value=5, data_value=None), by=review.juror.user)
    assert notes(review) == {"Impact": 5}  # a cleared note removes its row
    assert AuditEvent.objects.last().before["scores"] == {str(impact.pk): 4, str(data.pk): 3}


@pytest.mark.parametrize("value", [6, -1, "3", 2.5, True])
def test_a_note_outside_the_scale_is_refused_and_nothing_changes(call, review, value):
    services.save_review(review=review, data=draft_data(call), by=review.juror.user)
    with pytest.raises(ValidationError) as error:
        services.save_review(review=review, data=draft_data(call, impact_value=value), by=review.juror.user)
    assert error.value.messages == [
        "La note du critère « Impact » doit être un nombre entier de 0 à 5 : rien n'a été enregistré."]
    assert notes(review) == {"Impact": 4, "Données": 3} and actions() == ["review.saved"]


def test_the_call_scale_is_the_limit(review):
    call = review.proposal.call
    call.score_scale_max = 10
    call.save()
    services.save_review(review=review, data=draft_data(call, impact_value=10), by=review.juror.user)
    assert notes(review)["Impact"] == 10


def test_a_criterion_of_another_call_a_comment_without_note_or_an_unknown_recommendation_are_refused(call, review):
    foreign = CriterionFactory(title="Critère d'un autre appel")
    impact, _data = criteria(call)
    refused = [
        ({"scores": {foreign.pk: {"value": 3, "comment": ""}}},
         "Ce critère n'appartient pas à la grille de cet appel : rien n'a été enregistré."),
        ({"scores": {impact.pk: {"value": None, "comment": "Très bien"}}},
         "Donnez une note au critère « Impact » pour enregistrer votre commentaire : rien n'a été enregistré."),
        ({"recommendation": "maybe"}, "Cette recommandation n'existe pas : rien n'a été enregistré."),
    ]
    for data, message in refused:
        with pytest.raises(ValidationError) as error:
            services.save_review(review=review, data=data, by=review.juror.user)
        assert error.value.messages == [message]
    review.refresh_from_db()
    assert (review.status, notes(review), actions()) == ("assigned", {}, [])


def test_only_the_juror_of_the_review_writes_it(call, review):
    other_juror = JuryMemberFactory(call=call)
    for user in (other_juror.user, UserFactory(is_staff=True)):
        with pytest.raises(ValidationError) as error:
            services.save_review(review=review, data=draft_data(call), by=user)
        assert "ne vous est pas (ou plus) confiée" in error.value.messages[0]
    assert notes(review) == {} and actions() == []


def test_a_conflicted_juror_cannot_write_even_with_the_review_in_hand(call, review):
    MembershipFactory(user=review.juror.user, administration=review.proposal.administration)
    with pytest.raises(ValidationError):
        services.save_review(review=review, data=draft_data(call), by=review.juror.user)
    with pytest.raises(ValidationError):
        services.submit_review(review=review, by=review.juror.user)
    assert notes(review) == {} and actions() == []


def test_nothing_changes_outside_the_review_phase(call, review):
    for status in (CallStatus.ELIGIBILITY, CallStatus.DELIBERATION, CallStatus.ANNOUNCED):
        call.status = status
        call.save()
        with pytest.raises(ValidationError) as error:
            services.save_review(review=review, data=draft_data(call), by=review.juror.user)
        assert error.value.messages[0].startswith("L'appel n'est pas en phase d'évaluation par le jury")
    assert notes(review) == {} and actions() == []


# Submitting


def test_submitting_lists_what_is_missing_and_changes_nothing(call, review):
    impact, data = criteria(call)
    services.save_review(review=review, data={"scores": {impact.pk: {"value": 2, "comment": ""}}},
                         by=review.juror.user)
    with pytest.raises(services.IncompleteReview) as error:
        services.submit_review(review=review, by=review.juror.user)
    assert error.value.messages == ["la note du critère « Données »", "l'avis général", "la recommandation"]
    review.refresh_from_db()
    assert (review.status, review.submitted_at) == ("draft", None) and actions() == ["review.saved"]


def test_submitting_is_final_audited_and_a_second_submission_is_a_no_op(call, review):
    user = review.juror.user
    services.save_review(review=review, data=draft_data(call), by=user)
    assert services.submit_review(review=review, by=user) is True
    review.refresh_from_db()
    assert review.status == ReviewStatus.SUBMITTED and review.submitted_at is not None
    event = AuditEvent.objects.last()
    assert (event.action, event.before["status"], event.after["status"]) == ("review.submitted", "draft", "submitted")
    assert sorted(event.after["scores"].values()) == [3, 4]

    submitted_at = review.submitted_at
    stale = Review.objects.get(pk=review.pk)
    stale.status = ReviewStatus.DRAFT  # a second tab that still believes the review is a draft
    assert services.submit_review(review=stale, by=user) is False
    review.refresh_from_db()
    assert review.submitted_at == submitted_at and actions() == ["review.saved", "review.submitted"]


def test_a_submitted_review_cannot_be_edited(call, review):
    user = review.juror.user
    services.save_review(review=review, data=draft_data(call), by=user)
    services.submit_review(review=review, by=user)
    with pytest.raises(services.AlreadySubmitted) as error:
        services.save_review(review=review, data=draft_data(call, impact_value=0), by=user)
    assert error.value.messages[0].startswith("Cette évaluation est déjà soumise : elle est définitive")
    assert notes(review) == {"Impact": 4, "Données": 3}


def test_submission_is_refused_once_the_review_phase_is_over(call, review):
    user = review.juror.user
    services.save_review(review=review, data=draft_data(call), by=user)
    call.status = CallStatus.DELIBERATION
    call.save()
    with pytest.raises(ValidationError):
        services.submit_review(review=review, by=user)
    review.refresh_from_db()
    assert review.status == ReviewStatus.DRAFT


# Declaring a conflict


def test_declaring_a_conflict_records_it_withdraws_the_draft_and_tells_every_staff_member(call, review, settings):
    if hasattr(settings, "PROGRAMME_EMAIL"):
        del settings.PROGRAMME_EMAIL
    UserFactory(email="programme@numerique.gouv.fr", is_staff=True)
    UserFactory(email="ditp@modernisation.gouv.fr", is_staff=True)
    UserFactory(email="ancien@numerique.gouv.fr", is_staff=True, is_active=False)
    user = review.juror.user
    services.save_review(review=review, data=draft_data(call), by=user)

    conflict = services.declare_conflict(review=review, reason="  J'ai conseillé cette équipe en 2024. ", by=user)

    assert (conflict.source, conflict.reason, conflict.declared_by) == (
        ConflictSource.DECLARED, "J'ai conseillé cette équipe en 2024.", user)
    assert not Review.objects.filter(pk=review.pk).exists()  # the draft goes; staff reassign the proposal
    assert not Review.objects.of_user(user).exists()
    assert actions() == ["review.saved", "conflict.declared", "review.withdrawn_conflict"]
    emails = OutboundEmail.objects.order_by("to")
    assert [email.to for email in emails] == ["ditp@modernisation.gouv.fr", "programme@numerique.gouv.fr"]
    assert "AMI-0001" in emails[0].subject and "Conflit d'intérêts déclaré" in emails[0].subject
    body = emails[0].body_text
    assert "J'ai conseillé cette équipe en 2024." in body and "juree@example.gouv.fr" in body


def test_a_conflict_goes_to_the_programme_address_when_set_and_keeps_a_submitted_review(call, review, settings):
    settings.PROGRAMME_EMAIL = "ami-ia@numerique.gouv.fr"
    UserFactory(is_staff=True)
    user = review.juror.user
    services.save_review(review=review, data=draft_data(call), by=user)
    services.submit_review(review=review, by=user)
    services.declare_conflict(review=review, reason="Ancien collègue du porteur.", by=user)
    assert list(OutboundEmail.objects.values_list("to", flat=True)) == ["ami-ia@numerique.gouv.fr"]
    assert Review.objects.filter(pk=review.pk, status=ReviewStatus.SUBMITTED).exists()  # kept for the record
    assert not Review.objects.of_user(user).exists()  # …and hidden from its juror


def test_a_conflict_needs_a_reason_and_is_declared_once(call, review):
    user = review.juror.user
    with pytest.raises(ValidationError) as error:
        services.declare_conflict(review=review, reason="   ", by=user)
    assert error.value.messages == ["Indiquez le motif du conflit d'intérêts."]
    assert Conflict.objects.count() == 0 and actions() == []
    services.declare_conflict(review=review, reason="Motif.", by=user)
    with pytest.raises(ValidationError):
        services.declare_conflict(review=review, reason="Encore.", by=user)
    assert Conflict.objects.count() == 1


def test_others_scores_are_untouched_by_my_review(call, review):
    other = ReviewFactory(proposal=review.proposal, juror=JuryMemberFactory(call=call))
    ScoreFactory(review=other, criterion=criteria(call)[0], value=1)
    services.save_review(review=review, data=draft_data(call), by=review.juror.user)
    assert notes(other) == {"Impact": 1}
