"""Simulation-based calibration: rank plumbing and uniformity tests (fast), a real run (slow)."""

import numpy as np
import pandas as pd
import pytest

import riskmodel.models.fit as fit_module
from riskmodel.backtest.sbc import (
    RANK_COLUMNS,
    main,
    parameter_cells,
    rank_histogram_figure,
    rank_of,
    run_sbc,
    sbc_summary,
    thinned,
)
from riskmodel.sampling import SamplerConfig

SMALL = {"n_destinations": 2, "n_months": 18, "control_at": 12, "regime_every": 3}


def test_rank_and_thinning():
    rng = np.random.default_rng(0)
    assert rank_of(2.5, np.array([1.0, 2.0, 3.0, 4.0]), rng) == 2
    assert rank_of(0.0, np.array([1.0, 2.0]), rng) == 0
    assert rank_of(9.0, np.array([1.0, 2.0]), rng) == 2
    assert rank_of(1.0, np.array([1.0, 1.0, 1.0]), rng) in (0, 1, 2, 3)
    draws = np.arange(1000.0).reshape(2, 500)
    kept = thinned(draws, 99)
    assert kept.size == 99 and kept[0] == 0 and kept[1] == 10
    assert thinned(draws, 5000).size == 1000


def test_parameter_cells():
    cells = parameter_cells(["World", "D1"], ["2024-01", "2024-02"])
    labels = [c[0] for c in cells]
    assert labels[:6] == [
        "demand_drift",
        "regime_mean_mu",
        "approval_persistence",
        "obs_sigma",
        "regime_step_mean",
        "destination_share_persistence",
    ]
    assert cells[6] == ("approval[D1,2024-02]", "approval", (1, 1))
    assert cells[7] == ("log_demand[World,2024-02]", "log_demand", (0, 1))


def _ranks(values, n_draws=99):
    return pd.DataFrame({"parameter": "p", "rank": values, "n_draws": n_draws, "max_rhat": 1.0})


def test_summary_accepts_uniform_and_rejects_skewed_ranks():
    rng = np.random.default_rng(1)
    uniform = sbc_summary(_ranks(rng.integers(0, 100, size=400))).iloc[0]
    assert uniform["bins"] == 20 and uniform["n"] == 400
    assert uniform["chi2_p"] > 0.01 and uniform["ks"] < 0.1
    assert uniform["mean_u"] == pytest.approx(0.5, abs=0.05)
    skewed = sbc_summary(_ranks(np.minimum(rng.integers(0, 100, size=400), 30))).iloc[0]
    assert skewed["chi2_p"] < 1e-6 and skewed["ks"] > 0.3
    # U shape (posteriors too narrow)
    u = np.concatenate([rng.integers(0, 10, 200), rng.integers(90, 100, 200)])
    assert sbc_summary(_ranks(u)).iloc[0]["chi2_p"] < 1e-6


def test_summary_bins_respect_discrete_ranks():
    # 10 possible ranks into 4 bins of unequal size: expected counts follow the sizes
    ranks = _ranks(np.tile(np.arange(10), 8), n_draws=9)
    row = sbc_summary(ranks, n_bins=4).iloc[0]
    assert row["bins"] == 4 and row["chi2"] == pytest.approx(0.0)


def test_rank_histogram_figure_writes_a_png(tmp_path):
    rng = np.random.default_rng(2)
    ranks = pd.concat(
        [
            _ranks(rng.integers(0, 100, size=200)).assign(parameter=name)
            for name in ("a", "b", "c", "d")
        ]
    )
    path = rank_histogram_figure(ranks, tmp_path / "figs" / "ranks.png", title="test")
    assert path == tmp_path / "figs" / "ranks.png"
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def _prior_fit(data, priors, sampler):
    """A 'fit' whose posterior is independent prior draws: calibrated by construction."""
    import pymc as pm

    from riskmodel import compat
    from riskmodel.models.diagnostics import ConvergenceReport
    from riskmodel.models.export_model import build_model
    from riskmodel.models.fit import FittedModel

    with build_model(data, priors):
        prior = pm.sample_prior_predictive(draws=99, random_seed=sampler.seed + 1)
    report = ConvergenceReport(1.0, 1000.0, 1000.0, 0, 1.0)
    return FittedModel(compat.from_datasets(posterior=compat.group(prior, "prior")), report, {})


def test_run_sbc_plumbing_with_prior_draws_as_posterior(monkeypatch):
    monkeypatch.setattr(fit_module, "fit_model", _prior_fit)
    cfg = SamplerConfig(draws=10, tune=10, chains=1)
    ranks = run_sbc(3, SMALL, cfg, seed=3, rank_draws=19)
    assert tuple(ranks.columns) == RANK_COLUMNS
    assert len(ranks) == 3 * 8
    assert ranks["rank"].between(0, 19).all() and (ranks["n_draws"] == 19).all()
    assert ranks["seed"].nunique() == 3
    summary = sbc_summary(ranks, n_bins=2)
    assert len(summary) == 8
    assert summary["chi2_p"].between(0, 1).all() and summary["ks"].between(0, 1).all()
    # simulation i's seed does not depend on how many simulations run
    first = run_sbc(1, SMALL, cfg, seed=3, rank_draws=19)
    pd.testing.assert_frame_equal(
        first.drop(columns="seconds"), ranks[ranks["sim"] == 0].drop(columns="seconds")
    )


@pytest.mark.slow
def test_sbc_small_real_run(tmp_path):
    code = main(
        [
            "--sims", "3", "--destinations", "2", "--months", "18", "--control-at", "12",
            "--regime-every", "3", "--draws", "200", "--tune", "200", "--chains", "2",
            "--rank-draws", "39", "--out", str(tmp_path),
        ]
    )  # fmt: skip
    assert code == 0
    ranks = pd.read_csv(tmp_path / "ranks.csv")
    assert len(ranks) == 3 * 8 and ranks["rank"].between(0, 39).all()
    assert (ranks["max_rhat"] < 1.2).all()
    summary = pd.read_csv(tmp_path / "sbc_summary.csv")
    assert len(summary) == 8 and summary["chi2_p"].between(0, 1).all()
    assert (tmp_path / "sbc_ranks.png").is_file()
    # one compile per process: the refits of the same structure only swap the data
    per_sim = ranks.groupby("sim")["compile_seconds"].first()
    assert (per_sim.iloc[1:] == 0).all()
