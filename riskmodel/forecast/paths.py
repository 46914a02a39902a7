"""Posterior predictive export paths under a scenario.

Each path is one posterior draw carried forward month by month, jointly across
destinations and months (propagation needs whole paths, not marginal intervals):

- counterfactual demand: the deseasonalised level of the last fitted month moves on
  as the fitted random walk with drift (common to all destinations) plus each
  destination's share drift (the fitted knot random walk, spread evenly over months),
  plus the fitted seasonality;
- approval: the logit AR(1) of the last fitted regime carries on (``current``), and
  the scenario's regimes transform it (``new_control`` multiplies it by a collapse
  and recovery shape, ``lifted`` sets it to 1, ``set`` to a drawn level); a regime
  that policy events date after the last data month (a point-in-time run) enters as
  a new regime whose mean is drawn from the fitted distribution of regime means;
- customs noise: the fitted Student-t observation error on the log scale, so paths
  look like customs figures, not like the latent flow.

All randomness comes from one ``numpy.random.Generator``: the same posterior, scenario
and seed give the same paths.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from riskmodel import __version__
from riskmodel.atomic import atomic_write
from riskmodel.config.dists import Dist
from riskmodel.config.scenario import (
    KIND_PARAMETERS,
    Scenario,
    control_multiplier,
    load_learned_shape,
)
from riskmodel.exceptions import RiskModelWarning

FORECAST_QUANTILES = (0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95)


def _draws(posterior: xr.Dataset, name: str) -> np.ndarray:
    """Stack chain and draw into one leading ``sample`` axis."""
    da = posterior[name]
    other = [d for d in da.dims if d not in ("chain", "draw")]
    return da.stack(sample=("chain", "draw")).transpose("sample", *other).values


def forecast_paths(
    posterior: xr.Dataset,
    scenario: Scenario,
    *,
    horizon: int = 12,
    n_paths: int = 1000,
    rng: np.random.Generator | int = 0,
    future_regime_starts: list[pd.Period] | None = None,
    student_t_nu: float = 4.0,
    share_knot_months: int = 6,
    new_control_shape: Mapping[str, Dist] | None = None,
) -> xr.Dataset:
    """Draw export paths from a fitted posterior under a scenario.

    Parameters
    ----------
    posterior : xarray.Dataset
        The ``posterior`` group of a fit (``FittedModel.idata.posterior``).
    scenario : Scenario
        From :func:`riskmodel.config.load_scenario`.
    horizon : int
        Forecast months, starting the month after the last fitted month.
    n_paths : int
        Number of paths. Posterior draws are sampled with the generator (without
        replacement when there are enough draws).
    rng : numpy.random.Generator or int
        Random generator or seed.
    future_regime_starts : list of pandas.Period, optional
        Regime changes dated by policy events after the last fitted month (known at
        a point-in-time origin); each opens a regime with a freshly drawn mean. When
        no control was in force in the fitted window, the first of them is a new
        control whose path follows ``new_control_shape``.
    student_t_nu, share_knot_months : float, int
        The model settings the posterior was fitted with.
    new_control_shape : mapping of str to Dist, optional
        The ``new_control`` distributions (``depth``, ``months_to_low``,
        ``recovery_half_life_months``, ``long_run``) of a control dated after an
        uncontrolled fitted window; default: the learned shape
        (:func:`~riskmodel.config.scenario.load_learned_shape`), read only when needed.

    Returns
    -------
    xarray.Dataset
        ``exports`` and ``counterfactual`` (tonnes a month) and ``approval``, all
        with dims ``(path, destination, month)``; month coordinates are ``YYYY-MM``
        strings; attrs carry scenario, seed and provenance.
    """
    if horizon < 1:
        raise ValueError("horizon must be at least 1 month")
    if n_paths < 1:
        raise ValueError("n_paths must be at least 1")
    gen = np.random.default_rng(rng)
    destinations = [str(d) for d in posterior["destination"].values]
    months = pd.PeriodIndex([str(m) for m in posterior["month"].values], freq="M")
    last = months[-1]
    future = pd.period_range(last + 1, periods=horizon, freq="M")
    n_dest = len(destinations)

    log_demand = _draws(posterior, "log_demand")  # (S, D, T)
    n_samples = log_demand.shape[0]
    pick = gen.choice(n_samples, size=n_paths, replace=n_paths > n_samples)

    def take(name: str) -> np.ndarray:
        return _draws(posterior, name)[pick]

    season = take("season")  # (P, 12)
    last_moy = last.month - 1
    level = log_demand[pick, :, -1] - season[:, [last_moy]]  # (P, D)
    drift = take("demand_drift")[:, None]
    sigma_level = take("demand_level_sigma")[:, None]
    steps = drift + sigma_level * gen.standard_normal((n_paths, horizon))
    common = np.cumsum(steps, axis=1)  # (P, H)
    share = np.zeros((n_paths, n_dest, horizon))
    if n_dest > 1 and "destination_share_sigma" in posterior:
        sigma_share = take("destination_share_sigma")[:, None, None] / np.sqrt(share_knot_months)
        share[:, 1:, :] = np.cumsum(
            sigma_share * gen.standard_normal((n_paths, n_dest - 1, horizon)), axis=2
        )
    moy = np.array([m.month - 1 for m in future])
    log_mu = level[:, :, None] + common[:, None, :] + share + season[:, moy][:, None, :]

    approval_base = _current_regime_approval(
        posterior,
        take,
        gen,
        n_paths,
        n_dest,
        horizon,
        future,
        future_regime_starts,
        new_control_shape,
    )
    approval = _apply_scenario(scenario, approval_base, future, destinations, gen)

    sigma_obs = take("obs_sigma")[:, None, None]
    noise = sigma_obs * gen.standard_t(student_t_nu, size=(n_paths, n_dest, horizon))
    exports = np.exp(log_mu + np.log(np.maximum(approval, 1e-12)) + noise)
    counterfactual = np.exp(log_mu)

    dims = ("path", "destination", "month")
    coords = {
        "path": np.arange(n_paths),
        "destination": destinations,
        "month": [str(m) for m in future],
    }
    attrs = {
        "scenario": scenario.name,
        "scenario_digest": scenario.digest(),
        "product": str(posterior.attrs.get("product", "")),
        "data_hash": str(posterior.attrs.get("data_hash", "")),
        "priors_hash": str(posterior.attrs.get("priors_hash", "")),
        "riskmodel_version": __version__,
        "model": "bayes",
        "units": "tonnes per month",
    }
    return xr.Dataset(
        {
            "exports": (dims, exports),
            "counterfactual": (dims, counterfactual),
            "approval": (dims, approval),
        },
        coords=coords,
        attrs=attrs,
    )


def _current_regime_approval(
    posterior: xr.Dataset,
    take: Any,
    gen: np.random.Generator,
    n_paths: int,
    n_dest: int,
    horizon: int,
    future: pd.PeriodIndex,
    future_regime_starts: list[pd.Period] | None,
    new_control_shape: Mapping[str, Dist] | None = None,
) -> np.ndarray:
    """Approval rate if the last fitted regime (and any dated future regime) holds."""
    if "regime_mean" not in posterior:
        if not future_regime_starts:
            return np.ones((n_paths, n_dest, horizon))
        return _new_control_approval(
            min(future_regime_starts), gen, n_paths, n_dest, future, new_control_shape
        )
    x = take("approval_logit")[:, :, -1]  # (P, D)
    regime_mean = take("regime_mean")[:, -1]  # (P,)
    delta = take("destination_offset")  # (P, D)
    rho = take("approval_persistence")[:, None]
    sigma_a = take("approval_sigma")[:, None]
    target = np.repeat(regime_mean[:, None], horizon, axis=1)  # (P, H)
    if future_regime_starts:
        mu_m = take("regime_mean_mu")
        sigma_m = take("regime_mean_sigma")
        for start in sorted(future_regime_starts):
            h0 = (start - future[0]).n
            if 0 <= h0 < horizon:
                fresh = mu_m + sigma_m * gen.standard_normal(n_paths)
                target[:, h0:] = fresh[:, None]
    eps = gen.standard_normal((n_paths, n_dest, horizon))
    out = np.empty((n_paths, n_dest, horizon))
    for h in range(horizon):
        x = rho * x + (1 - rho) * (target[:, [h]] + delta) + sigma_a * eps[:, :, h]
        out[:, :, h] = 1.0 / (1.0 + np.exp(-x))
    return out


def _new_control_approval(
    start: pd.Period,
    gen: np.random.Generator,
    n_paths: int,
    n_dest: int,
    future: pd.PeriodIndex,
    shape: Mapping[str, Dist] | None,
) -> np.ndarray:
    """Approval of a product whose first control is dated after the fitted window.

    The control's shape is drawn once per path from ``shape`` (default: the learned
    shape) and applied to every destination: 1 before ``start``, then
    :func:`control_multiplier` of the months since ``start``. Later dated regimes are
    part of that shape's recovery and add nothing.
    """
    horizon = len(future)
    h0 = (start - future[0]).n
    if h0 >= horizon:
        warnings.warn(
            f"the control dated {start} starts after the forecast's last month "
            f"{future[-1]}: the forecast shows no effect of it (lengthen the horizon)",
            RiskModelWarning,
            stacklevel=3,
        )
        return np.ones((n_paths, n_dest, horizon))
    specs = dict(shape) if shape is not None else load_learned_shape()
    params = {key: specs[key].sample(gen, n_paths) for key in KIND_PARAMETERS["new_control"]}
    tau = np.arange(horizon) - h0  # months since the control's start month
    mult = control_multiplier(
        tau[None, :],
        params["depth"][:, None],
        params["months_to_low"][:, None],
        params["recovery_half_life_months"][:, None],
        params["long_run"][:, None],
    )  # (P, H)
    return np.repeat(np.clip(mult, 0.0, 1.0)[:, None, :], n_dest, axis=1)


def _apply_scenario(
    scenario: Scenario,
    base: np.ndarray,
    future: pd.PeriodIndex,
    destinations: list[str],
    gen: np.random.Generator,
) -> np.ndarray:
    """Chain the scenario's regimes over the base approval paths."""
    n_paths, _, horizon = base.shape
    regime, since = scenario.regime_schedule(future[0], horizon, destinations, allow_past=True)
    params = scenario.sample_params(gen, n_paths)
    previous = base
    chosen = np.array(base)
    for i, spec in enumerate(scenario.regimes):
        applies = np.array([spec.applies_to(d) for d in destinations])[None, :, None]
        p = params[i]
        if spec.kind == "current":
            value = base
        elif spec.kind == "lifted":
            value = np.ones_like(base)
        elif spec.kind == "set":
            value = np.broadcast_to(p["level"][:, None, None], base.shape)
        else:  # new_control
            mult = control_multiplier(
                since[None, :, :],
                p["depth"][:, None, None],
                p["months_to_low"][:, None, None],
                p["recovery_half_life_months"][:, None, None],
                p["long_run"][:, None, None],
            )
            value = previous * mult
        current = np.where(applies, value, previous)
        chosen = np.where((regime == i)[None, :, :], current, chosen)
        previous = current
    return np.clip(chosen, 0.0, 1.0)


def forecast_table(paths: xr.Dataset, variable: str = "exports") -> pd.DataFrame:
    """Summarise paths per month and destination.

    Returns
    -------
    pandas.DataFrame
        Columns ``month``, ``destination``, ``scenario``, ``mean``, ``q05``, ``q10``,
        ``q25``, ``q50``, ``q75``, ``q90``, ``q95``; one row per month and destination.
    """
    values = paths[variable].transpose("path", "destination", "month").values
    qs = np.quantile(values, FORECAST_QUANTILES, axis=0)
    mean = values.mean(axis=0)
    rows = []
    for k, month in enumerate(paths["month"].values):
        for j, dest in enumerate(paths["destination"].values):
            row = {
                "month": str(month),
                "destination": str(dest),
                "scenario": str(paths.attrs.get("scenario", "")),
                "mean": float(mean[j, k]),
            }
            for q, v in zip(FORECAST_QUANTILES, qs[:, j, k], strict=True):
                row[f"q{round(q * 100):02d}"] = float(v)
            rows.append(row)
    return pd.DataFrame(rows)


def write_forecast(paths: xr.Dataset, out_dir: str | Path) -> Path:
    """Write ``forecast.csv`` and ``paths.nc`` into ``out_dir`` (atomically, file by file)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = forecast_table(paths)
    atomic_write(out / "forecast.csv", lambda p: table.to_csv(p, index=False, float_format="%.6g"))
    atomic_write(out / "paths.nc", lambda p: paths.to_netcdf(p, engine="h5netcdf"))
    return out
