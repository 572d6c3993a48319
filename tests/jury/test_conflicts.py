"""Conflicts of interest: the same rules as ReviewQuerySet.without_conflicts, and what a new conflict hides."""

import pytest
from django.core.exceptions import ValidationError

from ami.models import AuditEvent, CallStatus
from applications.models import MembershipStatus, ProposalStatus
from jury.models import Conflict, ConflictSource, Review, ReviewStatus
from jury.services import conflicts as service
from tests.ami.factories import CallFactory, CriterionFactory, UserFactory
from tests.applications.factories import AdministrationFactory, MembershipFactory, ProposalFactory
from tests.jury.factories import ConflictFactory, JuryMemberFactory, ReviewFactory, ScoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def call():
    return CallFactory(status=CallStatus.REVIEW)


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


def proposal_of(call, administration, reference, status=ProposalStatus.ELIGIBLE):
    return ProposalFactory(call=call, administration=administration, reference=reference, status=status)


def test_conflicts_of_a_candidate_follow_active_memberships(call):
    dgs = AdministrationFactory(name="Direction générale de la santé", ministry="Santé")
    drees = AdministrationFactory(name="DREES", ministry="Santé")
    ofb = AdministrationFactory(name="OFB", ministry="Écologie")
    own, same_ministry, other = (proposal_of(call, dgs, "A-1"), proposal_of(call, drees, "A-2"),
                                 proposal_of(call, ofb, "A-3"))
    proposal_of(call, dgs, "", status=ProposalStatus.DRAFT)  # a draft is not a submitted proposal
    user = MembershipFactory(administration=dgs).user
    MembershipFactory(user=user, administration=ofb, status=MembershipStatus.PENDING)  # not confirmed: no conflict

    lines = service.conflicts_of(call=call, user=user)
    assert [(line.proposal, line.source) for line in lines] == [(own, ConflictSource.AUTOMATIC)]
    assert lines[0].reason == f"Membre de l'administration qui porte le projet ({dgs})."

    call.conflict_same_ministry = True
    call.save()
    assert [line.proposal for line in service.conflicts_of(call=call, user=user)] == [own, same_ministry]
    assert other not in [line.proposal for line in service.conflicts_of(call=call, user=user)]


def test_conflicts_of_include_the_recorded_ones_of_the_seat(call):
    conflict = ConflictFactory(juror__call=call, source=ConflictSource.DECLARED, reason="Ancien employeur.")
    lines = service.conflicts_of(call=call, user=conflict.juror.user)
    assert [(line.proposal, line.source, line.reason, line.conflict) for line in lines] == [
        (conflict.proposal, ConflictSource.DECLARED, "Ancien employeur.", conflict)]
    other_call = CallFactory()
    assert service.conflicts_of(call=other_call, user=conflict.juror.user) == []


@pytest.mark.parametrize("same_ministry", [False, True])
def test_conflict_pairs_agree_with_without_conflicts(call, same_ministry):
    """The Python rules and the lead's queryset are one definition: compared on every juror × proposal."""
    call.conflict_same_ministry = same_ministry
    call.save()
    administrations = [AdministrationFactory(ministry=m) for m in ("Santé", "Santé", "Justice", "Intérieur")]
    proposals = [proposal_of(call, a, f"P-{i}") for i, a in enumerate(administrations)]
    jurors = [JuryMemberFactory(call=call) for _ in range(4)]
    MembershipFactory(user=jurors[0].user, administration=administrations[0])
    MembershipFactory(user=jurors[1].user, administration=administrations[2])
    MembershipFactory(user=jurors[2].user, administration=administrations[3], status=MembershipStatus.REVOKED)
    ConflictFactory(juror=jurors[3], proposal=proposals[1])
    for juror in jurors:
        for proposal in proposals:
            ReviewFactory(juror=juror, proposal=proposal, status=ReviewStatus.ASSIGNED)
    visible = set(Review.objects.without_conflicts().values_list("proposal_id", "juror_id"))
    everything = set(Review.objects.values_list("proposal_id", "juror_id"))
    assert service.conflict_pairs(call=call, jurors=jurors, proposals=proposals) == everything - visible
    expected_hidden = 4 if same_ministry else 3
    assert len(everything - visible) == expected_hidden


def test_staff_conflict_deletes_the_unsubmitted_review_and_audits(call, staff):
    criterion = CriterionFactory(call=call)
    draft = ReviewFactory(proposal__call=call, status=ReviewStatus.DRAFT)
    ScoreFactory(review=draft, criterion=criterion, value=4)

    conflict = service.add_staff_conflict(juror=draft.juror, proposal=draft.proposal, reason="Co-auteur.", by=staff)

    assert (conflict.source, conflict.reason, conflict.declared_by) == (ConflictSource.STAFF, "Co-auteur.", staff)
    assert not Review.objects.filter(pk=draft.pk).exists()
    withdrawn = AuditEvent.objects.get(action="review.withdrawn_conflict")
    assert withdrawn.before["scores"] == {str(criterion.pk): 4}
    assert withdrawn.actor == staff
    added = AuditEvent.objects.get(action="conflict.added")
    assert added.after["reason"] == "Co-auteur." and added.after["source"] == "staff"


def test_a_submitted_review_is_kept_but_never_shown_to_the_conflicted_juror(call, staff):
    submitted = ReviewFactory(proposal__call=call, status=ReviewStatus.SUBMITTED)
    juror = submitted.juror
    assert list(Review.objects.of_user(juror.user)) == [submitted]
    service.add_staff_conflict(juror=juror, proposal=submitted.proposal, reason="Lien familial.", by=staff)
    assert Review.objects.filter(pk=submitted.pk).exists()
    assert list(Review.objects.of_user(juror.user)) == []
    assert not AuditEvent.objects.filter(action="review.withdrawn_conflict").exists()


def test_bad_conflicts_are_refused_and_change_nothing(call, staff):
    juror = JuryMemberFactory(call=call)
    proposal = proposal_of(call, AdministrationFactory(), "A-1")
    elsewhere = ProposalFactory(reference="B-1")
    with pytest.raises(ValidationError, match="n'appartient pas à l'appel"):
        service.add_staff_conflict(juror=juror, proposal=elsewhere, reason="Motif.", by=staff)
    with pytest.raises(ValidationError, match="Indiquez le motif"):
        service.add_staff_conflict(juror=juror, proposal=proposal, reason="  ", by=staff)
    assert not Conflict.objects.exists()
    service.add_staff_conflict(juror=juror, proposal=proposal, reason="Motif.", by=staff)
    with pytest.raises(ValidationError, match="déjà enregistré"):
        service.add_staff_conflict(juror=juror, proposal=proposal, reason="Autre motif.", by=staff)
    assert Conflict.objects.get().reason == "Motif."
    assert AuditEvent.objects.filter(action="conflict.added").count() == 1


def test_remove_conflict_is_audited(call, staff):
    conflict = ConflictFactory(juror__call=call, reason="Motif ancien.")
    service.remove_conflict(conflict=conflict, by=staff)
    assert not Conflict.objects.exists()
    event = AuditEvent.objects.get(action="conflict.removed")
    assert (event.before["reason"], event.after, event.actor) == ("Motif ancien.", {}, staff)


def test_is_conflicted_for_one_pair(call):
    administration = AdministrationFactory()
    proposal = proposal_of(call, administration, "A-1")
    juror = JuryMemberFactory(call=call)
    assert not service.is_conflicted(juror=juror, proposal=proposal)
    MembershipFactory(user=juror.user, administration=administration)
    assert service.is_conflicted(juror=juror, proposal=proposal)
