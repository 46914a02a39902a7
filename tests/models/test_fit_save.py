"""A fit folder is written whole or not at all (no NUTS: fixed posterior draws)."""

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from riskmodel import compat
from riskmodel.exceptions import RiskModelError
from riskmodel.models.diagnostics import ConvergenceReport
from riskmodel.models.export_model import MODEL_TYPE
from riskmodel.models.fit import FittedModel, load_fit
from tests.conftest import make_posterior


def _fitted(tag: str, seed: int) -> FittedModel:
    post = make_posterior(seed=seed)
    post.attrs.update({"model_type": MODEL_TYPE, "data_hash": tag})
    report = ConvergenceReport(1.0, 1000.0, 1000.0, 0, 1.0)
    dims = ("chain", "draw")
    energy = np.random.default_rng(seed).standard_normal((2, 50))
    stats = xr.Dataset(
        {"diverging": (dims, np.zeros((2, 50), dtype=bool)), "energy": (dims, energy)}
    )
    idata = compat.from_datasets(posterior=post, sample_stats=stats)
    return FittedModel(idata, report, {"seconds": float(seed)})


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_a_save_killed_midway_leaves_the_previous_fit_whole(tmp_path, monkeypatch):
    out = tmp_path / "fit"
    _fitted("old", 1).save(out)
    before = _snapshot(out)

    def killed(self):
        raise KeyboardInterrupt  # as a kill would, after posterior.nc is written

    monkeypatch.setattr(FittedModel, "approval_summary", killed)
    with pytest.raises(KeyboardInterrupt):
        _fitted("new", 2).save(out)

    assert _snapshot(out) == before
    assert load_fit(out).attrs["data_hash"] == "old"
    assert json.loads((out / "diagnostics.json").read_text())["data_hash"] == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["fit"]  # no debris left


def test_a_save_replaces_the_whole_fit(tmp_path):
    out = tmp_path / "fit"
    _fitted("old", 1).save(out)
    (out / ".posterior.nc.abc.tmp").write_text("debris of an older, file-by-file save")
    _fitted("new", 2).save(out)
    again = load_fit(out)
    assert again.attrs["data_hash"] == "new"
    assert again.timings["seconds"] == 2.0
    assert sorted(p.name for p in out.iterdir()) == [
        "approval.csv",
        "diagnostics.json",
        "posterior.nc",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["fit"]


def test_a_folder_with_other_files_is_refused_untouched(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RiskModelError, match=r"notes\.txt.*new or empty folder"):
        _fitted("new", 2).save(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_saved_fit_loads_lazily_and_equals_the_fit_in_memory(tmp_path):
    fitted = _fitted("h", 3)
    warmup = compat.posterior(fitted.idata).isel(draw=slice(0, 5))
    compat.set_group(fitted.idata, "warmup_posterior", warmup)
    out = fitted.save(tmp_path / "fit")
    loaded = load_fit(out)
    assert loaded._idata is None  # provenance, diagnostics and approval without the draws
    assert loaded.attrs == fitted.attrs
    pd.testing.assert_frame_equal(
        loaded.approval_summary(), fitted.approval_summary(), check_exact=True
    )
    assert loaded.diagnostics_dict() == fitted.diagnostics_dict()
    assert "warmup_posterior" not in compat.groups(loaded.idata)  # not saved: nothing reads it
    saved, kept = compat.posterior(loaded.idata), compat.posterior(fitted.idata)
    for name in kept.data_vars:
        np.testing.assert_array_equal(saved[name].values, kept[name].values)


def test_a_posterior_changed_after_saving_is_refused(tmp_path):
    from riskmodel.models.fit import DamagedFitError

    out = _fitted("h", 3).save(tmp_path / "fit")
    posterior = out / "posterior.nc"
    data = bytearray(posterior.read_bytes())
    data[-100] ^= 0xFF  # one flipped byte in the draws
    posterior.write_bytes(bytes(data))
    with pytest.raises(DamagedFitError, match=r"posterior\.nc: does not match the hash"):
        load_fit(out)
    assert issubclass(DamagedFitError, ValueError)  # fit_cached rebuilds on ValueError


def test_a_fit_saved_without_hashes_is_read_whole(tmp_path):
    out = _fitted("h", 3).save(tmp_path / "fit")
    record = json.loads((out / "diagnostics.json").read_text())
    del record["files_sha256"]
    (out / "diagnostics.json").write_text(json.dumps(record))
    loaded = load_fit(out)
    assert loaded._idata is not None and loaded.attrs["data_hash"] == "h"
