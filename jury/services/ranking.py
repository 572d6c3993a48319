"""The ranking of a call from the database: weighted scores, juror normalisation, spread, rank intervals.

All the submitted scores of a call are read in a fixed number of queries (values_list) and computed with
NumPy through `jury.algorithms.ranking`; nothing here loops in Python over reviews or scores.

* A review's weighted score is Σ weight × note / note maximale, on 0–100; a proposal's raw score is the
  mean of its submitted reviews (the median is shown beside it).
* The adjusted score removes each juror's habitual harshness or leniency (empirical Bayes, see
  `normalise`); only jurors with at least `call.min_reviews_for_normalisation` reviews are corrected.
* The spread is the gap between a proposal's highest and lowest review; above
  `call.disagreement_threshold` the proposal goes on the agenda.
* Robustness: bootstrap intervals of each proposal's rank within its track (reviews redrawn 1,000 times,
  cached per call and data fingerprint) and the effect of ±10 % on each criterion's weight.
"""

import hashlib
from dataclasses import dataclass, field

import numpy as np
from django.core.cache import cache
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce

from applications.models import Proposal, ProposalStatus
from jury.algorithms.ranking import bootstrap_ranks, normalise, proposal_table, weight_sensitivity
from jury.models import RankBy, Review, ReviewStatus, Score

# Proposals that compete in the deliberation: eligible, or already decided.
CANDIDATE_STATUSES = (
    ProposalStatus.ELIGIBLE, ProposalStatus.LAUREATE, ProposalStatus.WAITING_LIST, ProposalStatus.NOT_SELECTED,
)
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_ALPHA = 0.1  # 90 % intervals
WEIGHT_DELTA = 0.10
CACHE_SECONDS = 24 * 3600


@dataclass
class ReviewData:
    """The submitted reviews of a call as parallel arrays (one entry per review)."""

    review_ids: np.ndarray
    proposal_ids: np.ndarray  # distinct proposal ids, sorted; review_proposal indexes it
    juror_ids: np.ndarray  # distinct jury member ids, sorted; review_juror indexes it
    review_proposal: np.ndarray
    review_juror: np.ndarray
    marks: np.ndarray  # (n_reviews, n_criteria), in criterion order
    weights: np.ndarray
    criteria: list  # [(id, title, weight)] in order
    scale_max: int

    @property
    def weighted(self):
        """Σ weight × note / note maximale for every review, on 0–100."""
        return self.marks @ self.weights / self.scale_max


def load_reviews(call):
    """The call's submitted reviews (conflicted jurors' left out) and their marks, in two queries.

    The scores come pivoted by the database: one row per review with one column per criterion (a
    filtered SUM per criterion, GROUP BY review), so 10,000 proposals × 3 reviews × 7 criteria read
    30,000 rows rather than 210,000.
    """
    criteria = list(call.criteria.order_by("position", "id").values_list("id", "title", "weight"))
    reviews = Review.objects.filter(proposal__call=call, status=ReviewStatus.SUBMITTED).without_conflicts()
    columns = {f"c{n}": Coalesce(Sum("value", filter=Q(criterion_id=pk)), 0) for n, (pk, *_rest) in enumerate(criteria)}
    rows = (
        Score.objects.filter(review__in=reviews).order_by().values("review_id")
        .annotate(proposal=F("review__proposal_id"), juror=F("review__juror_id"), **columns)
        .values_list("review_id", "proposal", "juror", *columns)
    )
    table = np.array(list(rows), dtype=np.int64).reshape(-1, 3 + len(criteria))
    table = table[np.argsort(table[:, 0], kind="stable")]
    proposal_ids, review_proposal = np.unique(table[:, 1], return_inverse=True)
    juror_ids, review_juror = np.unique(table[:, 2], return_inverse=True)
    return ReviewData(
        review_ids=table[:, 0], proposal_ids=proposal_ids, juror_ids=juror_ids, review_proposal=review_proposal,
        review_juror=review_juror, marks=table[:, 3:].astype(float),
        weights=np.array([c[2] for c in criteria], dtype=float), criteria=criteria, scale_max=call.score_scale_max,
    )


@dataclass
class RankedProposal:
    """One proposal's line of the ranking (plain values: templates read it without queries)."""

    id: int
    reference: str
    title: str
    administration: str
    ministry: str
    track_id: int | None
    amount: int
    status: str
    n_reviews: int = 0
    raw: float | None = None
    median: float | None = None
    adjusted: float | None = None
    score: float | None = None  # the one that ranks (Deliberation.rank_by)
    spread: float | None = None
    rank: int | None = None  # 1 = best within the track
    interval: tuple | None = None  # (low, high) ranks, 90 %
    disagreement: bool = False
    interval_crosses: bool = False
    weight_sensitive: bool = False

    @property
    def cutoff_zone(self):
        return self.interval_crosses or self.weight_sensitive

    @property
    def flagged(self):
        return self.disagreement or self.cutoff_zone or self.n_reviews == 0


@dataclass
class JurorCorrection:
    juror_id: int
    reviews: int
    corrected: bool
    offset: float
    scale: float


@dataclass
class Ranking:
    """The ranking of a call: rows per track (best first), juror corrections, and what it was computed from."""

    rank_by: str
    by_track: dict  # track id -> [RankedProposal] best first
    unranked: list  # candidates without submitted reviews or without a track
    jurors: list
    normalised: bool
    data: ReviewData
    review_score: np.ndarray  # per review, on the basis that ranks
    threshold: float
    rows: dict = field(default_factory=dict)  # proposal id -> RankedProposal

    def candidates(self):
        return [row for rows in self.by_track.values() for row in rows]


def _candidate_rows(call):
    """The proposals that compete, one query."""
    values = Proposal.objects.filter(call=call, status__in=CANDIDATE_STATUSES).values_list(
        "id", "reference", "title", "administration__name", "administration__ministry", "requested_track_id",
        "requested_amount_eur", "status",
    )
    return [
        RankedProposal(id=pk, reference=ref, title=title, administration=admin, ministry=ministry, track_id=track,
                       amount=amount or 0, status=status)
        for pk, ref, title, admin, ministry, track, amount, status in values
    ]


def rank_call(call, *, rank_by=RankBy.ADJUSTED, track_ids=None):
    """Scores, normalisation and ranks of the call's candidate proposals, per track.

    Reads the criteria, the scores and the candidate proposals (three queries; `track_ids` saves a
    fourth when the caller already has the tracks). No side effects.
    """
    data = load_reviews(call)
    raw_scores = data.weighted
    result = normalise(
        review_proposal=data.review_proposal, review_juror=data.review_juror, review_score=raw_scores,
        min_reviews=call.min_reviews_for_normalisation, n_proposals=data.proposal_ids.size,
        n_jurors=data.juror_ids.size,
    )
    table = result.proposals
    review_score = result.adjusted_score if rank_by == RankBy.ADJUSTED else raw_scores
    threshold = float(call.disagreement_threshold)
    if track_ids is None:
        track_ids = list(call.tracks.values_list("id", flat=True))
    by_track, unranked, rows = {pk: [] for pk in track_ids}, [], {}
    index_of = {int(pk): n for n, pk in enumerate(data.proposal_ids)}
    for row in _candidate_rows(call):
        rows[row.id] = row
        n = index_of.get(row.id)
        if n is not None:
            _fill_scores(row, table, n, rank_by, threshold)
        if n is None or row.track_id not in by_track:
            unranked.append(row)
        else:
            by_track[row.track_id].append(row)
    for ranked in by_track.values():
        ranked.sort(key=lambda r: (-r.score, r.reference, r.id))
        for position, row in enumerate(ranked, start=1):
            row.rank = position
    unranked.sort(key=lambda r: (r.reference, r.id))
    jurors = [
        JurorCorrection(juror_id=int(pk), reviews=int(result.juror_n[j]), corrected=bool(result.juror_adjusted[j]),
                        offset=float(result.juror_offset[j]), scale=float(result.juror_scale[j]))
        for j, pk in enumerate(data.juror_ids)
    ]
    return Ranking(rank_by=rank_by, by_track=by_track, unranked=unranked, jurors=jurors,
                   normalised=bool(result.juror_adjusted.any()), data=data, review_score=review_score,
                   threshold=threshold, rows=rows)


def _fill_scores(row, table, n, rank_by, threshold):
    row.n_reviews = int(table.n_reviews[n])
    row.raw, row.median = float(table.raw_mean[n]), float(table.median[n])
    row.adjusted, row.spread = float(table.adjusted_mean[n]), float(table.spread_range[n])
    row.score = row.adjusted if rank_by == RankBy.ADJUSTED else row.raw
    row.disagreement = row.n_reviews > 1 and row.spread > threshold


# ---------------------------------------------------------------------------------------------- robustness


def _track_reviews(ranking, rows):
    """Review positions and per-review scores of the proposals in `rows`, re-indexed 0..len(rows)-1."""
    index_of = {int(pk): n for n, pk in enumerate(ranking.data.proposal_ids)}
    local = np.full(ranking.data.proposal_ids.size, -1, dtype=np.int64)
    for position, row in enumerate(rows):
        local[index_of[row.id]] = position
    mapped = local[ranking.data.review_proposal]
    keep = mapped >= 0
    return keep, mapped[keep]


def fingerprint(ranking, extra=""):
    """A digest of everything the robustness figures depend on: same data, same figures."""
    digest = hashlib.sha256()
    for array in (ranking.data.review_ids, ranking.data.review_proposal, ranking.data.marks, ranking.review_score):
        digest.update(np.ascontiguousarray(array).tobytes())
    for track_id, rows in sorted(ranking.by_track.items()):
        digest.update(f"{track_id}:{','.join(str(r.id) for r in rows)};".encode())
    digest.update(f"{ranking.rank_by}|{extra}".encode())
    return digest.hexdigest()


def rank_intervals(ranking, *, call_id, resamples=BOOTSTRAP_RESAMPLES, use_cache=True):
    """{proposal id: (low, high)}: 90 % bootstrap interval of the rank within the track.

    Side effect: stores the result in the cache under the call and the data fingerprint (a change of
    any score, review or rank basis computes afresh).
    """
    key = f"deliberation:intervals:{call_id}:{fingerprint(ranking, resamples)}"
    cached = cache.get(key) if use_cache else None
    if cached is not None:
        return cached
    intervals = {}
    for rows in ranking.by_track.values():
        if not rows:
            continue
        keep, local = _track_reviews(ranking, rows)
        low, high = bootstrap_ranks(review_proposal=local, review_score=ranking.review_score[keep],
                                    n_proposals=len(rows), resamples=resamples, alpha=BOOTSTRAP_ALPHA)
        intervals.update({row.id: (int(low[n]), int(high[n])) for n, row in enumerate(rows)})
    if use_cache:
        cache.set(key, intervals, CACHE_SECONDS)
    return intervals


def weight_changes_side(ranking, *, cutoffs):
    """Ids of the proposals that change side of their track's cut-off when one weight moves by ±10 %.

    `cutoffs` maps a track id to the number of proposals inside. Computed on the raw weighted scores
    (the normalisation is fitted once, on the published weights).
    """
    changed = set()
    for track_id, rows in ranking.by_track.items():
        cutoff = cutoffs.get(track_id, 0)
        if not rows or cutoff <= 0 or cutoff >= len(rows):
            continue
        keep, local = _track_reviews(ranking, rows)
        result = weight_sensitivity(
            scores=ranking.data.marks[keep], weights=ranking.data.weights, scale_max=ranking.data.scale_max,
            review_proposal=local, n_proposals=len(rows), cutoff_rank=cutoff, delta=WEIGHT_DELTA,
        )
        changed.update(rows[n].id for n in np.nonzero(result.changes_side)[0])
    return changed


def add_robustness(ranking, *, call_id, cutoffs, resamples=BOOTSTRAP_RESAMPLES):
    """Fills each row's rank interval and its cut-off flags ("dans la zone de coupure").

    A proposal is in the cut-off zone when its interval holds ranks on both sides of its track's
    cut-off, or when a ±10 % change of one weight moves it across. Side effect: the interval cache.
    """
    intervals = rank_intervals(ranking, call_id=call_id, resamples=resamples)
    sensitive = weight_changes_side(ranking, cutoffs=cutoffs)
    for track_id, rows in ranking.by_track.items():
        cutoff = cutoffs.get(track_id, 0)
        for row in rows:
            row.interval = intervals.get(row.id)
            if row.interval and 0 < cutoff < len(rows):
                row.interval_crosses = row.interval[0] <= cutoff < row.interval[1]
            row.weight_sensitive = row.id in sensitive
    return ranking


def median_table(review_proposal, review_score, n):
    """Per-proposal table of given reviews (re-exported for callers that need only the summary)."""
    return proposal_table(review_proposal=review_proposal, review_score=review_score, n_proposals=n)
