"""Baselines: one output type, non-negative, reproducible, seasonal, gap-tolerant."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from riskmodel.exceptions import DataQualityWarning, DataValidationError
from riskmodel.models.baselines import (
    BASELINE_METHODS,
    MIN_OBSERVATIONS,
    forecast_baseline,
)

SEASONAL = 0.3 * np.sin(2 * np.pi * np.arange(12) / 12)  # log-scale pattern, Jan..Dec

# China's monthly magnet exports to the World (t), single-month customs releases only,
# from data/magnet_exports.csv (GACC via Reuters/SMM and others; see data/SOURCES.md).
WORLD = {
    "2016-12": 2532.0, "2017-11": 2614.0, "2017-12": 2910.0, "2018-01": 2691.0,
    "2018-02": 2589.0, "2018-10": 2515.1, "2018-11": 2618.7, "2019-09": 2932.6,
    "2019-10": 3091.0, "2019-11": 2891.0, "2019-12": 3474.7, "2020-12": 3922.9,
    "2021-04": 3899.2, "2021-05": 4219.1, "2021-08": 4341.5, "2021-09": 4602.0,
    "2021-12": 4532.1, "2022-01": 4940.0, "2022-02": 3566.0, "2022-03": 4272.1,
    "2022-04": 4601.0, "2022-05": 4876.0, "2023-07": 4755.0, "2023-08": 4226.2,
    "2023-10": 3905.0, "2024-02": 3326.0, "2024-04": 4776.4, "2024-05": 4811.5,
    "2024-06": 5150.2, "2024-07": 5278.0, "2024-08": 5325.0, "2024-09": 4915.0,
    "2024-10": 4725.0, "2024-11": 4793.8, "2025-01": 6357.0, "2025-02": 3590.3,
    "2025-03": 5323.2, "2025-04": 2627.0, "2025-05": 1238.0, "2025-06": 3188.0,
    "2025-07": 5577.0, "2025-08": 6146.0, "2025-09": 5774.0, "2025-10": 5473.0,
    "2025-11": 6150.0, "2025-12": 5952.0,
}  # fmt: skip


def synthetic(n: int = 72, *, sd: float = 0.1, level: float = 1000.0, seed: int = 0) -> pd.Series:
    """Log-normal noise around a fixed seasonal mean, starting 2019-01."""
    rng = np.random.default_rng(seed)
    z = np.log(level) + SEASONAL[np.arange(n) % 12] + rng.normal(0.0, sd, n)
    index = pd.period_range("2019-01", periods=n, freq="M")
    return pd.Series(np.exp(z), index=index, name="synthetic")


def world() -> pd.Series:
    s = pd.Series(WORLD, name="World")
    s.index = pd.PeriodIndex(s.index, freq="M")
    return s


@pytest.fixture(scope="module")
def seasonal_series() -> pd.Series:
    return synthetic()


@pytest.mark.parametrize("method", BASELINE_METHODS)
def test_shape_nonnegative_and_reproducible(seasonal_series, method):
    a = forecast_baseline(seasonal_series, 7, method=method, n_paths=300, rng=42)
    assert a.shape == (300, 7) and a.dtype == np.float64
    assert np.isfinite(a).all() and (a >= 0).all()
    b = forecast_baseline(seasonal_series, 7, method=method, n_paths=300, rng=42)
    np.testing.assert_array_equal(a, b)
    c = forecast_baseline(
        seasonal_series, 7, method=method, n_paths=300, rng=np.random.default_rng(42)
    )
    np.testing.assert_array_equal(a, c)
    d = forecast_baseline(seasonal_series, 7, method=method, n_paths=300, rng=43)
    assert not np.array_equal(a, d)


def test_methods_constant():
    assert BASELINE_METHODS == ("snaive", "ets", "sarimax")


def test_snaive_keeps_the_seasonality():
    s = synthetic(48, sd=0.02)
    paths = forecast_baseline(s, 24, method="snaive", n_paths=2000, rng=0)
    median = np.median(paths, axis=0)
    # starts 2023-01; months 0..11 copy 2022, months 12..23 copy 2022 again
    np.testing.assert_allclose(np.log(median[:12]), np.log(s.iloc[-12:].to_numpy()), atol=0.03)
    np.testing.assert_allclose(median[12:], median[:12], rtol=0.05)
    assert np.argmax(median[:12]) == np.argmax(SEASONAL)
    assert np.argmin(median[:12]) == np.argmin(SEASONAL)
    # two years ahead carries two resampled errors: wider
    width = np.log(np.quantile(paths, 0.95, axis=0) / np.quantile(paths, 0.05, axis=0))
    assert width[12:].mean() > 1.2 * width[:12].mean()


@pytest.mark.parametrize("method", BASELINE_METHODS)
def test_quantiles_sensible_on_a_known_process(method):
    sd = 0.1
    s = synthetic(96, sd=sd, seed=3)
    paths = forecast_baseline(s, 12, method=method, n_paths=4000, rng=1)
    truth = 1000.0 * np.exp(SEASONAL)  # the process median, 2027-01..2027-12
    q05, q50, q95 = np.quantile(paths, [0.05, 0.5, 0.95], axis=0)
    assert (q05 < q50).all() and (q50 < q95).all()
    # snaive copies one noisy year (log sd 0.1, plus the median resampled error)
    np.testing.assert_allclose(np.log(q50), np.log(truth), atol=0.3 if method == "snaive" else 0.15)
    width = np.log(q95 / q05)
    ideal = 2 * 1.645 * sd  # a perfect forecaster's 90% log width
    assert (width > 0.8 * ideal).all() and (width < 3.0 * ideal).all()
    # seasonality followed: the forecast median peaks and troughs where the truth does
    assert np.corrcoef(np.log(q50), SEASONAL)[0, 1] > 0.9
    # coverage of fresh draws of the same process
    rng = np.random.default_rng(99)
    future = truth * np.exp(rng.normal(0.0, sd, (500, 12)))
    coverage = ((future >= q05) & (future <= q95)).mean()
    assert 0.8 <= coverage <= 0.995


@pytest.mark.parametrize("method", BASELINE_METHODS)
def test_gaps_tolerated(method):
    s = synthetic(72, seed=5)
    drop = np.random.default_rng(2).choice(np.arange(1, 60), size=12, replace=False)
    s.iloc[drop] = np.nan
    s.iloc[-1] = np.nan  # trailing missing month
    s = s.drop(s.index[[30, 31]])  # periods absent from the index are missing too
    paths = forecast_baseline(s, 6, method=method, n_paths=500, rng=0)
    assert paths.shape == (500, 6)
    assert np.isfinite(paths).all() and (paths >= 0).all()
    # still the seasonal level, for the months after the last index (2025-01..06)
    median = np.median(paths, axis=0)
    np.testing.assert_allclose(np.log(median), np.log(1000.0) + SEASONAL[:6], atol=0.25)


@pytest.mark.parametrize("method", BASELINE_METHODS)
def test_world_only_sparse_history(method):
    paths = forecast_baseline(world(), 12, method=method, n_paths=1000, rng=0)
    assert paths.shape == (1000, 12)
    assert np.isfinite(paths).all() and (paths >= 0).all()
    median = np.median(paths, axis=0)
    assert (median > 1000).all() and (median < 15000).all()


def test_zeros_are_handled():
    s = synthetic(48, seed=1)
    s.iloc[[5, 20, 40]] = 0.0  # real zeros, like gallium in August 2023
    for method in BASELINE_METHODS:
        paths = forecast_baseline(s, 6, method=method, n_paths=200, rng=0)
        assert np.isfinite(paths).all() and (paths >= 0).all()


def test_all_zero_series_forecasts_zero_with_a_warning():
    s = synthetic(24) * 0.0
    with pytest.warns(DataQualityWarning, match="every observed month is zero"):
        paths = forecast_baseline(s, 3, method="ets", n_paths=10, rng=0)
    assert (paths == 0).all()


# An ARIMA(0,1,1) on 18 months of seasonal noise may not converge; that warning is fine.
@pytest.mark.filterwarnings("ignore::riskmodel.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("method", ["ets", "sarimax"])
def test_short_series_fitted_without_seasonality_and_says_so(method):
    s = synthetic(18)
    with pytest.warns(DataQualityWarning, match="without seasonality"):
        paths = forecast_baseline(s, 4, method=method, n_paths=100, rng=0)
    assert paths.shape == (100, 4)


@pytest.mark.parametrize("method", BASELINE_METHODS)
def test_too_short_refused(method):
    s = synthetic(30)
    s.iloc[: 30 - (MIN_OBSERVATIONS - 1)] = np.nan
    with pytest.raises(DataValidationError, match=f"needs? at least {MIN_OBSERVATIONS}"):
        forecast_baseline(s, 3, method=method, n_paths=10, rng=0)


def test_snaive_needs_seasonal_pairs_and_recent_months():
    s = synthetic(16)  # 16 months: only 4 lag-12 pairs
    with pytest.raises(DataValidationError, match="at least 6"):
        forecast_baseline(s, 3, method="snaive", n_paths=10, rng=0)
    s = synthetic(60)
    s[s.index.month == 3] = np.nan  # March never observed
    with pytest.raises(DataValidationError, match="March was not observed"):
        forecast_baseline(s, 3, method="snaive", n_paths=10, rng=0)


@pytest.mark.parametrize(
    ("series", "match"),
    [
        (
            pd.Series([1.0] * 20, index=pd.date_range("2020-01", periods=20, freq="MS")),
            "monthly PeriodIndex",
        ),
        (
            pd.Series([1.0] * 20, index=pd.period_range("2020-01-01", periods=20, freq="D")),
            "with freq D",
        ),
        (
            pd.Series([1.0] * 20, index=pd.PeriodIndex(["2020-01"] * 20, freq="M")),
            "duplicate months 2020-01",
        ),
        (
            pd.Series([1.0] * 19 + [-1.0], index=pd.period_range("2020-01", periods=20, freq="M")),
            "negative quantity in 2021-08",
        ),
        (
            pd.Series(
                [1.0] * 19 + [np.inf], index=pd.period_range("2020-01", periods=20, freq="M")
            ),
            "infinite",
        ),
        (
            pd.Series([np.nan] * 20, index=pd.period_range("2020-01", periods=20, freq="M")),
            "no observed month",
        ),
    ],
)
def test_bad_input_refused(series, match):
    with pytest.raises(DataValidationError, match=match):
        forecast_baseline(series, 3, method="snaive", n_paths=10, rng=0)


def test_bad_arguments():
    s = synthetic(24)
    with pytest.raises(ValueError, match="unknown baseline method"):
        forecast_baseline(s, 3, method="prophet", n_paths=10, rng=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="horizon"):
        forecast_baseline(s, 0, method="snaive", n_paths=10, rng=0)
    with pytest.raises(ValueError, match="n_paths"):
        forecast_baseline(s, 3, method="snaive", n_paths=0, rng=0)


def test_no_statsmodels_warnings_leak():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        forecast_baseline(world(), 6, method="sarimax", n_paths=50, rng=0)
        forecast_baseline(world(), 6, method="ets", n_paths=50, rng=0)
