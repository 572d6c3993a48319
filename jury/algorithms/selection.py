"""Selection of laureates within budget envelopes (integer programming with OR-Tools CP-SAT).

Plain-language summary for the jury: among all the sets of proposals that fit in each track's
budget and maximum number of laureates (and, if set, the maximum per administration), the one
with the highest total score is chosen; proposals forced in or out by the committee are honoured.

Method: one 0/1 variable per candidate; maximise the sum of scores, scaled by 100 and rounded to
integers (so scores count to two decimals), subject per track to sum of amounts <= budget and
count <= max_count, optionally count per group <= cap (groups are counted across all tracks),
with forced-in variables fixed to 1 and forced-out ones to 0. CP-SAT proves optimality. Among
equally good sets the solver's choice is arbitrary; with the default single worker it is
reproducible.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

Track = Hashable
CandidateId = Hashable
SCORE_FACTOR = 100  # scores are multiplied by this and rounded for the integer solver


@dataclass(frozen=True)
class Candidate:
    """A proposal competing for selection; ``amount`` is the requested funding in euros."""

    id: CandidateId
    track: Track
    score: float
    amount: int
    group: str | None = None


@dataclass(frozen=True)
class Envelope:
    """Budget (euros) and maximum number of laureates of one track."""

    budget: int
    max_count: int


@dataclass
class TrackTotal:
    amount: int = 0
    count: int = 0


@dataclass
class SelectionResult:
    """``status`` is 'optimal', 'feasible' (time limit reached), 'infeasible', 'greedy' or
    'unknown'; ``explanation`` says in plain words why a selection is impossible."""

    selected: list[CandidateId]
    status: str
    optimal: bool
    total_score: float
    per_track: dict[Track, TrackTotal] = field(default_factory=dict)
    explanation: str = ""


def select(
    *,
    candidates: list[Candidate],
    envelopes: dict[Track, Envelope],
    cap_per_group: int | None = None,
    forced_in: Iterable[CandidateId] = frozenset(),
    forced_out: Iterable[CandidateId] = frozenset(),
    time_limit: float = 30.0,
    workers: int = 1,
) -> SelectionResult:
    """Maximise the total score under the envelopes, group cap and forced decisions."""
    forced_in, forced_out = set(forced_in), set(forced_out)
    _check_input(candidates, envelopes, forced_in | forced_out)
    problem = _infeasibility(candidates, envelopes, cap_per_group, forced_in, forced_out)
    if problem:
        return SelectionResult([], "infeasible", False, 0.0,
                               _totals([], envelopes), explanation=problem)

    model = cp_model.CpModel()
    chosen = {c.id: model.new_bool_var(f"x{n}") for n, c in enumerate(candidates)}
    for c in candidates:
        if c.id in forced_in:
            model.add(chosen[c.id] == 1)
        elif c.id in forced_out or c.amount > envelopes[c.track].budget:
            model.add(chosen[c.id] == 0)
    for track, envelope in envelopes.items():
        members = [c for c in candidates if c.track == track]
        model.add(sum(c.amount * chosen[c.id] for c in members) <= envelope.budget)
        model.add(sum(chosen[c.id] for c in members) <= envelope.max_count)
    if cap_per_group is not None:
        for members in _by_group(candidates).values():
            model.add(sum(chosen[c.id] for c in members) <= cap_per_group)
    model.maximize(sum(_int_score(c) * chosen[c.id] for c in candidates))

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        name = "infeasible" if status == cp_model.INFEASIBLE else "unknown"
        return SelectionResult([], name, False, 0.0, _totals([], envelopes),
                               explanation=f"solver status {solver.status_name(status)}")
    picked = [c for c in candidates if solver.boolean_value(chosen[c.id])]
    optimal = status == cp_model.OPTIMAL
    return _result(picked, envelopes, "optimal" if optimal else "feasible", optimal)


def greedy(
    *,
    candidates: list[Candidate],
    envelopes: dict[Track, Envelope],
    cap_per_group: int | None = None,
    forced_in: Iterable[CandidateId] = frozenset(),
    forced_out: Iterable[CandidateId] = frozenset(),
) -> SelectionResult:
    """Plain rank order, for comparison: forced-in first, then by descending score while fits."""
    forced_in, forced_out = set(forced_in), set(forced_out)
    _check_input(candidates, envelopes, forced_in | forced_out)
    problem = _infeasibility(candidates, envelopes, cap_per_group, forced_in, forced_out)
    if problem:
        return SelectionResult([], "infeasible", False, 0.0,
                               _totals([], envelopes), explanation=problem)
    totals = _totals([], envelopes)
    per_group: dict[str, int] = defaultdict(int)
    picked: list[Candidate] = []
    forced = [c for c in candidates if c.id in forced_in]
    others = sorted((c for c in candidates if c.id not in forced_in | forced_out),
                    key=lambda c: -c.score)
    for c in forced + others:
        total, envelope = totals[c.track], envelopes[c.track]
        fits = (total.amount + c.amount <= envelope.budget
                and total.count < envelope.max_count
                and (cap_per_group is None or c.group is None
                     or per_group[c.group] < cap_per_group))
        if fits or c.id in forced_in:
            picked.append(c)
            total.amount += c.amount
            total.count += 1
            if c.group is not None:
                per_group[c.group] += 1
    return _result(picked, envelopes, "greedy", False)


def waiting_list(
    *,
    candidates: list[Candidate],
    selected: Iterable[CandidateId],
    forced_out: Iterable[CandidateId] = frozenset(),
) -> dict[Track, list[CandidateId]]:
    """Non-selected (and not excluded) candidates of each track, best score first."""
    excluded = set(selected) | set(forced_out)
    lists: dict[Track, list[Candidate]] = defaultdict(list)
    for c in candidates:
        if c.id not in excluded:
            lists[c.track].append(c)
    return {track: [c.id for c in sorted(cs, key=lambda c: -c.score)]
            for track, cs in lists.items()}


def format_euros(amount: int) -> str:
    """French-style amount, e.g. ``612 000 €`` (spaces as thousands separators)."""
    return f"{amount:,}".replace(",", " ") + " €"


def _int_score(candidate: Candidate) -> int:
    return round(candidate.score * SCORE_FACTOR)


def _check_input(
    candidates: list[Candidate], envelopes: dict[Track, Envelope], forced: set
) -> None:
    """Unknown ids or tracks are data errors, not infeasibilities: fail loudly."""
    ids = [c.id for c in candidates]
    if len(set(ids)) != len(ids):
        raise ValueError("candidate ids must be unique")
    unknown_tracks = {c.track for c in candidates} - set(envelopes)
    if unknown_tracks:
        raise ValueError(f"no envelope for track(s) {sorted(map(str, unknown_tracks))}")
    unknown = forced - set(ids)
    if unknown:
        raise ValueError(f"forced ids not among candidates: {sorted(map(str, unknown))}")


def _infeasibility(
    candidates: list[Candidate],
    envelopes: dict[Track, Envelope],
    cap_per_group: int | None,
    forced_in: set,
    forced_out: set,
) -> str:
    """Name the binding constraint if the forced decisions cannot all hold, else ''.

    Since selecting nothing beyond the forced-in set is always allowed, the problem is
    infeasible exactly when that set breaks a constraint, so these checks are complete.
    """
    both = forced_in & forced_out
    if both:
        return f"proposals both forced in and forced out: {', '.join(sorted(map(str, both)))}"
    forced = [c for c in candidates if c.id in forced_in]
    reasons = []
    for track, total in _totals(forced, envelopes).items():
        envelope = envelopes[track]
        if total.amount > envelope.budget:
            reasons.append(
                f"forced-in proposals alone exceed the envelope of track {track}: "
                f"{format_euros(total.amount)} > {format_euros(envelope.budget)}"
            )
        if total.count > envelope.max_count:
            reasons.append(
                f"more proposals forced in for track {track} ({total.count}) than its maximum "
                f"number of laureates ({envelope.max_count})"
            )
    if cap_per_group is not None:
        for group, members in sorted(_by_group(forced).items()):
            if len(members) > cap_per_group:
                reasons.append(
                    f"{len(members)} proposals of group {group} are forced in but at most "
                    f"{cap_per_group} per group may be selected"
                )
    return "; ".join(reasons)


def _by_group(candidates: list[Candidate]) -> dict[str, list[Candidate]]:
    groups: dict[str, list[Candidate]] = defaultdict(list)
    for c in candidates:
        if c.group is not None:
            groups[c.group].append(c)
    return groups


def _totals(picked: list[Candidate], envelopes: dict[Track, Envelope]) -> dict:
    totals = {track: TrackTotal() for track in envelopes}
    for c in picked:
        totals[c.track].amount += c.amount
        totals[c.track].count += 1
    return totals


def _result(
    picked: list[Candidate], envelopes: dict[Track, Envelope], status: str, optimal: bool
) -> SelectionResult:
    return SelectionResult(
        selected=[c.id for c in picked],
        status=status,
        optimal=optimal,
        total_score=sum(c.score for c in picked),
        per_track=_totals(picked, envelopes),
    )
