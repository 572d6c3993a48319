"""Assignment of proposals to reviewers by minimum-cost flow.

Plain-language summary for the jury: every proposal receives the requested number of distinct
reviewers with no conflict of interest, reviewer workloads are kept as even as the conflicts and
individual maxima allow, and among the most even solutions those matching reviewers' expertise
are preferred; ties are broken at random (seeded) so that the reviewer panels overlap, which is
what later allows a harsh or lenient reviewer to be detected.

Method. A flow network source -> item -> reviewer -> sink is solved with OR-Tools
``SimpleMinCostFlow.solve_max_flow_with_min_cost``:

* source -> item carries the number of reviewers the item still needs (``k`` minus the reviews
  already started, passed as ``fixed``);
* item -> reviewer has capacity 1 (hence distinct reviewers per item) and exists only for
  non-conflicted pairs; its cost rewards shared expertise tags, plus a small random tie-break;
* reviewer -> sink is split into one arc per extra unit of load, the arc for the u-th review of a
  reviewer costing ``W * u``: the costs are convex, so the flow minimises the sum of squared
  loads, whose minimisers are also the most even load vectors (for flow-feasible load sets the
  square-sum minimum is "decreasingly minimal" and minimises max - min).

Priorities are strict (lexicographic), obtained by cost tiers: first the number of filled slots
(maximum flow), then load balance, then expertise, then the random tie-break.

Pairs of reviewers (binomes) who review together are passed by the caller as one reviewer unit
(one id); nothing specific is needed here: their load, maximum and conflicts are those of the pair.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
from ortools.graph.python import min_cost_flow

Item = Hashable
Reviewer = Hashable

# OR-Tools' cost-scaling algorithm multiplies costs by (number of nodes + 1): stay well inside
# int64 so that the solver never reports BAD_COST_RANGE.
_COST_LIMIT = 2**60
_JITTER_LEVELS = 8


@dataclass
class AssignmentResult:
    """Outcome of :func:`assign`.

    ``pairs`` includes the ``fixed`` pairs. ``uncovered`` maps each item that did not get its
    ``k`` reviewers to a reason ("<code>: <explanation>"). ``imbalance`` is max load - min load
    over all reviewers; ``coverage`` is the fraction of the ``len(items) * k`` slots filled.
    """

    pairs: list[tuple[Item, Reviewer]]
    loads: dict[Reviewer, int]
    uncovered: dict[Item, str] = field(default_factory=dict)
    imbalance: int = 0
    coverage: float = 1.0


@dataclass(frozen=True)
class _Tiers:
    """Integer cost weights making the objectives strictly lexicographic."""

    balance: int  # W: the u-th unit of load of a reviewer costs W * u
    expertise: int  # cost of one missing shared tag on an item -> reviewer arc
    jitter_levels: int  # random tie-break drawn in [0, jitter_levels)


def assign(
    *,
    items: list[Item],
    reviewers: list[Reviewer],
    k: int,
    max_load: Mapping[Reviewer, int] | int | None = None,
    conflicts: Iterable[tuple[Item, Reviewer]] = frozenset(),
    expertise_item: Mapping[Item, set[str]] | None = None,
    expertise_reviewer: Mapping[Reviewer, set[str]] | None = None,
    fixed: Iterable[tuple[Item, Reviewer]] | None = None,
    seed: int | None = 0,
) -> AssignmentResult:
    """Give each item ``k`` distinct non-conflicted reviewers with balanced loads.

    ``max_load`` is a per-reviewer maximum (a mapping; reviewers absent from it are unlimited) or
    one maximum for everybody. ``fixed`` pairs (reviews already started) are always kept and count
    towards ``k`` and towards the loads, even beyond a maximum. ``seed`` drives the tie-break
    (``None`` disables it, giving the solver's deterministic choice).
    """
    _check_unique(items, "items")
    _check_unique(reviewers, "reviewers")
    if k < 0:
        raise ValueError("k must be non-negative")
    item_index = {item: i for i, item in enumerate(items)}
    reviewer_index = {rev: r for r, rev in enumerate(reviewers)}
    n_items, n_rev = len(items), len(reviewers)

    eligible = np.ones((n_items, n_rev), dtype=bool)
    for item, rev in conflicts:
        if item in item_index and rev in reviewer_index:
            eligible[item_index[item], reviewer_index[rev]] = False
    fixed_pairs = _validated_fixed(fixed or (), item_index, reviewer_index, eligible)
    fixed_mask = np.zeros_like(eligible)
    for i, r in fixed_pairs:
        fixed_mask[i, r] = True

    fixed_per_item = fixed_mask.sum(axis=1)
    fixed_load = fixed_mask.sum(axis=0)
    need = np.maximum(k - fixed_per_item, 0)
    capacity = _remaining_capacity(max_load, reviewers, fixed_load, int(need.sum()))
    open_arcs = eligible & ~fixed_mask
    shared = _shared_tags(items, reviewers, expertise_item, expertise_reviewer)

    new_pairs = _solve_flow(need, open_arcs, shared, fixed_load, capacity, seed)

    assigned = fixed_mask.copy()
    for i, r in new_pairs:
        assigned[i, r] = True
    return _build_result(
        items=items, reviewers=reviewers, k=k, assigned=assigned, eligible=eligible,
        fixed_pairs=fixed_pairs, new_pairs=new_pairs,
    )


def _check_unique(values: list, name: str) -> None:
    """Duplicated ids would silently merge two nodes of the network."""
    if len(set(values)) != len(values):
        raise ValueError(f"{name} contain duplicates")


def _validated_fixed(
    fixed: Iterable[tuple[Item, Reviewer]],
    item_index: dict,
    reviewer_index: dict,
    eligible: np.ndarray,
) -> list[tuple[int, int]]:
    """Fixed pairs must refer to known ids and must not be conflicted (the caller decides)."""
    result = []
    for item, rev in dict.fromkeys(fixed):
        if item not in item_index or rev not in reviewer_index:
            raise ValueError(f"fixed pair {(item, rev)!r} refers to an unknown item or reviewer")
        i, r = item_index[item], reviewer_index[rev]
        if not eligible[i, r]:
            raise ValueError(
                f"fixed pair {(item, rev)!r} is also declared as a conflict: withdraw the review "
                "or the conflict before re-assigning"
            )
        result.append((i, r))
    return result


def _remaining_capacity(
    max_load: Mapping[Reviewer, int] | int | None,
    reviewers: list[Reviewer],
    fixed_load: np.ndarray,
    total_need: int,
) -> np.ndarray:
    """Extra reviews each reviewer may take; "unlimited" is capped by the total demand."""
    unlimited = total_need + int(fixed_load.max(initial=0))
    if max_load is None:
        maxima = np.full(len(reviewers), unlimited, dtype=np.int64)
    elif isinstance(max_load, Integral):
        maxima = np.full(len(reviewers), max_load, dtype=np.int64)
    else:
        maxima = np.array([max_load.get(rev, unlimited) for rev in reviewers], dtype=np.int64)
    return np.clip(maxima - fixed_load, 0, total_need)


def _shared_tags(
    items: list[Item],
    reviewers: list[Reviewer],
    expertise_item: Mapping[Item, set[str]] | None,
    expertise_reviewer: Mapping[Reviewer, set[str]] | None,
) -> np.ndarray:
    """Number of expertise tags shared by each (item, reviewer), as a dense matrix."""
    if not expertise_item or not expertise_reviewer:
        return np.zeros((len(items), len(reviewers)), dtype=np.int64)
    tags = sorted(
        set().union(*expertise_item.values(), *expertise_reviewer.values()), key=str
    )
    tag_index = {tag: t for t, tag in enumerate(tags)}
    item_tags = _incidence(items, expertise_item, tag_index)
    reviewer_tags = _incidence(reviewers, expertise_reviewer, tag_index)
    return item_tags @ reviewer_tags.T


def _incidence(keys: list, tags_of: Mapping, tag_index: dict) -> np.ndarray:
    matrix = np.zeros((len(keys), len(tag_index)), dtype=np.int64)
    for row, key in enumerate(keys):
        for tag in tags_of.get(key, ()):
            matrix[row, tag_index[tag]] = 1
    return matrix


def _choose_tiers(n_slots: int, max_bonus: int, max_units: int, n_nodes: int) -> _Tiers:
    """Smallest weights such that each objective strictly dominates the next ones.

    Item-arc costs are ``expertise * (max_bonus - shared) + jitter``; over all the flow they sum
    to less than ``n_slots * item_range``, so a balance weight above that makes any gain in the
    sum of squared loads worth more than any expertise or tie-break change. If the weights would
    overflow, the tie-break and then the expertise tier are dropped (balance always wins).
    """
    for jitter_levels, use_expertise in ((_JITTER_LEVELS, True), (1, True), (1, False)):
        expertise = n_slots * (jitter_levels - 1) + 1
        bonus = max_bonus if use_expertise else 0
        item_range = expertise * bonus + jitter_levels
        balance = n_slots * item_range + 1
        if balance * (max_units + 1) * (n_nodes + 1) < _COST_LIMIT:
            return _Tiers(balance, expertise if use_expertise else 0, jitter_levels)
    raise ValueError("instance too large for integer costs")


def _solve_flow(
    need: np.ndarray,
    open_arcs: np.ndarray,
    shared: np.ndarray,
    fixed_load: np.ndarray,
    capacity: np.ndarray,
    seed: int | None,
) -> list[tuple[int, int]]:
    """Solve the network; return the new (item index, reviewer index) pairs.

    One arc per unit of load would mean millions of arcs for "unlimited" reviewers, so units are
    first offered only a little above the even share; if some reviewer uses all the units
    offered (while allowed more), the offer is widened and the network solved again. When no
    such artificial limit is reached, the solution is optimal for the full network (the problem
    is convex and the extra arcs could only be used by an improving cycle through a cheaper,
    still unsaturated arc).
    """
    n_rev = open_arcs.shape[1]
    n_slots = int(need.sum())
    if n_slots == 0 or n_rev == 0:
        return []
    allowed = np.minimum(capacity, open_arcs.sum(axis=0))
    even_share = -(-(n_slots + int(fixed_load.sum())) // n_rev)
    slack = 2
    while True:
        offered = np.minimum(allowed, np.maximum(even_share - fixed_load, 0) + slack)
        pairs, loads = _solve_once(need, open_arcs, shared, fixed_load, offered, seed)
        saturated = (loads >= offered) & (offered < allowed)
        if not saturated.any():
            return pairs
        slack *= 4


def _solve_once(
    need: np.ndarray,
    open_arcs: np.ndarray,
    shared: np.ndarray,
    fixed_load: np.ndarray,
    units: np.ndarray,
    seed: int | None,
) -> tuple[list[tuple[int, int]], np.ndarray]:
    """One min-cost max-flow; returns the new pairs and the new load of each reviewer."""
    n_items, n_rev = open_arcs.shape
    n_slots = int(need.sum())
    source, sink = n_items + n_rev, n_items + n_rev + 1
    max_units = int((fixed_load + units).max(initial=0))
    max_bonus = int(shared.max(initial=0))
    tiers = _choose_tiers(n_slots, max_bonus, max_units, n_items + n_rev + 2)

    arc_i, arc_r = np.nonzero(open_arcs)
    item_cost = tiers.expertise * (max_bonus - shared[arc_i, arc_r])
    if tiers.jitter_levels > 1 and seed is not None:
        rng = np.random.default_rng(seed)
        item_cost = item_cost + rng.integers(0, tiers.jitter_levels, size=arc_i.size)
    unit_rev, unit_cost = _load_units(fixed_load, units, tiers.balance)

    tails = np.concatenate([np.full(n_items, source), arc_i, n_items + unit_rev])
    heads = np.concatenate([np.arange(n_items), n_items + arc_r, np.full(unit_rev.size, sink)])
    caps = np.concatenate([need, np.ones(arc_i.size + unit_rev.size, np.int64)])
    costs = np.concatenate([np.zeros(n_items, np.int64), item_cost, unit_cost])

    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32),
        caps.astype(np.int64), costs.astype(np.int64),
    )
    flow.set_node_supply(source, n_slots)
    flow.set_node_supply(sink, -n_slots)
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    arc_flow = flow.flows(np.arange(n_items, n_items + arc_i.size, dtype=np.int32))
    used = arc_flow > 0
    loads = np.bincount(arc_r[used], minlength=n_rev)
    return list(zip(arc_i[used].tolist(), arc_r[used].tolist(), strict=True)), loads


def _load_units(
    fixed_load: np.ndarray, capacity: np.ndarray, weight: int
) -> tuple[np.ndarray, np.ndarray]:
    """One reviewer -> sink arc per extra unit of load, the u-th unit costing ``weight * u``.

    Built with numpy (no loop per unit) because there can be tens of thousands of units.
    """
    unit_rev = np.repeat(np.arange(capacity.size), capacity)
    starts = np.cumsum(capacity) - capacity
    rank_in_reviewer = np.arange(unit_rev.size) - np.repeat(starts, capacity)
    unit_number = fixed_load[unit_rev] + rank_in_reviewer + 1
    return unit_rev, weight * unit_number.astype(np.int64)


def _build_result(
    *,
    items: list[Item],
    reviewers: list[Reviewer],
    k: int,
    assigned: np.ndarray,
    eligible: np.ndarray,
    fixed_pairs: list[tuple[int, int]],
    new_pairs: list[tuple[int, int]],
) -> AssignmentResult:
    per_item = assigned.sum(axis=1)
    loads_arr = assigned.sum(axis=0)
    pairs = [(items[i], reviewers[r]) for i, r in sorted(fixed_pairs + new_pairs)]
    uncovered = {
        items[i]: _uncovered_reason(int(per_item[i]), int(eligible[i].sum()), k)
        for i in np.nonzero(per_item < k)[0]
    }
    slots = len(items) * k
    filled = int(np.minimum(per_item, k).sum())
    return AssignmentResult(
        pairs=pairs,
        loads={rev: int(loads_arr[r]) for r, rev in enumerate(reviewers)},
        uncovered=uncovered,
        imbalance=int(loads_arr.max() - loads_arr.min()) if len(reviewers) else 0,
        coverage=filled / slots if slots else 1.0,
    )


def _uncovered_reason(got: int, n_eligible: int, k: int) -> str:
    """A stable code before the colon (for programs), an explanation after it (for people)."""
    if n_eligible < k:
        plural = "" if n_eligible == 1 else "s"
        return (
            f"not_enough_reviewers: only {n_eligible} non-conflicted reviewer{plural} "
            f"available for k={k} ({got} assigned)"
        )
    return (
        f"capacity_exhausted: reviewer capacity exhausted, {got} of {k} reviewers assigned "
        "and every other non-conflicted reviewer is at their maximum load"
    )
