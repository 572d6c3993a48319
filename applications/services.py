"""Business actions on proposals. Each function lists its side effects."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import PROPOSAL_TRANSITIONS, Proposal, ProposalStatus, ProposalTransition


@transaction.atomic
def transition_proposal(*, proposal, to_status, by=None, reason=""):
    """Moves `proposal` to `to_status` when the transition table allows it.

    Side effects: locks and saves the proposal's status; writes one ProposalTransition row.
    Raises ValidationError (nothing saved) for a refused transition.
    """
    locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
    current, target = ProposalStatus(locked.status), ProposalStatus(to_status)
    if target not in PROPOSAL_TRANSITIONS[current]:
        raise ValidationError(
            _("Passage impossible du statut « %(from)s » au statut « %(to)s ».")
            % {"from": current.label, "to": target.label},
            code="illegal_transition",
        )
    locked.status = target
    locked.save(update_fields=["status", "updated_at"])
    ProposalTransition.objects.create(proposal=locked, from_status=current, to_status=target, by=by, reason=reason)
    proposal.status = target
    return locked


def next_reference(call):
    """The next free reference of the call, such as AMI2019-0042 (call this under a lock on the call)."""
    taken = Proposal.objects.filter(call=call).exclude(reference="").count()
    return f"{call.reference_prefix}-{taken + 1:04d}"


@transaction.atomic
def assign_reference_and_submit(*, proposal, by=None, at=None):
    """Gives a draft its reference and marks it submitted (used by the demo and the submission flow).

    Side effects: locks the call row (references stay sequential), saves the proposal,
    writes one ProposalTransition row.
    """
    from ami.models import Call

    call = Call.objects.select_for_update().get(pk=proposal.call_id)
    if not proposal.reference:
        proposal.reference = next_reference(call)
    proposal.submitted_at = at or timezone.now()
    proposal.save(update_fields=["reference", "submitted_at", "updated_at"])
    return transition_proposal(proposal=proposal, to_status=ProposalStatus.SUBMITTED, by=by)
