"""Business actions of the jury and staff. Each function lists its side effects."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from applications.models import Proposal, ProposalStatus
from applications.services import transition_proposal
from jury.algorithms.selection import Candidate, Envelope, select
from jury.models import Decision, Outcome
from jury.scoring import proposal_raw_scores, two_decimals

WAITING_LIST_LENGTH = 5


def ranked_candidates(call):
    """Eligible proposals per track, best score first: {track: [(proposal, score), …]}."""
    scores = proposal_raw_scores(call)
    proposals = Proposal.objects.filter(call=call, status=ProposalStatus.ELIGIBLE).select_related("requested_track")
    by_track = {track: [] for track in call.tracks.all()}
    for proposal in proposals:
        if proposal.pk in scores and proposal.requested_track in by_track:
            by_track[proposal.requested_track].append((proposal, scores[proposal.pk]["mean"]))
    for candidates in by_track.values():
        candidates.sort(key=lambda pair: (-pair[1], pair[0].reference))
    return by_track


def optimal_selection(by_track):
    """The laureates that maximise the total score within every envelope and maximum count (CP-SAT)."""
    candidates = [
        Candidate(id=proposal.pk, track=track.pk, score=score, amount=proposal.requested_amount_eur or 0)
        for track, ranked in by_track.items()
        for proposal, score in ranked
    ]
    envelopes = {track.pk: Envelope(budget=track.budget_eur, max_count=track.max_laureates) for track in by_track}
    result = select(candidates=candidates, envelopes=envelopes)
    if not result.optimal:
        raise ValidationError(result.explanation or _("Aucune sélection optimale n'a été trouvée."))
    return set(result.selected)


@transaction.atomic
def decide_call(*, call, by):
    """Records a decision for every scored eligible proposal of the call.

    Side effects: one Decision row per proposal (laureate with its track and granted amount,
    waiting list, or not selected, each with a reason, its score and its rank in the track);
    one ProposalTransition per proposal through `transition_proposal`.
    """
    by_track = ranked_candidates(call)
    selected = optimal_selection(by_track)
    for track, candidates in by_track.items():
        waiting = 0
        for rank, (proposal, score) in enumerate(candidates, start=1):
            if proposal.pk in selected:
                outcome, reason = (
                    Outcome.LAUREATE,
                    _("Classé %(rank)s sur %(total)s dans le parcours ; retenu dans l'enveloppe."),
                )
            elif waiting < WAITING_LIST_LENGTH:
                waiting += 1
                outcome, reason = Outcome.WAITING_LIST, _("Classé %(rank)s sur %(total)s : placé en liste d'attente.")
            else:
                outcome, reason = (
                    Outcome.NOT_SELECTED,
                    _("Classé %(rank)s sur %(total)s : score insuffisant au regard des projets retenus."),
                )
            Decision.objects.update_or_create(
                proposal=proposal,
                defaults={
                    "outcome": outcome,
                    "track": track,
                    "score": two_decimals(score),
                    "rank": rank,
                    "granted_amount_eur": proposal.requested_amount_eur if outcome == Outcome.LAUREATE else None,
                    "reason": reason % {"rank": rank, "total": len(candidates)},
                    "decided_by": by,
                },
            )
            transition_proposal(
                proposal=proposal, to_status=outcome, by=by, reason=reason % {"rank": rank, "total": len(candidates)}
            )
