"""Assignment by min-cost flow: hand-made cases and a brute-force property test."""

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jury.algorithms.assignment import assign


def _reviewers_of(result):
    per_item = {}
    for item, reviewer in result.pairs:
        per_item.setdefault(item, []).append(reviewer)
    return per_item


def test_every_item_covered_with_distinct_reviewers_and_even_loads():
    result = assign(items=list(range(6)), reviewers=["a", "b", "c", "d"], k=2, conflicts=set())
    assert result.coverage == 1.0
    assert result.uncovered == {}
    assert result.loads == {"a": 3, "b": 3, "c": 3, "d": 3}
    assert result.imbalance == 0
    assert all(len(set(revs)) == 2 for revs in _reviewers_of(result).values())


def test_loads_differ_by_at_most_one():
    result = assign(items=list(range(10)), reviewers=["a", "b", "c"], k=1, conflicts=set())
    assert sorted(result.loads.values()) == [3, 3, 4]
    assert result.imbalance == 1


def test_per_reviewer_maximum_respected_and_rest_balanced():
    result = assign(items=list(range(9)), reviewers=["a", "b", "c"], k=1,
                    max_load={"a": 1}, conflicts=set())
    assert result.loads["a"] == 1
    assert sorted([result.loads["b"], result.loads["c"]]) == [4, 4]
    assert result.coverage == 1.0


def test_single_integer_maximum_applies_to_everybody():
    result = assign(items=list(range(4)), reviewers=["a", "b"], k=1, max_load=1, conflicts=set())
    assert result.loads == {"a": 1, "b": 1}
    assert result.coverage == 0.5
    assert all(reason.startswith("capacity_exhausted") for reason in result.uncovered.values())


def test_conflicted_reviewer_never_assigned():
    conflicts = {(item, "a") for item in range(5)}
    result = assign(items=list(range(5)), reviewers=["a", "b", "c"], k=2, conflicts=conflicts)
    assert all(reviewer != "a" for _, reviewer in result.pairs)
    assert result.coverage == 1.0
    assert result.loads["a"] == 0


def test_fixed_pairs_kept_and_counted():
    fixed = {(0, "a"), (1, "a"), (2, "a")}
    result = assign(items=list(range(6)), reviewers=["a", "b", "c"], k=1, conflicts=set(),
                    fixed=fixed)
    assert fixed <= set(result.pairs)
    assert Counter(item for item, _ in result.pairs) == {i: 1 for i in range(6)}
    assert result.loads["a"] == 3  # already started reviews are neither removed nor added to
    assert sorted([result.loads["b"], result.loads["c"]]) == [1, 2]
    assert result.imbalance == 2


def test_fixed_pairs_count_towards_balance():
    result = assign(items=list(range(4)), reviewers=["a", "b"], k=1, conflicts=set(),
                    fixed={(0, "a"), (1, "a")})
    assert result.loads == {"a": 2, "b": 2}


def test_fixed_pair_that_is_also_a_conflict_is_refused():
    with pytest.raises(ValueError, match="conflict"):
        assign(items=[1], reviewers=["a"], k=1, conflicts={(1, "a")}, fixed={(1, "a")})


def test_duplicate_reviewers_refused():
    with pytest.raises(ValueError, match="duplicates"):
        assign(items=[1], reviewers=["a", "a"], k=1, conflicts=set())


def test_expertise_preferred():
    result = assign(
        items=["vision", "speech"], reviewers=["v", "s"], k=1, conflicts=set(),
        expertise_item={"vision": {"cv"}, "speech": {"nlp", "audio"}},
        expertise_reviewer={"v": {"cv"}, "s": {"audio"}},
    )
    assert sorted(result.pairs) == [("speech", "s"), ("vision", "v")]


def test_balance_has_priority_over_expertise():
    result = assign(
        items=["x", "y"], reviewers=["expert", "other"], k=1, conflicts=set(),
        expertise_item={"x": {"cv"}, "y": {"cv"}},
        expertise_reviewer={"expert": {"cv"}},
    )
    assert result.loads == {"expert": 1, "other": 1}


def test_impossible_item_reported_with_reason():
    conflicts = {("hard", "a"), ("hard", "b")}
    result = assign(items=["easy", "hard"], reviewers=["a", "b", "c"], k=2, conflicts=conflicts)
    assert set(result.uncovered) == {"hard"}
    reason = result.uncovered["hard"]
    assert reason.startswith("not_enough_reviewers")
    assert "only 1 non-conflicted reviewer available for k=2" in reason
    assert ("hard", "c") in result.pairs
    assert result.coverage == pytest.approx(3 / 4)


def test_binome_is_one_reviewer_unit():
    pair = ("alice", "bob")
    result = assign(items=[1, 2], reviewers=[pair, "carol"], k=1, conflicts={(1, pair)})
    assert sorted(result.pairs, key=str) == [(1, "carol"), (2, pair)]


def test_same_seed_same_assignment():
    kwargs = dict(items=list(range(30)), reviewers=list(range(7)), k=3, conflicts={(0, 1)})
    assert assign(**kwargs, seed=3).pairs == assign(**kwargs, seed=3).pairs


def test_empty_instances():
    assert assign(items=[], reviewers=["a"], k=2, conflicts=set()).coverage == 1.0
    result = assign(items=[1], reviewers=[], k=2, conflicts=set())
    assert result.coverage == 0.0
    assert "only 0 non-conflicted reviewers" in result.uncovered[1]


# ----------------------------------------------------------------------- property test


def _reachable_loads(n_rev, need, open_sets, fixed_load, extra_cap):
    """All reviewer load vectors an assignment can produce (dynamic programming over items)."""
    from itertools import combinations

    states = {tuple(fixed_load)}
    for item, reviewers in enumerate(open_sets):
        subsets = [c for size in range(need[item] + 1) for c in combinations(reviewers, size)]
        new_states = set()
        for state in states:
            for subset in subsets:
                loads = list(state)
                for r in subset:
                    loads[r] += 1
                if all(loads[r] - fixed_load[r] <= extra_cap[r] for r in range(n_rev)):
                    new_states.add(tuple(loads))
        states = new_states
    return states


@st.composite
def instances(draw):
    n_items = draw(st.integers(1, 4))
    n_rev = draw(st.integers(1, 4))
    k = draw(st.integers(1, 3))
    conflict = [[draw(st.booleans()) and draw(st.booleans()) for _ in range(n_rev)]
                for _ in range(n_items)]
    fixed = {(i, r) for i in range(n_items) for r in range(n_rev)
             if not conflict[i][r] and draw(st.integers(0, 5)) == 0}
    maxima = {r: draw(st.integers(0, 4)) for r in range(n_rev) if draw(st.booleans())}
    return n_items, n_rev, k, conflict, fixed, maxima


@settings(max_examples=150, deadline=None)
@given(instances(), st.integers(0, 3))
def test_property_matches_brute_force(instance, seed):
    n_items, n_rev, k, conflict, fixed, maxima = instance
    conflicts = {(i, r) for i in range(n_items) for r in range(n_rev) if conflict[i][r]}
    result = assign(items=list(range(n_items)), reviewers=list(range(n_rev)), k=k,
                    max_load=maxima, conflicts=conflicts, fixed=fixed, seed=seed)

    assert not conflicts & set(result.pairs)
    assert fixed <= set(result.pairs)
    assert len(set(result.pairs)) == len(result.pairs)  # no reviewer twice on an item
    fixed_load = [sum(1 for _, r in fixed if r == rev) for rev in range(n_rev)]
    for rev, load in result.loads.items():
        if rev in maxima:
            assert load <= max(maxima[rev], fixed_load[rev])

    fixed_per_item = [sum(1 for i, _ in fixed if i == item) for item in range(n_items)]
    need = [max(k - f, 0) for f in fixed_per_item]
    open_sets = [[r for r in range(n_rev) if not conflict[i][r] and (i, r) not in fixed]
                 for i in range(n_items)]
    extra_cap = [max(maxima.get(r, 99) - fixed_load[r], 0) for r in range(n_rev)]
    states = _reachable_loads(n_rev, need, open_sets, fixed_load, extra_cap)
    best_total = max(sum(s) for s in states)
    best_spread = min(max(s) - min(s) for s in states if sum(s) == best_total)

    assert sum(result.loads.values()) == best_total  # coverage is maximal
    assert result.imbalance == best_spread  # and the loads as even as possible
    if best_total == sum(fixed_load) + sum(need):
        assert result.coverage == 1.0 or any(f > k for f in fixed_per_item)
        assert result.uncovered == {}
