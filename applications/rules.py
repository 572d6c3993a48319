"""Who may do what with administrations and proposals: small named predicates."""

from applications.models import Membership, MembershipStatus, ProposalStatus


def is_active_member(user, administration):
    if not user.is_authenticated:
        return False
    return Membership.objects.active().filter(user=user, administration=administration).exists()


def acts_for_administration(user, proposal):
    """Whether `user`, who reached `proposal` through `Proposal.objects.visible_to(user)`, is an active member of its
    administration. That queryset shows anyone but staff only the proposals of their own active memberships, so
    only staff cost a query (they see every proposal, but act only on their own administrations')."""
    return not user.is_staff or is_active_member(user, proposal.administration_id)


def can_confirm_membership(user, membership):
    """Staff, or an active member of the same administration (never oneself)."""
    if not user.is_authenticated or user.pk == membership.user_id:
        return False
    return user.is_staff or is_active_member(user, membership.administration_id)


def can_start_draft(user, call, administration):
    return call.is_open and is_active_member(user, administration)


def is_editable_draft(proposal):
    return proposal.status == ProposalStatus.DRAFT and proposal.call.is_open


def can_edit_proposal(user, proposal):
    """Active members of the proposal's administration, while it is a draft of an open call."""
    return is_editable_draft(proposal) and is_active_member(user, proposal.administration_id)


def needs_membership(user):
    """A signed-in user without any confirmed administration is sent to /mon-administration/."""
    return not Membership.objects.filter(user=user, status=MembershipStatus.ACTIVE).exists()
