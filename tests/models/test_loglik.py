"""The NumPy pointwise log-likelihood equals the PyMC model's own terms, row by row.

A small model with monthly rows, rows that sum several months, reported zeros
(censored) and licence counts; the parameters are prior draws (no sampling).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel import compat
from riskmodel.models.export_model import build_model, load_model_priors
from riskmodel.models.inputs import LicenceCounts, ModelInputs
from riskmodel.models.loglik import pointwise_log_likelihood
from riskmodel.models.regimes import RegimeSchedule

N_MONTHS, CONTROL, N_DRAWS = 30, 20, 25
DESTINATIONS = ("World", "United States", "Japan")


def _inputs() -> ModelInputs:
    rng = np.random.default_rng(3)
    months = pd.period_range("2023-01", periods=N_MONTHS, freq="M")
    index = np.full(N_MONTHS, -1)
    index[CONTROL:] = 0
    index[25:] = 1
    schedule = RegimeSchedule(("r0", "r1"), (months[CONTROL], months[25]), index)
    rows: list[tuple[int, list[int], float]] = []
    for d in range(len(DESTINATIONS)):
        for t in range(2, N_MONTHS):
            rows.append((d, [t], float(rng.lognormal(5 - d, 0.3))))
        rows.append((d, [0, 1], float(rng.lognormal(6 - d, 0.3))))  # a two-month sum
    rows.append((2, [N_MONTHS - 1], 0.0))  # a reported zero
    rows.append((1, [3, 4, 5, 6], 0.0))  # a zero that covers several months
    width = max(len(ms) for _, ms, _ in rows)
    obs_months = np.zeros((len(rows), width), dtype=np.int64)
    obs_mask = np.zeros((len(rows), width), dtype=bool)
    for i, (_, ms, _) in enumerate(rows):
        obs_months[i, : len(ms)] = ms
        obs_mask[i, : len(ms)] = True
    licences = LicenceCounts(
        destination=np.array([1, 2]),
        first=np.array([CONTROL, 22]),
        last=np.array([23, 27]),
        applications=np.array([40, 12]),
        approved=np.array([9, 7]),
    )
    return ModelInputs(
        product="magnets",
        months=months,
        destinations=DESTINATIONS,
        obs_destination=np.array([d for d, _, _ in rows]),
        obs_months=obs_months,
        obs_mask=obs_mask,
        obs_quantity=np.array([q for _, _, q in rows]),
        obs_label=tuple(f"synthetic:{i}" for i in range(len(rows))),
        regimes=schedule,
        licences=licences,
    )


@pytest.fixture(scope="module")
def drawn():
    import pymc as pm

    inputs, priors = _inputs(), load_model_priors()
    model = build_model(inputs, priors)
    drawn = pm.sample_prior_predictive(draws=N_DRAWS, model=model, random_seed=5)
    prior = compat.group(drawn, "prior")
    return inputs, priors, model, prior


def test_pointwise_values_equal_the_models_terms(drawn):
    import pymc as pm

    inputs, priors, model, prior = drawn
    ours = pointwise_log_likelihood(prior, inputs, priors)
    theirs = pm.compute_log_likelihood(
        compat.from_datasets(posterior=prior),
        var_names=["log_exports", "licences_approved"],
        model=model,
        extend_inferencedata=False,
        progressbar=False,
    )
    positive = ~inputs.obs_is_zero
    assert ours["log_exports"].shape == (1, N_DRAWS, len(inputs.obs_quantity))
    np.testing.assert_allclose(
        ours["log_exports"].values[..., positive],
        theirs["log_exports"].values[..., positive],
        rtol=1e-7,
        atol=1e-8,  # float rounding of values near zero
    )
    np.testing.assert_allclose(
        ours["licences_approved"].values, theirs["licences_approved"].values, rtol=1e-7, atol=1e-8
    )
    # reported zeros: the model's censoring potential is the sum of their log-CDFs
    potential = pm.compile(inputs=model.free_RVs, outputs=model["reported_zeros"])
    expected = [
        potential(*[prior[rv.name].values[0, i] for rv in model.free_RVs]) for i in range(N_DRAWS)
    ]
    got = ours["log_exports"].values[0][:, ~positive].sum(axis=1)
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-8)
    assert np.isfinite(ours["log_exports"].values).all()


def test_labels_name_every_row(drawn):
    inputs, priors, _, prior = drawn
    ours = pointwise_log_likelihood(prior, inputs, priors)
    labels = list(ours["observation"].values)
    assert len(set(labels)) == len(inputs.obs_label)
    assert labels[0].endswith("synthetic:0")
