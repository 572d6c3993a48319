"""Business actions of the jury and staff. Each function lists its side effects.

The deliberation lives in `jury.services.deliberation` (board, selection, decisions, lock, minutes) and the
ranking computed from the database in `jury.services.ranking`; the names below are the short entry points.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from jury.models import RankBy
from jury.services.deliberation import (
    WAITING_LIST_LENGTH,
    caps_of,
    decide_call_as_scripted,
    get_deliberation,
    run_selection,
)
from jury.services.ranking import rank_call

__all__ = ["WAITING_LIST_LENGTH", "decide_call", "optimal_selection", "ranked_candidates"]


def ranked_candidates(call, *, rank_by=None):
    """Ranked proposals per track, best score first: {track: [(proposal row, score), …]}.

    The score is the deliberation's choice (`Deliberation.rank_by`, adjusted by default). No side effects
    beyond creating the call's Deliberation row on first use.
    """
    rank_by = rank_by or get_deliberation(call).rank_by
    tracks = list(call.tracks.all())
    ranking = rank_call(call, rank_by=rank_by, track_ids=[t.pk for t in tracks])
    return {track: [(row, row.score) for row in ranking.by_track[track.pk]] for track in tracks}


def optimal_selection(call):
    """Ids of the laureates that maximise the total score within every envelope, maximum count and cap."""
    deliberation = get_deliberation(call)
    tracks = list(call.tracks.all())
    ranking = rank_call(call, rank_by=deliberation.rank_by or RankBy.ADJUSTED, track_ids=[t.pk for t in tracks])
    selection = run_selection(ranking, tracks=tracks, caps=caps_of(deliberation))
    if not selection.feasible:
        raise ValidationError(selection.problems or _("Aucune sélection optimale n'a été trouvée."))
    return selection.selected


def decide_call(*, call, by):
    """Records a decision for every scored eligible proposal of the call, then locks them.

    The optimal proposal of the deliberation (`apply_optimal`'s) is applied on behalf of `by` and the
    decisions locked, without moving the call's phase (the caller does). Side effects: see
    `jury.services.deliberation.decide_call_as_scripted`.
    """
    return decide_call_as_scripted(call=call, by=by)
