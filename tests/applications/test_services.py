"""Services of the applicant journey: memberships, one draft per administration and call, versioned saves."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from ami.models import CallStatus
from applications import services
from applications.models import Administration, Membership, MembershipStatus, Proposal, ProposalStatus
from tests.ami.factories import CallFactory, TrackFactory, UserFactory
from tests.applications.factories import AdministrationFactory, MembershipFactory, ProposalFactory

pytestmark = pytest.mark.django_db


def test_request_membership_is_pending_and_idempotent():
    user, administration = UserFactory(), AdministrationFactory()
    first = services.request_membership(user=user, administration=administration)
    again = services.request_membership(user=user, administration=administration)
    assert (first.pk, first.status) == (again.pk, MembershipStatus.PENDING)
    assert Membership.objects.count() == 1


def test_request_membership_asks_again_after_a_revocation():
    membership = MembershipFactory(status=MembershipStatus.REVOKED)
    again = services.request_membership(user=membership.user, administration=membership.administration)
    assert again.status == MembershipStatus.PENDING


def test_propose_administration_is_unapproved_with_a_pending_membership():
    user = UserFactory()
    administration, membership = services.propose_administration(
        user=user, name=" Direction des essais ", kind="central", ministry="Ministère des Tests", acronym="DE"
    )
    assert (administration.name, administration.approved) == ("Direction des essais", False)
    assert (membership.user, membership.administration, membership.status) == (user, administration, "pending")
    assert Administration.objects.search("essais").count() == 0  # not searchable before validation


def test_an_active_member_confirms_a_pending_member_of_the_same_administration():
    colleague = MembershipFactory()
    pending = MembershipFactory(administration=colleague.administration, status=MembershipStatus.PENDING)
    assert services.confirm_membership(membership=pending, by=colleague.user) is True
    pending.refresh_from_db()
    assert (pending.status, pending.confirmed_by) == (MembershipStatus.ACTIVE, colleague.user)
    assert pending.confirmed_at is not None
    assert services.confirm_membership(membership=pending, by=colleague.user) is False  # only once


def test_staff_confirm_any_pending_member():
    pending = MembershipFactory(status=MembershipStatus.PENDING)
    staff = UserFactory(is_staff=True)
    assert services.confirm_membership(membership=pending, by=staff) is True


@pytest.mark.parametrize("persona", ["outsider", "pending_colleague", "self"])
def test_others_may_not_confirm_and_nothing_is_saved(persona):
    pending = MembershipFactory(status=MembershipStatus.PENDING)
    by = {
        "outsider": lambda: MembershipFactory().user,
        "pending_colleague": lambda: MembershipFactory(
            administration=pending.administration, status=MembershipStatus.PENDING).user,
        "self": lambda: pending.user,
    }[persona]()
    with pytest.raises(PermissionDenied):
        services.confirm_membership(membership=pending, by=by)
    pending.refresh_from_db()
    assert (pending.status, pending.confirmed_by, pending.confirmed_at) == (MembershipStatus.PENDING, None, None)


def test_start_draft_keeps_one_draft_per_administration_and_call():
    call, member = CallFactory(status=CallStatus.OPEN), MembershipFactory()
    first, created = services.start_draft(call=call, administration=member.administration, by=member.user, title="IA")
    again, created_again = services.start_draft(call=call, administration=member.administration, by=member.user)
    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert (first.title, first.status, first.created_by, first.version) == ("IA", ProposalStatus.DRAFT, member.user, 1)
    other_admin, _ = services.start_draft(call=call, administration=AdministrationFactory(), by=member.user)
    other_call, _ = services.start_draft(call=CallFactory(status=CallStatus.OPEN),
                                         administration=member.administration, by=member.user)
    assert len({first.pk, other_admin.pk, other_call.pk}) == 3


def test_start_draft_ignores_submitted_proposals_and_force_new_creates_another():
    call, administration, user = CallFactory(status=CallStatus.OPEN), AdministrationFactory(), UserFactory()
    ProposalFactory(call=call, administration=administration, status=ProposalStatus.SUBMITTED)
    draft, created = services.start_draft(call=call, administration=administration, by=user)
    assert created is True
    second, created = services.start_draft(call=call, administration=administration, by=user, force_new=True)
    assert created is True and second.pk != draft.pk
    assert Proposal.objects.filter(status=ProposalStatus.DRAFT).count() == 2
    assert draft.title == "Projet sans titre"


@pytest.mark.parametrize("status", [CallStatus.DRAFT, CallStatus.CLOSED, CallStatus.REVIEW])
def test_start_draft_refuses_a_call_that_is_not_open(status):
    call = CallFactory(status=status)
    with pytest.raises(ValidationError) as error:
        services.start_draft(call=call, administration=AdministrationFactory(), by=UserFactory())
    assert error.value.code == "call_not_open"
    assert Proposal.objects.count() == 0


def test_save_draft_saves_and_increments_the_version():
    proposal = ProposalFactory(call=CallFactory(status=CallStatus.OPEN))
    track = TrackFactory(call=proposal.call)
    data = {"title": "Tri des signalements", "problem": "Trop de signalements", "requested_track": track,
            "status": "laureate"}  # not an editable field: ignored
    assert services.save_draft(proposal=proposal, data=data, version=1, by=None) == 2
    proposal.refresh_from_db()
    assert (proposal.title, proposal.problem, proposal.requested_track, proposal.version, proposal.status) == (
        "Tri des signalements", "Trop de signalements", track, 2, ProposalStatus.DRAFT)


def test_save_draft_on_a_stale_version_saves_nothing():
    proposal = ProposalFactory(title="Version du collègue", version=3)
    with pytest.raises(services.DraftConflict) as error:
        services.save_draft(proposal=proposal, data={"title": "Ma version"}, version=2, by=None)
    assert "Un membre de votre administration a modifié ce brouillon" in error.value.message
    proposal.refresh_from_db()
    assert (proposal.title, proposal.version) == ("Version du collègue", 3)


def test_save_draft_refuses_a_submitted_proposal():
    proposal = ProposalFactory(status=ProposalStatus.SUBMITTED, title="Déposé")
    with pytest.raises(ValidationError) as error:
        services.save_draft(proposal=proposal, data={"title": "Changé"}, version=1, by=None)
    assert error.value.code == "not_draft"
    proposal.refresh_from_db()
    assert proposal.title == "Déposé"
