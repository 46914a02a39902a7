"""What drives each number: the Sobol shares recover known answers and are reproducible."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd
import pytest

from riskmodel.cli import main
from riskmodel.propagation import parse_params
from riskmodel.propagation.draws import ParameterDraws
from riskmodel.propagation.drivers import (
    DRIVER_COLUMNS,
    GROUPS,
    SWEEP_COLUMNS,
    headline_cells,
    judgement_sweep,
    shortage_drivers,
    sobol_indices,
)


def test_every_draw_that_moves_a_shortfall_is_in_exactly_one_group():
    grouped = [name for _, names in GROUPS.values() for name in names]
    assert len(grouped) == len(set(grouped))
    assert set(grouped) == {f.name for f in fields(ParameterDraws)} - {"content_kg"}


def test_sobol_estimator_recovers_an_additive_model():
    # Y = 2 X1 + X2 (+ 0 X3): S1 = 4/5, S2 = 1/5, S3 = 0, no interactions.
    rng = np.random.default_rng(0)
    n = 200_000
    a, b = rng.standard_normal((3, n)), rng.standard_normal((3, n))

    def f(x):
        return (2 * x[0] + x[1])[None, :]

    y_ab = {}
    for k in range(3):
        mixed = a.copy()
        mixed[k] = b[k]
        y_ab[f"x{k + 1}"] = f(mixed)
    s = sobol_indices(f(a), f(b), y_ab)
    assert s["x1"]["first"][0] == pytest.approx(0.8, abs=0.02)
    assert s["x2"]["first"][0] == pytest.approx(0.2, abs=0.02)
    assert s["x1"]["total"][0] == pytest.approx(0.8, abs=0.02)
    assert s["x3"]["first"][0] == 0.0 and s["x3"]["total"][0] == 0.0
    assert 0 < s["x1"]["first_se"][0] < 0.01


def test_sobol_estimator_gives_nan_for_a_constant_outcome():
    y = np.ones((1, 10))
    s = sobol_indices(y, y, {"g": y})
    assert np.isnan(s["g"]["first"][0]) and np.isnan(s["g"]["total"][0])


def _case(tiny_raw_builder, arrays_to_paths, months_from, *, n_forecast=400, seed=3):
    """US exports vary across forecast paths; RoW's base demand is random; nothing else is."""
    raw = tiny_raw_builder(
        china_share=0.8, cover_months=(0.001, 0.001), base_demand=(2400.0, 4800.0)
    )
    raw["base_demand_tpy"]["RoW"] = {
        "dist": "Uniform",
        "lower": 3000.0,
        "upper": 6000.0,
        "reason": "test",
        "judgement": True,
    }
    params = parse_params(raw, source="tiny")
    rng = np.random.default_rng(seed)
    months = months_from("2026-01", 3)
    # US needs 0.8 x 200 = 160 t/month from China; half the paths ship less. RoW gets
    # 250-350 t and needs 0.8 x 250-500 t: short on about half the paths.
    us = rng.uniform(100.0, 220.0, (n_forecast, 3))
    world = us + rng.uniform(250.0, 350.0, (n_forecast, 3))
    exports = np.stack([world, us], axis=1)
    paths = arrays_to_paths(exports, exports, ["World", "United States"], months)
    return params, paths


def test_only_random_input_gets_all_and_an_unrelated_one_none(
    tiny_raw_builder, arrays_to_paths, months_from
):
    params, paths = _case(tiny_raw_builder, arrays_to_paths, months_from)
    cells = [("US", "auto", "2026-02"), ("RoW", "auto", "2026-02")]
    df = shortage_drivers(paths, params, n_paths=3000, seed=1, cells=cells)
    assert list(df.columns) == list(DRIVER_COLUMNS)
    us = df[df["region"] == "US"].set_index("group")
    assert 0.3 < us["p_short"].iloc[0] < 0.7
    # the US cell depends on US exports only
    assert us.loc["exports", "first_order"] == pytest.approx(1.0, abs=0.08)
    assert us.loc["exports", "total"] == pytest.approx(1.0, abs=0.08)
    # RoW's base demand is random but cannot change a US shortfall: exactly 0
    assert us.loc["base_demand", "first_order"] == 0.0
    assert us.loc["base_demand", "total"] == 0.0
    others = us.drop(index=["exports", "base_demand"])
    assert (others["first_order"] == 0).all() and (others["total"] == 0).all()
    # RoW depends on both
    row = df[df["region"] == "RoW"].set_index("group")
    assert row.loc["base_demand", "total"] > 0.3
    assert row.loc["exports", "total"] > 0.05
    # groups come by decreasing first-order share
    assert us.index[0] == "exports"


def test_drivers_are_reproducible_by_seed(tiny_raw_builder, arrays_to_paths, months_from):
    params, paths = _case(tiny_raw_builder, arrays_to_paths, months_from)
    one = shortage_drivers(paths, params, n_paths=500, seed=7, top=2)
    two = shortage_drivers(paths, params, n_paths=500, seed=7, top=2)
    pd.testing.assert_frame_equal(one, two)
    other = shortage_drivers(paths, params, n_paths=500, seed=8, top=2)
    assert not np.allclose(one["p_short"], other["p_short"]) or not np.allclose(
        one["first_order"], other["first_order"], equal_nan=True
    )


def test_headline_cells_take_each_pair_at_its_peak_and_skip_certain_months():
    p = np.zeros((2, 3, 2))
    p[0, :, 0] = [0.2, 0.6, 0.6]  # peak 0.6, earliest month on ties
    p[0, :, 1] = [1.0, 0.3, 0.1]  # certain in month 0: peak of the rest is 0.3
    p[1, :, 0] = [0.0, 0.0, 0.0]  # never short: left out
    p[1, :, 1] = [0.1, 0.4, 0.2]
    cells = headline_cells(p, ["US", "EU"], ["a", "b"], ["m1", "m2", "m3"], top=5)
    assert cells == [("US", "a", "m2"), ("EU", "b", "m2"), ("US", "b", "m2")]
    assert headline_cells(p, ["US", "EU"], ["a", "b"], ["m1", "m2", "m3"], top=1) == cells[:1]
    # with 350 paths and 100 events needed, P must lie in [0.286, 0.714]: US a at 0.6, EU b
    # at 0.4, US b at 0.3
    few = headline_cells(p, ["US", "EU"], ["a", "b"], ["m1", "m2", "m3"], n_paths=350)
    assert few == [("US", "a", "m2"), ("EU", "b", "m2"), ("US", "b", "m2")]
    p[0, :, 0] = [0.5, 0.99, 0.99]  # nearly certain later: the pair is taken in m1
    few = headline_cells(p, ["US", "EU"], ["a", "b"], ["m1", "m2", "m3"], n_paths=350)
    assert few == [("US", "a", "m1"), ("EU", "b", "m2"), ("US", "b", "m2")]
    p[0, 0, 0] = 0.2  # too few short paths in m1 as well: the pair drops out
    few = headline_cells(p, ["US", "EU"], ["a", "b"], ["m1", "m2", "m3"], n_paths=350)
    assert few == [("EU", "b", "m2"), ("US", "b", "m2")]


def test_unknown_cell_is_named(tiny_raw_builder, arrays_to_paths, months_from):
    params, paths = _case(tiny_raw_builder, arrays_to_paths, months_from)
    with pytest.raises(ValueError, match="region 'Mars'"):
        shortage_drivers(paths, params, n_paths=10, cells=[("Mars", "auto", "2026-02")])


def test_judgement_sweep_moves_the_risk_the_right_way(
    tiny_raw_builder, arrays_to_paths, months_from
):
    params, paths = _case(tiny_raw_builder, arrays_to_paths, months_from)
    cells = [("RoW", "auto", "2026-02")]
    df = judgement_sweep(paths, params, n_paths=2000, seed=1, cells=cells)
    assert list(df.columns) == list(SWEEP_COLUMNS)
    # only RoW's base demand is random (Fixed parameters have nothing to sweep)
    assert df[["block", "key"]].values.tolist() == [["base_demand_tpy", "RoW"]]
    row = df.iloc[0]
    assert row["p05"] == pytest.approx(3150.0) and row["p95"] == pytest.approx(5850.0)
    # China must supply 0.8 x 3150 / 12 = 210 t (< 250 t, never short) at the 5th
    # percentile and 0.8 x 5850 / 12 = 390 t (> 350 t, always short) at the 95th
    assert row["p_short_at_p05"] == 0.0
    assert row["p_short_at_p95"] == 1.0
    assert 0.3 < row["p_short"] < 0.7


def test_drivers_command_writes_the_shares(
    tmp_path, tiny_raw_builder, arrays_to_paths, months_from, capsys
):
    import yaml

    _, paths = _case(tiny_raw_builder, arrays_to_paths, months_from)
    raw = tiny_raw_builder(china_share=0.8, cover_months=(0.001, 0.001))
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    (tmp_path / "fc").mkdir()
    paths.to_netcdf(tmp_path / "fc" / "paths.nc")
    args = [
        "drivers",
        "--forecast",
        str(tmp_path / "fc"),
        "--params",
        str(tmp_path / "params.yaml"),
    ]
    args += ["--paths", "300", "--top", "1", "--judgement", "--out", str(tmp_path / "out")]
    assert main(args) == 0
    drivers = pd.read_csv(tmp_path / "out" / "drivers.csv")
    assert set(drivers["group"]) == set(GROUPS)
    assert drivers.iloc[0]["group"] == "exports"
    assert (tmp_path / "out" / "parameters.csv").is_file()
    assert "exports" in capsys.readouterr().out
    # the same command gives the same shares
    assert main([*args[:-1], str(tmp_path / "again")]) == 0
    pd.testing.assert_frame_equal(drivers, pd.read_csv(tmp_path / "again" / "drivers.csv"))


def test_drivers_see_the_same_shortfalls_as_propagate(
    tiny_raw_builder, arrays_to_paths, months_from, tiny_params
):
    from riskmodel.propagation import propagate

    # deterministic: fixed parameters, every forecast path the same, short in some months
    params = tiny_params(china_share=0.8, cover_months=(0.3, 1.0))
    months = months_from("2026-01", 6)
    us = np.array([200.0, 120.0, 90.0, 150.0, 170.0, 100.0])
    exports = np.broadcast_to(np.stack([us + 300.0, us])[None], (5, 2, 6))
    paths = arrays_to_paths(exports, exports, ["World", "United States"], months)
    p = propagate(paths, params)["p_short"].sel(threshold=0.0)
    cells = [(r, i, m) for r in ("US", "RoW") for i in ("auto", "wind") for m in months]
    model_p = shortage_drivers(paths, params, n_paths=20, cells=cells)
    got = model_p.groupby(["region", "industry", "month"], sort=False)["p_short"].first()
    want = [float(p.sel(region=r, industry=i, month=m)) for r, i, m in cells]
    assert got.tolist() == want
    assert 0 < sum(want) < len(want)  # some cells short, some not
