"""Conflicts of interest: computed ones (same administration or ministry) and recorded ones (declared, staff).

`ReviewQuerySet.without_conflicts` is the one definition of what a juror may not see; the functions
here apply the same rules in Python, for people who have no review yet (a candidate juror) and for
the assignment, which needs the whole juror × proposal matrix in two queries.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from ami.audit import record
from applications.models import Membership, MembershipStatus, Proposal
from jury.models import Conflict, ConflictSource, Review, ReviewStatus


@dataclass(frozen=True)
class ConflictLine:
    """One conflict as staff see it: automatic ones have no row (`conflict` is None) and cannot be removed."""

    proposal: Proposal
    source: str
    reason: str
    conflict: Conflict | None = None

    @property
    def source_label(self):
        return ConflictSource(self.source).label


def _affiliations(user_ids):
    """{user id: (administration ids, ministries)} from active memberships, in one query."""
    found = {user_id: (set(), set()) for user_id in user_ids}
    rows = Membership.objects.filter(user_id__in=user_ids, status=MembershipStatus.ACTIVE).values_list(
        "user_id", "administration_id", "administration__ministry"
    )
    for user_id, administration_id, ministry in rows:
        found[user_id][0].add(administration_id)
        found[user_id][1].add(ministry)
    return found


def automatic_reason(call, proposal, affiliation):
    """Why `proposal` is automatically conflicted for someone with `affiliation`, or "" if it is not."""
    administrations, ministries = affiliation
    if proposal.administration_id in administrations:
        return _("Membre de l'administration qui porte le projet (%(name)s).") % {"name": proposal.administration}
    if call.conflict_same_ministry and proposal.administration.ministry in ministries:
        return _("Membre d'une administration du même ministère (%(ministry)s).") % {
            "ministry": proposal.administration.ministry
        }
    return ""


def _submitted_proposals(call):
    return Proposal.objects.filter(call=call).submitted().select_related("administration").order_by("reference", "id")


def conflicts_of(*, call, user):
    """The conflicts `user` has (or would have, as a candidate) with the submitted proposals of `call`.

    Automatic conflicts from the user's active memberships, then the recorded ones of their seat on
    this call, if any. No side effect.
    """
    affiliation = _affiliations([user.pk])[user.pk]
    lines = []
    for proposal in _submitted_proposals(call):
        reason = automatic_reason(call, proposal, affiliation)
        if reason:
            lines.append(ConflictLine(proposal=proposal, source=ConflictSource.AUTOMATIC, reason=reason))
    recorded = Conflict.objects.filter(juror__call=call, juror__user=user).select_related("proposal__administration")
    lines += [ConflictLine(proposal=c.proposal, source=c.source, reason=c.reason, conflict=c) for c in recorded]
    return lines


def conflicts_by_juror(*, call, jurors, proposals):
    """{juror id: [ConflictLine, …]} for every juror of `jurors` over `proposals`, in two queries."""
    affiliations = _affiliations({juror.user_id for juror in jurors})
    result = {juror.pk: [] for juror in jurors}
    for juror in jurors:
        for proposal in proposals:
            reason = automatic_reason(call, proposal, affiliations[juror.user_id])
            if reason:
                result[juror.pk].append(ConflictLine(proposal=proposal, source=ConflictSource.AUTOMATIC, reason=reason))
    recorded = Conflict.objects.filter(juror__in=jurors).select_related("proposal__administration", "declared_by")
    for conflict in recorded:
        result[conflict.juror_id].append(
            ConflictLine(proposal=conflict.proposal, source=conflict.source, reason=conflict.reason, conflict=conflict)
        )
    return result


def conflict_pairs(*, call, jurors, proposals):
    """The set of (proposal id, juror id) in conflict, automatic or recorded."""
    by_juror = conflicts_by_juror(call=call, jurors=jurors, proposals=proposals)
    return {(line.proposal.pk, juror_id) for juror_id, lines in by_juror.items() for line in lines}


def is_conflicted(*, juror, proposal):
    """One juror, one proposal: the same rules as `ReviewQuerySet.without_conflicts`."""
    if Conflict.objects.filter(juror=juror, proposal=proposal).exists():
        return True
    return bool(automatic_reason(juror.call, proposal, _affiliations([juror.user_id])[juror.user_id]))


def withdraw_conflicted_review(*, juror, proposal, by):
    """A conflict appeared: the juror's review of the proposal must never be shown to them again.

    A review not yet submitted (assigned or draft) is deleted, with its draft scores written into
    the audit entry ("review.withdrawn_conflict"); a submitted review is kept for the record, and
    `without_conflicts` hides it everywhere (it no longer counts in the progress board either).
    Returns True when a review was deleted.
    """
    review = (
        Review.objects.select_for_update()
        .filter(juror=juror, proposal=proposal)
        .exclude(status=ReviewStatus.SUBMITTED)
        .first()
    )
    if review is None:
        return False
    before = {
        "juror": juror.pk,
        "user": juror.user.email,
        "proposal": proposal.reference or proposal.pk,
        "status": review.status,
        "scores": {str(s.criterion_id): s.value for s in review.scores.all()},
    }
    record(action="review.withdrawn_conflict", actor=by, call=juror.call, target=review, before=before, after={})
    review.delete()
    return True


@transaction.atomic
def add_staff_conflict(*, juror, proposal, reason, by):
    """Staff record a conflict between a juror and a proposal of the same call.

    Side effects: one Conflict row (source "staff"), one audit entry "conflict.added", and the
    juror's unsubmitted review of the proposal, if any, deleted (see `withdraw_conflicted_review`).
    Refuses (ValidationError, nothing changed) a proposal of another call, an empty reason, or a
    conflict already recorded.
    """
    reason = (reason or "").strip()
    if proposal.call_id != juror.call_id:
        raise ValidationError(_("Ce projet n'appartient pas à l'appel de ce membre du jury."))
    if not reason:
        raise ValidationError(_("Indiquez le motif du conflit d'intérêts."))
    try:
        with transaction.atomic():
            conflict = Conflict.objects.create(
                juror=juror, proposal=proposal, source=ConflictSource.STAFF, reason=reason, declared_by=by
            )
    except IntegrityError:
        raise ValidationError(_("Un conflit d'intérêts est déjà enregistré pour ce membre et ce projet.")) from None
    record(
        action="conflict.added", actor=by, call=juror.call, target=conflict, before={},
        after=_conflict_state(conflict),
    )
    withdraw_conflicted_review(juror=juror, proposal=proposal, by=by)
    return conflict


@transaction.atomic
def remove_conflict(*, conflict, by):
    """Staff remove a recorded conflict (declared or staff).

    Side effects: the Conflict row deleted, one audit entry "conflict.removed" with its content.
    The juror is not re-assigned: staff move an assignment or re-run the assignment for that.
    An automatic conflict has no row and cannot be removed.
    """
    before = _conflict_state(conflict)
    record(action="conflict.removed", actor=by, call=conflict.juror.call, target=conflict, before=before, after={})
    conflict.delete()


def _conflict_state(conflict):
    return {
        "juror": conflict.juror_id,
        "user": conflict.juror.user.email,
        "proposal": conflict.proposal.reference or conflict.proposal_id,
        "source": conflict.source,
        "reason": conflict.reason,
    }
