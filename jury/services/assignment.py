"""Who reviews what: the automatic assignment, the manual moves, and the picture staff look at.

A reviewing unit is a juror, or a pair (binôme) when the call works in pairs: both members of a pair
review the same proposals, so a pair counts as one of the `call.reviews_per_proposal` reviewers.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ami.audit import record
from ami.models import Call, CallStatus
from applications.models import Proposal, ProposalStatus
from jury.algorithms.assignment import assign
from jury.models import JuryMember, Review, ReviewStatus
from jury.services.conflicts import conflict_pairs

# Before the eligibility check there is nothing to assign; from the deliberation on, reviews are frozen.
ASSIGNABLE_STATUSES = {CallStatus.CLOSED, CallStatus.ELIGIBILITY, CallStatus.REVIEW}
# The proposals the jury reads: eligible ones, and after the deliberation the ones decided upon.
REVIEWED_STATUSES = [
    ProposalStatus.ELIGIBLE, ProposalStatus.LAUREATE, ProposalStatus.WAITING_LIST, ProposalStatus.NOT_SELECTED,
]


@dataclass
class Unit:
    """A juror, or a pair of jurors who review together."""

    key: str
    members: list
    pair_label: str = ""

    @property
    def max_load(self):
        maxima = [m.max_load for m in self.members if m.max_load is not None]
        return min(maxima) if maxima else None

    @property
    def expertise(self):
        return {tag.strip().lower() for m in self.members for tag in m.expertise if tag.strip()}

    @property
    def label(self):
        names = ", ".join(m.user.get_full_name() or m.user.email for m in self.members)
        return _("Binôme %(label)s : %(names)s") % {"label": self.pair_label, "names": names} if self.pair_label \
            else names


@dataclass
class RunSummary:
    created: int
    removed: int
    kept: int
    uncovered: dict = field(default_factory=dict)  # {proposal: French reason}
    imbalance: int = 0


def units_of(call, jurors):
    """{unit key: Unit}, pairs grouped by their label when the call works in pairs."""
    units = {}
    for juror in jurors:
        paired = call.uses_pairs and juror.pair_label
        key = f"pair:{juror.pair_label}" if paired else f"juror:{juror.pk}"
        units.setdefault(key, Unit(key=key, members=[], pair_label=juror.pair_label if paired else ""))
        units[key].members.append(juror)
    return units


def _unit_of_juror(units):
    return {member.pk: unit.key for unit in units.values() for member in unit.members}


def _check_assignable(call):
    if call.status not in ASSIGNABLE_STATUSES:
        raise ValidationError(
            _("L'affectation n'est possible que de la clôture des candidatures à la fin de l'évaluation "
              "(phase actuelle : %(status)s).") % {"status": call.get_status_display()}
        )


def _eligible_proposals(call):
    return list(
        Proposal.objects.filter(call=call, status=ProposalStatus.ELIGIBLE).select_related("administration")
        .order_by("reference", "id")
    )


def _tags(values):
    return {tag.strip().lower() for tag in values if tag.strip()}


@transaction.atomic
def run_assignment(*, call, by, seed=0):
    """Assigns every eligible proposal of `call` to `call.reviews_per_proposal` reviewing units.

    Reviews already started (draft or submitted) are kept and count; reviews not started are
    redistributed: the ones the new plan does not keep are deleted, the missing ones created with
    status "assigned" and `assigned_by`/`assigned_at`. Side effects: the call row locked for the run,
    one audit entry per created ("assignment.review_created") and removed
    ("assignment.review_removed") review, and one summary entry "assignment.run".
    Refuses (ValidationError, nothing changed) outside the assignable phases or without a jury.
    """
    call = Call.objects.select_for_update(no_key=True).get(pk=call.pk)
    _check_assignable(call)
    jurors = list(call.jury_members.select_related("user"))
    if not jurors:
        raise ValidationError(_("Le jury de cet appel n'a encore aucun membre : invitez d'abord le jury."))
    proposals = _eligible_proposals(call)
    units = units_of(call, jurors)
    unit_of = _unit_of_juror(units)
    conflicts = {(p, unit_of[j]) for p, j in conflict_pairs(call=call, jurors=jurors, proposals=proposals)}
    reviews = list(Review.objects.select_for_update().filter(proposal__call=call).select_related("juror__user"))
    eligible_ids = {p.pk for p in proposals}
    fixed = {
        (r.proposal_id, unit_of[r.juror_id]) for r in reviews
        if r.status != ReviewStatus.ASSIGNED and r.proposal_id in eligible_ids
    } - conflicts
    max_load = {key: unit.max_load for key, unit in units.items() if unit.max_load is not None}
    kept = {
        (r.proposal_id, unit_of[r.juror_id]) for r in reviews
        if r.status == ReviewStatus.ASSIGNED and r.proposal_id in eligible_ids
    } - conflicts
    problem = {
        "items": [p.pk for p in proposals], "reviewers": sorted(units), "k": call.reviews_per_proposal,
        "max_load": max_load, "conflicts": conflicts, "seed": seed,
        "expertise_item": {p.pk: _tags(p.expertise_tags) for p in proposals},
        "expertise_reviewer": {key: unit.expertise for key, unit in units.items()},
    }
    plan = _stable_plan(problem, fixed, kept)
    wanted = {(p, member.pk) for p, key in plan.pairs for member in units[key].members}
    summary = _apply_plan(call=call, reviews=reviews, wanted=wanted, by=by)
    by_pk = {p.pk: p for p in proposals}
    summary.uncovered = {by_pk[pk]: _reason_in_french(reason, call) for pk, reason in plan.uncovered.items()}
    summary.imbalance = plan.imbalance
    record(action="assignment.run", actor=by, call=call, target=call, before={}, after={
        "created": summary.created, "removed": summary.removed, "kept": summary.kept,
        "imbalance": plan.imbalance, "coverage": round(plan.coverage, 4),
        "uncovered": {str(p.reference or p.pk): reason for p, reason in summary.uncovered.items()},
        "loads": {key: plan.loads[key] for key in sorted(plan.loads)},
    })
    return summary


def _quality(plan, problem):
    """What a plan is worth, best first: slots filled, evenness, shared expertise."""
    shared = sum(
        len(problem["expertise_item"][item] & problem["expertise_reviewer"][reviewer]) for item, reviewer in plan.pairs
    )
    return (plan.coverage, -plan.imbalance, shared)


def _within_limits(plan, problem, started):
    """Kept reviews may not exceed a maximum load or k (both may have been lowered since)."""
    per_item = Counter(item for item, _reviewer in plan.pairs)
    started_per_item = Counter(item for item, _reviewer in started)
    return all(plan.loads[key] <= maximum for key, maximum in problem["max_load"].items()) and all(
        count <= max(problem["k"], started_per_item[item]) for item, count in per_item.items()
    )


def _stable_plan(problem, started, kept):
    """The optimal plan, unless keeping the current not-started reviews is just as good.

    A re-run after a small change (a new juror, a withdrawn proposal) should not reshuffle every
    juror's list: the plan that keeps the current assignment and only completes it wins when it
    covers, balances and matches expertise as well as the plan computed afresh.
    """
    fresh = assign(fixed=started, **problem)
    if not kept:
        return fresh
    completed = assign(fixed=started | kept, **problem)
    if _within_limits(completed, problem, started) and _quality(completed, problem) >= _quality(fresh, problem):
        return completed
    return fresh


def _apply_plan(*, call, reviews, wanted, by):
    """Deletes the not-started reviews the plan drops, creates the ones it adds; audits each."""
    existing = {(r.proposal_id, r.juror_id): r for r in reviews}
    removed = 0
    for key, review in existing.items():
        if review.status == ReviewStatus.ASSIGNED and key not in wanted:
            record(action="assignment.review_removed", actor=by, call=call, target=review,
                   before=_review_state(review), after={})
            review.delete()
            removed += 1
    now = timezone.now()
    jurors = {j.pk: j for j in JuryMember.objects.filter(call=call).select_related("user")}
    created = 0
    for proposal_id, juror_id in sorted(wanted - set(existing)):
        review = Review.objects.create(
            proposal_id=proposal_id, juror=jurors[juror_id], status=ReviewStatus.ASSIGNED, assigned_by=by,
            assigned_at=now,
        )
        record(action="assignment.review_created", actor=by, call=call, target=review, before={},
               after=_review_state(review))
        created += 1
    return RunSummary(created=created, removed=removed, kept=len(existing) - removed)


def _review_state(review):
    return {
        "proposal": review.proposal_id,
        "juror": review.juror_id,
        "user": review.juror.user.email,
        "status": review.status,
        "manual": review.assigned_manually,
    }


def _reason_in_french(reason, call):
    """The algorithm's reason code, explained to staff."""
    code = reason.split(":", 1)[0]
    if code == "not_enough_reviewers":
        return _("Pas assez d'évaluateurs sans conflit d'intérêts pour %(k)s évaluations.") % {
            "k": call.reviews_per_proposal
        }
    return _("Tous les évaluateurs sans conflit d'intérêts ont atteint leur charge maximale.")


@transaction.atomic
def move_assignment(*, review, to_juror, by):
    """Moves a review not yet started to another juror (with pairs: from one pair to the other).

    Side effects: the source reviews (the juror's, or both members' of their pair) deleted, one
    review per target member created (`assigned_manually`), one audit entry "assignment.moved"
    with both sides. Refuses (ValidationError, nothing changed): a juror of another call, a
    started review, a target conflicted with the proposal, a target already reviewing it.
    """
    review = Review.objects.select_for_update().select_related("proposal__call", "juror__user").get(pk=review.pk)
    call = review.proposal.call
    _check_assignable(call)
    if to_juror.call_id != call.pk:
        raise ValidationError(_("Ce membre ne fait pas partie du jury de cet appel."))
    units = units_of(call, list(call.jury_members.select_related("user")))
    unit_of = _unit_of_juror(units)
    source, target = units[unit_of[review.juror_id]], units[unit_of[to_juror.pk]]
    if source.key == target.key:
        raise ValidationError(_("Ce projet est déjà affecté à cet évaluateur."))
    source_reviews = list(Review.objects.select_for_update().filter(proposal=review.proposal, juror__in=source.members))
    if any(r.status != ReviewStatus.ASSIGNED for r in source_reviews):
        raise ValidationError(_("Cette évaluation est déjà commencée : elle ne peut plus être déplacée."))
    _check_target(review.proposal, target, call)
    before = {"proposal": review.proposal_id, "jurors": [r.juror.user.email for r in source_reviews]}
    for old in source_reviews:
        old.delete()
    now = timezone.now()
    for member in target.members:
        Review.objects.create(
            proposal=review.proposal, juror=member, status=ReviewStatus.ASSIGNED, assigned_by=by, assigned_at=now,
            assigned_manually=True,
        )
    after = {"proposal": review.proposal_id, "jurors": [m.user.email for m in target.members]}
    record(action="assignment.moved", actor=by, call=call, target=review.proposal, before=before, after=after)
    return target


def _check_target(proposal, target, call):
    conflicted = {j for p, j in conflict_pairs(call=call, jurors=target.members, proposals=[proposal])}
    for member in target.members:
        name = member.user.get_full_name() or member.user.email
        if member.pk in conflicted:
            raise ValidationError(
                _("%(name)s a un conflit d'intérêts avec ce projet : l'affectation est refusée.") % {"name": name}
            )
        if Review.objects.filter(proposal=proposal, juror=member).exists():
            raise ValidationError(_("%(name)s évalue déjà ce projet.") % {"name": name})


# The picture staff look at


@dataclass
class ProposalLine:
    proposal: Proposal
    reviews: list  # (unit, first review of the unit) pairs
    reason: str = ""

    @property
    def count(self):
        return len(self.reviews)

    @property
    def member_ids(self):
        """The jurors already reading the proposal: a move never targets them."""
        return {member.pk for unit, _review in self.reviews for member in unit.members}


@dataclass
class UnitLine:
    unit: Unit
    proposals: list

    @property
    def load(self):
        return len(self.proposals)


@dataclass
class Overview:
    units: list
    proposals: list
    uncovered: list
    imbalance: int
    k: int


def assignment_overview(*, call):
    """Loads per reviewing unit, reviewers per proposal read by the jury, and why a proposal lacks reviewers.

    No side effect; a fixed number of queries. Reviews hidden by a conflict do not count.
    """
    jurors = list(call.jury_members.select_related("user"))
    units = units_of(call, jurors)
    unit_of = _unit_of_juror(units)
    proposals = list(
        Proposal.objects.filter(call=call, status__in=REVIEWED_STATUSES).select_related("administration")
        .order_by("reference", "id")
    )
    conflicts = {(p, unit_of[j]) for p, j in conflict_pairs(call=call, jurors=jurors, proposals=proposals)}
    reviews = Review.objects.filter(proposal__in=proposals).without_conflicts().order_by("id")
    by_proposal = defaultdict(dict)
    for review in reviews:
        by_proposal[review.proposal_id].setdefault(unit_of[review.juror_id], review)
    unit_lines = {key: UnitLine(unit=unit, proposals=[]) for key, unit in units.items()}
    lines = []
    for proposal in proposals:
        assigned = by_proposal[proposal.pk]
        for key in assigned:
            unit_lines[key].proposals.append(proposal)
        lines.append(ProposalLine(proposal=proposal, reviews=[(units[k], r) for k, r in assigned.items()]))
    for line in lines:
        if line.count < call.reviews_per_proposal:
            line.reason = _gap_reason(call, line, units, unit_lines, conflicts)
    loads = [u.load for u in unit_lines.values()]
    return Overview(
        units=list(unit_lines.values()), proposals=lines, uncovered=[line for line in lines if line.reason],
        imbalance=max(loads) - min(loads) if loads else 0, k=call.reviews_per_proposal,
    )


def _gap_reason(call, line, units, unit_lines, conflicts):
    free = [key for key in units if (line.proposal.pk, key) not in conflicts]
    if len(free) < call.reviews_per_proposal:
        return ngettext(
            "Seulement %(n)s évaluateur sans conflit d'intérêts pour %(k)s évaluations demandées.",
            "Seulement %(n)s évaluateurs sans conflit d'intérêts pour %(k)s évaluations demandées.",
            len(free),
        ) % {"n": len(free), "k": call.reviews_per_proposal}
    assigned = {unit.key for unit, _review in line.reviews}
    room = [
        key for key in free
        if key not in assigned and (units[key].max_load is None or unit_lines[key].load < units[key].max_load)
    ]
    if room:
        return _("Pas encore affecté : lancez l'affectation automatique.")
    return _("Tous les évaluateurs sans conflit d'intérêts ont atteint leur charge maximale.")
