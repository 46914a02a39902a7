"""Parameter recovery on data simulated from the model itself (slow: a real fit)."""

import warnings

import numpy as np
import pytest

from riskmodel.exceptions import ConvergenceWarning
from riskmodel.models.export_model import load_model_priors
from riskmodel.models.fit import fit_model
from riskmodel.models.simulate import simulate_from_prior, synthetic_inputs
from riskmodel.sampling import SamplerConfig


def test_simulated_inputs_have_the_layout():
    inputs = synthetic_inputs(3, 24, control_at=12, regime_every=4, observed_share=0.5, rng=1)
    assert inputs.destinations[0] == "World"
    assert inputs.regimes.n_regimes == 3
    assert inputs.regimes.control_start == 12
    assert (inputs.obs_destination == 0).sum() == 24


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_parameter_recovery(seed):
    priors = load_model_priors()
    layout = synthetic_inputs(3, 48, control_at=36, regime_every=4, observed_share=0.7, rng=seed)
    data, truth = simulate_from_prior(layout, priors, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = fit_model(data, priors, SamplerConfig(draws=1000, tune=1000, chains=2, seed=seed))
    assert fitted.diagnostics.max_rhat < 1.05
    post = fitted.idata.posterior
    # approval in every controlled cell: the truth inside the 90% interval for most cells
    a = post["approval"].isel(month=slice(36, None)).stack(s=("chain", "draw")).values
    lo, hi = np.quantile(a, [0.05, 0.95], axis=-1)
    true_a = truth["approval"][:, 36:]
    covered = np.mean((true_a >= lo - 1e-9) & (true_a <= hi + 1e-9))
    assert covered >= 0.75
    # the counterfactual demand of World: the truth inside the 90% interval for most months
    # (a coverage check, scaled by the posterior's own uncertainty; a fixed error bound
    # would fail whenever the prior draw has noisy observations)
    ld = post["log_demand"].sel(destination="World").stack(s=("chain", "draw")).values
    lo, hi = np.quantile(ld, [0.05, 0.95], axis=-1)
    true_ld = truth["log_demand"][0]
    assert np.mean((true_ld >= lo) & (true_ld <= hi)) >= 0.75
