"""Simulation study: does the juror normalisation recover the true ranking better than raw means?

Plain-language summary for the jury: we invent proposals whose true quality we know, let
simulated jurors mark them with their own harshness or leniency and random noise, and measure how
close the ranking by raw averages and the ranking after correction are to the true ranking.

Simulated world (all on the 0-100 score scale, chosen before looking at the results):

* true quality of each proposal ~ N(60, quality_sd = 12);
* proposals are assigned ``k`` jurors each with :func:`assign` (5 % random conflicts);
* "realistic bias" scenario: juror offset ~ N(0, bias_sd = 6), and in addition
  ``n_jurors // 6`` jurors are explicitly harsh (offset -15) and as many explicitly lenient
  (+15); each juror also stretches or compresses the scale by a factor ~ U(0.8, 1.2) around 60;
* "no bias" scenario: same proposals, assignment and noise, but every offset is 0 and every
  scale is 1;
* each mark = 60 + scale_j (quality_p - 60) + offset_j + noise, noise ~ N(0, noise_sd = 8),
  clipped to [0, 100].

Agreement with the truth is Kendall's tau-b (1 = same order, 0 = unrelated). As a ceiling, the
"oracle" ranking removes the true offsets and scales from the marks before averaging: no
estimator can be expected to do better, since the review noise remains.
"""

from __future__ import annotations

import numpy as np

from .assignment import assign
from .ranking import normalise, proposal_table

_MEAN_QUALITY = 60.0


def kendall_tau(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b (ties accounted for), O(n^2) with numpy sign matrices."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    upper = np.triu_indices(x.size, k=1)
    dx = np.sign(x[:, None] - x[None, :])[upper]
    dy = np.sign(y[:, None] - y[None, :])[upper]
    denominator = np.sqrt(np.count_nonzero(dx) * np.count_nonzero(dy))
    return float(np.sum(dx * dy) / denominator) if denominator else 0.0


def simulate(
    *,
    runs: int,
    n_proposals: int = 46,
    n_jurors: int = 12,
    k: int = 3,
    bias_sd: float = 6.0,
    seed: int = 0,
    quality_sd: float = 12.0,
    noise_sd: float = 8.0,
    extreme_offset: float = 15.0,
    scale_spread: float = 0.2,
    conflict_rate: float = 0.05,
    min_reviews: int = 5,
) -> dict[str, float]:
    """Mean Kendall tau between truth and ranking by raw / adjusted means, with and without bias.

    Both scenarios share each run's proposals, assignment and noise, so their difference is
    measured with little simulation noise. ``gain_*`` is adjusted minus raw, ``gain_se_*`` its
    standard error over runs.
    """
    rng = np.random.default_rng(seed)
    taus: dict[str, list[float]] = {
        f"{method}_{label}": []
        for method in ("raw", "adjusted", "oracle")
        for label in ("biased", "unbiased")
    }
    for run in range(runs):
        world = _draw_world(rng, n_proposals, n_jurors, k, conflict_rate, seed * 100_003 + run)
        noise = rng.normal(0.0, noise_sd, world["proposal"].size)
        quality = rng.normal(_MEAN_QUALITY, quality_sd, n_proposals)
        offset, scale = _draw_jurors(rng, n_jurors, bias_sd, extreme_offset, scale_spread)
        for label, (off, sca) in {
            "biased": (offset, scale),
            "unbiased": (np.zeros(n_jurors), np.ones(n_jurors)),
        }.items():
            means = _rank_means(world, quality, off, sca, noise, min_reviews)
            for method, values in means.items():
                taus[f"{method}_{label}"].append(kendall_tau(quality, values))
    return _summarise(taus, runs)


def _draw_world(
    rng: np.random.Generator, n_p: int, n_j: int, k: int, conflict_rate: float, assign_seed: int
) -> dict[str, np.ndarray]:
    """Random conflicts, then the production assignment algorithm."""
    conflicted = np.argwhere(rng.random((n_p, n_j)) < conflict_rate)
    result = assign(items=list(range(n_p)), reviewers=list(range(n_j)), k=k,
                    conflicts={(int(p), int(j)) for p, j in conflicted}, seed=assign_seed)
    pairs = np.array(result.pairs, dtype=np.int64).reshape(-1, 2)
    return {"proposal": pairs[:, 0], "juror": pairs[:, 1]}


def _draw_jurors(
    rng: np.random.Generator, n_j: int, bias_sd: float, extreme: float, spread: float
) -> tuple[np.ndarray, np.ndarray]:
    offset = rng.normal(0.0, bias_sd, n_j)
    n_extreme = n_j // 6
    extremes = rng.permutation(n_j)[: 2 * n_extreme]
    offset[extremes[:n_extreme]] = -extreme
    offset[extremes[n_extreme:]] = extreme
    scale = rng.uniform(1.0 - spread, 1.0 + spread, n_j)
    return offset, scale


def _rank_means(
    world: dict[str, np.ndarray],
    quality: np.ndarray,
    offset: np.ndarray,
    scale: np.ndarray,
    noise: np.ndarray,
    min_reviews: int,
) -> dict[str, np.ndarray]:
    """Proposal means by raw marks, by normalised marks and by marks with the true bias removed."""
    p, j = world["proposal"], world["juror"]
    marks = _MEAN_QUALITY + scale[j] * (quality[p] - _MEAN_QUALITY) + offset[j] + noise
    marks = np.clip(marks, 0.0, 100.0)
    result = normalise(review_proposal=p, review_juror=j, review_score=marks,
                       min_reviews=min_reviews, n_proposals=quality.size, n_jurors=offset.size)
    unbiased = (marks - offset[j] - _MEAN_QUALITY) / scale[j] + _MEAN_QUALITY
    oracle = proposal_table(review_proposal=p, review_score=unbiased, n_proposals=quality.size)
    return {
        "raw": result.proposals.raw_mean,
        "adjusted": result.proposals.adjusted_mean,
        "oracle": oracle.raw_mean,
    }


def _summarise(taus: dict[str, list[float]], runs: int) -> dict[str, float]:
    arrays = {key: np.array(values) for key, values in taus.items()}
    summary: dict[str, float] = {"runs": float(runs)}
    for key, values in arrays.items():
        summary[f"tau_{key}"] = float(values.mean())
    for label in ("biased", "unbiased"):
        gain = arrays[f"adjusted_{label}"] - arrays[f"raw_{label}"]
        summary[f"gain_{label}"] = float(gain.mean())
        summary[f"gain_se_{label}"] = float(gain.std(ddof=1) / np.sqrt(runs)) if runs > 1 else 0.0
    return summary
