"""Weighted scores, empirical-Bayes normalisation, bootstrap ranks, weight sensitivity."""

import numpy as np
import pytest

from jury.algorithms.ranking import (
    bootstrap_ranks,
    normalise,
    perturbed_weights,
    proposal_table,
    rank_descending,
    weight_sensitivity,
    weighted_scores,
)


def test_weighted_score_formula():
    scores = np.array([[5, 0], [3, 4]])
    result = weighted_scores(scores=scores, weights=np.array([60, 40]), scale_max=5)
    assert result == pytest.approx([60.0, 3 * 60 / 5 + 4 * 40 / 5])  # 60 and 68


def test_weights_must_sum_to_100():
    with pytest.raises(ValueError, match="100"):
        weighted_scores(scores=np.ones((1, 2)), weights=np.array([50, 40]), scale_max=5)


# Complete design: 3 jurors x 4 proposals, juror H marking about 13 points below the others.
#            P0  P1  P2  P3
# H          28  40  46  58   juror mean 43
# N1         42  49  62  71   juror mean 56
# N2         41  52  60  72   juror mean 56.25
# grand mean (centre) c = 621 / 12 = 51.75; proposal means 37, 47, 56, 67.
# Unshrunk offsets = juror mean - c = -8.75, 4.25, 4.5.
# Residuals s - proposal mean - juror mean + c:
#   H  -0.25  1.75 -1.25 -0.25 ; N1 0.75 -2.25 1.75 -0.25 ; N2 -0.5 0.5 -0.5 0.5
#   RSS = 4.75 + 8.75 + 1 = 14.5; dof = 12 - 4 - (3 - 1) = 6; sigma2 = 14.5 / 6.
# tau2 = (8.75^2 + 4.25^2 + 4.5^2) / (3 - 1) - sigma2 / 4 = 57.4375 - 0.6041667 = 56.8333.
# lambda = sigma2 / tau2 = 0.0425220; shrinkage w = 4 / (4 + lambda) = 0.9894813.
# Final offsets = w * unshrunk = -8.657961, 4.205296, 4.452666 (complete design: closed form).
HAND = np.array([[28, 40, 46, 58], [42, 49, 62, 71], [41, 52, 60, 72]], dtype=float)
SIGMA2 = 14.5 / 6
TAU2 = (8.75**2 + 4.25**2 + 4.5**2) / 2 - SIGMA2 / 4
LAMBDA = SIGMA2 / TAU2
W = 4 / (4 + LAMBDA)


def _reviews(matrix):
    juror, proposal = np.nonzero(~np.isnan(matrix))
    return proposal, juror, matrix[juror, proposal]


def test_normalisation_hand_computed_harsh_juror():
    proposal, juror, score = _reviews(HAND)
    result = normalise(review_proposal=proposal, review_juror=juror, review_score=score,
                       min_reviews=2, estimate_scale=False)
    assert result.centre == pytest.approx(51.75)
    assert result.noise_sd**2 == pytest.approx(2.4166667, rel=1e-6)
    assert result.offset_sd**2 == pytest.approx(56.833333, rel=1e-6)
    assert result.lambda_offset == pytest.approx(0.0425220, rel=1e-5)
    assert result.offset_shrinkage == pytest.approx([W, W, W])
    assert result.juror_offset == pytest.approx([-8.657961, 4.205296, 4.452666], abs=1e-5)
    assert result.juror_scale == pytest.approx([1, 1, 1])
    harsh_adjusted = result.adjusted_score[juror == 0]
    assert harsh_adjusted == pytest.approx([36.657961, 48.657961, 54.657961, 66.657961],
                                           abs=1e-5)
    table = result.proposals
    assert table.raw_mean == pytest.approx([37, 47, 56, 67])
    assert table.median == pytest.approx([41, 49, 60, 71])
    assert table.adjusted_mean == pytest.approx([37, 47, 56, 67], abs=1e-5)
    assert table.spread_range == pytest.approx([14, 12, 16, 14])
    assert table.spread_sd[0] == pytest.approx(np.sqrt((81 + 25 + 16) / 3))


def test_scale_estimation_leaves_unscaled_jurors_alone():
    proposal, juror, score = _reviews(HAND)
    result = normalise(review_proposal=proposal, review_juror=juror, review_score=score,
                       min_reviews=2)
    assert result.juror_offset == pytest.approx([-8.657961, 4.205296, 4.452666], abs=1e-4)
    assert result.juror_scale == pytest.approx([1, 1, 1], abs=1e-4)


def test_differences_at_noise_level_are_not_corrected():
    # J0: 50 60 70, J1: 52 58 71. Offsets -1/6, +1/6; residuals +-(5/6, 7/6, 1/3);
    # sigma2 = 2 * (25 + 49 + 4) / 36 / (6 - 3 - 1) = 2.1667;
    # tau2 = 2 * (1/6)^2 / 1 - 2.1667 / 3 < 0, so lambda is infinite: no correction.
    matrix = np.array([[50, 60, 70], [52, 58, 71]], dtype=float)
    proposal, juror, score = _reviews(matrix)
    result = normalise(review_proposal=proposal, review_juror=juror, review_score=score,
                       min_reviews=2)
    assert result.noise_sd**2 == pytest.approx(2 * 78 / 36 / 2)
    assert result.offset_sd == 0.0
    assert result.juror_offset == pytest.approx([0, 0], abs=1e-6)
    assert result.adjusted_score == pytest.approx(score, abs=1e-5)


def test_min_reviews_respected():
    matrix = np.vstack([HAND, [np.nan, np.nan, 57.0, np.nan]])  # juror 3 gave one review
    proposal, juror, score = _reviews(matrix)
    result = normalise(review_proposal=proposal, review_juror=juror, review_score=score,
                       min_reviews=2)
    assert list(result.juror_adjusted) == [True, True, True, False]
    assert result.juror_n[3] == 1
    assert result.juror_offset[3] == 0.0
    assert result.juror_scale[3] == 1.0
    assert result.adjusted_score[juror == 3] == pytest.approx([57.0])
    assert result.juror_offset[0] < -5  # the harsh juror is still corrected


def test_harsh_juror_recovered_in_incomplete_design():
    # Eight proposals of true quality 30..100, two reviews each on a ring of four jurors;
    # juror 0 marks 20 points lower. Small alternating noise.
    quality = np.arange(30, 110, 10, dtype=float)
    proposal = np.repeat(np.arange(8), 2)
    juror = np.array([(p + shift) % 4 for p in range(8) for shift in (0, 1)])
    noise = np.tile([1.0, -1.0], 8)
    score = quality[proposal] + noise - 20.0 * (juror == 0)
    result = normalise(review_proposal=proposal, review_juror=juror, review_score=score,
                       min_reviews=3, estimate_scale=False)
    others = np.delete(result.juror_offset, 0)
    assert result.juror_offset[0] - others.mean() == pytest.approx(-20, abs=2)
    raw_order = np.argsort(-result.proposals.raw_mean)
    adjusted_order = np.argsort(-result.proposals.adjusted_mean)
    assert list(adjusted_order) == [7, 6, 5, 4, 3, 2, 1, 0]
    assert list(raw_order) != list(adjusted_order)


def test_too_few_degrees_of_freedom_means_no_adjustment():
    proposal, juror, score = np.array([0, 1]), np.array([0, 1]), np.array([40.0, 80.0])
    result = normalise(review_proposal=proposal, review_juror=juror, review_score=score,
                       min_reviews=1)
    assert not result.juror_adjusted.any()
    assert result.adjusted_score == pytest.approx(score)


def test_proposal_table_handles_unreviewed_and_even_counts():
    table = proposal_table(review_proposal=np.array([0, 0, 0, 0, 2]),
                           review_score=np.array([10.0, 40.0, 20.0, 30.0, 50.0]),
                           n_proposals=3)
    assert table.median[0] == pytest.approx(25.0)
    assert table.spread_range[0] == pytest.approx(30.0)
    assert np.isnan(table.raw_mean[1]) and np.isnan(table.median[1])
    assert table.spread_sd[2] == 0.0


def test_rank_descending_competition_ranks():
    assert list(rank_descending(np.array([3.0, 5.0, 5.0, np.nan, 1.0]))) == [3, 1, 1, 5, 4]


def _bootstrap_data():
    rng = np.random.default_rng(42)
    counts = rng.integers(2, 5, size=30)
    proposal = np.repeat(np.arange(30), counts)
    quality = np.linspace(20, 90, 30)
    score = quality[proposal] + rng.normal(0, 8, proposal.size)
    return proposal, score


def test_bootstrap_is_deterministic_and_contains_point_rank():
    proposal, score = _bootstrap_data()
    first = bootstrap_ranks(review_proposal=proposal, review_score=score, n_proposals=31,
                            resamples=400, seed=7)
    second = bootstrap_ranks(review_proposal=proposal, review_score=score, n_proposals=31,
                             resamples=400, seed=7)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    low, high = first
    point = rank_descending(proposal_table(review_proposal=proposal, review_score=score,
                                           n_proposals=31).raw_mean)
    assert np.all(low[:30] <= point[:30]) and np.all(point[:30] <= high[:30])
    assert np.isnan(low[30]) and np.isnan(high[30])  # proposal 30 has no review
    assert np.all(high - low >= 0, where=~np.isnan(low))


def test_bootstrap_interval_is_a_point_for_unanimous_outlier():
    proposal = np.repeat(np.arange(3), 3)
    score = np.array([99, 99, 99, 10, 60, 30, 20, 50, 40], dtype=float)
    low, high = bootstrap_ranks(review_proposal=proposal, review_score=score, n_proposals=3,
                                resamples=200, seed=1)
    assert (low[0], high[0]) == (1, 1)
    assert low[1] == 2 and high[1] == 3


def test_perturbed_weights_keep_total_100():
    table, labels = perturbed_weights(np.array([20.0, 30.0, 50.0]), 0.10)
    assert table.sum(axis=1) == pytest.approx(np.full(6, 100.0))
    assert table[0, 0] == pytest.approx(22.0) and table[1, 0] == pytest.approx(18.0)
    assert labels[:2] == [(0, 0.10), (0, -0.10)]


def _sensitivity_case():
    # Two criteria, marks out of 10, weights 50/50, cut-off after rank 2.
    # P3 (10, 10) = 100 always in; P2 (3, 3) = 30 always out; P0 (8, 8) = 80 whatever the weights;
    # P1 (10, mean 5.667) = 78.3 at base, 80.5 when criterion 0 weighs 55: P0 and P1 swap sides.
    marks = np.array([[8, 8], [10, 6], [10, 6], [10, 5], [3, 3], [10, 10]])
    proposal = np.array([0, 1, 1, 1, 2, 3])
    return marks, proposal


def test_weight_sensitivity_flags_proposals_at_the_cutoff():
    marks, proposal = _sensitivity_case()
    result = weight_sensitivity(scores=marks, weights=np.array([50, 50]), scale_max=10,
                                review_proposal=proposal, n_proposals=4, cutoff_rank=2)
    assert list(result.base_in) == [True, False, False, True]
    assert list(result.changes_side) == [True, True, False, False]
    assert len(result.perturbations) == 4


def test_weight_sensitivity_with_a_selection_function():
    marks, proposal = _sensitivity_case()
    result = weight_sensitivity(scores=marks, weights=np.array([50, 50]), scale_max=10,
                                review_proposal=proposal, n_proposals=4,
                                select=lambda means: means >= 79.0)
    assert list(result.changes_side) == [False, True, False, False]
