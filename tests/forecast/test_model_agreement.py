"""The NumPy forecast continues the PyMC model: same equations, same predictive distribution.

The export model is built over a window of fitted months followed by ``H`` months
that stand for the forecast horizon. A draw of the model's parameters over the whole
window is cut at the last fitted month into a "posterior"; the forecast carries it on
and must give what the model itself gives for the later months:

- draw by draw, fed the model's own innovations of those months, the forecast's
  counterfactual demand and approval logit equal the model's deterministics, and its
  shipped flow (the backlog carried on) the model's;
- with its own random innovations, the forecast's demand, approval and customs
  figures follow the model's predictive distribution for the same draw (the model's
  Student-t observation noise included), month by month and destination by destination.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from riskmodel.config import load_scenario
from riskmodel.forecast import forecast_paths
from riskmodel.forecast.paths import continue_model, release_backlog
from riskmodel.models.export_model import build_model, knot_weights, load_model_priors
from riskmodel.models.inputs import ModelInputs
from riskmodel.models.loglik import shipped_flow
from riskmodel.models.regimes import RegimeSchedule

FITTED, HORIZON = 28, 11  # the last fitted month lies between two share knots
DESTINATIONS = ("World", "United States", "Japan")
CONTROL_STARTS = (10, 20, FITTED + 4)  # the third regime is dated after the fitted window
#: Event types of the three regimes: each later regime steps its way (down for a ban).
REGIME_TYPES = ("control_effective", "deal", "ban")
N_DRAWS = 40


def _inputs() -> ModelInputs:
    """One monthly observation of every destination in every month of the whole window."""
    n_months = FITTED + HORIZON
    months = pd.period_range("2022-01", periods=n_months, freq="M")
    index = np.full(n_months, -1)
    for r, start in enumerate(CONTROL_STARTS):
        index[start:] = r
    schedule = RegimeSchedule(
        tuple(f"{months[s]} {kind}" for s, kind in zip(CONTROL_STARTS, REGIME_TYPES, strict=True)),
        tuple(months[s] for s in CONTROL_STARTS),
        index,
    )
    n_obs = len(DESTINATIONS) * n_months
    obs_months = np.tile(np.arange(n_months), len(DESTINATIONS))[:, None]
    return ModelInputs(
        product="magnets",
        months=months,
        destinations=DESTINATIONS,
        obs_destination=np.repeat(np.arange(len(DESTINATIONS)), n_months),
        obs_months=obs_months,
        obs_mask=np.ones_like(obs_months, dtype=bool),
        obs_quantity=np.full(n_obs, 100.0),
        obs_label=tuple(f"synthetic:{i}" for i in range(n_obs)),
        regimes=schedule,
        licences=None,
    )


def _fitted_part(draws: xr.Dataset, n_knots: int) -> xr.Dataset:
    """What a fit of the first ``FITTED`` months would hold for these draws."""
    t0 = CONTROL_STARTS[0]
    fitted = draws.isel(
        month=slice(0, FITTED),
        knot=slice(0, n_knots),
        controlled_month=slice(0, FITTED - t0),
        regime=slice(0, 2),
        regime_step=slice(0, 1),
    )
    fitted.attrs["future_regimes"] = str(draws["regime"].values[2])  # as a fit records it
    return fitted


def _future_innovations(draws: xr.Dataset, n_knots: int) -> dict[str, np.ndarray]:
    """The model's standard-normal innovations of the horizon, as ``continue_model`` names them."""

    def stacked(name: str) -> np.ndarray:
        da = draws[name]
        rest = [d for d in da.dims if d not in ("chain", "draw")]
        return da.stack(sample=("chain", "draw")).transpose("sample", *rest).values

    return {
        "level": stacked("level_innovation")[:, FITTED:],
        "share": stacked("share_innovation")[:, :, n_knots:],
        "regime": stacked("regime_step_raw")[:, 1:],
        "approval": stacked("approval_innovation")[:, :, FITTED - CONTROL_STARTS[0] :],
    }


@pytest.fixture(scope="module")
def model_and_draws():
    import pymc as pm

    priors = load_model_priors()
    model = build_model(_inputs(), priors)
    prior = pm.sample_prior_predictive(draws=N_DRAWS, model=model, random_seed=20261204).prior
    n_knots = knot_weights(FITTED, int(priors.setting("share_knot_months"))).shape[1]
    return model, priors, prior, n_knots


def test_continued_equations_equal_the_model_draw_by_draw(model_and_draws):
    _, priors, prior, n_knots = model_and_draws
    posterior = _fitted_part(prior, n_knots)
    innovations = _future_innovations(prior, n_knots)
    asked = []

    def model_innovations(name: str, shape: tuple[int, ...]) -> np.ndarray:
        asked.append(name)
        assert innovations[name].shape == shape, name
        return innovations[name]

    log_mu, logit = continue_model(
        posterior,
        np.arange(N_DRAWS),
        model_innovations,
        horizon=HORIZON,
        share_knot_months=int(priors.setting("share_knot_months")),
        future_regime_starts=[pd.Period(prior["month"].values[CONTROL_STARTS[2]], freq="M")],
    )
    assert sorted(asked) == sorted(innovations)
    expected = prior.isel(chain=0, month=slice(FITTED, None))
    np.testing.assert_allclose(log_mu, expected["log_demand"].values, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(logit, expected["approval_logit"].values, rtol=1e-10, atol=1e-10)
    # the innovations matter: the horizon's months are not a copy of the last fitted one
    assert np.ptp(expected["log_demand"].values, axis=2).min() > 1e-3
    # the backlog carries on: the shipped flow is the model's (approval times queue)
    shipped = release_backlog(
        np.exp(log_mu),
        1 / (1 + np.exp(-logit)),
        posterior["backlog_keep"].values[0],
        posterior["backlog"].values[0, :, :, -1],
    )
    model_flow = shipped_flow(prior)[0, :, :, FITTED:]
    np.testing.assert_allclose(shipped, model_flow, rtol=1e-9)
    assert (model_flow > 1.01 * np.exp(log_mu) * (1 / (1 + np.exp(-logit)))).any()


def test_share_knots_must_fit_the_setting_the_posterior_was_fitted_with(model_and_draws):
    _, _, prior, n_knots = model_and_draws
    with pytest.raises(ValueError, match="share knots"):
        continue_model(
            _fitted_part(prior, n_knots),
            np.arange(3),
            lambda _name, shape: np.zeros(shape),
            horizon=HORIZON,
            share_knot_months=5,
        )


def _model_predictive(model, draw: xr.Dataset, n_knots: int, n: int) -> dict[str, np.ndarray]:
    """The model's own predictive draws for one parameter draw, fresh innovations after FITTED.

    Returns the horizon's log demand and approval logit (n, destination, month), its
    log customs figures (n, destination, month), and the observation residuals
    ``log y - mu`` of every month (pooled).
    """
    import pymc as pm

    free = model.free_RVs
    fn = pm.compile(
        inputs=free,
        outputs=[
            model["log_demand"],
            model["approval_logit"],
            model["log_exports"].owner.inputs[3],  # the observations' location mu
            model["log_exports"],
        ],
        on_unused_input="ignore",
        random_seed=11,
    )
    values = {rv.name: draw[rv.name].values for rv in free}
    # the model's own innovations for the horizon (those of the fitted months are kept)
    names = ["level_innovation", "share_innovation", "regime_step_raw", "approval_innovation"]
    fresh = dict(
        zip(names, pm.draw([model[k] for k in names], draws=n, random_seed=12), strict=True)
    )
    t_ctrl = FITTED - CONTROL_STARTS[0]
    n_dest, n_months = len(DESTINATIONS), FITTED + HORIZON
    out = {"log_demand": [], "logit": [], "log_exports": [], "residual": []}
    for i in range(n):
        v = {k: np.array(x) for k, x in values.items()}
        v["level_innovation"][FITTED:] = fresh["level_innovation"][i, FITTED:]
        v["share_innovation"][:, n_knots:] = fresh["share_innovation"][i, :, n_knots:]
        v["regime_step_raw"][1:] = fresh["regime_step_raw"][i, 1:]
        v["approval_innovation"][:, t_ctrl:] = fresh["approval_innovation"][i, :, t_ctrl:]
        log_demand, logit, mu, log_y = fn(*[v[rv.name] for rv in free])
        out["log_demand"].append(log_demand[:, FITTED:])
        out["logit"].append(logit[:, FITTED:])
        out["log_exports"].append(log_y.reshape(n_dest, n_months)[:, FITTED:])
        out["residual"].append(log_y - mu)
    return {k: np.stack(x) for k, x in out.items()}


def _worst_ks_pvalue(a: np.ndarray, b: np.ndarray) -> float:
    """Smallest two-sample KS p-value over the (destination, month) cells."""
    return min(
        stats.ks_2samp(a[:, d, h], b[:, d, h]).pvalue
        for d in range(a.shape[1])
        for h in range(a.shape[2])
    )


def test_forecast_paths_follow_the_models_predictive_distribution(model_and_draws):
    model, priors, prior, n_knots = model_and_draws
    draw = prior.isel(chain=[0], draw=[0])
    expected = _model_predictive(model, draw.isel(chain=0, draw=0), n_knots, n=4000)
    paths = forecast_paths(
        _fitted_part(draw, n_knots),
        load_scenario("baseline"),  # the current regime carries on: the model's own path
        horizon=HORIZON,
        n_paths=20000,
        rng=13,
        future_regime_starts=[pd.Period(prior["month"].values[CONTROL_STARTS[2]], freq="M")],
        # the settings a fit records for the forecast (riskmodel.models.fit)
        student_t_nu=float(priors.setting("student_t_nu")),
        share_knot_months=int(priors.setting("share_knot_months")),
    )
    approval = paths["approval"].values
    assert approval.min() > 1e-9  # so the residuals below are exact
    log_cf = np.log(paths["counterfactual"].values)
    log_exports = np.log(paths["exports"].values)
    assert _worst_ks_pvalue(log_cf, expected["log_demand"]) > 1e-4
    assert _worst_ks_pvalue(np.log(approval / (1 - approval)), expected["logit"]) > 1e-4
    assert _worst_ks_pvalue(log_exports, expected["log_exports"]) > 1e-4
    # The observation noise alone, pooled over months (~10^6 values): its shape and scale
    # are the model's Student-t (a nu off by one moves the CDF by 0.007 and fails here).
    residual = (log_exports - np.log(paths["exports_physical"].values)).ravel()
    assert stats.ks_2samp(residual, expected["residual"].ravel()).pvalue > 1e-3
