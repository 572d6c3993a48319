"""Selection of laureates within budget envelopes (integer programming with OR-Tools CP-SAT).

Plain-language summary for the jury: among all the sets of proposals that fit in each track's
budget and maximum number of laureates (and, if set, the maximum per administration or per
ministry), the one with the highest total score is chosen; proposals forced in or out by the
committee are honoured.

Method: one 0/1 variable per candidate; maximise the sum of scores, scaled by 100 and rounded to
integers (so scores count to two decimals), subject per track to sum of amounts <= budget and
count <= max_count, optionally count per group <= cap (groups are counted across all tracks; a
candidate may belong to one group per kind, e.g. its administration and its ministry, each kind
with its own cap),
with forced-in variables fixed to 1 and forced-out ones to 0. CP-SAT proves optimality. Among
equally good sets the solver's choice is arbitrary; with the default single worker it is
reproducible.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

Track = Hashable
CandidateId = Hashable
SCORE_FACTOR = 100  # scores are multiplied by this and rounded for the integer solver


@dataclass(frozen=True)
class Candidate:
    """A proposal competing for selection; ``amount`` is the requested funding in euros.

    ``group`` is counted against ``cap_per_group``; ``groups`` holds (kind, group) pairs, such as
    ``("ministry", "Santé")``, counted against ``group_caps[kind]``.
    """

    id: CandidateId
    track: Track
    score: float
    amount: int
    group: str | None = None
    groups: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Envelope:
    """Budget (euros) and maximum number of laureates of one track."""

    budget: int
    max_count: int


@dataclass(frozen=True)
class Binding:
    """A constraint that the forced decisions break, for explanations in the caller's language.

    ``kind`` is 'forced_both' (``ids`` forced in and out), 'budget' or 'count' (``track``,
    ``total`` > ``limit``) or 'group_cap' (``group_kind``, ``group``, ``total`` > ``limit``).
    """

    kind: str
    track: Track | None = None
    group_kind: str | None = None
    group: str | None = None
    total: int = 0
    limit: int = 0
    ids: tuple = ()


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
    bindings: list[Binding] = field(default_factory=list)


def select(
    *,
    candidates: list[Candidate],
    envelopes: dict[Track, Envelope],
    cap_per_group: int | None = None,
    group_caps: Mapping[str, int] | None = None,
    forced_in: Iterable[CandidateId] = frozenset(),
    forced_out: Iterable[CandidateId] = frozenset(),
    time_limit: float = 30.0,
    workers: int = 1,
) -> SelectionResult:
    """Maximise the total score under the envelopes, group caps and forced decisions."""
    forced_in, forced_out = set(forced_in), set(forced_out)
    _check_input(candidates, envelopes, forced_in | forced_out)
    caps = _group_limits(candidates, cap_per_group, group_caps)
    infeasible = _infeasible_result(candidates, envelopes, caps, forced_in, forced_out)
    if infeasible:
        return infeasible

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
    for _kind, _group, cap, members in caps:
        model.add(sum(chosen[c.id] for c in members) <= cap)
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
    group_caps: Mapping[str, int] | None = None,
    forced_in: Iterable[CandidateId] = frozenset(),
    forced_out: Iterable[CandidateId] = frozenset(),
) -> SelectionResult:
    """Plain rank order, for comparison: forced-in first, then by descending score while fits."""
    forced_in, forced_out = set(forced_in), set(forced_out)
    _check_input(candidates, envelopes, forced_in | forced_out)
    caps = _group_limits(candidates, cap_per_group, group_caps)
    infeasible = _infeasible_result(candidates, envelopes, caps, forced_in, forced_out)
    if infeasible:
        return infeasible
    totals = _totals([], envelopes)
    limits = {}  # candidate id -> the (kind, group) counters it adds to
    for kind, group, _cap, members in caps:
        for c in members:
            limits.setdefault(c.id, []).append((kind, group))
    cap_of = {(kind, group): cap for kind, group, cap, _members in caps}
    used: dict[tuple, int] = defaultdict(int)
    picked: list[Candidate] = []
    forced = [c for c in candidates if c.id in forced_in]
    others = sorted((c for c in candidates if c.id not in forced_in | forced_out),
                    key=lambda c: -c.score)
    for c in forced + others:
        total, envelope = totals[c.track], envelopes[c.track]
        fits = (total.amount + c.amount <= envelope.budget
                and total.count < envelope.max_count
                and all(used[key] < cap_of[key] for key in limits.get(c.id, ())))
        if fits or c.id in forced_in:
            picked.append(c)
            total.amount += c.amount
            total.count += 1
            for key in limits.get(c.id, ()):
                used[key] += 1
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


def _infeasible_result(candidates, envelopes, caps, forced_in, forced_out) -> SelectionResult | None:
    bindings = _infeasibility(candidates, envelopes, caps, forced_in, forced_out)
    if not bindings:
        return None
    return SelectionResult([], "infeasible", False, 0.0, _totals([], envelopes),
                           explanation="; ".join(_describe(b) for b in bindings), bindings=bindings)


def _infeasibility(
    candidates: list[Candidate],
    envelopes: dict[Track, Envelope],
    caps: list,
    forced_in: set,
    forced_out: set,
) -> list[Binding]:
    """The binding constraints if the forced decisions cannot all hold, else [].

    Since selecting nothing beyond the forced-in set is always allowed, the problem is
    infeasible exactly when that set breaks a constraint, so these checks are complete.
    """
    both = forced_in & forced_out
    if both:
        return [Binding("forced_both", ids=tuple(sorted(both, key=str)))]
    forced = [c for c in candidates if c.id in forced_in]
    bindings = []
    for track, total in _totals(forced, envelopes).items():
        envelope = envelopes[track]
        if total.amount > envelope.budget:
            bindings.append(Binding("budget", track=track, total=total.amount, limit=envelope.budget))
        if total.count > envelope.max_count:
            bindings.append(Binding("count", track=track, total=total.count, limit=envelope.max_count))
    for kind, group, cap, members in caps:
        count = sum(1 for c in members if c.id in forced_in)
        if count > cap:
            bindings.append(Binding("group_cap", group_kind=kind, group=group, total=count, limit=cap))
    return bindings


def _describe(binding: Binding) -> str:
    if binding.kind == "forced_both":
        return f"proposals both forced in and forced out: {', '.join(map(str, binding.ids))}"
    if binding.kind == "budget":
        return (f"forced-in proposals alone exceed the envelope of track {binding.track}: "
                f"{format_euros(binding.total)} > {format_euros(binding.limit)}")
    if binding.kind == "count":
        return (f"more proposals forced in for track {binding.track} ({binding.total}) than its maximum "
                f"number of laureates ({binding.limit})")
    kind = "group" if binding.group_kind == "group" else binding.group_kind
    return (f"{binding.total} proposals of {kind} {binding.group} are forced in but at most "
            f"{binding.limit} per {kind} may be selected")


def _group_limits(
    candidates: list[Candidate], cap_per_group: int | None, group_caps: Mapping[str, int] | None
) -> list[tuple[str, str, int, list[Candidate]]]:
    """(kind, group, cap, members) for every capped group, in a stable order."""
    limits = []
    if cap_per_group is not None:
        for group, members in sorted(_by_group(candidates).items()):
            limits.append(("group", group, cap_per_group, members))
    for kind, cap in sorted((group_caps or {}).items()):
        if cap is None:
            continue
        groups: dict[str, list[Candidate]] = defaultdict(list)
        for c in candidates:
            group = dict(c.groups).get(kind)
            if group is not None:
                groups[group].append(c)
        limits.extend((kind, group, cap, members) for group, members in sorted(groups.items()))
    return limits


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
