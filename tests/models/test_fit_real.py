"""A real NUTS fit of the real model on a slice of the real data (default run).

The slice (World and US since 2022) and the tiny sampler settings keep this to the
compile (~20-30 s, once per session: later fits of the same structure reuse it) plus a
few seconds of sampling. Convergence is not expected at these settings; what is tested
is that the whole fit path works on real data and the posterior tells the real story.
"""

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pytest

from riskmodel.exceptions import ArtifactMismatchError, ConvergenceWarning
from riskmodel.models.export_model import load_model_priors
from riskmodel.models.fit import load_fit
from riskmodel.pipeline import fit, load_inputs
from riskmodel.sampling import SamplerConfig

TINY = SamplerConfig(backend="nutpie", draws=150, tune=250, chains=2, seed=11)


@pytest.fixture(scope="module")
def slice_fit(magnet_slice_csv):
    inputs = load_inputs(magnet_slice_csv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = fit(inputs, sampler=TINY)
    return inputs, fitted


def test_real_fit_has_named_dims_and_provenance(slice_fit):
    inputs, fitted = slice_fit
    post = fitted.idata.posterior
    assert post["approval"].dims == ("chain", "draw", "destination", "month")
    assert list(post["destination"].values) == ["World", "United States"]
    assert post.sizes["draw"] == 150 and post.sizes["chain"] == 2
    assert fitted.attrs["data_hash"] == inputs.data_hash
    assert fitted.attrs["backend"] == "nutpie"
    assert fitted.attrs["seed"] == 11
    assert np.isfinite(fitted.diagnostics.max_rhat)
    assert fitted.timings["seconds"] > 0


def test_real_fit_tells_the_april_2025_story(slice_fit):
    _, fitted = slice_fit
    table = fitted.approval_summary()
    q50 = table.set_index(["destination", "month"])["q50"]
    assert q50["World", "2025-03"] == 1.0  # no licensing before April 2025
    assert q50["World", "2025-05"] < 0.5  # the May 2025 low
    assert q50["United States", "2025-05"] < q50["World", "2025-05"]  # US cut harder
    assert q50["World", "2025-08"] > 0.7  # recovered by August
    assert ((table["q05"] <= table["q50"]) & (table["q50"] <= table["q95"])).all()


def test_save_load_round_trip_and_mismatch(tmp_path, slice_fit, magnet_slice_csv):
    inputs, fitted = slice_fit
    out = fitted.save(tmp_path / "fit")
    for name in ("posterior.nc", "diagnostics.json", "approval.csv"):
        assert (out / name).is_file()
    priors = load_model_priors()
    again = load_fit(out, inputs=inputs, priors=priors)
    np.testing.assert_array_equal(
        again.idata.posterior["approval"].values, fitted.idata.posterior["approval"].values
    )
    other = load_inputs(magnet_slice_csv, as_of="2025-06")
    with pytest.raises(ArtifactMismatchError, match="fitted on other data"):
        load_fit(out, inputs=other)
    import yaml

    changed = yaml.safe_load(Path(priors.path).read_text())
    changed["priors"]["obs_sigma"] = {"dist": "HalfNormal", "sigma": 0.3, "reason": "wider"}

    path = tmp_path / "other_priors.yaml"
    path.write_text(yaml.safe_dump(dict(changed)))
    with pytest.raises(ArtifactMismatchError, match="other priors"):
        load_fit(out, priors=load_model_priors(path))


def test_same_seed_gives_same_draws(slice_fit, magnet_slice_csv):
    inputs, fitted = slice_fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        again = fit(inputs, sampler=TINY)  # compiled model reused from the in-process cache
    assert again.timings["compile_seconds"] == 0.0
    np.testing.assert_array_equal(
        again.idata.posterior["approval"].values, fitted.idata.posterior["approval"].values
    )


def test_a_corrupt_cache_is_rebuilt_not_a_permanent_failure(
    tmp_path, slice_fit, monkeypatch, caplog
):
    from riskmodel import pipeline

    inputs, fitted = slice_fit
    cache = fitted.save(tmp_path / "cache")
    posterior = cache / "posterior.nc"
    posterior.write_bytes(posterior.read_bytes()[:1000])  # a run killed mid-write, say
    refits = []
    monkeypatch.setattr(pipeline, "fit", lambda *a, **k: refits.append(1) or fitted)
    with caplog.at_level("WARNING", logger="riskmodel.pipeline"):
        again = pipeline.fit_cached(cache, inputs, sampler=TINY)
    assert refits == [1] and again is fitted
    assert "unreadable" in caplog.text
    reloaded = load_fit(cache, inputs=inputs)  # rebuilt whole, loadable again
    assert reloaded.idata.posterior["approval"].shape == fitted.idata.posterior["approval"].shape


def test_fit_cached_refits_a_posterior_of_other_model_code(tmp_path, slice_fit, monkeypatch):
    from riskmodel import pipeline
    from riskmodel.models import fit as fit_module

    inputs, fitted = slice_fit
    assert fitted.attrs["model_code_hash"] == fit_module.model_code_hash()
    cache = fitted.save(tmp_path / "cache")
    refits = []
    monkeypatch.setattr(pipeline, "fit", lambda *a, **k: refits.append(1) or fitted)
    again = pipeline.fit_cached(cache, inputs, sampler=TINY)
    assert refits == [] and again is not fitted  # today's code: the cache is reused
    np.testing.assert_array_equal(
        again.idata.posterior["approval"].values, fitted.idata.posterior["approval"].values
    )
    # the same data, priors and settings, but the model's code has changed since
    monkeypatch.setattr(fit_module, "model_code_hash", lambda: "another model")
    assert pipeline.fit_cached(cache, inputs, sampler=TINY) is fitted
    assert refits == [1]


def test_fit_cached_refits_a_posterior_of_other_target_acceptance(tmp_path, slice_fit, monkeypatch):
    from riskmodel import pipeline

    inputs, fitted = slice_fit
    assert fitted.attrs["target_accept"] == TINY.target_accept
    cache = fitted.save(tmp_path / "cache")
    refits = []
    monkeypatch.setattr(pipeline, "fit", lambda *a, **k: refits.append(1) or fitted)
    assert pipeline.fit_cached(cache, inputs, sampler=TINY) is not fitted  # reused
    other = dataclasses.replace(TINY, target_accept=TINY.target_accept / 2)
    assert pipeline.fit_cached(cache, inputs, sampler=other) is fitted
    assert refits == [1]


def test_model_code_hash_changes_with_the_model_not_the_baselines(tmp_path):
    import shutil

    from riskmodel.models import fit as fit_module
    from riskmodel.resources import source_digest

    source = Path(fit_module.__file__).parent
    for path in source.glob("*.py"):
        shutil.copy(path, tmp_path / path.name)

    def code_hash() -> str:  # model_code_hash of the copy
        return source_digest(tmp_path, skip=fit_module._NOT_MODEL_CODE)[:20]

    today = code_hash()
    assert today == fit_module.model_code_hash() and len(today) == 20
    baselines = tmp_path / "baselines.py"
    baselines.write_text(baselines.read_text() + "\n# a baseline edit\n")
    assert code_hash() == today
    model = tmp_path / "export_model.py"
    model.write_text(model.read_text() + "\n# a model edit\n")
    assert code_hash() != today


def test_fit_cached_refuses_a_folder_of_other_things_before_fitting(tmp_path, slice_fit):
    from riskmodel import pipeline
    from riskmodel.exceptions import RiskModelError

    inputs, _ = slice_fit
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RiskModelError, match="cannot save a fit there"):
        pipeline.fit_cached(tmp_path, inputs, sampler=TINY)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_refit_on_other_data_of_the_same_structure_compiles_nothing(slice_fit):
    inputs, fitted = slice_fit
    # Another release of the same series: every figure revised up by half.
    revised = dataclasses.replace(inputs, obs_quantity=inputs.obs_quantity * 1.5)
    assert revised.data_hash != inputs.data_hash
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        again = fit(revised, sampler=TINY)  # the compiled model, with the new data swapped in
    assert again.timings["compile_seconds"] == 0.0
    assert again.attrs["data_hash"] == revised.data_hash
    # The posterior follows the new data: demand about log(1.5) higher, approval alike.
    shift = again.idata.posterior["log_demand"] - fitted.idata.posterior["log_demand"]
    assert 0.25 < float(shift.mean()) < 0.55
    # The padding's innovations (months before licensing) are not in the posterior.
    for post in (fitted.idata.posterior, again.idata.posterior):
        assert str(post["controlled_month"].values[0]) == "2025-04"
