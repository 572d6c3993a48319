"""Selection under envelopes: brute force, greedy comparison, explanations, forced decisions."""

from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jury.algorithms.selection import (
    Candidate,
    Envelope,
    format_euros,
    greedy,
    select,
    waiting_list,
)


def _feasible(subset, envelopes, cap, forced_in, forced_out):
    ids = {c.id for c in subset}
    if not forced_in <= ids or ids & forced_out:
        return False
    for track, envelope in envelopes.items():
        members = [c for c in subset if c.track == track]
        if sum(c.amount for c in members) > envelope.budget or len(members) > envelope.max_count:
            return False
    if cap is not None:
        groups = [c.group for c in subset if c.group is not None]
        if any(groups.count(g) > cap for g in set(groups)):
            return False
    return True


def _brute_force(candidates, envelopes, cap, forced_in, forced_out):
    best = None
    for size in range(len(candidates) + 1):
        for subset in combinations(candidates, size):
            if _feasible(subset, envelopes, cap, forced_in, forced_out):
                value = sum(round(c.score * 100) for c in subset)
                best = value if best is None else max(best, value)
    return best


@st.composite
def selection_instances(draw):
    n = draw(st.integers(0, 12))
    tracks = ["A", "B"][: draw(st.integers(1, 2))]
    candidates = [
        Candidate(
            id=i,
            track=draw(st.sampled_from(tracks)),
            score=draw(st.integers(0, 10_000)) / 100,
            amount=draw(st.integers(1, 20)) * 10_000,
            group=draw(st.sampled_from([None, "g1", "g2", "g3"])),
        )
        for i in range(n)
    ]
    envelopes = {t: Envelope(budget=draw(st.integers(0, 120)) * 10_000,
                             max_count=draw(st.integers(0, 6))) for t in tracks}
    cap = draw(st.one_of(st.none(), st.integers(0, 3)))
    forced_in = {i for i in range(n) if draw(st.integers(0, 7)) == 0}
    forced_out = {i for i in range(n) if i not in forced_in and draw(st.integers(0, 7)) == 0}
    return candidates, envelopes, cap, forced_in, forced_out


@settings(max_examples=150, deadline=None)
@given(selection_instances())
def test_optimal_equals_brute_force_and_beats_greedy(instance):
    candidates, envelopes, cap, forced_in, forced_out = instance
    kwargs = dict(candidates=candidates, envelopes=envelopes, cap_per_group=cap,
                  forced_in=forced_in, forced_out=forced_out)
    result = select(**kwargs)
    expected = _brute_force(candidates, envelopes, cap, forced_in, forced_out)
    if expected is None:
        assert result.status == "infeasible" and result.explanation
        return
    assert result.status == "optimal" and result.optimal
    chosen = [c for c in candidates if c.id in set(result.selected)]
    assert _feasible(chosen, envelopes, cap, forced_in, forced_out)
    assert sum(round(c.score * 100) for c in chosen) == expected
    baseline = greedy(**kwargs)
    baseline_chosen = [c for c in candidates if c.id in set(baseline.selected)]
    assert _feasible(baseline_chosen, envelopes, cap, forced_in, forced_out)
    assert result.total_score >= baseline.total_score - 1e-9


def _cands():
    return [
        Candidate("p1", "X", 90.0, 312_000, "MinA"),
        Candidate("p2", "X", 80.0, 300_000, "MinA"),
        Candidate("p3", "X", 70.0, 150_000, "MinB"),
        Candidate("p4", "X", 60.0, 150_000, "MinB"),
        Candidate("q1", "Y", 50.0, 100_000, "MinA"),
    ]


def test_greedy_is_beaten_when_a_big_first_choice_blocks_three_good_ones():
    # Track X, 600 000 €: rank order takes p1 (312 000) then only p3 fits: 90 + 70 = 160;
    # p2 + p3 + p4 cost exactly 600 000 € and score 80 + 70 + 60 = 210.
    candidates = _cands()
    envelopes = {"X": Envelope(600_000, 5), "Y": Envelope(100_000, 1)}
    baseline = greedy(candidates=candidates, envelopes=envelopes)
    assert baseline.selected == ["p1", "p3", "q1"] and baseline.status == "greedy"
    result = select(candidates=candidates, envelopes=envelopes)
    assert sorted(result.selected) == ["p2", "p3", "p4", "q1"]
    assert result.total_score == pytest.approx(210 + 50)
    assert result.per_track["X"].amount == 600_000 and result.per_track["X"].count == 3


def test_infeasible_explanation_names_the_envelope():
    result = select(candidates=_cands(), envelopes={"X": Envelope(500_000, 5),
                                                     "Y": Envelope(100_000, 1)},
                    forced_in={"p1", "p2"})
    assert result.status == "infeasible" and not result.optimal
    assert result.selected == []
    assert ("forced-in proposals alone exceed the envelope of track X: 612 000 € > 500 000 €"
            in result.explanation)


def test_infeasible_explanation_for_count_and_group_cap():
    result = select(candidates=_cands(), envelopes={"X": Envelope(10_000_000, 1),
                                                     "Y": Envelope(100_000, 1)},
                    cap_per_group=1, forced_in={"p3", "p4"})
    assert "more proposals forced in for track X (2) than its maximum number of laureates (1)" in (
        result.explanation)
    assert "2 proposals of group MinB are forced in but at most 1 per group" in result.explanation


def test_forced_in_and_out_honoured():
    envelopes = {"X": Envelope(500_000, 5), "Y": Envelope(100_000, 1)}
    result = select(candidates=_cands(), envelopes=envelopes, forced_in={"p4"},
                    forced_out={"p2", "q1"})
    assert "p4" in result.selected
    assert "p2" not in result.selected and "q1" not in result.selected
    assert sorted(result.selected) == ["p1", "p4"]


def test_same_proposal_forced_in_and_out_is_infeasible():
    result = select(candidates=_cands(), envelopes={"X": Envelope(1, 1), "Y": Envelope(1, 1)},
                    forced_in={"p1"}, forced_out={"p1"})
    assert result.status == "infeasible" and "p1" in result.explanation


def test_cap_per_group_honoured():
    envelopes = {"X": Envelope(10_000_000, 10), "Y": Envelope(10_000_000, 10)}
    result = select(candidates=_cands(), envelopes=envelopes, cap_per_group=1)
    groups = [c.group for c in _cands() if c.id in result.selected]
    assert sorted(groups) == ["MinA", "MinB"]
    assert sorted(result.selected) == ["p1", "p3"]


def test_unknown_track_or_id_is_an_error():
    with pytest.raises(ValueError, match="envelope"):
        select(candidates=_cands(), envelopes={"X": Envelope(1, 1)})
    with pytest.raises(ValueError, match="forced"):
        select(candidates=_cands(), envelopes={"X": Envelope(1, 1), "Y": Envelope(1, 1)},
               forced_in={"nope"})


def test_waiting_list_in_score_order_per_track():
    lists = waiting_list(candidates=_cands(), selected=["p2", "q1"], forced_out={"p4"})
    assert lists == {"X": ["p1", "p3"]}


def test_format_euros():
    assert format_euros(612_000) == "612 000 €"
    assert format_euros(1_250_000) == "1 250 000 €"


def test_thousand_candidates_proven_optimal():
    import random

    rng = random.Random(5)
    candidates = [Candidate(i, "A" if i % 2 else "B", round(rng.uniform(30, 95), 2),
                            rng.randint(5, 80) * 10_000, f"g{rng.randint(0, 14)}")
                  for i in range(1000)]
    envelopes = {"A": Envelope(20_000_000, 80), "B": Envelope(15_000_000, 120)}
    result = select(candidates=candidates, envelopes=envelopes, cap_per_group=12)
    assert result.status == "optimal" and result.optimal
    assert result.total_score >= greedy(candidates=candidates, envelopes=envelopes,
                                        cap_per_group=12).total_score


# Caps per kind of group (administration and ministry at once), as the deliberation sets them.

def _feasible_with_kinds(subset, envelopes, caps, forced_in, forced_out):
    if not _feasible(subset, envelopes, None, forced_in, forced_out):
        return False
    for kind, cap in caps.items():
        groups = [dict(c.groups).get(kind) for c in subset]
        groups = [g for g in groups if g is not None]
        if any(groups.count(g) > cap for g in set(groups)):
            return False
    return True


@st.composite
def instances_with_kinds(draw):
    n = draw(st.integers(0, 10))
    candidates = []
    for i in range(n):
        administration = draw(st.sampled_from(["a1", "a2", "a3", "a4"]))
        ministry = {"a1": "m1", "a2": "m1", "a3": "m2", "a4": "m2"}[administration]
        candidates.append(Candidate(
            id=i, track=draw(st.sampled_from(["A", "B"])), score=draw(st.integers(0, 10_000)) / 100,
            amount=draw(st.integers(1, 20)) * 10_000,
            groups=(("administration", administration), ("ministry", ministry)),
        ))
    envelopes = {t: Envelope(budget=draw(st.integers(0, 120)) * 10_000, max_count=draw(st.integers(0, 6)))
                 for t in ["A", "B"]}
    caps = {"administration": draw(st.one_of(st.none(), st.integers(0, 2))),
            "ministry": draw(st.one_of(st.none(), st.integers(0, 3)))}
    forced_in = {i for i in range(n) if draw(st.integers(0, 7)) == 0}
    forced_out = {i for i in range(n) if i not in forced_in and draw(st.integers(0, 7)) == 0}
    return candidates, envelopes, caps, forced_in, forced_out


@settings(max_examples=120, deadline=None)
@given(instances_with_kinds())
def test_caps_per_kind_equal_brute_force_and_beat_greedy(instance):
    candidates, envelopes, caps, forced_in, forced_out = instance
    active = {kind: cap for kind, cap in caps.items() if cap is not None}
    best = None
    for size in range(len(candidates) + 1):
        for subset in combinations(candidates, size):
            if _feasible_with_kinds(subset, envelopes, active, forced_in, forced_out):
                value = sum(round(c.score * 100) for c in subset)
                best = value if best is None else max(best, value)
    kwargs = dict(candidates=candidates, envelopes=envelopes, group_caps=caps, forced_in=forced_in,
                  forced_out=forced_out)
    result = select(**kwargs)
    if best is None:
        assert result.status == "infeasible" and result.bindings
        return
    chosen = [c for c in candidates if c.id in set(result.selected)]
    assert result.optimal and _feasible_with_kinds(chosen, envelopes, active, forced_in, forced_out)
    assert sum(round(c.score * 100) for c in chosen) == best
    baseline = greedy(**kwargs)
    baseline_chosen = [c for c in candidates if c.id in set(baseline.selected)]
    assert _feasible_with_kinds(baseline_chosen, envelopes, active, forced_in, forced_out)
    assert result.total_score >= baseline.total_score - 1e-9


def test_ministry_cap_binding_is_reported_structurally():
    candidates = [
        Candidate("p1", "X", 90.0, 100_000, groups=(("administration", "DGS"), ("ministry", "Santé"))),
        Candidate("p2", "X", 80.0, 100_000, groups=(("administration", "ARS"), ("ministry", "Santé"))),
        Candidate("p3", "X", 70.0, 100_000, groups=(("administration", "DGFiP"), ("ministry", "Économie"))),
    ]
    envelopes = {"X": Envelope(1_000_000, 5)}
    result = select(candidates=candidates, envelopes=envelopes, group_caps={"ministry": 1})
    assert sorted(result.selected) == ["p1", "p3"]
    infeasible = select(candidates=candidates, envelopes=envelopes, group_caps={"ministry": 1},
                        forced_in={"p1", "p2"})
    assert infeasible.status == "infeasible"
    binding = infeasible.bindings[0]
    assert (binding.kind, binding.group_kind, binding.group, binding.total, binding.limit) == (
        "group_cap", "ministry", "Santé", 2, 1)
    assert "2 proposals of ministry Santé are forced in but at most 1 per ministry" in infeasible.explanation
