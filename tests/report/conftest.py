"""Fixtures of the report tests: synthetic stage outputs, a rendered report, a fake pipeline."""

from __future__ import annotations

import json
import shutil
import sys
import types
from pathlib import Path

import pytest

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import synthetic_report  # noqa: E402


@pytest.fixture(scope="session")
def rendered(tmp_path_factory):
    """A full report rendered once from synthetic inputs (three scenarios, fit passed)."""
    from riskmodel.report import render_report

    root = tmp_path_factory.mktemp("rendered")
    run = synthetic_report.make_inputs(root / "stages")
    index = render_report(run, root / "report")
    return index.parent


@pytest.fixture
def make_inputs(tmp_path):
    """Build ReportInputs from fresh synthetic stage outputs under tmp_path."""
    counter = {"n": 0}

    def _make(**kwargs):
        counter["n"] += 1
        return synthetic_report.make_inputs(tmp_path / f"stages{counter['n']}", **kwargs)

    return _make


@pytest.fixture
def copy_report(rendered):
    """A build callable that copies the rendered report into the build directory."""

    def _build(directory: Path) -> None:
        shutil.copytree(rendered, directory, dirs_exist_ok=True)

    return _build


class _FakeFit:
    def __init__(self, data_hash: str, passed: bool) -> None:
        import numpy as np

        self._approval = synthetic_report._approval(
            __import__("pandas").period_range("2023-01", "2025-12", freq="M"),
            np.random.default_rng(0),
        )
        self._diag = {
            "max_rhat": 1.003,
            "min_ess_bulk": 900.0,
            "min_ess_tail": 700.0,
            "divergences": 0,
            "min_bfmi": 0.8,
            "passed": passed,
            "failures": [] if passed else ["max R-hat 1.2 > 1.01"],
            "backend": "nutpie",
            "data_hash": data_hash,
            "priors_hash": "p0",
        }
        self.attrs = {
            "riskmodel_version": "0.1.0",
            "model_type": "joint_export_v1",
            "product": "magnets",
            "data_hash": data_hash,
            "priors_hash": "p0",
            "seed": 0,
            "backend": "nutpie",
            "regimes": "2025-04 control_effective",
            "regime_starts": "2025-04",
        }

    def approval_summary(self):
        return self._approval.copy()

    def diagnostics_dict(self):
        return dict(self._diag)


def make_fake_pipeline(calls: list, *, data_hash: str = "h1", passed: bool = True):
    """A stand-in for riskmodel.pipeline with the agreed API, writing synthetic outputs."""
    import pandas as pd

    mod = types.ModuleType("riskmodel.pipeline")
    read: list = []

    def read_sources(data=None, events=None, licences=None):
        from riskmodel.customs import load_bundled_customs, load_bundled_events

        calls.append(("read_sources", data, events))
        read.append(
            types.SimpleNamespace(
                customs=load_bundled_customs(), events=load_bundled_events(), files=("c.csv",)
            )
        )
        return read[-1]

    def load_inputs(sources, events=None, licences=None, product=None, as_of=None):
        calls.append(("load_inputs", sources is read[-1], product))
        return types.SimpleNamespace(data_hash=data_hash, product=product or "magnets")

    def fit_cached(cache_dir, inputs, priors=None, sampler=None, seed=None):
        cache = Path(cache_dir)
        stamp = cache / "posterior.nc"
        reuse = stamp.is_file() and json.loads(stamp.read_text())["data_hash"] == inputs.data_hash
        if not reuse:
            cache.mkdir(parents=True, exist_ok=True)
            stamp.write_text(json.dumps({"data_hash": inputs.data_hash}))
        calls.append(("fit_cached", str(cache), reuse, seed))
        return _FakeFit(inputs.data_hash, passed)

    def forecast(fitted, *, scenario, horizon, n_paths, seed, events=None):
        assert events is read[-1].events  # the events read once, not read again
        calls.append(("forecast", scenario.name, horizon, n_paths, seed))
        months = pd.period_range("2026-01", periods=horizon, freq="M")
        return synthetic_report._paths(scenario.name, months, n_paths, seed % 1000)

    def write_forecast(ds, out_dir):
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        synthetic_report._forecast_csv(ds, ds.attrs["scenario"]).to_csv(
            out / "forecast.csv", index=False
        )
        ds.to_netcdf(out / "paths.nc", engine="h5netcdf")

    def shortage(paths_ds, *, n_paths, seed):
        scenario = paths_ds.attrs["scenario"]
        calls.append(("shortage", scenario, n_paths, seed))
        months = pd.PeriodIndex([str(m) for m in paths_ds["month"].values], freq="M")
        return synthetic_report._shortage(scenario, months, 0.0)

    def write_shortage(ds, out_dir):
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        ds[0].to_csv(out / "shortage.csv", index=False)
        ds[1].to_csv(out / "stockout.csv", index=False)
        (out / "shortage.nc").write_bytes(b"")

    for fn in (
        read_sources,
        load_inputs,
        fit_cached,
        forecast,
        write_forecast,
        shortage,
        write_shortage,
    ):
        setattr(mod, fn.__name__, fn)
    return mod


@pytest.fixture
def fake_pipeline(monkeypatch):
    """Install a fake riskmodel.pipeline; returns (calls, install(**kwargs))."""
    calls: list = []

    def install(**kwargs):
        mod = make_fake_pipeline(calls, **kwargs)
        monkeypatch.setitem(sys.modules, "riskmodel.pipeline", mod)
        import riskmodel

        monkeypatch.setattr(riskmodel, "pipeline", mod, raising=False)
        return mod

    install()
    return calls, install
