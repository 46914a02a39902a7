"""nutpie's C callbacks come from numba's disk cache and compute the model's logp.

Runs after ``test_fit_real.py`` in a default run, whose fit of the same real slice
(same padded structure) already compiled (and cached) these callbacks, so this costs
seconds.
"""

import ctypes
import dataclasses

import numpy as np
import pytest

from riskmodel.models.export_model import build_model, load_model_priors, model_structure
from riskmodel.pipeline import load_inputs
from riskmodel.sampling import backends
from riskmodel.sampling.nutpie_cache import compile_cached, load_cached
from tests.conftest import reference_dlogp, reference_mode

_double_p = ctypes.POINTER(ctypes.c_double)


@pytest.fixture(scope="module")
def slice_inputs(magnet_slice_csv):
    return load_inputs(magnet_slice_csv)


@pytest.fixture(scope="module")
def slice_model(slice_inputs):
    return build_model(slice_inputs, load_model_priors(), model_structure(slice_inputs))


def _call_logp(compiled, x):
    grad, logp = np.zeros_like(x), np.zeros(())
    code = compiled.compiled_logp_func.ctypes(
        x.size,
        x.ctypes.data_as(_double_p),
        grad.ctypes.data_as(_double_p),
        logp.ctypes.data_as(_double_p),
        compiled.user_data.ctypes.data,  # where the callbacks find the data
    )
    assert code == 0
    return float(logp), grad


def test_callbacks_are_served_from_disk_and_compute_the_models_logp(slice_model):
    first = compile_cached(slice_model)
    assert first is not None, "the real model must qualify for cached callbacks"
    # A fresh cfunc object in the same process finds what the first one saved
    # (saving is refused for code with dynamic globals, e.g. scipy special functions).
    again = compile_cached(slice_model)
    assert again.compiled_logp_func._cache_hits == 1
    assert again.compiled_expand_func._cache_hits == 1

    reference = slice_model.compile_logp(jacobian=True, mode=reference_mode())
    reference_grad = reference_dlogp(slice_model)
    value_names = [v.name for v in slice_model.value_vars]
    # nutpie's flat vector orders the variables its own way (shape_info); PyMC's
    # gradient follows model.value_vars.
    layout = dict(zip(again.shape_info[0], zip(*again.shape_info[1:], strict=True), strict=False))
    rng = np.random.default_rng(0)
    for _ in range(3):
        seed = int(rng.integers(1000))
        x = again.initial_point_func(seed) + 0.1 * rng.standard_normal(again.n_dim)
        point = {name: x[layout[name][0]].reshape(layout[name][1]) for name in value_names}
        logp, grad = _call_logp(again, x)
        assert logp == pytest.approx(float(reference(point)), rel=1e-10)
        sizes = np.cumsum([point[name].size for name in value_names])[:-1]
        by_name = dict(zip(value_names, np.split(reference_grad(point), sizes), strict=True))
        # shape_info also lists the deterministics nutpie stores; keep the free ones.
        expected = np.concatenate([by_name[n] for n in again.shape_info[0] if n in by_name])
        np.testing.assert_allclose(grad, expected, rtol=1e-8, atol=1e-8)


def test_falls_back_to_nutpies_own_compile(slice_model, monkeypatch):
    import nutpie

    def broken(model):
        raise TypeError("a nutpie whose private helpers changed")

    monkeypatch.setattr("riskmodel.sampling.nutpie_cache.compile_cached", broken)
    monkeypatch.setattr(nutpie, "compile_pymc_model", lambda model, backend: "nutpie's own")
    monkeypatch.setattr(backends, "model_structure_hash", lambda model: "not-in-cache")
    monkeypatch.setattr(backends, "_COMPILED", type(backends._COMPILED)())
    compiled, _ = backends._compile_nutpie(slice_model)
    assert compiled == "nutpie's own"


def test_a_later_process_loads_the_compiled_model_and_data_swap_in(slice_model, slice_inputs):
    key = backends.model_structure_hash(slice_model)
    compiled = compile_cached(slice_model, key)  # writes the manifest under the key
    loaded = load_cached(slice_model, key)  # what a fresh process does: no PyTensor function
    assert loaded is not None and loaded.logp_func is None
    assert loaded.compiled_logp_func._cache_hits == 1
    assert load_cached(slice_model, "no-such-structure") is None
    x = compiled.initial_point_func(5)
    np.testing.assert_array_equal(loaded.initial_point_func(5), x)
    assert _call_logp(loaded, x)[0] == _call_logp(compiled, x)[0]

    # Revised figures (not all by one factor: a common factor moves the centring too)
    factor = np.where(np.arange(len(slice_inputs.obs_quantity)) % 2, 2.0, 0.7)
    revised = dataclasses.replace(slice_inputs, obs_quantity=slice_inputs.obs_quantity * factor)
    other = build_model(revised, load_model_priors(), model_structure(slice_inputs))
    swapped = backends._with_model_data(loaded, other)
    reference = other.compile_logp(jacobian=True, mode=reference_mode())
    layout = dict(zip(loaded.shape_info[0], zip(*loaded.shape_info[1:], strict=True), strict=False))
    point = {v.name: x[layout[v.name][0]].reshape(layout[v.name][1]) for v in other.value_vars}
    logp, _ = _call_logp(swapped, x)
    assert logp == pytest.approx(float(reference(point)), rel=1e-10)
    assert logp != pytest.approx(_call_logp(loaded, x)[0], rel=1e-6)
