"""A warm report reuses stored stage outputs and figures, and they equal a recomputation.

The real pipeline runs (forecast, shortage Monte Carlo, drivers, figures) on a fixed
posterior saved as a fit folder (no sampling); only ``fit_cached`` is replaced, by one
that saves that fit once and then loads it as the real cache does.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmodel import compat
from riskmodel.models.diagnostics import ConvergenceReport
from riskmodel.models.export_model import MODEL_TYPE
from riskmodel.models.fit import FittedModel, load_fit
from riskmodel.report.reuse import ReuseStore, digest
from tests.conftest import make_posterior

SCENARIOS = ["baseline", "us_embargo"]
STAGE_FILES = ("forecast.csv", "shortage.csv", "stockout.csv", "drivers.csv")
#: Parts of summary.json that are numbers of the run (not its time or its cache state).
NUMBERS = ("headline", "scenario_table", "max_p_short", "forecast_start", "forecast_end")


def _fit() -> FittedModel:
    post = make_posterior(months=pd.period_range("2023-01", "2025-12", freq="M"))
    post.attrs.update(
        model_type=MODEL_TYPE,
        as_of="",
        future_regime_starts="",
        student_t_nu=4.0,
        share_knot_months=6,
    )
    report = ConvergenceReport(1.0, 1000.0, 1000.0, 0, 1.0)
    return FittedModel(compat.from_datasets(posterior=post), report, {"seed": 0})


@pytest.fixture
def pipeline_calls(monkeypatch):
    """The real pipeline, with a fit_cached that saves a fixed fit once; records stage calls."""
    import riskmodel.pipeline as pipeline

    calls: list[str] = []
    real_forecast = pipeline.forecast

    def fit_cached(cache_dir, inputs, priors=None, sampler=None, seed=None):
        cache = Path(cache_dir)
        if not (cache / "posterior.nc").is_file():
            _fit().save(cache)
        return load_fit(cache)

    def forecast(*args, **kwargs):
        calls.append("forecast")
        return real_forecast(*args, **kwargs)

    monkeypatch.setattr(pipeline, "fit_cached", fit_cached)
    monkeypatch.setattr(pipeline, "forecast", forecast)
    return calls


def _run(out: Path, *, reuse: bool = True) -> Path:
    from riskmodel.report import ReportOptions, scheduled_report

    options = ReportOptions(out=out, scenarios=SCENARIOS, n_paths=60, horizon=6, reuse=reuse)
    return scheduled_report(options).out.resolve()


def _numbers(report: Path) -> dict:
    files = {
        f"{s}/{name}": (report / "scenarios" / s / name).read_bytes()
        for s in SCENARIOS
        for name in STAGE_FILES
    }
    summary = json.loads((report / "summary.json").read_text())
    figures = {p.name: p.read_bytes() for p in sorted((report / "figures").iterdir())}
    return {"files": files, "summary": {k: summary[k] for k in NUMBERS}, "figures": figures}


def test_a_warm_run_reuses_and_equals_a_recomputation(tmp_path, pipeline_calls):
    out = tmp_path / "report"
    cold = _numbers(_run(out))
    assert pipeline_calls == ["forecast"] * len(SCENARIOS)
    assert len(cold["figures"]) >= 2 * len(SCENARIOS) + 1

    pipeline_calls.clear()
    warm = _numbers(_run(out))
    assert pipeline_calls == []  # nothing recomputed
    assert warm == cold

    recomputed = _numbers(_run(tmp_path / "fresh", reuse=False))
    assert pipeline_calls == ["forecast"] * len(SCENARIOS)
    assert recomputed == cold


def test_another_setting_is_not_served_from_the_store(tmp_path, pipeline_calls):
    from riskmodel.report import ReportOptions, scheduled_report

    out = tmp_path / "report"
    _run(out)
    pipeline_calls.clear()
    scheduled_report(ReportOptions(out=out, scenarios=SCENARIOS, n_paths=60, horizon=6, seed=1))
    assert pipeline_calls == ["forecast"] * len(SCENARIOS)
    # only what this run used is kept
    assert len(list((tmp_path / "report.d" / "reuse" / "scenario").iterdir())) == len(SCENARIOS)


def test_a_damaged_stored_output_is_set_aside_and_rebuilt(tmp_path, pipeline_calls, caplog):
    out = tmp_path / "report"
    cold = _numbers(_run(out))
    store = tmp_path / "report.d" / "reuse"
    entries = sorted((store / "scenario").iterdir())
    paths_nc = entries[0] / "paths.nc"
    paths_nc.write_bytes(paths_nc.read_bytes()[:500])  # a disk that filled up, say
    figure = next((store / "figure").iterdir()) / "figure.png"
    figure.write_bytes(b"not a png")

    pipeline_calls.clear()
    with caplog.at_level(logging.WARNING, logger="riskmodel.report.reuse"):
        again = _numbers(_run(out))
    assert pipeline_calls == ["forecast"]  # only the damaged scenario was recomputed
    assert again == cold
    assert caplog.text.count("set aside") == 2
    aside = [p for p in (store / "scenario").iterdir() if ".bad-" in p.name]
    assert len(aside) == 1 and (aside[0] / "paths.nc").stat().st_size == 500  # kept, for a look

    pipeline_calls.clear()
    assert _numbers(_run(out)) == cold and pipeline_calls == []
    assert not [p for p in (store / "scenario").iterdir() if ".bad-" in p.name]  # pruned


def test_digest_follows_content_not_identity():
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", None]})
    assert digest(frame) == digest(frame.copy())
    changed = frame.copy()
    changed.loc[1, "a"] = 2.0000001
    assert digest(changed) != digest(frame)
    assert digest(frame.rename(columns={"b": "c"})) != digest(frame)
    assert digest({"x": np.arange(3)}) != digest({"x": np.arange(3).astype(float)})
    with pytest.raises(TypeError, match="cannot fingerprint"):
        digest(object())


def test_a_store_with_reuse_off_neither_reads_nor_writes(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("x")
    on = ReuseStore(tmp_path / "on")
    assert on.put("k", "key", [source]) is not None and on.get("k", "key") is not None
    off = ReuseStore(tmp_path / "on", enabled=False)
    assert off.get("k", "key") is None and off.put("k", "other", [source]) is None
    assert not (tmp_path / "on" / "k" / "other").exists()
