"""Baseline forecasts (statsmodels only) to judge the PyMC model against in backtests.

Three methods share one output type: simulated paths of shape ``(path, month)``
in tonnes, never negative, starting the month after the series' last index.

``snaive``
    Seasonal naive: each month repeats the most recent observed value of the
    same calendar month (looking back at most :data:`SNAIVE_LOOKBACK_YEARS`
    years). The interval is empirical: a forecast ``k`` years ahead of its
    base value gets the sum of ``k`` past seasonal-naive errors (log-scale
    lag-12 differences, ``z[t] - z[t-12]`` where both are observed) resampled
    with replacement, independently per path and month. The errors are not
    centred, so past growth carries into the intervals.
``ets``
    Exponential smoothing in state-space form
    (:class:`statsmodels.tsa.statespace.exponential_smoothing.ExponentialSmoothing`):
    ETS(A,N,A), a local level plus 12-month seasonality (the structure of the
    PyMC model's counterfactual demand), or ETS(A,N,N) when the series is too
    short for seasonality (see below). Paths are simulated from the fitted
    state space.
``sarimax``
    The airline model SARIMA(0,1,1)(0,1,1)12, or ARIMA(0,1,1) when too short
    for seasonality; paths simulated from the fitted state space.

Conventions
-----------
Log scale
    All three work on ``z = log(y + c)``. ``c = 0`` when the series has no zero;
    with zeros (real ones, e.g. gallium in August 2023) ``c`` is half the
    smallest positive observation, which keeps the transform scale-free (the
    same series in kg or in t gives the same relative forecast), unlike
    ``log1p``, which would flatten a series of small tonnages. Paths are
    back-transformed with ``max(exp(z) - c, 0)``, and ``z`` is capped at
    ``log(100 * largest observation)`` so that the doubly integrated airline
    model cannot overflow on long horizons (a cap that binds only in the far
    tail).
Gaps
    Missing months (NaN, or periods absent from the index) are left missing,
    never filled. The state-space models (``ets``, ``sarimax``) skip them in the
    Kalman filter, so the whole span from the first to the last observation is
    used and long gaps simply widen the uncertainty; this is why the
    state-space form of ETS is used rather than ``ETSModel``, which would need
    interpolation or a contiguous stretch. Seasonal naive only needs the
    months it copies and the pairs it differences to be observed.
    Trailing missing months are forecast as part of the gap (the paths still
    start the month after the last index).
Minimum length
    Every method needs at least :data:`MIN_OBSERVATIONS` (12) observed months;
    seasonal naive also needs :data:`MIN_SNAIVE_ERRORS` (6) observed lag-12
    pairs and each forecast calendar month observed in the lookback. Shorter
    series raise :class:`~riskmodel.exceptions.DataValidationError`. The
    seasonal ``ets``/``sarimax`` forms need :data:`MIN_SEASONAL_OBSERVATIONS`
    (24) observed months *and* every calendar month observed in at least two
    years (otherwise some seasonal states are never pinned down and the
    simulated paths explode); failing that, the non-seasonal form is used and a
    :class:`~riskmodel.exceptions.DataQualityWarning` says so. A state-space fit
    whose one-step forecast is still unidentified (log-scale sd above 3) is
    refused with a ``DataValidationError``.
Randomness
    Everything random is drawn from the ``rng`` given, so a seed (or a
    generator in a given state) reproduces the paths exactly. State-space paths
    are simulated here, vectorised over paths, from the filtered state after the
    last month (the same distribution as statsmodels'
    ``simulate(anchor="end")``, which loops over paths and changed its seed
    argument between 0.14 and 0.15). They use the maximum-likelihood
    parameters (no parameter uncertainty), so their intervals are somewhat too
    narrow, as usual for such baselines.
    statsmodels' own start-up warnings are silenced; a fit whose optimiser
    did not converge raises a :class:`~riskmodel.exceptions.ConvergenceWarning`.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from riskmodel.exceptions import ConvergenceWarning, DataQualityWarning, DataValidationError

__all__ = [
    "BASELINE_METHODS",
    "MIN_OBSERVATIONS",
    "MIN_SEASONAL_OBSERVATIONS",
    "MIN_SNAIVE_ERRORS",
    "SNAIVE_LOOKBACK_YEARS",
    "forecast_baseline",
]

BaselineMethod = Literal["snaive", "ets", "sarimax"]

#: The methods :func:`forecast_baseline` knows.
BASELINE_METHODS: Final[tuple[str, ...]] = ("snaive", "ets", "sarimax")

#: Months in a season.
SEASON: Final[int] = 12
#: Fewest observed months any method accepts.
MIN_OBSERVATIONS: Final[int] = 12
#: Fewest observed months for the seasonal forms of ``ets`` and ``sarimax``.
MIN_SEASONAL_OBSERVATIONS: Final[int] = 24
#: Fewest observed lag-12 pairs (seasonal-naive errors) for ``snaive``.
MIN_SNAIVE_ERRORS: Final[int] = 6
#: How many years back ``snaive`` looks for an observed value of a calendar month.
SNAIVE_LOOKBACK_YEARS: Final[int] = 3
#: Simulated log values are capped at log(this × the largest observation).
_CAP_FACTOR: Final[float] = 100.0
#: A one-step log-scale forecast variance above this (sd 3, a factor of 20) means
#: the state space is not pinned down by the data (diffuse states never observed).
_MAX_ONE_STEP_VAR: Final[float] = 9.0


def forecast_baseline(
    series: pd.Series,
    horizon: int,
    *,
    method: BaselineMethod,
    n_paths: int,
    rng: np.random.Generator | int,
) -> np.ndarray:
    """Simulate baseline forecast paths for one monthly series.

    Parameters
    ----------
    series : pandas.Series
        Monthly quantities in tonnes on a ``PeriodIndex`` with frequency ``M``;
        NaN (or an absent period) for a missing month. Must be non-negative.
    horizon : int
        Number of months to forecast (>= 1), starting the month after the last
        index.
    method : {"snaive", "ets", "sarimax"}
        See the module notes.
    n_paths : int
        Number of simulated paths (>= 1).
    rng : numpy.random.Generator or int
        Random generator or seed; the same one gives the same paths.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(n_paths, horizon)``, tonnes, >= 0.

    Raises
    ------
    DataValidationError
        If the series is not monthly, has duplicate months, negative or
        infinite values, or is too short for the method (see the module notes).
    ValueError
        For an unknown method or a non-positive horizon or path count.
    """
    if method not in BASELINE_METHODS:
        raise ValueError(f"unknown baseline method {method!r}; use one of {BASELINE_METHODS}")
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    if isinstance(n_paths, bool) or not isinstance(n_paths, int | np.integer) or n_paths < 1:
        raise ValueError(f"n_paths must be a positive integer, got {n_paths!r}")
    horizon, n_paths = int(horizon), int(n_paths)
    gen = np.random.default_rng(rng)
    label = _label(series)
    y, first_month = _prepare(series, label)
    observed = ~np.isnan(y)
    n_obs = int(observed.sum())
    if n_obs < MIN_OBSERVATIONS:
        raise DataValidationError(
            f"{label}: {n_obs} observed months; the baselines need at least {MIN_OBSERVATIONS}"
        )
    positive = y[observed & (y > 0)]
    if positive.size == 0:
        warnings.warn(
            f"{label}: every observed month is zero; the baseline forecast is zero",
            DataQualityWarning,
            stacklevel=2,
        )
        return np.zeros((n_paths, horizon))
    offset = 0.0 if np.all(y[observed] > 0) else 0.5 * float(positive.min())
    z = np.log(y + offset)
    with _one_blas_thread():
        match method:
            case "snaive":
                paths = _snaive(z, first_month, horizon, n_paths, gen, label)
            case "ets" | "sarimax":
                paths = _state_space(z, first_month, horizon, n_paths, gen, label, kind=method)
    cap = math.log(_CAP_FACTOR * float(positive.max()) + offset)
    out = np.exp(np.minimum(paths, cap)) - offset
    return np.maximum(out, 0.0)


def _label(series: Any) -> str:
    name = getattr(series, "name", None)
    return f"series '{name}'" if name is not None else "series"


def _prepare(series: pd.Series, label: str) -> tuple[np.ndarray, pd.Period]:
    """Validate; return values on the full monthly range (first observed .. last index)."""
    if not isinstance(series, pd.Series):
        raise DataValidationError(f"{label}: expected a pandas Series, got {type(series).__name__}")
    index = series.index
    if not isinstance(index, pd.PeriodIndex) or index.freqstr not in ("M", "ME"):
        raise DataValidationError(
            f"{label}: needs a monthly PeriodIndex (freq 'M'), got {type(index).__name__}"
            f"{'' if not isinstance(index, pd.PeriodIndex) else f' with freq {index.freqstr}'}"
            "; convert with series.to_period('M')"
        )
    if len(index) == 0:
        raise DataValidationError(f"{label}: is empty")
    if index.has_duplicates:
        dupes = sorted({str(p) for p in index[index.duplicated()]})
        raise DataValidationError(f"{label}: duplicate months {', '.join(dupes[:5])}")
    try:
        values = pd.to_numeric(series, errors="raise").astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(f"{label}: non-numeric values ({exc})") from None
    values = values.sort_index()
    arr = values.to_numpy()
    if np.isinf(arr).any():
        raise DataValidationError(f"{label}: infinite values")
    if (arr < 0).any():
        first_bad = values.index[np.nan_to_num(arr, nan=0.0) < 0][0]
        raise DataValidationError(f"{label}: negative quantity in {first_bad}")
    observed = values.dropna()
    if observed.empty:
        raise DataValidationError(f"{label}: no observed month")
    full = pd.period_range(observed.index[0], values.index[-1], freq="M")
    return values.reindex(full).to_numpy(), full[0]


def _snaive(
    z: np.ndarray,
    first_month: pd.Period,
    horizon: int,
    n_paths: int,
    gen: np.random.Generator,
    label: str,
) -> np.ndarray:
    n = z.size
    obs = ~np.isnan(z)
    lagged = np.flatnonzero(obs[SEASON:] & obs[:-SEASON]) + SEASON
    errors = z[lagged] - z[lagged - SEASON]
    if errors.size < MIN_SNAIVE_ERRORS:
        raise DataValidationError(
            f"{label}: {errors.size} months observed together with the same month a year "
            f"earlier; the seasonal naive interval needs at least {MIN_SNAIVE_ERRORS}"
        )
    base = np.empty(horizon)
    years = np.empty(horizon, dtype=np.int64)
    for h in range(horizon):
        p = n + h
        k0 = -(-(p - (n - 1)) // SEASON)  # smallest k with p - 12k <= n - 1
        for k in range(k0, k0 + SNAIVE_LOOKBACK_YEARS):
            src = p - SEASON * k
            if src >= 0 and obs[src]:
                base[h], years[h] = z[src], k
                break
        else:
            month = first_month + p
            raise DataValidationError(
                f"{label}: {month.strftime('%B')} was not observed in the "
                f"{SNAIVE_LOOKBACK_YEARS} years before it is forecast; seasonal naive "
                "has no value to copy"
            )
    kmax = int(years.max())
    draws = gen.choice(errors, size=(n_paths, horizon, kmax), replace=True)
    draws *= np.arange(kmax)[None, None, :] < years[None, :, None]
    return base[None, :] + draws.sum(axis=2)


def _state_space(
    z: np.ndarray,
    first_month: pd.Period,
    horizon: int,
    n_paths: int,
    gen: np.random.Generator,
    label: str,
    *,
    kind: Literal["ets", "sarimax"],
) -> np.ndarray:
    observed = ~np.isnan(z)
    n_obs = int(observed.sum())
    calendar = (first_month.month - 1 + np.flatnonzero(observed)) % SEASON
    thin_months = int((np.bincount(calendar, minlength=SEASON) < 2).sum())
    seasonal = n_obs >= MIN_SEASONAL_OBSERVATIONS and thin_months == 0
    if not seasonal:
        why = (
            f"{n_obs} observed months (< {MIN_SEASONAL_OBSERVATIONS})"
            if n_obs < MIN_SEASONAL_OBSERVATIONS
            else f"{thin_months} calendar month(s) observed in fewer than 2 years"
        )
        warnings.warn(
            f"{label}: {why}; the {kind} baseline is fitted without seasonality",
            DataQualityWarning,
            stacklevel=3,
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if kind == "ets":
            from statsmodels.tsa.statespace.exponential_smoothing import ExponentialSmoothing

            model = ExponentialSmoothing(
                z,
                trend=False,
                seasonal=SEASON if seasonal else None,
                initialization_method="concentrated",
            )
            result = model.fit(disp=False)
        else:
            from statsmodels.tsa.statespace.sarimax import SARIMAX

            model = SARIMAX(
                z,
                order=(0, 1, 1),
                seasonal_order=(0, 1, 1, SEASON) if seasonal else (0, 0, 0, 0),
            )
            # On a gappy series statsmodels cannot estimate seasonal MA start values;
            # it warns (silenced here) and starts them at zero, which works well.
            result = model.fit(disp=False)
    if not result.mle_retvals.get("converged", True):
        messages = "; ".join(sorted({str(w.message).splitlines()[0] for w in caught}))
        warnings.warn(
            f"{label}: the {kind} baseline fit did not converge"
            + (f" (statsmodels: {messages})" if messages else ""),
            ConvergenceWarning,
            stacklevel=3,
        )
    return _simulate(result.filter_results, horizon, n_paths, gen, label, kind)


def _simulate(
    fr: Any, horizon: int, n_paths: int, gen: np.random.Generator, label: str, kind: str
) -> np.ndarray:
    """Simulate a fitted time-invariant state space from the end of the sample, vectorised.

    ``x[0] ~ N(a, P)`` (the predicted state after the last observation), then
    ``y[t] = Z x[t] + d + eps``, ``x[t+1] = T x[t] + c + R eta``. This is what
    ``MLEResults.simulate(anchor="end")`` does, but for all paths at once (it
    loops over repetitions) and with the caller's generator on every statsmodels
    version. The covariances are already multiplied by a concentrated scale.
    """
    a = np.asarray(fr.predicted_state[:, -1], dtype=np.float64)
    p = np.asarray(fr.predicted_state_cov[:, :, -1], dtype=np.float64)
    design = np.asarray(fr.design[:, :, 0], dtype=np.float64)[0]  # (k_states,)
    obs_intercept = float(np.asarray(fr.obs_intercept)[0, 0])
    obs_var = float(np.asarray(fr.obs_cov)[0, 0, 0])
    transition = np.asarray(fr.transition[:, :, 0], dtype=np.float64)
    state_intercept = np.asarray(fr.state_intercept[:, 0], dtype=np.float64)
    selection = np.asarray(fr.selection[:, :, 0], dtype=np.float64)
    state_cov = np.asarray(fr.state_cov[:, :, 0], dtype=np.float64)
    one_step_var = float(design @ p @ design) + obs_var
    if not np.isfinite(one_step_var) or one_step_var > _MAX_ONE_STEP_VAR:
        raise DataValidationError(
            f"{label}: the {kind} baseline is not identified from this series (one-step "
            f"log-scale sd {math.sqrt(one_step_var):.3g}); too few observations near the end"
        )
    x = a + gen.standard_normal((n_paths, a.size)) @ _root(p).T
    state_root = _root(state_cov)
    eta = gen.standard_normal((horizon, n_paths, state_cov.shape[0])) @ state_root.T
    eps = gen.standard_normal((horizon, n_paths)) * math.sqrt(max(obs_var, 0.0))
    out = np.empty((n_paths, horizon))
    for t in range(horizon):
        out[:, t] = x @ design + obs_intercept + eps[t]
        x = x @ transition.T + state_intercept + eta[t] @ selection.T
    return out


def _root(cov: np.ndarray) -> np.ndarray:
    """Return ``L`` with ``L @ L.T == cov`` for a symmetric PSD ``cov`` (may be singular)."""
    sym = 0.5 * (cov + cov.T)
    values, vectors = np.linalg.eigh(sym)
    return vectors * np.sqrt(np.clip(values, 0.0, None))


def _one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    """Limit BLAS to one thread while fitting and simulating.

    The Kalman filter multiplies matrices of a few dozen rows; OpenBLAS threads
    only add overhead there, and on a busy machine they made a fit 20 times
    slower. threadpoolctl comes with PyMC; without it this does nothing.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with pymc
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
