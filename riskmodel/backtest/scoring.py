"""Proper scores of a forecast given as samples (paths) against what happened.

All functions take the forecast as a 1-d array of samples of one target (tonnes) and
the realised value ``y``:

``crps_sample``
    The continuous ranked probability score of the samples' empirical distribution,
    in its energy form ``E|X - y| - 1/2 E|X - X'|`` (Gneiting and Raftery 2007). The
    pair term is computed in ``O(n log n)`` by sorting:
    ``E|X - X'| = 2 / n**2 * sum_i (2 i - n - 1) x_(i)`` for the order statistics
    ``x_(1) <= ... <= x_(n)``. It is the exact CRPS of the empirical distribution
    (the "V-statistic"; the "fair" version would divide the pair sum by
    ``n (n - 1)``), in the units of the forecast.
``interval_score`` and ``weighted_interval_score``
    The interval score of a central ``(1 - alpha)`` interval and the weighted
    interval score of Bracher et al. (2021, PLOS Comput Biol 17(2): e1008618) over
    the central 50, 80 and 95% intervals and the median:
    ``WIS = (|y - m| / 2 + sum_k alpha_k / 2 * IS_alpha_k) / (K + 1/2)``. WIS
    approximates the CRPS and is in the same units.
``pit_value``
    The probability integral transform of the outcome under the samples, with ties
    split at random as in a randomised PIT but deterministically at their middle:
    ``(#{x < y} + #{x == y} / 2) / n``. Over many targets of a calibrated forecast
    it is uniform on [0, 1].
``score_samples``
    Everything the backtest records for one target: CRPS, WIS, the absolute error of
    the median, the PIT, and whether each central interval held the actual.

Quantiles of the samples use NumPy's default (linear interpolation).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np

#: Central interval levels the backtest checks (and WIS weighs): 50, 80 and 95%.
INTERVAL_LEVELS: Final[tuple[float, ...]] = (0.50, 0.80, 0.95)


def _samples(samples: np.ndarray | Sequence[float]) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float64).ravel()
    if x.size == 0:
        raise ValueError("no samples to score")
    if not np.isfinite(x).all():
        raise ValueError("samples must be finite")
    return x


def crps_sample(samples: np.ndarray | Sequence[float], y: float) -> float:
    """CRPS of the empirical distribution of ``samples`` at the outcome ``y``.

    Parameters
    ----------
    samples : array_like
        Forecast samples of one quantity (any shape; flattened).
    y : float
        The realised value.

    Returns
    -------
    float
        ``mean|x - y| - 1/2 mean|x_i - x_j|`` over all ordered pairs, in the units of
        ``samples``; 0 only for a point forecast equal to ``y``.
    """
    x = np.sort(_samples(samples))
    n = x.size
    spread = 2.0 * np.dot(2.0 * np.arange(1, n + 1) - n - 1.0, x) / (n * n)
    return float(np.mean(np.abs(x - float(y))) - 0.5 * spread)


def pit_value(samples: np.ndarray | Sequence[float], y: float) -> float:
    """PIT of ``y`` under the empirical distribution of ``samples`` (ties at their middle).

    Parameters
    ----------
    samples : array_like
        Forecast samples of one quantity.
    y : float
        The realised value.

    Returns
    -------
    float
        In [0, 1]; uniform over many targets of a calibrated forecast.
    """
    x = _samples(samples)
    below = np.count_nonzero(x < y)
    ties = np.count_nonzero(x == y)
    return float((below + 0.5 * ties) / x.size)


def interval_score(lower: float, upper: float, y: float, alpha: float) -> float:
    """Interval score of the central ``(1 - alpha)`` interval ``[lower, upper]``.

    ``(u - l) + 2/alpha * (l - y) * 1(y < l) + 2/alpha * (y - u) * 1(y > u)``
    (Gneiting and Raftery 2007, eq. 43).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    penalty = 2.0 / alpha * (max(lower - y, 0.0) + max(y - upper, 0.0))
    return float(upper - lower + penalty)


def weighted_interval_score(
    median: float,
    intervals: Sequence[tuple[float, float, float]],
    y: float,
) -> float:
    """Weighted interval score (Bracher et al. 2021) from a median and central intervals.

    Parameters
    ----------
    median : float
        The predictive median ``m``.
    intervals : sequence of (alpha, lower, upper)
        Central ``(1 - alpha)`` intervals.
    y : float
        The realised value.

    Returns
    -------
    float
        ``(1/2 |y - m| + sum_k alpha_k / 2 * IS_alpha_k(l_k, u_k, y)) / (K + 1/2)``.
    """
    total = 0.5 * abs(y - median)
    for alpha, lower, upper in intervals:
        total += alpha / 2.0 * interval_score(lower, upper, y, alpha)
    return float(total / (len(intervals) + 0.5))


def score_samples(
    samples: np.ndarray | Sequence[float],
    y: float,
    levels: Sequence[float] = INTERVAL_LEVELS,
) -> dict[str, float | bool]:
    """Score one target: CRPS, WIS, absolute error of the median, interval coverage.

    Parameters
    ----------
    samples : array_like
        Forecast samples of the target.
    y : float
        What happened.
    levels : sequence of float
        Central interval levels (default 0.5, 0.8, 0.95); each gives an ``in{pct}``
        entry and a term of the WIS.

    Returns
    -------
    dict
        ``crps``, ``wis``, ``abs_error``, ``pit`` (floats) and ``in50``, ``in80``, ``in95``
        (bools: ``lower <= y <= upper``), keys named after ``levels``.
    """
    x = _samples(samples)
    y = float(y)
    alphas = [1.0 - float(level) for level in levels]
    probs = [0.5] + [a / 2 for a in alphas] + [1 - a / 2 for a in alphas]
    q = np.quantile(x, probs)
    k = len(alphas)
    median = float(q[0])
    intervals = [(a, float(q[1 + i]), float(q[1 + k + i])) for i, a in enumerate(alphas)]
    out: dict[str, float | bool] = {
        "crps": crps_sample(x, y),
        "wis": weighted_interval_score(median, intervals, y),
        "abs_error": abs(median - y),
        "pit": pit_value(x, y),
    }
    for level, (_, lower, upper) in zip(levels, intervals, strict=True):
        out[f"in{round(level * 100)}"] = bool(lower <= y <= upper)
    return out


__all__ = [
    "INTERVAL_LEVELS",
    "crps_sample",
    "interval_score",
    "pit_value",
    "score_samples",
    "weighted_interval_score",
]
