"""The backtest engine on the bundled data with baselines (fast) and a fixed posterior."""

import numpy as np
import pandas as pd
import pytest

import riskmodel.backtest.engine as engine
from riskmodel.backtest import (
    SCORE_COLUMNS,
    SUMMARY_COLUMNS,
    origin_seed,
    run_backtest,
)
from riskmodel.exceptions import DataValidationError
from riskmodel.pipeline import load_inputs

BASELINES = ("snaive", "ets")


@pytest.fixture(scope="module")
def baseline_run():
    return run_backtest(["2025-05", "2025-10"], models=BASELINES, n_paths=200, seed=4)


def test_scores_columns_and_rows(baseline_run, tmp_path):
    scores = baseline_run.scores
    assert tuple(scores.columns) == SCORE_COLUMNS
    assert len(scores) > 0
    assert set(scores["model"]) <= set(BASELINES)
    assert (scores["horizon"].between(1, 6)).all()
    assert (scores["crps"] >= 0).all() and (scores["wis"] >= 0).all()
    # horizon is the months from the origin to the target's month, 1-based
    ahead = [
        (pd.Period(m, freq="M") - pd.Period(o, freq="M")).n + 1
        for o, m in zip(scores["origin"], scores["month"], strict=True)
    ]
    assert list(scores["horizon"]) == ahead
    out = baseline_run.write(tmp_path / "bt")
    read = pd.read_csv(out / "scores.csv")
    assert tuple(read.columns) == SCORE_COLUMNS
    assert read["in80"].dtype == bool
    summary = pd.read_csv(out / "summary.csv")
    assert tuple(summary.columns) == SUMMARY_COLUMNS
    assert (out / "summary.md").read_text().startswith("# Backtest summary")


def test_actuals_are_the_full_data_observations(baseline_run):
    full = load_inputs()
    world = full.destinations.index("World")
    by_month = {
        str(full.months[ms[0]]): q
        for d, ms, mk, q in zip(
            full.obs_destination, full.obs_months, full.obs_mask, full.obs_quantity, strict=True
        )
        if d == world and mk.sum() == 1
    }
    rows = baseline_run.scores[baseline_run.scores["destination"] == "World"]
    for month, actual in zip(rows["month"], rows["actual"], strict=True):
        assert actual == pytest.approx(by_month[month])
    # 2025-10 with horizon 6: only 2025-10..2025-12 are in the data
    ets = rows[(rows["model"] == "ets") & (rows["origin"] == "2025-10")]
    assert list(ets["month"]) == ["2025-10", "2025-11", "2025-12"]


def test_unavailable_baselines_are_recorded_not_dropped(baseline_run):
    unav = baseline_run.unavailable
    us = unav[(unav["model"] == "snaive") & (unav["destination"] == "United States")]
    assert len(us) == 2 and (us["reason"].str.len() > 0).all()
    summary = baseline_run.summary()
    row = summary[(summary["model"] == "snaive") & (summary["destination"] == "United States")]
    assert int(row["n"].iloc[0]) == 0
    assert int(row["unavailable"].iloc[0]) == int(us["targets"].sum())
    # every (model, origin, target) is either scored or counted unavailable
    n_targets = {o: None for o in ("2025-05", "2025-10")}
    for model in BASELINES:
        for origin in n_targets:
            sc = baseline_run.scores
            scored = ((sc["model"] == model) & (sc["origin"] == origin)).sum()
            missing = unav[(unav["model"] == model) & (unav["origin"] == origin)]["targets"].sum()
            if n_targets[origin] is None:
                n_targets[origin] = scored + missing
            assert scored + missing == n_targets[origin]


def test_as_of_no_data_at_or_after_the_origin_is_used(monkeypatch):
    seen = []
    original = engine._model_paths

    def spy(model, inputs, spec, seed):
        seen.append((model, inputs))
        return original(model, inputs, spec, seed)

    monkeypatch.setattr(engine, "_model_paths", spy)
    run_backtest(["2025-05", "2025-07"], models=("ets",), n_paths=50)
    assert len(seen) == 2
    for (_, inputs), origin in zip(seen, ("2025-05", "2025-07"), strict=True):
        cutoff = pd.Period(origin, freq="M")
        assert inputs.months[-1] == cutoff - 1
        last = inputs.months[inputs.obs_months.max(axis=1, where=inputs.obs_mask, initial=0)]
        assert (last < cutoff).all()
        assert all(s <= cutoff for s in inputs.regimes.starts)
        # regimes opened by events known at the origin: an event late in the origin
        # month counts from the month after it, never later
        assert all(s <= cutoff + 1 for s in inputs.future_regime_starts)
        if inputs.licences is not None:
            assert (inputs.months[inputs.licences.last] < cutoff).all()
        assert inputs.data_hash == load_inputs(as_of=origin).data_hash


def _fake_fit(inputs, priors=None, sampler=None, seed=None):
    """A fitted model with fixed draws on the as-of inputs' months (no sampling)."""
    from riskmodel import compat
    from riskmodel.models.diagnostics import ConvergenceReport
    from riskmodel.models.fit import FittedModel
    from tests.conftest import make_posterior

    n = len(inputs.destinations)
    post = make_posterior(
        destinations=inputs.destinations,
        months=inputs.months,
        level=tuple(inputs.log_location()),
        approval_last=(0.9,) * n,
        seed=seed % 1000,
    )
    post.attrs.update(  # what fit_model records for the forecast
        as_of=str(inputs.as_of or ""),
        future_regime_starts="|".join(str(s) for s in inputs.future_regime_starts),
        student_t_nu=4.0,
        share_knot_months=6,
    )
    report = ConvergenceReport(1.0, 1000.0, 1000.0, 0, 1.0)
    return FittedModel(compat.from_datasets(posterior=post), report, {"seed": seed})


def test_bayes_with_a_fixed_posterior(monkeypatch):
    import riskmodel.pipeline as pipeline

    calls = []

    def fake(inputs, priors=None, sampler=None, seed=None):
        calls.append((inputs, seed))
        return _fake_fit(inputs, priors, sampler, seed)

    monkeypatch.setattr(pipeline, "fit", fake)
    res = run_backtest(["2025-05"], models=("bayes", "ets"), n_paths=100, seed=2)
    ((inputs, seed),) = calls
    assert seed == origin_seed(2, "2025-05")  # the origin's run seed
    bayes = res.scores[res.scores["model"] == "bayes"]
    # the Bayesian model forecasts every destination modelled at the origin
    assert set(bayes["destination"]) == set(res.scores["destination"])
    assert set(bayes["destination"]) <= set(inputs.destinations)
    run = res.runs[res.runs["model"] == "bayes"].iloc[0]
    assert bool(run["converged"]) and run["max_rhat"] == 1.0
    summary = res.summary()
    assert list(summary["model"].unique()) == ["bayes", "ets"]
    common = summary[summary["destination"] == "common"].set_index("model")["n"]
    assert common["bayes"] == common["ets"] > 0


def test_origin_seed_does_not_depend_on_the_other_origins():
    alone = run_backtest(["2025-10"], models=("ets",), n_paths=100, seed=9).scores
    both = run_backtest(["2025-05", "2025-10"], models=("ets",), n_paths=100, seed=9).scores
    part = both[both["origin"] == "2025-10"].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, part)
    assert origin_seed(9, "2025-10") != origin_seed(9, "2025-05")
    assert origin_seed(9, "2025-10") != origin_seed(10, "2025-10")


def test_same_seed_same_scores():
    a = run_backtest(["2025-07"], models=("ets",), n_paths=100, seed=1).scores
    b = run_backtest(["2025-07"], models=("ets",), n_paths=100, seed=1).scores
    pd.testing.assert_frame_equal(a, b)
    c = run_backtest(["2025-07"], models=("ets",), n_paths=100, seed=2).scores
    assert not np.allclose(a["crps"], c["crps"])


def test_origin_without_later_data_is_an_error():
    with pytest.raises(DataValidationError, match="no observed month at or after"):
        run_backtest(["2026-03"], models=("ets",), n_paths=10)


def test_unknown_model_is_an_error():
    with pytest.raises(ValueError, match="unknown model"):
        run_backtest(["2025-05"], models=("prophet",))


def test_dask_local_cluster_equals_in_process():
    kwargs = {"models": BASELINES, "n_paths": 100, "seed": 5}
    origins = ["2025-03", "2025-07"]
    local = run_backtest(origins, scheduler=None, **kwargs)
    dask = run_backtest(origins, scheduler="local", **kwargs)
    pd.testing.assert_frame_equal(local.scores, dask.scores)
    pd.testing.assert_frame_equal(local.unavailable, dask.unavailable)
    cols = ["model", "origin", "seed", "scored", "unavailable"]
    pd.testing.assert_frame_equal(local.runs[cols], dask.runs[cols])
