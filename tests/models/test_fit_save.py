"""A fit folder is written whole or not at all (no NUTS: fixed posterior draws)."""

import json

import numpy as np
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
