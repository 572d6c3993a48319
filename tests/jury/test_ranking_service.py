"""The ranking read from the database: hand-computed normalisation, fixed queries, cached intervals."""

import pytest
from django.core.cache import cache

from ami.models import CallStatus
from jury.models import RankBy, ReviewStatus
from jury.services import ranking as service
from tests.ami.factories import CallFactory, CriterionFactory, TrackFactory
from tests.jury.factories import ConflictFactory, JuryMemberFactory, ReviewFactory, ScoreFactory, scored_proposal

pytestmark = pytest.mark.django_db

# The complete design of tests/jury/algorithms/test_ranking.py, on a 0–100 scale with one criterion
# weighing 100 (so a note is its own weighted score): juror H marks about 13 points below N1 and N2.
#            P0  P1  P2  P3
# H          28  40  46  58
# N1         42  49  62  71
# N2         41  52  60  72
# Offsets shrunk by 4 / (4 + λ), λ = σ² / τ² = 0.0425220: -8.657961, 4.205296, 4.452666.
HAND = [[28, 40, 46, 58], [42, 49, 62, 71], [41, 52, 60, 72]]


@pytest.fixture
def hand_call():
    call = CallFactory(status=CallStatus.REVIEW, score_scale_max=100, min_reviews_for_normalisation=2,
                       disagreement_threshold=15)
    CriterionFactory(call=call, weight=100, position=0)
    track = TrackFactory(call=call)
    jurors = [JuryMemberFactory(call=call) for _ in HAND]
    proposals = [
        scored_proposal(call=call, track=track, reference=f"P{p}",
                        marks=[(jurors[j], [HAND[j][p]]) for j in range(3)])
        for p in range(4)
    ]
    return call, track, jurors, proposals


def test_hand_computed_normalisation_from_the_database(hand_call):
    call, track, jurors, proposals = hand_call
    ranking = service.rank_call(call, rank_by=RankBy.ADJUSTED)
    rows = {row.reference: row for row in ranking.by_track[track.pk]}
    assert [rows[f"P{p}"].raw for p in range(4)] == pytest.approx([37, 47, 56, 67])
    assert [rows[f"P{p}"].median for p in range(4)] == pytest.approx([41, 49, 60, 71])
    assert [rows[f"P{p}"].adjusted for p in range(4)] == pytest.approx([37, 47, 56, 67], abs=1e-4)
    assert [rows[f"P{p}"].spread for p in range(4)] == pytest.approx([14, 12, 16, 14])
    assert [rows[f"P{p}"].disagreement for p in range(4)] == [False, False, True, False]  # 16 > 15
    assert [row.reference for row in ranking.by_track[track.pk]] == ["P3", "P2", "P1", "P0"]
    assert [row.rank for row in ranking.by_track[track.pk]] == [1, 2, 3, 4]
    corrections = {c.juror_id: c for c in ranking.jurors}
    assert [corrections[j.pk].offset for j in jurors] == pytest.approx([-8.657961, 4.205296, 4.452666], abs=1e-4)
    assert all(corrections[j.pk].corrected and corrections[j.pk].reviews == 4 for j in jurors)
    harsh = ranking.review_score[ranking.data.review_juror == list(ranking.data.juror_ids).index(jurors[0].pk)]
    assert sorted(harsh) == pytest.approx([36.657961, 48.657961, 54.657961, 66.657961], abs=1e-4)


def test_below_the_minimum_no_juror_is_corrected(hand_call):
    call, track, _jurors, _proposals = hand_call
    call.min_reviews_for_normalisation = 5  # each juror gave 4 reviews
    ranking = service.rank_call(call, rank_by=RankBy.ADJUSTED)
    assert not ranking.normalised
    assert all(row.adjusted == pytest.approx(row.raw) for row in ranking.by_track[track.pk])
    assert ranking.review_score == pytest.approx(ranking.data.weighted)


def test_weighted_score_is_weight_times_note_over_the_scale():
    call = CallFactory(status=CallStatus.REVIEW, score_scale_max=5)
    CriterionFactory(call=call, weight=60, position=0)
    CriterionFactory(call=call, weight=40, position=1)
    track = TrackFactory(call=call)
    juror_a, juror_b = JuryMemberFactory(call=call), JuryMemberFactory(call=call)
    scored_proposal(call=call, track=track, reference="A", marks=[(juror_a, [5, 0]), (juror_b, [3, 4])])
    row = service.rank_call(call, rank_by=RankBy.RAW).by_track[track.pk][0]
    # 60 × 5 / 5 = 60 and 60 × 3 / 5 + 40 × 4 / 5 = 68: mean 64, median 64, spread 8.
    assert (row.raw, row.median, row.spread, row.score, row.n_reviews) == (64, 64, 8, 64, 2)


def test_only_submitted_reviews_without_conflict_count():
    call = CallFactory(status=CallStatus.REVIEW, score_scale_max=5)
    criterion = CriterionFactory(call=call, weight=100, position=0)
    track = TrackFactory(call=call)
    juror, draft_juror, conflicted = (JuryMemberFactory(call=call) for _ in range(3))
    proposal = scored_proposal(call=call, track=track, reference="A", marks=[(juror, [4]), (conflicted, [0])])
    ConflictFactory(juror=conflicted, proposal=proposal)
    draft = ReviewFactory(proposal=proposal, juror=draft_juror, status=ReviewStatus.DRAFT)
    ScoreFactory(review=draft, criterion=criterion, value=1)
    row = service.rank_call(call).by_track[track.pk][0]
    assert (row.n_reviews, row.raw) == (1, 80)


def test_unreviewed_candidates_are_listed_apart():
    call = CallFactory(status=CallStatus.REVIEW)
    CriterionFactory(call=call, weight=100)
    track = TrackFactory(call=call)
    lonely = scored_proposal(call=call, track=track, reference="B", marks=[])
    ranking = service.rank_call(call)
    assert ranking.by_track[track.pk] == []
    assert [row.id for row in ranking.unranked] == [lonely.pk]
    assert ranking.unranked[0].flagged


def test_scores_load_in_a_fixed_number_of_queries(hand_call, django_assert_num_queries):
    call, track, _jurors, _proposals = hand_call
    with django_assert_num_queries(3):  # criteria, scores, candidates (tracks given)
        service.rank_call(call, track_ids=[track.pk])


def test_intervals_are_cached_per_data_fingerprint(hand_call, monkeypatch):
    call, track, jurors, proposals = hand_call
    cache.clear()
    calls = []
    original = service.bootstrap_ranks

    def counting(**kwargs):
        calls.append(kwargs["resamples"])
        return original(**kwargs)

    monkeypatch.setattr(service, "bootstrap_ranks", counting)
    first = service.rank_intervals(service.rank_call(call), call_id=call.pk)
    again = service.rank_intervals(service.rank_call(call), call_id=call.pk)
    assert first == again and calls == [1000]
    assert all(low <= high for low, high in first.values())
    score = proposals[0].reviews.first().scores.get()
    score.value = 99
    score.save()
    service.rank_intervals(service.rank_call(call), call_id=call.pk)
    assert calls == [1000, 1000]  # a changed score computes afresh


def test_cutoff_zone_from_intervals_and_weights():
    call = CallFactory(status=CallStatus.REVIEW, score_scale_max=5, min_reviews_for_normalisation=10)
    CriterionFactory(call=call, weight=50, position=0)
    CriterionFactory(call=call, weight=50, position=1)
    track = TrackFactory(call=call)
    a, b = JuryMemberFactory(call=call), JuryMemberFactory(call=call)
    scored_proposal(call=call, track=track, reference="TOP", marks=[(a, [5, 5]), (b, [5, 5])])
    scored_proposal(call=call, track=track, reference="C1", marks=[(a, [5, 1]), (b, [4, 2])])  # 60 on average
    scored_proposal(call=call, track=track, reference="C2", marks=[(a, [1, 5]), (b, [2, 4])])  # 60 too
    scored_proposal(call=call, track=track, reference="LOW", marks=[(a, [0, 0]), (b, [1, 0])])
    ranking = service.rank_call(call, rank_by=RankBy.RAW)
    service.add_robustness(ranking, call_id=call.pk, cutoffs={track.pk: 2})
    flags = {row.reference: (row.interval_crosses, row.weight_sensitive) for row in ranking.by_track[track.pk]}
    # C1 and C2 tie at rank 2–3 around a cut-off of 2: a ±10 % weight puts one or the other inside.
    assert flags["C1"][1] and flags["C2"][1]
    assert flags["TOP"] == (False, False) and flags["LOW"] == (False, False)
