"""Fairness study: Kendall's τ between true quality and the ranking, raw mean vs bias-adjusted.

Simulated juries (jury/algorithms/fairness.py): quality ~ N(60, 12), noise sd 8, juror offsets
~ N(0, 6) plus two harsh (−15) and two lenient (+15) jurors, scale factors U(0.8, 1.2).
"""

import _common  # noqa: F401

from jury.algorithms.fairness import simulate

RUNS = 300


def main():
    result = simulate(runs=RUNS, seed=1)
    _common.emit(
        {
            "runs": RUNS,
            "tau_raw": round(result["tau_raw_biased"], 4),
            "tau_adjusted": round(result["tau_adjusted_biased"], 4),
            "tau_raw_no_bias": round(result["tau_raw_unbiased"], 4),
            "tau_adjusted_no_bias": round(result["tau_adjusted_unbiased"], 4),
        }
    )


if __name__ == "__main__":
    main()
