"""The forecast's customs noise carries the fitted licensing factor in licensing months only.

The factor ``exp(obs_licensing_log_factor)`` multiplies the noise scale and draws
nothing, so two forecasts with the same seed, one from a posterior with the factor
and one without, differ in their noise by exactly that factor where licensing is in
force and not at all elsewhere.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.config import load_scenario, parse_scenario
from riskmodel.forecast import forecast_paths
from tests.conftest import make_posterior
from tests.forecast.test_policy import _policy_scenario

F_CTRL = 0.7
HORIZON = 6


def _with_factor(posterior):
    shape = (posterior.sizes["chain"], posterior.sizes["draw"])
    return posterior.assign(obs_licensing_log_factor=(("chain", "draw"), np.full(shape, F_CTRL)))


def _noise(paths) -> np.ndarray:
    """The customs noise of each path, destination and month (log scale)."""
    approval = np.maximum(paths["approval"].values, 1e-12)
    return (
        np.log(paths["exports"].values) - np.log(paths["counterfactual"].values) - np.log(approval)
    )


def _ratio(posterior, scenario, **kw) -> np.ndarray:
    """Noise with the factor over noise without it, same seed: exp(F_CTRL) or 1."""
    args = dict(horizon=HORIZON, n_paths=300, rng=4, **kw)
    plain = forecast_paths(posterior, scenario, **args)
    scaled = forecast_paths(_with_factor(posterior), scenario, **args)
    for var in ("approval", "counterfactual"):
        np.testing.assert_array_equal(scaled[var].values, plain[var].values)
    return _noise(scaled) / _noise(plain)


def test_controlled_window_scales_every_forecast_month(fitted_posterior):
    ratio = _ratio(fitted_posterior, load_scenario("baseline"))
    np.testing.assert_allclose(ratio, np.exp(F_CTRL), rtol=1e-6)


def test_lifted_controls_end_the_factor(fitted_posterior):
    np.testing.assert_allclose(_ratio(fitted_posterior, load_scenario("relief")), 1.0, rtol=1e-6)
    raw = load_scenario("baseline").to_dict()
    raw["regimes"].append({"start": "+2", "kind": "lifted"})
    ratio = _ratio(fitted_posterior, parse_scenario(raw))
    np.testing.assert_allclose(ratio[:, :, :2], np.exp(F_CTRL), rtol=1e-6)
    np.testing.assert_allclose(ratio[:, :, 2:], 1.0, rtol=1e-6)


def test_uncontrolled_window_scales_from_a_dated_control_on():
    post = make_posterior(controlled=False, approval_last=(0.98, 0.98))
    np.testing.assert_allclose(_ratio(post, load_scenario("baseline")), 1.0, rtol=1e-6)
    start = pd.Period("2026-03", freq="M")  # the third forecast month
    ratio = _ratio(post, load_scenario("baseline"), future_regime_starts=[start])
    np.testing.assert_allclose(ratio[:, :, :2], 1.0, rtol=1e-6)
    np.testing.assert_allclose(ratio[:, :, 2:], np.exp(F_CTRL), rtol=1e-6)


def test_a_drawn_control_onset_scales_its_path_from_that_month_on():
    post = make_posterior(controlled=False, approval_last=(0.98, 0.98))
    ratio = _ratio(post, _policy_scenario(control_rate=0.5))
    licensed = np.isclose(ratio, np.exp(F_CTRL), rtol=1e-6)
    assert (licensed | np.isclose(ratio, 1.0, rtol=1e-6)).all()
    # the same in every destination, and once in force it stays
    assert (licensed == licensed[:, :1, :]).all()
    assert (np.diff(licensed.astype(int), axis=2) >= 0).all()
    # some paths meet a control within the horizon, some do not
    assert 0.1 < licensed[:, 0, -1].mean() < 0.99
