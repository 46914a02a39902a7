"""Data simulated from the model itself: parameter recovery, SBC and benchmarks.

:func:`synthetic_inputs` lays out a panel of destinations x months (with a control
taking effect at a given month and regime changes after it); :func:`simulate_from_prior`
draws every parameter from the priors, generates customs observations from the model's
own likelihood, and returns inputs carrying those observations plus the true values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.config.priors import PriorSet
from riskmodel.models.inputs import WORLD, ModelInputs
from riskmodel.models.regimes import RegimeSchedule


def synthetic_inputs(
    n_destinations: int = 3,
    n_months: int = 48,
    *,
    start: str = "2021-01",
    control_at: int | None = 36,
    regime_every: int = 3,
    observed_share: float = 1.0,
    rng: np.random.Generator | int = 0,
) -> ModelInputs:
    """Lay out a destinations x months panel like real inputs (quantities are placeholders).

    Parameters
    ----------
    n_destinations : int
        Number of series; the first is ``World``.
    n_months : int
        Length of the window.
    start : str
        First month, ``YYYY-MM``.
    control_at : int or None
        Month index at which licensing starts (None: never).
    regime_every : int
        A new regime opens every this many months after the control.
    observed_share : float
        Share of (destination, month) cells with an observation (World always complete).
    rng : numpy.random.Generator or int
        Which cells are observed.

    Returns
    -------
    ModelInputs
        With every observation's quantity set to 1 t (replace it with simulated data).
    """
    gen = np.random.default_rng(rng)
    months = pd.period_range(start, periods=n_months, freq="M")
    dests = [WORLD] + [f"D{i}" for i in range(1, n_destinations)]
    cells = [
        (d, t)
        for d in range(n_destinations)
        for t in range(n_months)
        if d == 0 or gen.random() < observed_share
    ]
    index = np.full(n_months, -1, dtype=np.int64)
    names: list[str] = []
    starts: list[pd.Period] = []
    if control_at is not None:
        for r, t in enumerate(range(control_at, n_months, regime_every)):
            index[t:] = r
            # a control opens licensing and each later regime is a deal, as in 2025
            names.append(f"{months[t]} {'control_effective' if r == 0 else 'deal'}")
            starts.append(months[t])
    return ModelInputs(
        product="synthetic",
        months=months,
        destinations=tuple(dests),
        obs_destination=np.array([d for d, _ in cells], dtype=np.int64),
        obs_months=np.array([[t] for _, t in cells], dtype=np.int64),
        obs_mask=np.ones((len(cells), 1), dtype=bool),
        obs_quantity=np.ones(len(cells)),
        obs_label=tuple(f"sim:{i}" for i in range(len(cells))),
        regimes=RegimeSchedule(tuple(names), tuple(starts), index),
        licences=None,
    )


def simulate_from_prior(
    inputs: ModelInputs,
    priors: PriorSet,
    *,
    seed: int = 0,
    scale_t: Sequence[float] | None = None,
) -> tuple[ModelInputs, dict[str, Any]]:
    """Draw parameters from the priors and observations from the model's likelihood.

    Parameters
    ----------
    inputs : ModelInputs
        The layout (e.g. from :func:`synthetic_inputs`); quantities are ignored
        except that their per-destination median sets the scale (``loc``).
    priors : PriorSet
        Priors to draw from.
    seed : int
        Seed of the draw.
    scale_t : sequence of float, optional
        Typical monthly tonnes per destination (sets ``loc``); default 1000 t for World
        and 100 t for the others.

    Returns
    -------
    (ModelInputs, dict)
        Inputs with the simulated quantities, and the true value of every variable.
    """
    import pymc as pm

    from riskmodel.models.export_model import build_model

    n_dest = len(inputs.destinations)
    scale = (
        np.asarray(scale_t) if scale_t is not None else np.array([1000.0] + [100.0] * (n_dest - 1))
    )
    quantity = scale[inputs.obs_destination] * inputs.obs_mask.sum(axis=1)
    layout = dataclasses.replace(inputs, obs_quantity=quantity)
    model = build_model(layout, priors)
    with model:
        prior = pm.sample_prior_predictive(draws=1, random_seed=seed)
    truth = {name: np.asarray(da.values)[0, 0] for name, da in prior.prior.data_vars.items()}
    log_y = np.asarray(prior.prior_predictive["log_exports"].values)[0, 0]
    simulated = dataclasses.replace(layout, obs_quantity=np.exp(log_y))
    return simulated, truth
