"""Pointwise log-likelihood of a fitted export model, for PSIS-LOO and model comparison.

NUTS (nutpie in particular) stores no log-likelihood, and asking PyMC for one compiles
another function of the model. The terms are cheap to write again in NumPy/SciPy from
the posterior's deterministics (``log_demand``, ``approval``) and its observation
scales, so that is what :func:`pointwise_log_likelihood` does; a test checks it
against PyMC's own ``compute_log_likelihood`` of the same model, term by term.

One value per customs row (reported zeros as the censored probability the model
uses) under ``log_exports``, and one per licence-count row under
``licences_approved``. Padding rows of a padded structure are not observations and
have no entry.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from scipy import stats

from riskmodel.config.priors import PriorSet
from riskmodel.models.inputs import ModelInputs

#: Dims of the pointwise values (besides chain and draw).
OBS_DIM = "observation"
LICENCE_DIM = "licence_row"


def row_scales(posterior: xr.Dataset, inputs: ModelInputs) -> np.ndarray:
    """Return the Student-t scale of each customs row, per posterior draw.

    The scale of destination ``d`` is ``obs_sigma_destination[d]`` when the fit has it
    (otherwise the shared ``obs_sigma``), times ``exp(obs_sum_log_factor)`` for a row
    that covers several months when the fit has that factor.

    Returns
    -------
    numpy.ndarray
        Shape ``(chain, draw, row)``.
    """
    if "obs_sigma_destination" in posterior:
        per_dest = posterior["obs_sigma_destination"].transpose("chain", "draw", "destination")
        scale = per_dest.values[:, :, inputs.obs_destination]
    else:
        scale = np.repeat(
            posterior["obs_sigma"].values[:, :, None], len(inputs.obs_destination), axis=2
        )
    if "obs_sum_log_factor" in posterior:
        multi = inputs.obs_mask.sum(axis=1) > 1
        factor = np.exp(posterior["obs_sum_log_factor"].values)[:, :, None]
        scale = np.where(multi[None, None, :], scale * factor, scale)
    return scale


def shipped_flow(posterior: xr.Dataset) -> np.ndarray:
    """Return the modelled monthly flow, approval times queued demand, per draw.

    Demand ``exp(log_demand)`` before licensing; in a licensing month the approval
    times that month's demand plus the kept backlog of the month before
    (``backlog_keep * backlog``), as in
    :func:`~riskmodel.models.export_model.build_model`. A posterior without
    ``backlog`` (no licensing in the window) ships its demand.

    Returns
    -------
    numpy.ndarray
        Shape ``(chain, draw, destination, month)``.
    """
    dims = ("chain", "draw", "destination", "month")
    demand = np.exp(posterior["log_demand"].transpose(*dims).values)
    if "backlog" not in posterior:
        return demand
    approval = posterior["approval"].transpose(*dims).values
    backlog = posterior["backlog"].transpose("chain", "draw", "destination", "controlled_month")
    n_ctrl = backlog.sizes["controlled_month"]
    carried = np.zeros_like(demand)
    carried[..., demand.shape[3] - n_ctrl + 1 :] = (
        posterior["backlog_keep"].values[:, :, None, None] * backlog.values[..., :-1]
    )
    return approval * (demand + carried)


def pointwise_log_likelihood(
    posterior: xr.Dataset, inputs: ModelInputs, priors: PriorSet
) -> xr.Dataset:
    """Log-likelihood of every observation under every posterior draw.

    Parameters
    ----------
    posterior : xarray.Dataset
        The ``posterior`` group of a fit of ``inputs`` (padding already dropped).
    inputs : ModelInputs
        The data the fit saw.
    priors : PriorSet
        The priors it used (``student_t_nu``, ``zero_threshold_t``,
        ``licence_concentration``).

    Returns
    -------
    xarray.Dataset
        ``log_exports`` on ``(chain, draw, observation)`` (coordinate: the rows'
        ``file:line`` labels) and, when the fit has licence counts,
        ``licences_approved`` on ``(chain, draw, licence_row)``.
    """
    nu = float(priors.setting("student_t_nu"))
    approval = posterior["approval"].transpose("chain", "draw", "destination", "month").values
    flow = shipped_flow(posterior)  # (C, S, D, T)
    flow_rows = flow[:, :, inputs.obs_destination[:, None], inputs.obs_months]  # (C, S, N, K)
    total = np.where(inputs.obs_mask[None, None], flow_rows, 0.0).sum(axis=3)
    with np.errstate(divide="ignore"):
        loc = np.log(total)
    scale = row_scales(posterior, inputs)
    zero = inputs.obs_is_zero
    log_y = np.log(np.where(zero, 1.0, inputs.obs_quantity))
    values = np.where(
        zero[None, None, :],
        stats.t.logcdf(np.log(float(priors.setting("zero_threshold_t"))), nu, loc, scale),
        stats.t.logpdf(log_y[None, None, :], nu, loc, scale),
    )
    labels = [f"{i}:{label}" for i, label in enumerate(inputs.obs_label)]
    data: dict[str, Any] = {"log_exports": (("chain", "draw", OBS_DIM), values)}
    coords: dict[str, Any] = {
        "chain": posterior["chain"].values,
        "draw": posterior["draw"].values,
        OBS_DIM: labels,
    }
    lic = inputs.licences if inputs.regimes.control_start is not None else None
    if lic is not None:
        kappa = float(priors.setting("licence_concentration"))
        mean_a = np.stack(
            [
                approval[:, :, d, f : ell + 1].mean(axis=2)
                for d, f, ell in zip(lic.destination, lic.first, lic.last, strict=True)
            ],
            axis=2,
        )
        mean_a = np.clip(mean_a, 1e-6, 1 - 1e-6)
        data["licences_approved"] = (
            ("chain", "draw", LICENCE_DIM),
            stats.betabinom.logpmf(
                lic.approved, lic.applications, mean_a * kappa, (1 - mean_a) * kappa
            ),
        )
        coords[LICENCE_DIM] = np.arange(len(lic.applications))
    return xr.Dataset(data, coords=coords)
