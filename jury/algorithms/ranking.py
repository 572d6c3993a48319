"""Scores, reviewer normalisation, rank uncertainty and weight sensitivity (numpy only).

Plain-language summaries, as shown to the jury:

* Weighted score: each review's score is the sum over criteria of weight x mark divided by the
  maximum mark, which gives a score out of 100.
* Normalisation: each juror's habitual harshness or leniency (and tendency to use a narrow or
  wide range of marks) is estimated from all the reviews they gave compared with the other
  jurors' reviews of the same proposals, shrunk towards "no correction" the more so the fewer
  reviews they gave and the noisier the marks are, and then removed from their marks; jurors
  with too few reviews are not corrected.
* Rank intervals: the reviews of each proposal are redrawn at random many times (bootstrap) to
  show the range of ranks the proposal could plausibly have had with other draws of reviews.
* Weight sensitivity: each criterion's weight is moved up and down by 10 % (the other weights
  rescaled to keep a total of 100) to flag the proposals whose side of the cut-off depends on
  the exact weights.

Conventions: reviews are given as parallel arrays (one entry per review) of proposal index,
juror index and score, with indices in ``0..n-1``; scores are on 0-100; rank 1 is the best.
Nothing here loops in Python over reviews.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# Numerical stand-in for "infinite shrinkage" (variance of the effects estimated at zero).
_NO_EFFECT_LAMBDA = 1e9
# Floor of the shrinkage constants: without any penalty the model's level would be undefined.
_MIN_LAMBDA = 1e-3
_MIN_SCALE, _MAX_SCALE = 0.25, 4.0


def weighted_scores(*, scores: np.ndarray, weights: np.ndarray, scale_max: int) -> np.ndarray:
    """Score out of 100 of each review: sum of weight x mark / scale_max.

    ``scores`` is (n_reviews, n_criteria) with marks in 0..scale_max; ``weights`` sum to 100.
    """
    scores = np.asarray(scores, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if scores.ndim != 2 or scores.shape[1] != weights.shape[0]:
        raise ValueError("scores must be (n_reviews, n_criteria) matching the weights")
    if not np.isclose(weights.sum(), 100.0):
        raise ValueError(f"weights must sum to 100, not {weights.sum():g}")
    if scale_max <= 0:
        raise ValueError("scale_max must be positive")
    return scores @ weights / scale_max


# --------------------------------------------------------------------------- per-proposal table


@dataclass
class ProposalTable:
    """Per-proposal summary; NaN for proposals without reviews."""

    n_reviews: np.ndarray
    raw_mean: np.ndarray
    median: np.ndarray
    adjusted_mean: np.ndarray
    spread_range: np.ndarray  # max - min of the raw review scores
    spread_sd: np.ndarray  # population standard deviation (ddof=0) of the raw review scores


def proposal_table(
    *,
    review_proposal: np.ndarray,
    review_score: np.ndarray,
    n_proposals: int,
    adjusted_score: np.ndarray | None = None,
) -> ProposalTable:
    """Raw mean, median, adjusted mean and spread of the reviews of each proposal."""
    proposal = np.asarray(review_proposal, dtype=np.int64)
    score = np.asarray(review_score, dtype=float)
    adjusted = score if adjusted_score is None else np.asarray(adjusted_score, dtype=float)
    counts = np.bincount(proposal, minlength=n_proposals)
    raw_mean = _group_mean(proposal, score, counts)
    spread_sd = np.sqrt(np.maximum(_group_mean(proposal, score**2, counts) - raw_mean**2, 0.0))
    low, median, high = _group_order_stats(proposal, score, counts)
    return ProposalTable(
        n_reviews=counts,
        raw_mean=raw_mean,
        median=median,
        adjusted_mean=_group_mean(proposal, adjusted, counts),
        spread_range=high - low,
        spread_sd=spread_sd,
    )


def _group_mean(group: np.ndarray, values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    sums = np.bincount(group, weights=values, minlength=counts.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _group_order_stats(
    group: np.ndarray, values: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimum, median and maximum per group, from one lexicographic sort."""
    order = np.lexsort((values, group))
    sorted_values = values[order]
    starts = np.cumsum(counts) - counts
    has = counts > 0
    first = np.where(has, starts, 0)
    last = np.where(has, starts + counts - 1, 0)
    mid_low = np.where(has, starts + (counts - 1) // 2, 0)
    mid_high = np.where(has, starts + counts // 2, 0)
    if sorted_values.size == 0:
        nan = np.full(counts.size, np.nan)
        return nan, nan.copy(), nan.copy()

    def pick(index: np.ndarray) -> np.ndarray:
        return np.where(has, sorted_values[index], np.nan)

    return pick(first), (pick(mid_low) + pick(mid_high)) / 2, pick(last)


# ------------------------------------------------------------------------------- normalisation


@dataclass
class NormalisationResult:
    """Per-juror corrections, per-review adjusted scores and the per-proposal table.

    ``adjusted_score = clip((score - offset_j - centre) / scale_j + centre, 0, 100)``.
    ``offset_shrinkage`` is n_j / (n_j + lambda_offset) (0 for jurors not adjusted).
    ``noise_sd``, ``offset_sd`` and ``scale_sd`` are the method-of-moments estimates of the
    review noise and of the spread of true offsets and scales across jurors.
    """

    juror_offset: np.ndarray
    juror_scale: np.ndarray
    juror_n: np.ndarray
    juror_adjusted: np.ndarray
    offset_shrinkage: np.ndarray
    adjusted_score: np.ndarray
    centre: float
    noise_sd: float
    offset_sd: float
    scale_sd: float
    lambda_offset: float
    lambda_scale: float
    proposals: ProposalTable


@dataclass
class _Fit:
    theta: np.ndarray  # proposal effect, relative to the centre
    offset: np.ndarray
    scale: np.ndarray


def normalise(
    *,
    review_proposal: np.ndarray,
    review_juror: np.ndarray,
    review_score: np.ndarray,
    min_reviews: int,
    prior_strength: float | None = None,
    estimate_scale: bool = True,
    n_proposals: int | None = None,
    n_jurors: int | None = None,
    iterations: int = 200,
) -> NormalisationResult:
    """Estimate and remove each juror's offset and scale by empirical Bayes.

    Model: ``score - centre = scale_j * theta_p + offset_j + noise``, where ``centre`` is the mean
    of all scores, ``theta_p`` the proposal effect, and offsets and scales are random juror
    effects around 0 and 1.

    1. Unshrunk additive fit (scale 1) by alternating least squares: proposal effects, then
       juror offsets, centred (review-weighted) on the adjusted jurors.
    2. Method of moments: noise variance ``sigma2 = RSS / (N - P - J + 1)``; offset variance
       ``tau2 = var(offsets) - sigma2 * mean(1 / n_j)``; ``lambda = sigma2 / tau2`` (offsets are
       shrunk by ``n_j / (n_j + lambda)``). Likewise for scales, whose per-juror slope
       estimate has variance ``sigma2 / Sxx_j`` (``Sxx_j`` spread of the juror's proposals).
    3. Final fit by alternating ridge regression: this is the empirical-Bayes (BLUP) estimate,
       each juror's offset and scale being pulled towards 0 and 1 with these lambdas.

    ``prior_strength`` overrides the estimated lambda for offsets (in reviews: a juror with that
    many reviews gets half of their observed offset); jurors with fewer than ``min_reviews``
    reviews keep offset 0 and scale 1, and the correction is skipped altogether when there are
    too few degrees of freedom to tell bias from noise.
    """
    proposal = np.asarray(review_proposal, dtype=np.int64)
    juror = np.asarray(review_juror, dtype=np.int64)
    score = np.asarray(review_score, dtype=float)
    if not proposal.shape == juror.shape == score.shape:
        raise ValueError("review arrays must have the same length")
    n_p = int(n_proposals if n_proposals is not None else proposal.max(initial=-1) + 1)
    n_j = int(n_jurors if n_jurors is not None else juror.max(initial=-1) + 1)
    juror_n = np.bincount(juror, minlength=n_j)
    eligible = juror_n >= max(min_reviews, 1)
    centre = float(score.mean()) if score.size else 0.0
    y = score - centre

    raw = _fit_additive(proposal, juror, y, eligible, n_p, iterations)
    residual = y - raw.theta[proposal] - raw.offset[juror]
    dof = score.size - np.count_nonzero(np.bincount(proposal, minlength=n_p)) - (
        np.count_nonzero(eligible) - 1
    )
    if dof <= 0 or np.count_nonzero(eligible) < 2:
        eligible = np.zeros(n_j, dtype=bool)
        sigma2 = float(np.mean(residual**2)) if score.size else 0.0
    else:
        sigma2 = float(np.sum(residual**2) / dof)

    tau2_offset, lambda_offset = _offset_prior(raw.offset, juror_n, eligible, sigma2)
    if prior_strength is not None:
        lambda_offset = float(prior_strength)
    tau2_scale, lambda_scale = _scale_prior(
        proposal, juror, y, raw, eligible, sigma2, estimate_scale
    )
    lambda_offset = max(lambda_offset, _MIN_LAMBDA)
    lambda_scale = max(lambda_scale, _MIN_LAMBDA)
    fit = _fit_shrunk(
        proposal, juror, y, eligible, raw, (lambda_offset, lambda_scale), iterations
    )
    adjusted = np.clip((y - fit.offset[juror]) / fit.scale[juror] + centre, 0.0, 100.0)
    shrinkage = np.where(eligible, juror_n / (juror_n + lambda_offset), 0.0)
    return NormalisationResult(
        juror_offset=fit.offset,
        juror_scale=fit.scale,
        juror_n=juror_n,
        juror_adjusted=eligible,
        offset_shrinkage=shrinkage,
        adjusted_score=adjusted,
        centre=centre,
        noise_sd=float(np.sqrt(sigma2)),
        offset_sd=float(np.sqrt(tau2_offset)),
        scale_sd=float(np.sqrt(tau2_scale)),
        lambda_offset=lambda_offset,
        lambda_scale=lambda_scale,
        proposals=proposal_table(
            review_proposal=proposal, review_score=score, n_proposals=n_p,
            adjusted_score=adjusted,
        ),
    )


def _fit_additive(
    proposal: np.ndarray,
    juror: np.ndarray,
    y: np.ndarray,
    eligible: np.ndarray,
    n_p: int,
    iterations: int,
) -> _Fit:
    """Least-squares ``y = theta_p + offset_j`` by alternating (backfitting) updates.

    Offsets exist only for eligible jurors and are centred on their review-weighted mean, so an
    offset reads "harsher (negative) or more lenient (positive) than the average juror".
    """
    n_j = eligible.size
    p_count = np.maximum(np.bincount(proposal, minlength=n_p), 1)
    j_count = np.maximum(np.bincount(juror, minlength=n_j), 1)
    offset = np.zeros(n_j)
    theta = np.zeros(n_p)
    for _ in range(iterations):
        theta = np.bincount(proposal, weights=y - offset[juror], minlength=n_p) / p_count
        new = np.bincount(juror, weights=y - theta[proposal], minlength=n_j) / j_count
        new = np.where(eligible, new, 0.0)
        if eligible.any():
            weights = j_count * eligible
            new = np.where(eligible, new - np.sum(new * weights) / weights.sum(), 0.0)
        converged = np.max(np.abs(new - offset), initial=0.0) < 1e-10
        offset = new
        if converged:
            break
    theta = np.bincount(proposal, weights=y - offset[juror], minlength=n_p) / p_count
    return _Fit(theta=theta, offset=offset, scale=np.ones(n_j))


def _offset_prior(
    offset: np.ndarray, juror_n: np.ndarray, eligible: np.ndarray, sigma2: float
) -> tuple[float, float]:
    """Method of moments: observed offset variance = true variance + mean sampling variance."""
    m = np.count_nonzero(eligible)
    if m < 2:
        return 0.0, _NO_EFFECT_LAMBDA
    observed = float(np.sum(offset[eligible] ** 2) / (m - 1))
    tau2 = observed - sigma2 * float(np.mean(1.0 / juror_n[eligible]))
    return _lambda_from(tau2, sigma2)


def _scale_prior(
    proposal: np.ndarray,
    juror: np.ndarray,
    y: np.ndarray,
    raw: _Fit,
    eligible: np.ndarray,
    sigma2: float,
    estimate_scale: bool,
) -> tuple[float, float]:
    """Same for scales: per-juror slope of their scores on the proposal effects."""
    m = np.count_nonzero(eligible)
    if not estimate_scale or m < 2:
        return 0.0, _NO_EFFECT_LAMBDA
    stats = _juror_sums(juror, raw.theta[proposal], y, eligible.size)
    sxx = stats["xx"] - stats["x"] ** 2 / np.maximum(stats["n"], 1)
    sxy = stats["xy"] - stats["x"] * stats["y"] / np.maximum(stats["n"], 1)
    usable = eligible & (sxx > 1e-9)
    if np.count_nonzero(usable) < 2:
        return 0.0, _NO_EFFECT_LAMBDA
    slope = sxy[usable] / sxx[usable]
    tau2 = float(np.var(slope, ddof=1)) - sigma2 * float(np.mean(1.0 / sxx[usable]))
    return _lambda_from(tau2, sigma2)


def _lambda_from(tau2: float, sigma2: float) -> tuple[float, float]:
    if tau2 <= 0.0 or not np.isfinite(tau2):
        return 0.0, _NO_EFFECT_LAMBDA
    return tau2, min(sigma2 / tau2, _NO_EFFECT_LAMBDA)


def _juror_sums(
    juror: np.ndarray, x: np.ndarray, y: np.ndarray, n_j: int
) -> dict[str, np.ndarray]:
    def total(weights: np.ndarray | None) -> np.ndarray:
        return np.bincount(juror, weights=weights, minlength=n_j).astype(float)

    return {"n": total(None), "x": total(x), "y": total(y), "xx": total(x * x),
            "xy": total(x * y)}


def _fit_shrunk(
    proposal: np.ndarray,
    juror: np.ndarray,
    y: np.ndarray,
    eligible: np.ndarray,
    start: _Fit,
    lambdas: tuple[float, float],
    iterations: int,
) -> _Fit:
    """Alternating ridge fit of ``y = scale_j * theta_p + offset_j``.

    Given the proposal effects, each juror's (offset, scale) minimises
    ``sum (y - offset - scale * theta)^2 + lambda_o * offset^2 + lambda_s * (scale - 1)^2``,
    a 2 x 2 linear system solved for all jurors at once; given the juror effects, each proposal
    effect is an ordinary least-squares fit. Starts from the unshrunk fit (whose offsets are
    centred), which keeps the overall level where the data put it even for tiny lambdas.
    """
    lambda_offset, lambda_scale = lambdas
    n_j, n_p = eligible.size, start.theta.size
    offset, scale, theta = start.offset.copy(), start.scale.copy(), start.theta.copy()
    for _ in range(iterations):
        a = scale[juror]
        num = np.bincount(proposal, weights=a * (y - offset[juror]), minlength=n_p)
        den = np.bincount(proposal, weights=a * a, minlength=n_p)
        theta = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
        s = _juror_sums(juror, theta[proposal], y, n_j)
        a11, a12, a22 = s["n"] + lambda_offset, s["x"], s["xx"] + lambda_scale
        b1, b2 = s["y"], s["xy"] + lambda_scale
        det = a11 * a22 - a12 * a12
        safe = eligible & (det > 0)
        det = np.where(safe, det, 1.0)
        new_offset = np.where(safe, (a22 * b1 - a12 * b2) / det, 0.0)
        new_scale = np.where(safe, (a11 * b2 - a12 * b1) / det, 1.0)
        new_scale = np.clip(new_scale, _MIN_SCALE, _MAX_SCALE)
        change = max(np.max(np.abs(new_offset - offset), initial=0.0),
                     np.max(np.abs(new_scale - scale), initial=0.0))
        offset, scale = new_offset, new_scale
        if change < 1e-10:
            break
    return _Fit(theta=theta, offset=offset, scale=scale)


# ---------------------------------------------------------------------------------- bootstrap


def rank_descending(values: np.ndarray) -> np.ndarray:
    """Competition ranks along the last axis: 1 = highest, ties share the best rank, NaN last.

    The rank is 1 + the number of strictly greater values: after an ascending sort, that is
    n minus the position of the last element of the run of equal values.
    """
    values = np.asarray(values, dtype=float)
    values = np.where(np.isnan(values), -np.inf, values)
    n = values.shape[-1] if values.ndim else 1
    order = np.argsort(values, axis=-1)
    ordered = np.take_along_axis(values, order, axis=-1)
    run_end_marker = np.ones(ordered.shape, dtype=bool)
    run_end_marker[..., :-1] = ordered[..., 1:] != ordered[..., :-1]
    positions = np.where(run_end_marker, np.arange(n, dtype=np.int32), np.int32(n))
    run_end = np.flip(np.minimum.accumulate(np.flip(positions, -1), axis=-1), -1)
    ranks = np.empty(values.shape, dtype=np.int32)
    np.put_along_axis(ranks, order, (n - run_end).astype(np.int32), axis=-1)
    return ranks


def bootstrap_ranks(
    *,
    review_proposal: np.ndarray,
    review_score: np.ndarray,
    n_proposals: int,
    resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.1,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval (level 1 - alpha) of each proposal's rank under review resampling.

    Each resample redraws, with replacement, as many reviews as each proposal has among its own
    reviews, then ranks the proposals by mean (1 = best). Proposals of equal review count are
    drawn together as one index array, so the work is a few numpy operations per distinct count.
    Proposals without reviews get NaN bounds (and are ranked last in every resample).
    """
    proposal = np.asarray(review_proposal, dtype=np.int64)
    score = np.asarray(review_score, dtype=float)
    rng = np.random.default_rng(seed)
    means = _bootstrap_means(proposal, score, n_proposals, resamples, rng)
    ranks = rank_descending(means)
    low = np.quantile(ranks, alpha / 2, axis=0, method="lower")
    high = np.quantile(ranks, 1 - alpha / 2, axis=0, method="higher")
    unreviewed = np.bincount(proposal, minlength=n_proposals) == 0
    return np.where(unreviewed, np.nan, low), np.where(unreviewed, np.nan, high)


def _bootstrap_means(
    proposal: np.ndarray, score: np.ndarray, n_p: int, resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """(resamples, n_p) matrix of resampled means, NaN for proposals without reviews."""
    counts = np.bincount(proposal, minlength=n_p)
    order = np.argsort(proposal, kind="stable")
    sorted_scores = score[order]
    starts = np.cumsum(counts) - counts
    means = np.full((resamples, n_p), np.nan)
    for size in np.unique(counts[counts > 0]):
        group = np.nonzero(counts == size)[0]
        block = max(1, 4_000_000 // (group.size * size))  # bound memory of the index array
        for first in range(0, resamples, block):
            rows = min(block, resamples - first)
            draw = rng.integers(0, size, size=(rows, group.size, size), dtype=np.int32)
            picked = sorted_scores[starts[group][None, :, None] + draw]
            means[first:first + rows, group] = picked.mean(axis=2)
    return means


# ---------------------------------------------------------------------------- sensitivity


@dataclass
class SensitivityResult:
    """``changes_side[p]``: proposal p crosses the cut-off under at least one weight change.

    ``base_in`` is the selection with the original weights; ``inside`` has one column per
    perturbation, in the order of ``perturbations`` (criterion index, relative change).
    """

    base_in: np.ndarray
    inside: np.ndarray
    perturbations: list[tuple[int, float]]
    changes_side: np.ndarray


def perturbed_weights(weights: np.ndarray, delta: float) -> tuple[np.ndarray, list]:
    """Each criterion's weight times (1 + delta) and (1 - delta), the others rescaled to 100."""
    weights = np.asarray(weights, dtype=float)
    rows, labels = [], []
    for c in range(weights.size):
        for change in (delta, -delta):
            new_c = min(weights[c] * (1 + change), 100.0)
            others = 100.0 - weights[c]
            factor = (100.0 - new_c) / others if others > 0 else 0.0
            row = weights * factor
            row[c] = new_c
            rows.append(row)
            labels.append((c, change))
    return np.array(rows).reshape(-1, weights.size), labels


def weight_sensitivity(
    *,
    scores: np.ndarray,
    weights: np.ndarray,
    scale_max: int,
    review_proposal: np.ndarray,
    n_proposals: int,
    cutoff_rank: int | None = None,
    select: Callable[[np.ndarray], np.ndarray] | None = None,
    delta: float = 0.10,
) -> SensitivityResult:
    """Which proposals change side of the cut-off when one weight moves by +/- delta (relative).

    The side is given either by ``cutoff_rank`` (ranks 1..cutoff_rank of the proposal means are
    in) or by ``select``, a function from the vector of proposal means to a boolean mask (e.g. a
    budget-constrained selection). Proposal means are plain means of the weighted review scores.
    """
    if (cutoff_rank is None) == (select is None):
        raise ValueError("give exactly one of cutoff_rank or select")
    proposal = np.asarray(review_proposal, dtype=np.int64)
    marks = np.asarray(scores, dtype=float)
    table, labels = perturbed_weights(np.asarray(weights, dtype=float), delta)
    all_weights = np.vstack([np.asarray(weights, dtype=float)[None, :], table])
    review_scores = marks @ all_weights.T / scale_max  # (n_reviews, 1 + 2 * n_criteria)
    counts = np.bincount(proposal, minlength=n_proposals)
    sums = np.zeros((n_proposals, all_weights.shape[0]))
    np.add.at(sums, proposal, review_scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], np.nan)

    def side(column: np.ndarray) -> np.ndarray:
        if select is not None:
            return np.asarray(select(column), dtype=bool)
        return rank_descending(column) <= cutoff_rank

    inside = np.column_stack([side(means[:, c]) for c in range(means.shape[1])])
    base_in = inside[:, 0]
    perturbed = inside[:, 1:]
    return SensitivityResult(
        base_in=base_in,
        inside=perturbed,
        perturbations=labels,
        changes_side=(perturbed != base_in[:, None]).any(axis=1),
    )
