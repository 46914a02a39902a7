"""The joint Bayesian model of licence approval rates and export volumes (PyMC).

For destination ``d`` and month ``t`` (DESIGN.md, "Models")::

    log mu[d,t] = loc[d] + level0[d] + g[t] + share[d,t] + season[month(t)]
        g[t]      = drift * t + cumsum(sigma_level * eps)        common local level
        share[d]  = cumsum over 6-month knots, linearly interpolated (0 for World)
    a[d,t]      = 1 before licensing; afterwards sigmoid(x[d,t]) with
        x[d,t]    = rho * x[d,t-1] + (1 - rho) * (m[regime(t)] + delta[d]) + sigma_a * eps
    log y_i     ~ StudentT(nu, log sum_{t in months_i} mu[d_i,t] * a[d_i,t], sigma_obs)
    approved_j  ~ BetaBinomial(applications_j, mean a over the counts' months)

Everything is non-centred. ``x`` is a linear recursion, so it is written as a
lower-triangular matrix product rather than a scan (cheaper gradients). Reported
zeros are *censored* at the reporting resolution (``P(y < zero_threshold_t)``):
a hurdle would need a separate zero process that a handful of zeros cannot inform,
whereas censoring says exactly what a zero in customs means, "less than one unit".
Both the beta-binomial and the censored Student-t are written without scipy's special
functions (``riskmodel.models.likelihoods``) so that the compiled gradient can be
served from numba's disk cache.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from riskmodel.config.priors import PriorSet, SettingRange, default_priors_path, load_priors
from riskmodel.models.inputs import ModelInputs
from riskmodel.sampling.pytensor_setup import configure_pytensor

MODEL_TYPE = "export_model"

#: Prior name -> required support.
REQUIRED_PRIORS: dict[str, str] = {
    "demand_drift": "real",
    "demand_level_sigma": "positive",
    "destination_level": "real",
    "destination_share_sigma": "positive",
    "season_sigma": "positive",
    "regime_mean_mu": "real",
    "regime_mean_sigma": "positive",
    "destination_offset_sigma": "positive",
    "approval_persistence": "unit",
    "approval_sigma": "positive",
    "obs_sigma": "positive",
}
REQUIRED_SETTINGS: dict[str, SettingRange] = {
    "student_t_nu": SettingRange(0.0, 1000.0, open_low=True),
    "share_knot_months": SettingRange(1, 120, integer=True),
    "pre_control_approval": SettingRange(0.0, 1.0, open_low=True, open_high=True),
    "zero_threshold_t": SettingRange(0.0, open_low=True),
    "licence_concentration": SettingRange(0.0, open_low=True),
}

#: The variables NUTS samples (convergence is checked on these, not on deterministics).
FREE_VARIABLES = (
    "demand_drift", "demand_level_sigma", "level_innovation", "destination_level",
    "destination_share_sigma", "share_innovation", "season_raw", "season_sigma",
    "regime_mean_mu", "regime_mean_sigma", "regime_mean_raw", "destination_offset_sigma",
    "destination_offset_raw", "approval_persistence", "approval_sigma", "approval_innovation",
    "obs_sigma",
)  # fmt: skip


def load_model_priors(path: str | None = None) -> PriorSet:
    """Load and validate the priors of the export model (default: the bundled file).

    Raises
    ------
    riskmodel.exceptions.PriorsError
        Listing every problem in the file.
    """
    file = path or default_priors_path(MODEL_TYPE)
    return load_priors(file, model=MODEL_TYPE, required=REQUIRED_PRIORS, settings=REQUIRED_SETTINGS)


def knot_weights(n_months: int, spacing: int) -> np.ndarray:
    """Linear interpolation weights (month x knot) from knots every ``spacing`` months.

    Knot ``k`` sits at month ``k * spacing``; a longer window only appends rows and
    columns, so the forecast continues the walk with the weights of a longer window.
    """
    n_knots = (n_months - 1) // spacing + 2
    weights = np.zeros((n_months, n_knots))
    for t in range(n_months):
        k, frac = divmod(t, spacing)
        weights[t, k] += 1 - frac / spacing
        weights[t, k + 1] += frac / spacing
    return weights


def _observation_cells(inputs: ModelInputs) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices of the cells observations cover, and each observation's cell slots.

    Returns ``cells`` (unique flat ``destination * n_months + month`` indices) and
    ``slots`` (n_obs x K indices into ``cells``; padding points at an extra zero slot).
    """
    flat = inputs.obs_destination[:, None] * inputs.n_months + inputs.obs_months
    cells, inverse = np.unique(flat[inputs.obs_mask], return_inverse=True)
    slots = np.full(flat.shape, len(cells), dtype=np.int64)
    slots[inputs.obs_mask] = inverse
    return cells.astype(np.int64), slots


def build_model(inputs: ModelInputs, priors: PriorSet) -> Any:
    """Build the PyMC model for one product.

    Parameters
    ----------
    inputs : ModelInputs
        Observations, regimes and licence counts (see :func:`prepare_inputs`).
    priors : PriorSet
        As returned by :func:`load_model_priors`.

    Returns
    -------
    pymc.Model
        With dims ``destination``, ``month``, ``regime``, ``month_of_year``,
        ``controlled_month``, ``knot`` and ``other_destination``.
    """
    configure_pytensor()
    import pymc as pm
    import pytensor.tensor as pt

    from riskmodel.models.likelihoods import (
        beta_binomial_logp,
        beta_binomial_random,
        student_t_logcdf,
    )

    n_dest, n_months = len(inputs.destinations), inputs.n_months
    schedule = inputs.regimes
    t0 = schedule.control_start
    spacing = int(priors.setting("share_knot_months"))
    weights = knot_weights(n_months, spacing)
    month_of_year = np.array([m.month - 1 for m in inputs.months])
    loc = inputs.log_location()

    coords: dict[str, Any] = {
        "destination": list(inputs.destinations),
        "month": inputs.month_labels,
        "month_of_year": list(range(1, 13)),
        "knot": list(range(weights.shape[1])),
        "other_destination": list(inputs.destinations[1:]),
    }
    if t0 is not None:
        coords["regime"] = list(schedule.names)
        coords["controlled_month"] = inputs.month_labels[t0:]

    with pm.Model(coords=coords) as model:
        # Counterfactual demand: what would have shipped without licensing.
        drift = priors.variable("demand_drift")
        sigma_level = priors.variable("demand_level_sigma")
        eps_level = pm.Normal("level_innovation", 0.0, 1.0, dims="month")
        common = pt.cumsum(sigma_level * eps_level) + drift * np.arange(n_months)
        level0 = priors.variable("destination_level", dims="destination")
        if n_dest > 1:
            sigma_share = priors.variable("destination_share_sigma")
            eps_share = pm.Normal("share_innovation", 0.0, 1.0, dims=("other_destination", "knot"))
            # Random walk over knots, then interpolated to months, as one constant
            # matrix: cumsum followed by interpolation is weights @ lower-triangular
            # ones. (With a cumsum in the graph, its gradient folds into a reversed
            # view of ``weights``; numba cannot embed such a constant and keeps the
            # whole function out of its disk cache.)
            walk_weights = np.ascontiguousarray(weights @ np.tril(np.ones((weights.shape[1],) * 2)))
            share = pt.concatenate(
                [pt.zeros((1, n_months)), pt.dot(sigma_share * eps_share, walk_weights.T)],
                axis=0,
            )
        else:
            share = pt.zeros((1, n_months))
        season_raw = pm.Normal("season_raw", 0.0, 1.0, dims="month_of_year")
        season_sigma = priors.variable("season_sigma")
        season = pm.Deterministic(
            "season", season_sigma * (season_raw - season_raw.mean()), dims="month_of_year"
        )
        log_demand = pm.Deterministic(
            "log_demand",
            loc[:, None]
            + level0[:, None]
            + common[None, :]
            + share
            + season[month_of_year][None, :],
            dims=("destination", "month"),
        )

        # Approval (release) rate: 1 before licensing, a logit AR(1) around regime means after.
        pre_logit = float(
            np.log(
                priors.setting("pre_control_approval")
                / (1 - priors.setting("pre_control_approval"))
            )
        )
        if t0 is not None:
            n_ctrl = n_months - t0
            mu_m = priors.variable("regime_mean_mu")
            sigma_m = priors.variable("regime_mean_sigma")
            m_raw = pm.Normal("regime_mean_raw", 0.0, 1.0, dims="regime")
            regime_mean = pm.Deterministic("regime_mean", mu_m + sigma_m * m_raw, dims="regime")
            if n_dest > 1:
                sigma_delta = priors.variable("destination_offset_sigma")
                delta_raw = pm.Normal("destination_offset_raw", 0.0, 1.0, dims="other_destination")
                delta = pt.concatenate([pt.zeros(1), sigma_delta * delta_raw])
            else:
                delta = pt.zeros(1)
            pm.Deterministic("destination_offset", delta, dims="destination")
            rho = priors.variable("approval_persistence")
            sigma_a = priors.variable("approval_sigma")
            eps_a = pm.Normal(
                "approval_innovation", 0.0, 1.0, dims=("destination", "controlled_month")
            )
            target = regime_mean[schedule.index[t0:]][None, :] + delta[:, None]
            steps = np.arange(n_ctrl)
            lag = steps[:, None] - steps[None, :]
            decay = pt.switch(lag >= 0, rho ** np.maximum(lag, 0), 0.0)
            drive = (1 - rho) * target + sigma_a * eps_a
            x_ctrl = pt.dot(drive, decay.T) + (rho ** (steps + 1))[None, :] * pre_logit
            logit_a = pt.concatenate([pt.full((n_dest, t0), pre_logit), x_ctrl], axis=1)
            log_a = pt.concatenate([pt.zeros((n_dest, t0)), -pt.log1p(pt.exp(-x_ctrl))], axis=1)
        else:
            logit_a = pt.full((n_dest, n_months), pre_logit)
            log_a = pt.zeros((n_dest, n_months))
        pm.Deterministic("approval_logit", logit_a, dims=("destination", "month"))
        approval = pm.Deterministic("approval", pt.exp(log_a), dims=("destination", "month"))

        # Observations: each row observes the total over its months.
        # Only the (destination, month) cells some observation covers are evaluated, and
        # every gather is 1-d: a multi-index gather and its scatter-add gradient cost a
        # fifth of a logp evaluation, 1-d ones a few percent.
        cells, slots = _observation_cells(inputs)
        flow = pt.concatenate([pt.exp((log_demand + log_a).ravel()[cells]), pt.zeros(1)])
        log_total = pt.log(flow[slots.ravel()].reshape(slots.shape).sum(axis=1))
        sigma_obs = priors.variable("obs_sigma")
        nu = float(priors.setting("student_t_nu"))
        positive = ~inputs.obs_is_zero
        pm.StudentT(
            "log_exports",
            nu=nu,
            mu=log_total[np.flatnonzero(positive)],
            sigma=sigma_obs,
            observed=np.log(inputs.obs_quantity[positive]),
        )
        if (~positive).any():
            censor_at = np.log(float(priors.setting("zero_threshold_t")))
            mu_zero = log_total[np.flatnonzero(~positive)]
            log_below = student_t_logcdf(censor_at, nu, mu_zero, sigma_obs)
            pm.Potential("reported_zeros", log_below.sum())

        lic = inputs.licences
        if lic is not None and t0 is not None:
            kappa = float(priors.setting("licence_concentration"))
            mean_a = pt.stack(
                [
                    approval[d, f : ell + 1].mean()
                    for d, f, ell in zip(lic.destination, lic.first, lic.last, strict=True)
                ]
            )
            mean_a = pt.clip(mean_a, 1e-6, 1 - 1e-6)
            applications = np.asarray(lic.applications, dtype="int64")
            pm.CustomDist(
                "licences_approved",
                mean_a * kappa,
                (1 - mean_a) * kappa,
                logp=lambda k, a, b: beta_binomial_logp(k, applications, a, b),
                random=lambda a, b, rng=None, size=None: beta_binomial_random(
                    applications, a, b, rng=rng, size=size
                ),
                dtype="int64",
                observed=lic.approved,
            )
    return model


def free_variable_names(model: Any) -> list[str]:
    """Names of the sampled (free) variables of a built model."""
    return [rv.name for rv in model.free_RVs]


def months_index(labels: list[str]) -> pd.PeriodIndex:
    """Parse ``YYYY-MM`` labels back into a monthly PeriodIndex."""
    return pd.PeriodIndex(labels, freq="M")
