"""Baseline (statsmodels) forecasts in the same output type as the Bayesian paths."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import xarray as xr

from riskmodel import __version__
from riskmodel.exceptions import DataValidationError
from riskmodel.models.baselines import forecast_baseline
from riskmodel.models.inputs import ModelInputs

log = logging.getLogger(__name__)


def monthly_series(inputs: ModelInputs, destination: str) -> pd.Series:
    """Return the monthly observations of one destination (NaN where missing).

    Observations of sums over several months are left out: the baselines model
    single months only (the Bayesian model is the one that uses sums).
    """
    d = inputs.destinations.index(destination)
    values = np.full(inputs.n_months, np.nan)
    single = (inputs.obs_destination == d) & (inputs.obs_mask.sum(axis=1) == 1)
    values[inputs.obs_months[single, 0]] = inputs.obs_quantity[single]
    return pd.Series(values, index=inputs.months)


def baseline_paths(
    inputs: ModelInputs,
    *,
    method: str,
    horizon: int = 12,
    n_paths: int = 1000,
    rng: np.random.Generator | int = 0,
    scenario: str = "baseline",
) -> xr.Dataset:
    """Forecast every destination with a statsmodels baseline.

    Destinations whose monthly series is too short for the method are left out of
    the result with a warning in the log and listed in the ``skipped`` attribute.

    Returns
    -------
    xarray.Dataset
        ``exports`` with dims ``(path, destination, month)``, like
        :func:`riskmodel.forecast.forecast_paths`.
    """
    gen = np.random.default_rng(rng)
    future = pd.period_range(inputs.months[-1] + 1, periods=horizon, freq="M")
    kept, arrays, skipped = [], [], []
    for dest in inputs.destinations:
        try:
            arrays.append(
                forecast_baseline(
                    monthly_series(inputs, dest),
                    horizon,
                    method=method,  # type: ignore[arg-type]
                    n_paths=n_paths,
                    rng=gen,
                )
            )
            kept.append(dest)
        except DataValidationError as err:
            skipped.append(f"{dest}: {err}")
            log.warning("%s baseline: %s left out (%s)", method, dest, err)
    if not kept:
        raise DataValidationError(
            f"no destination has enough monthly data for the {method} baseline: "
            + "; ".join(skipped)
        )
    exports = np.stack(arrays, axis=1)  # (path, destination, month)
    return xr.Dataset(
        {"exports": (("path", "destination", "month"), exports)},
        coords={
            "path": np.arange(n_paths),
            "destination": kept,
            "month": [str(m) for m in future],
        },
        attrs={
            "scenario": scenario,
            "product": inputs.product,
            "data_hash": inputs.data_hash,
            "riskmodel_version": __version__,
            "model": method,
            "units": "tonnes per month",
            "skipped": " | ".join(skipped),
        },
    )
