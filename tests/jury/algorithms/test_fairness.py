"""Fairness study: normalisation must help with biased jurors and not hurt without bias."""

import numpy as np
import pytest

from jury.algorithms.fairness import kendall_tau, simulate


def test_kendall_tau_reference_values():
    assert kendall_tau(np.arange(5), np.arange(5)) == pytest.approx(1.0)
    assert kendall_tau(np.arange(5), -np.arange(5)) == pytest.approx(-1.0)
    # pairs (1,2): tie in y -> 0; (1,3) and (2,3) concordant: 2 / sqrt(3 * 2)
    assert kendall_tau(np.array([1, 2, 3]), np.array([1, 1, 2])) == pytest.approx(2 / np.sqrt(6))


def test_adjusted_ranking_beats_raw_with_bias_and_does_not_hurt_without():
    result = simulate(runs=40, seed=11)
    assert result["gain_biased"] >= 0.05
    assert result["tau_adjusted_biased"] >= result["tau_oracle_biased"] - 0.02
    assert result["gain_unbiased"] >= -0.01
