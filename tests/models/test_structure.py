"""One compiled model per structure: padded shapes, data as inputs, a hash that ignores data.

No sampling here: the padded model must be the exact one plus terms that do not depend
on the parameters the data inform, and the structure hash must see shapes, not values.
"""

import dataclasses

import numpy as np
import pytest

from riskmodel import compat
from riskmodel.models.export_model import (
    OBS_BLOCK,
    SMALL_BLOCK,
    build_model,
    drop_padding,
    load_model_priors,
    model_data,
    model_structure,
)
from riskmodel.models.regimes import regime_direction
from riskmodel.pipeline import load_inputs
from riskmodel.sampling.backends import model_structure_hash
from tests.conftest import reference_dlogp, reference_mode


@pytest.fixture(scope="module")
def slice_inputs(magnet_slice_csv):
    return load_inputs(magnet_slice_csv)


def test_padding_rounds_counts_up_and_keeps_what_sizes_parameters(slice_inputs):
    exact = model_structure(slice_inputs, padded=False)
    padded = model_structure(slice_inputs)
    assert exact.n_obs == len(slice_inputs.obs_quantity)
    assert padded.n_obs % OBS_BLOCK == 0 and padded.n_obs >= exact.n_obs
    assert (
        padded.n_controlled
        >= exact.n_controlled
        == slice_inputs.n_months - (slice_inputs.regimes.control_start)
    )
    assert padded.n_regimes % SMALL_BLOCK == 0 and padded.n_regimes >= exact.n_regimes > 0
    for name in ("n_months", "n_destinations"):
        assert getattr(padded, name) == getattr(exact, name)


def test_data_that_do_not_fit_the_structure_are_refused(slice_inputs):
    small = dataclasses.replace(model_structure(slice_inputs, padded=False), n_obs=3)
    with pytest.raises(ValueError, match="n_obs"):
        model_data(slice_inputs, small)
    other = dataclasses.replace(model_structure(slice_inputs), n_months=12)
    with pytest.raises(ValueError, match="n_months"):
        model_data(slice_inputs, other)


def test_padded_model_is_the_exact_model_plus_prior_only_terms(slice_inputs):
    priors = load_model_priors()
    exact = build_model(slice_inputs, priors)
    padded_structure = model_structure(slice_inputs)
    padded = build_model(slice_inputs, priors, padded_structure)
    exact_structure = model_structure(slice_inputs, padded=False)
    pad = padded_structure.n_controlled - exact_structure.n_controlled
    assert pad > 0, "the slice should need padding of its licensing months"
    spare = padded_structure.n_regimes - exact_structure.n_regimes
    assert spare > 0, "the slice should need spare regimes"
    logp_exact = exact.compile_logp(mode=reference_mode())
    logp_padded = padded.compile_logp(mode=reference_mode())
    grad_exact = reference_dlogp(exact)
    grad_padded = reference_dlogp(padded)
    rng = np.random.default_rng(3)
    differences = []
    for _ in range(3):
        point = {
            name: value + 0.3 * rng.standard_normal(np.shape(value))
            for name, value in exact.initial_point().items()
        }
        padded_point = dict(point)
        n_dest = len(slice_inputs.destinations)
        padding = np.zeros((n_dest, pad))  # the padding's innovations at their prior's mode
        padded_point["approval_innovation"] = np.hstack([padding, point["approval_innovation"]])
        # the spare regimes' steps at their prior's mode
        steps = point["regime_step_raw"]
        padded_point["regime_step_raw"] = np.concatenate([steps, np.zeros(spare)])
        differences.append(float(logp_padded(padded_point)) - float(logp_exact(point)))
        # The gradient of everything but the padding's innovations is the exact model's.
        names = [v.name for v in exact.value_vars]
        sizes = np.cumsum([np.size(point[n]) for n in names])[:-1]
        g_exact = dict(zip(names, np.split(grad_exact(point), sizes), strict=True))
        sizes = np.cumsum([np.size(padded_point[n]) for n in names])[:-1]
        g_padded = dict(zip(names, np.split(grad_padded(padded_point), sizes), strict=True))
        for name in names:
            if name == "approval_innovation":
                g = g_padded[name].reshape(n_dest, -1)
                np.testing.assert_allclose(g[:, :pad], 0.0, atol=1e-12)  # -x at x = 0
                np.testing.assert_allclose(g[:, pad:].ravel(), g_exact[name], rtol=1e-9)
            elif name == "regime_step_raw":
                g = g_padded[name]
                np.testing.assert_allclose(g[-spare:], 0.0, atol=1e-12)
                np.testing.assert_allclose(g[:-spare], g_exact[name], rtol=1e-9, atol=1e-9)
            else:
                np.testing.assert_allclose(g_padded[name], g_exact[name], rtol=1e-9, atol=1e-9)
    # A constant: the zero-weight rows and the padding's prior normalisation.
    np.testing.assert_allclose(differences, differences[0], rtol=0, atol=1e-8)


def test_structure_hash_sees_shapes_not_data(slice_inputs):
    priors = load_model_priors()
    structure = model_structure(slice_inputs)
    revised = dataclasses.replace(slice_inputs, obs_quantity=slice_inputs.obs_quantity * 1.5)
    first = build_model(slice_inputs, priors, structure)
    second = build_model(revised, priors, structure)
    assert not np.array_equal(first["log_quantity"].get_value(), second["log_quantity"].get_value())
    assert model_structure_hash(first) == model_structure_hash(second)
    wider = dataclasses.replace(structure, n_obs=structure.n_obs + OBS_BLOCK)
    assert model_structure_hash(build_model(slice_inputs, priors, wider)) != (
        model_structure_hash(first)
    )


def test_licence_rows_beyond_the_data_are_empty(slice_inputs):
    structure = dataclasses.replace(model_structure(slice_inputs), n_licences=4, max_trials=64)
    without = dataclasses.replace(slice_inputs, licences=None)
    data = model_data(without, structure)
    assert data["licence_weights"].shape == (4, structure.n_destinations * structure.n_months)
    assert not data["licence_weights"].any() and not data["licence_applications"].any()


def test_data_names_are_not_dim_names(slice_inputs):
    # nutpie addresses shared variables by name, and unfrozen dims are shared lengths
    model = build_model(slice_inputs, load_model_priors(), model_structure(slice_inputs))
    names = set(model_data(slice_inputs, model_structure(slice_inputs)))
    assert names <= set(model.named_vars) and not names & set(model.coords)


def test_regime_directions_are_data_that_follow_the_labels(slice_inputs):
    """Which way each regime steps is data: flipping it changes no compiled structure."""
    priors = load_model_priors()
    structure = model_structure(slice_inputs)
    names = slice_inputs.regimes.names
    assert len(names) > 1, "the slice should have regimes after the first"
    data = model_data(slice_inputs, structure)
    directions = data["regime_direction"]
    np.testing.assert_array_equal(directions[: len(names)], [regime_direction(n) for n in names])
    assert not directions[len(names) :].any()  # spare regimes step by their prior alone
    flipped_names = tuple(
        f"{n.split(' ')[0]} {'ban' if regime_direction(n) > 0 else 'deal'}" for n in names
    )
    flipped = dataclasses.replace(
        slice_inputs, regimes=dataclasses.replace(slice_inputs.regimes, names=flipped_names)
    )
    assert not np.array_equal(
        model_data(flipped, structure)["regime_direction"], data["regime_direction"]
    )
    assert model_structure_hash(build_model(flipped, priors, structure)) == model_structure_hash(
        build_model(slice_inputs, priors, structure)
    )


def test_a_single_regime_has_no_steps_but_keeps_their_priors(slice_inputs):
    schedule = slice_inputs.regimes
    first = schedule.index.copy()
    first[first > 0] = 0  # every licensing month in the first regime
    one = dataclasses.replace(
        slice_inputs,
        regimes=dataclasses.replace(
            schedule, names=schedule.names[:1], starts=schedule.starts[:1], index=first
        ),
    )
    model = build_model(one, load_model_priors())
    assert "regime_step_raw" not in model.named_vars and "regime_step" not in model.coords
    # the step's mean and scatter are still drawn: a regime dated after the data needs them
    assert {"regime_step_mean", "regime_step_sigma"} <= {v.name for v in model.free_RVs}
    import pymc as pm

    prior = pm.sample_prior_predictive(draws=5, model=model, random_seed=1).prior
    assert prior["regime_mean"].shape[-1] == 1
    np.testing.assert_array_equal(prior["regime_mean"][..., 0], prior["regime_mean_mu"])


def _with_regimes(inputs, n: int):
    """``inputs`` with only its first ``n`` regimes (later months stay in regime n - 1)."""
    schedule = inputs.regimes
    index = np.minimum(schedule.index, n - 1)
    return dataclasses.replace(
        inputs,
        regimes=dataclasses.replace(
            schedule, names=schedule.names[:n], starts=schedule.starts[:n], index=index
        ),
    )


def test_a_new_regime_within_the_spare_ones_compiles_nothing(slice_inputs):
    """Another event that opens a regime is data while the structure has a spare one."""
    priors = load_model_priors()
    n = slice_inputs.regimes.n_regimes
    assert n >= 2
    fewer = _with_regimes(slice_inputs, n - 1)
    structure = model_structure(slice_inputs)
    assert model_structure(fewer) == structure
    assert model_structure_hash(build_model(fewer, priors, structure)) == model_structure_hash(
        build_model(slice_inputs, priors, structure)
    )
    labels = list(build_model(fewer, priors, structure).coords["regime"])
    assert labels[: n - 1] == list(fewer.regimes.names) and len(labels) == structure.n_regimes


@pytest.mark.parametrize("n_regimes", [1, 2])
def test_dropping_the_padding_gives_the_exact_models_posterior_shapes(slice_inputs, n_regimes):
    import pymc as pm

    inputs = _with_regimes(slice_inputs, n_regimes)
    priors = load_model_priors()
    structure = model_structure(inputs)
    prior = compat.group(
        pm.sample_prior_predictive(
            draws=3, model=build_model(inputs, priors, structure), random_seed=1
        ),
        "prior",
    )
    exact = compat.group(
        pm.sample_prior_predictive(draws=3, model=build_model(inputs, priors), random_seed=1),
        "prior",
    )
    kept = drop_padding(prior, inputs, structure)
    assert set(kept.data_vars) == set(exact.data_vars)
    for name in exact.data_vars:
        assert kept[name].dims == exact[name].dims, name
        assert kept[name].shape == exact[name].shape, name
    assert list(kept["regime"].values) == list(inputs.regimes.names)
