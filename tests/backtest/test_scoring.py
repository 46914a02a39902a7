"""Scores: CRPS against closed forms and hand-computed cases, WIS by hand."""

import math

import numpy as np
import pytest
from scipy import stats

from riskmodel.backtest.scoring import (
    crps_sample,
    interval_score,
    score_samples,
    weighted_interval_score,
)


def crps_normal(mu: float, sigma: float, y: float) -> float:
    z = (y - mu) / sigma
    phi, cdf = stats.norm.pdf(z), stats.norm.cdf(z)
    return sigma * (z * (2 * cdf - 1) + 2 * phi - 1 / math.sqrt(math.pi))


@pytest.mark.parametrize("y", [-2.5, 0.0, 0.7, 3.0])
def test_crps_matches_the_normal_closed_form(y):
    x = np.random.default_rng(1).normal(1.0, 2.0, size=200_000)
    assert crps_sample(x, y) == pytest.approx(crps_normal(1.0, 2.0, y), rel=0.01, abs=0.005)


def test_crps_hand_computed_tiny_case():
    # E|X - 3| = (2 + 1 + 1) / 3; E|X - X'| = 2 (1 + 3 + 2) / 9 over ordered pairs
    assert crps_sample([1.0, 2.0, 4.0], 3.0) == pytest.approx(4 / 3 - 0.5 * 12 / 9)
    assert crps_sample([4.0, 1.0, 2.0], 3.0) == pytest.approx(2 / 3)  # order does not matter


def test_crps_of_a_point_forecast_is_the_absolute_error():
    assert crps_sample([5.0] * 10, 5.0) == pytest.approx(0.0)
    assert crps_sample([5.0] * 10, 2.0) == pytest.approx(3.0)


def test_crps_sorting_form_equals_pairwise_and_the_cdf_integral():
    rng = np.random.default_rng(7)
    x = rng.lognormal(3.0, 0.8, size=301)
    y = 25.0
    pairwise = np.mean(np.abs(x - y)) - 0.5 * np.mean(np.abs(x[:, None] - x[None, :]))
    assert crps_sample(x, y) == pytest.approx(pairwise, rel=1e-12)
    # integral of (F_n(t) - 1{t >= y})^2 over t, exact for the step function
    grid = np.sort(np.append(x, y))
    f = np.searchsorted(np.sort(x), grid[:-1], side="right") / x.size
    h = (grid[:-1] >= y).astype(float)
    integral = np.sum((f - h) ** 2 * np.diff(grid))
    assert crps_sample(x, y) == pytest.approx(integral, rel=1e-9)


def test_crps_rejects_empty_or_nonfinite():
    with pytest.raises(ValueError):
        crps_sample([], 1.0)
    with pytest.raises(ValueError):
        crps_sample([1.0, np.nan], 1.0)


def test_interval_score_by_hand():
    assert interval_score(6, 9, 10, 0.5) == pytest.approx(3 + 4 * 1)
    assert interval_score(6, 9, 7, 0.5) == pytest.approx(3)
    assert interval_score(6, 9, 5, 0.2) == pytest.approx(3 + 10 * 1)


def test_wis_hand_computed():
    # y = 10, median 8; 50%: [6, 9] -> IS 7; 80%: [4, 12] -> 8; 95%: [2, 14] -> 12
    wis = weighted_interval_score(8, [(0.5, 6, 9), (0.2, 4, 12), (0.05, 2, 14)], 10)
    expected = (0.5 * 2 + 0.25 * 7 + 0.1 * 8 + 0.025 * 12) / 3.5
    assert wis == pytest.approx(expected) and wis == pytest.approx(1.1)


def test_score_samples_with_known_quantiles():
    x = np.arange(0, 1001, dtype=float)  # quantile q is exactly 1000 q
    s = score_samples(x, 600.0)
    assert s["abs_error"] == pytest.approx(100.0)
    assert (s["in50"], s["in80"], s["in95"]) == (True, True, True)
    expected = (
        0.5 * 100
        + 0.25 * interval_score(250, 750, 600, 0.5)
        + 0.1 * interval_score(100, 900, 600, 0.2)
        + 0.025 * interval_score(25, 975, 600, 0.05)
    ) / 3.5
    assert s["wis"] == pytest.approx(expected)
    s = score_samples(x, 800.0)
    assert (s["in50"], s["in80"], s["in95"]) == (False, True, True)
    s = score_samples(x, 990.0)
    assert (s["in50"], s["in80"], s["in95"]) == (False, False, False)


def test_wis_of_samples_matches_the_normal_quantiles():
    # (with three intervals WIS is a coarse, smaller approximation of the CRPS)
    x = np.random.default_rng(3).normal(0.0, 1.0, size=200_000)
    q = stats.norm.ppf
    exact = weighted_interval_score(
        0.0, [(a, q(a / 2), q(1 - a / 2)) for a in (0.5, 0.2, 0.05)], 0.8
    )
    s = score_samples(x, 0.8)
    assert s["wis"] == pytest.approx(exact, rel=0.02)
    assert s["wis"] < s["crps"] == pytest.approx(crps_normal(0.0, 1.0, 0.8), rel=0.02)
