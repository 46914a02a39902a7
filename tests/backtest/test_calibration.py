"""PIT values, PIT histograms and the Diebold-Mariano test of the backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.backtest import diebold_mariano, pit_histogram
from riskmodel.backtest.scoring import pit_value


def test_pit_value_counts_below_and_splits_ties():
    x = np.array([1.0, 2.0, 2.0, 3.0])
    assert pit_value(x, 0.0) == 0.0
    assert pit_value(x, 2.0) == pytest.approx((1 + 1) / 4)
    assert pit_value(x, 9.0) == 1.0


def _scores(pits, model="m", dest="World"):
    n = len(pits)
    return pd.DataFrame(
        {
            "model": model,
            "origin": [f"2024-{(k % 12) + 1:02d}" for k in range(n)],
            "destination": dest,
            "month": [str(k) for k in range(n)],
            "pit": pits,
            "crps": 1.0,
        }
    )


def test_calibrated_forecasts_give_a_flat_histogram_and_overconfident_ones_a_u():
    rng = np.random.default_rng(0)
    # the outcome drawn from the forecast itself: calibrated
    calibrated = [pit_value(rng.normal(size=400), rng.normal()) for _ in range(600)]
    # intervals half as wide as they should be: outcomes land in the tails
    narrow = [pit_value(0.5 * rng.normal(size=400), rng.normal()) for _ in range(600)]
    table = pit_histogram(pd.concat([_scores(calibrated, "good"), _scores(narrow, "narrow")]))
    good = table[(table["model"] == "good") & (table["destination"] == "all")].iloc[0]
    bad = table[(table["model"] == "narrow") & (table["destination"] == "all")].iloc[0]
    assert good["n"] == bad["n"] == 600
    assert good["p_uniform"] > 0.01
    assert bad["p_uniform"] < 1e-6
    assert bad["bin1"] + bad["bin10"] > 3 * (bad["bin5"] + bad["bin6"])


def _pair(diffs, per_origin=4):
    rows = []
    for k, d in enumerate(diffs):
        for j in range(per_origin):
            key = {"origin": f"o{k:03d}", "destination": "World", "month": f"m{j}"}
            rows.append({**key, "model": "bayes", "crps": 10.0 + d})
            rows.append({**key, "model": "ets", "crps": 10.0})
    return pd.DataFrame(rows)


def test_diebold_mariano_detects_a_better_model_and_not_noise():
    rng = np.random.default_rng(1)
    better = diebold_mariano(_pair(-1.0 + rng.normal(0, 1, 40)), "bayes", "ets", horizon=3)
    assert better["origins"] == 40 and better["targets"] == 160
    assert better["dm"] < 0 and better["p_value"] < 0.01
    same = diebold_mariano(_pair(rng.normal(0, 1, 40)), "bayes", "ets", horizon=3)
    assert same["p_value"] > 0.01
    few = diebold_mariano(_pair([1.0, 2.0]), "bayes", "ets")
    assert few["origins"] == 2 and np.isnan(few["p_value"])
    none = diebold_mariano(_pair([1.0]), "bayes", "ets", destination="United States")
    assert none["targets"] == 0 and np.isnan(none["mean_diff"])
