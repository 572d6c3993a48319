"""Services of the applicant journey: memberships, one draft per administration and call, versioned saves."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ami.models import AuditEvent, CallStatus
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


# Audit entries of the applicant's actions


def test_request_membership_is_audited_once_and_again_after_a_revocation():
    user, administration = UserFactory(), AdministrationFactory()
    membership = services.request_membership(user=user, administration=administration)
    services.request_membership(user=user, administration=administration)  # unchanged: no second entry
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.target_id, event.before, event.after) == (
        "membership.requested", user, str(membership.pk), {}, {"administration": administration.pk,
                                                              "status": "pending"})
    Membership.objects.filter(pk=membership.pk).update(status=MembershipStatus.REVOKED)
    services.request_membership(user=user, administration=administration)
    assert list(AuditEvent.objects.values_list("action", "before")) == [
        ("membership.requested", {}), ("membership.requested", {"status": "revoked"})]


def test_propose_administration_is_audited_with_the_membership_request():
    user = UserFactory()
    administration, _ = services.propose_administration(user=user, name="DDTM de l'Hérault", kind="deconcentrated",
                                                        ministry="Transition écologique", acronym="DDTM34")
    proposed, requested = AuditEvent.objects.order_by("id")
    assert (proposed.action, proposed.actor, proposed.target_id, proposed.after) == (
        "administration.proposed", user, str(administration.pk),
        {"name": "DDTM de l'Hérault", "acronym": "DDTM34", "kind": "deconcentrated",
         "ministry": "Transition écologique", "approved": False})
    assert requested.action == "membership.requested"


def test_confirm_membership_is_audited_only_when_it_confirms():
    colleague = MembershipFactory()
    pending = MembershipFactory(administration=colleague.administration, status=MembershipStatus.PENDING)
    services.confirm_membership(membership=pending, by=colleague.user)
    services.confirm_membership(membership=pending, by=colleague.user)
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.target_id, event.before, event.after) == (
        "membership.confirmed", colleague.user, str(pending.pk), {"status": "pending"},
        {"administration": pending.administration_id, "status": "active", "user": pending.user_id})


def test_save_draft_audits_the_changed_field_names_and_the_version_never_the_text():
    proposal = ProposalFactory(call=CallFactory(status=CallStatus.OPEN), title="Titre", problem="Ancien")
    track = TrackFactory(call=proposal.call)
    user = UserFactory()
    data = {"title": "Titre", "problem": "Un texte secret", "requested_track": track,
            "requested_amount_eur": 100_000, "eligibility_answers": {"7": True}}
    services.save_draft(proposal=proposal, data=data, version=1, by=user)
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.call, event.target_id, event.before, event.after) == (
        "proposal.draft_saved", user, proposal.call, str(proposal.pk), {},
        {"fields": ["problem", "requested_track", "eligibility_answers"], "version": 2})
    services.save_draft(proposal=proposal, data=data, version=2, by=user)  # nothing changed: no entry
    assert AuditEvent.objects.count() == 1
    proposal.refresh_from_db()
    assert (proposal.version, proposal.eligibility_answers) == (3, {"7": True})


def test_save_draft_is_one_conditional_update_plus_the_audit_entry():
    proposal = ProposalFactory(title="Titre")
    with CaptureQueriesContext(connection) as queries:
        services.save_draft(proposal=proposal, data={"title": "Nouveau titre"}, version=1, by=None)
    on_proposals = [q["sql"] for q in queries if "applications_proposal" in q["sql"]]
    assert len(on_proposals) == 1 and on_proposals[0].startswith("UPDATE")
    assert '"version" = ' in on_proposals[0].split("WHERE")[1]  # conditional on the version read
    assert [q["sql"].split()[0] for q in queries if "ami_auditevent" in q["sql"]] == ["SELECT", "INSERT"]


def test_a_refused_save_draft_leaves_no_audit_entry():
    proposal = ProposalFactory(version=3)
    with pytest.raises(services.DraftConflict):
        services.save_draft(proposal=proposal, data={"title": "Ma version"}, version=2, by=None)
    assert not AuditEvent.objects.exists()
