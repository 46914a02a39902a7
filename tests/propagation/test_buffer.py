"""Buffer sizing: monotone in the cover, exact for the simulation, and right out of sample."""

from __future__ import annotations

import math
from dataclasses import replace
from statistics import NormalDist
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import riskmodel
from riskmodel.cli import main
from riskmodel.commands import buffer as buffer_command
from riskmodel.config import Dist
from riskmodel.propagation import buffer as buffer_module
from riskmodel.propagation import parse_params, propagate, read_paths
from riskmodel.propagation.buffer import (
    BUFFER_COLUMNS,
    CURVE_COLUMNS,
    NO_PRICE_NOTE,
    BufferInputError,
    _Chunk,
    _Setup,
    buffer,
    stockout_at_cover,
)
from riskmodel.propagation.draws import WEEKS_PER_MONTH
from riskmodel.seeds import stage_seeds

#: Monte Carlo paths of the sizing run and of the independent check.
N_FIT = 8000
N_CHECK = 8000
#: Family-wise false-alarm rate of the out-of-sample check (Bonferroni over cells).
FAMILY_ALPHA = 0.001


@pytest.fixture(scope="module")
def paths(make_paths):
    return make_paths(n_paths=40, n_months=12, seed=1)


@pytest.fixture(scope="module")
def sized(paths):
    return buffer(paths, n_paths=N_FIT, seed=1)


def test_api_is_exported():
    assert riskmodel.buffer is buffer


def test_table_and_curve_have_their_columns(sized):
    assert list(sized.table.columns) == list(BUFFER_COLUMNS)
    assert list(sized.curve.columns) == list(CURVE_COLUMNS)
    R, I = len(sized.regions), len(sized.industries)  # noqa: E741
    assert len(sized.table) == 2 * R * I
    assert sized.need_weeks.shape == (R, I, N_FIT)
    assert sized.attrs["monotonicity_violations"] == 0
    # no sourced price in the bundled data: tonnes only, and the output says so
    assert sized.table["buffer_value_musd_mean"].isna().all()
    assert (sized.table["value_note"] == NO_PRICE_NOTE).all()


def test_risk_against_cover_curve_is_monotone(sized):
    for _, cell in sized.curve.groupby(["region", "industry"]):
        cover = cell["cover_weeks"].to_numpy()
        p = cell["p_stockout"].to_numpy()
        assert np.all(np.diff(cover) >= 0)
        assert np.all(np.diff(p) <= 0)
    # the curve starts at the risk without a buffer
    first = sized.curve.groupby(["region", "industry"], sort=False).first()
    t5 = sized.table[sized.table["target"] == 0.05].set_index(["region", "industry"])
    np.testing.assert_allclose(first["p_stockout"], t5.loc[first.index, "p_stockout_no_buffer"])


def _ladder(paths, params):
    setup = _Setup.build(paths, params, None, 12, 3000, 7, 4096, "auto")
    (_, _, draws), *_ = list(setup.chunks())
    chunk = _Chunk(setup, draws)
    for c in (0.0, 0.5, 2.0, 5.0, 10.0, 20.0, 40.0):
        yield chunk.run(np.full(chunk.stock0.shape, c))


def test_more_stock_never_causes_a_stock_out_path_by_path(paths):
    # the kernel itself, path by path and cell by cell, on a ladder of covers: the
    # stock-out event (what the buffer is sized on) never appears with more stock
    previous = None
    counts = []
    for short, _ in _ladder(paths, None):
        if previous is not None:
            assert not (short & ~previous).any()
        previous = short
        counts.append(int(short.sum()))
    assert counts[0] > 3 * counts[-1]  # the ladder does remove stock-outs


def test_more_stock_never_adds_unmet_demand_without_substitution(paths, bundled_params):
    # Unmet tonnes are monotone in stock only without substitution: with it, a shorter
    # shortage cuts less demand for good, which may leave a little more unmet later.
    params = replace(bundled_params, substitution=Dist.fixed(0.0))
    previous = None
    for _, unmet in _ladder(paths, params):
        if previous is not None:
            assert np.all(unmet <= previous + 1e-6 * (1 + previous))
        previous = unmet


def test_needed_cover_agrees_with_direct_simulation(paths, sized):
    # exact for the simulation up to the bisection tolerance: need - tol < true need <= need
    tol = sized.attrs["tolerance_weeks"]
    for c in (0.0, 3.0, 7.5, 15.0, 25.0):
        direct = stockout_at_cover(paths, c, n_paths=N_FIT, seed=1)
        upper = sized.p_stockout(c)
        lower = sized.p_stockout(c + tol)
        assert np.all(direct <= upper + 1e-12) and np.all(direct >= lower - 1e-12)


def test_chosen_cover_reaches_its_target_in_sample(sized):
    t = sized.table
    assert np.all(t["p_stockout_at_cover"] <= t["target"] + 1e-12)
    reached = t[t["p_stockout_no_buffer"] > t["target"]]
    assert len(reached) > 20 and (reached["cover_weeks"] > 0).all()
    assert (t.loc[t["p_stockout_no_buffer"] <= t["target"], "cover_weeks"] == 0).all()
    # a tighter target needs at least as much cover
    wide = t.pivot_table(index=["region", "industry"], columns="target", values="cover_weeks")
    assert np.all(wide[0.01] >= wide[0.05])


@pytest.mark.parametrize("target", [0.05, 0.01])
def test_chosen_cover_reaches_its_target_on_independent_paths(paths, sized, target):
    """The cover chosen on seed 1 gives P(stock-out) = target on fresh paths (seed 2).

    The chosen cover is an order statistic of ``N_FIT`` paths: the true P(stock-out) at
    it has standard deviation ``sqrt(a (1 - a) / N_FIT)`` around ``a`` (minus at most
    ``1 / N_FIT``, as the in-sample P is at most ``a``), and the check's binomial
    estimate adds ``a (1 - a) / N_CHECK``. Each cell may differ from the target by
    ``z`` of those standard deviations, ``z`` for a two-sided family-wise false-alarm
    rate of :data:`FAMILY_ALPHA` over the cells checked (Bonferroni).
    """
    covers = sized.covers(target)
    p0 = sized.p_stockout(0.0)
    check = stockout_at_cover(paths, covers, n_paths=N_CHECK, seed=2)
    cells = p0 > target
    k = int(cells.sum())
    assert k > 20
    z = NormalDist().inv_cdf(1 - FAMILY_ALPHA / (2 * k))
    sd = math.sqrt(target * (1 - target) * (1 / N_FIT + 1 / N_CHECK))
    deviation = check[cells] - target
    assert np.all(np.abs(deviation + 0.5 / N_FIT) <= z * sd + 0.5 / N_FIT), (
        f"worst {deviation[np.argmax(np.abs(deviation))]:.4f}, allowed {z * sd:.4f}"
    )


def test_without_a_buffer_the_risk_is_the_propagations(paths):
    # paths that also carry the forecast's approval, not exactly exports / counterfactual
    # (as the forecast's do, with reporting noise): both must read the same supply
    rng = np.random.default_rng(0)
    noise = rng.lognormal(0.0, 0.2, paths["exports"].shape)
    paths = paths.assign(approval=paths["exports"] / paths["counterfactual"] * noise)
    res = buffer(paths, n_paths=None, seed=3, horizon=12)
    ds = propagate(paths, seed=stage_seeds(3).shortage)
    np.testing.assert_allclose(res.p_stockout(0.0), ds["p_stockout_within_horizon"].values)
    short = buffer(paths, n_paths=None, seed=3, horizon=5)
    first = ds["p_first_stockout"].values[..., :5].sum(axis=-1)
    np.testing.assert_allclose(short.p_stockout(0.0), first, atol=1e-12)


def test_cover_of_a_total_cut_is_the_analytic_one(tiny_raw_builder, arrays_to_paths, months_from):
    """China stops shipping: a buffer must carry the China-sourced half of demand for H months.

    Opening stock ``c D + x / WPM * 0.5 D`` lasts ``H`` months of a ``0.5 D`` deficit when
    ``x = WPM (H - 2 c)`` weeks. The ceiling rises with the buffer; were it left at the
    usual cover, the buffer would be cut back after the first month and no cover would do.
    """
    params = parse_params(tiny_raw_builder(china_share=0.5, cover_months=(0.5, 1.0)), source="t")
    n, T, H = 4, 8, 6
    exports = np.zeros((n, 2, T))
    paths = arrays_to_paths(exports, np.full((n, 2, T), 100.0), ["World", "United States"],
                            months_from("2025-07", T))  # fmt: skip
    res = buffer(paths, params, n_paths=None, seed=0, horizon=H, targets=(0.5,))
    expected = WEEKS_PER_MONTH * (H - 2 * np.array([0.5, 1.0]))
    got = res.need_weeks[..., 0]  # every path is the same
    assert np.all(res.need_weeks == res.need_weeks[..., :1])
    np.testing.assert_allclose(got, np.broadcast_to(expected, got.shape), atol=0.011)
    tonnes = res.table.set_index(["region", "industry"])["buffer_t_mean"]
    # 200 t/month in the US, auto 75%: x weeks of 0.5 x 150 t/month
    assert tonnes[("US", "auto")] == pytest.approx(expected[0] / WEEKS_PER_MONTH * 75, rel=1e-3)


def test_a_price_range_is_carried_through(paths):
    res = buffer(paths, n_paths=2000, seed=1, price_usd_per_kg=(40.0, 60.0), targets=(0.05,))
    t = res.table[res.table["cover_weeks"] > 0]
    low = t["buffer_t_mean"] * 40.0 / 1000
    high = t["buffer_t_mean"] * 60.0 / 1000
    assert np.all(t["buffer_value_musd_mean"] > low) and np.all(t["buffer_value_musd_mean"] < high)
    assert np.all(t["buffer_value_musd_p05"] < t["buffer_value_musd_p95"])
    # the price draws do not touch the propagation's random numbers
    plain = buffer(paths, n_paths=2000, seed=1, targets=(0.05,))
    np.testing.assert_array_equal(res.need_weeks, plain.need_weeks)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"targets": (1.5,)}, "target"),
        ({"targets": ()}, "target"),
        ({"horizon": 13}, "horizon"),
        ({"horizon": 0}, "horizon"),
        ({"price_usd_per_kg": (60.0, 40.0)}, "price"),
        ({"n_paths": 0}, "paths"),
    ],
)
def test_bad_settings_are_refused(paths, kwargs, match):
    with pytest.raises(riskmodel.RiskModelError, match=match):
        buffer(paths, **kwargs)


def test_command_defaults_are_the_librarys():
    assert buffer_command.DEFAULT_HORIZON == buffer_module.DEFAULT_HORIZON
    assert buffer_command.DEFAULT_PATHS == buffer_module.DEFAULT_BUFFER_PATHS
    assert issubclass(BufferInputError, riskmodel.RiskModelError)


@pytest.fixture
def forecast_dir(tmp_path, paths):
    folder = tmp_path / "forecast"
    folder.mkdir()
    paths.to_netcdf(folder / "paths.nc", engine="h5netcdf")
    return folder


def test_cli_writes_the_table(forecast_dir, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        ["buffer", "--forecast", str(forecast_dir), "--paths", "1000", "--seed", "2",
         "--horizon", "9", "--figure", "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "tonnes only" in printed and "cover@0.05" in printed
    table = pd.read_csv(out / "buffer.csv")
    assert list(table.columns) == list(BUFFER_COLUMNS)
    assert set(table["target"]) == {0.05, 0.01} and set(table["horizon_months"]) == {9}
    assert (out / "buffer_curve.csv").is_file() and (out / "buffer.png").is_file()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    # the library with the same settings gives the same table
    lib = buffer(read_paths(forecast_dir), n_paths=1000, seed=2, horizon=9)
    np.testing.assert_allclose(table["cover_weeks"], lib.table["cover_weeks"], rtol=1e-5)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--horizon", "13"], "horizon"),
        (["--target", "1.2"], "target"),
        (["--target", "abc"], "probability"),
        (["--price-usd-per-kg", "60", "-1"], "price"),
        (["--paths", "0"], "paths"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(forecast_dir, tmp_path, capsys, args, needle):
    out = tmp_path / "out"
    code = main(["buffer", "--forecast", str(forecast_dir), "--out", str(out), *args])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and needle in err
    assert not out.exists()


def test_cli_missing_forecast_exits_2(tmp_path, capsys):
    code = main(["buffer", "--forecast", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "nope" in err


def test_report_section_shows_the_table_and_figure(forecast_dir, tmp_path, paths):
    from riskmodel.report.buffer import attach_buffer, buffer_figure, buffer_section, write_buffer

    where = tmp_path / "scen"
    write_buffer(paths, where, scenario=None, seed=0, n_paths=500)
    scen = attach_buffer(SimpleNamespace(name="baseline", files={}), where)
    run = SimpleNamespace(scenarios=[scen])
    html = buffer_section(run, {"buffer": "figures/buffer.png"})  # type: ignore[arg-type]
    assert 'id="buffer"' in html and "Cover for 5%" in html and "figures/buffer.png" in html
    assert "no sourced magnet" in html
    table = pd.read_csv(where / "buffer.csv")
    curve = pd.read_csv(where / "buffer_curve.csv")
    assert buffer_figure(table, curve, tmp_path / "b.png") == tmp_path / "b.png"
    empty = SimpleNamespace(scenarios=[SimpleNamespace(name="x", files={})])
    assert buffer_section(empty, {}) == ""  # type: ignore[arg-type]
