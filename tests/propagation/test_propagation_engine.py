from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import xarray as xr

from riskmodel.config.dists import Dist
from riskmodel.exceptions import ScenarioError
from riskmodel.propagation import (
    ForecastInputError,
    PropagationWarning,
    kernels,
    parse_allocation,
    propagate,
    stats,
    validate_paths,
)

N, BLOCK = 300, 64  # small but several blocks


@pytest.fixture(scope="module")
def paths(make_paths):
    return make_paths(n_paths=40, n_months=18, seed=1)


@pytest.fixture(scope="module")
def reference(paths, bundled_params):
    return propagate(paths, bundled_params, n_paths=N, seed=7, block_size=BLOCK, chunk_size=BLOCK)


def test_same_seed_same_result_other_seed_differs(paths, bundled_params, reference):
    again = propagate(paths, bundled_params, n_paths=N, seed=7, block_size=BLOCK, chunk_size=BLOCK)
    xr.testing.assert_identical(again, reference)
    other = propagate(paths, bundled_params, n_paths=N, seed=8, block_size=BLOCK, chunk_size=BLOCK)
    assert not np.array_equal(other["expected_shortfall_t"], reference["expected_shortfall_t"])


def test_generator_seed_is_reproducible(paths, bundled_params):
    a = propagate(paths, bundled_params, n_paths=64, seed=np.random.default_rng(3), block_size=32)
    b = propagate(paths, bundled_params, n_paths=64, seed=np.random.default_rng(3), block_size=32)
    xr.testing.assert_identical(a, b)


@pytest.mark.parametrize("chunk_size", [1, 3 * BLOCK, 10_000])
def test_chunk_size_does_not_change_results(paths, bundled_params, reference, chunk_size):
    out = propagate(
        paths, bundled_params, n_paths=N, seed=7, block_size=BLOCK, chunk_size=chunk_size
    )
    xr.testing.assert_identical(out, reference)  # bit for bit, attrs included


def test_dask_local_cluster_equals_in_process(paths, bundled_params, reference):
    pytest.importorskip("distributed")
    out = propagate(
        paths,
        bundled_params,
        n_paths=N,
        seed=7,
        block_size=BLOCK,
        chunk_size=BLOCK,
        scheduler="local",
    )
    xr.testing.assert_identical(out, reference)


def test_numpy_and_numba_backends_agree(paths, bundled_params, reference):
    out = propagate(
        paths,
        bundled_params,
        n_paths=N,
        seed=7,
        block_size=BLOCK,
        chunk_size=2 * BLOCK,
        kernel="numpy",
    )
    assert out.attrs["kernel"] == "numpy"
    for name in reference.data_vars:
        if reference[name].dtype.kind == "f":
            np.testing.assert_allclose(out[name], reference[name], rtol=1e-9, atol=1e-9)
        else:
            np.testing.assert_array_equal(out[name], reference[name])


def test_outputs_are_probabilities_and_consistent(reference):
    ds = reference
    assert ((ds["p_short"] >= 0) & (ds["p_short"] <= 1)).all()
    # P(share > x) falls with x
    assert (ds["p_short"].diff("threshold") <= 1e-12).all()
    assert (ds["expected_shortfall_t"] <= ds["expected_demand_t"] + 1e-9).all()
    assert ((ds["expected_shortfall_share"] >= 0) & (ds["expected_shortfall_share"] <= 1)).all()
    np.testing.assert_allclose(
        ds["p_first_stockout"].sum("month"), ds["p_stockout_within_horizon"], atol=1e-12
    )
    # cumulative expectation is the running sum of the monthly one
    np.testing.assert_allclose(
        ds["expected_cum_shortfall_t"],
        ds["expected_shortfall_t"].cumsum("month"),
        rtol=1e-9,
        atol=1e-9,
    )
    assert (ds["shortfall_share_quantile"].diff("quantile") >= -1e-12).all()
    # CVaR95 is at least the mean and at least the 95% quantile (up to a bin)
    assert (ds["cum_shortfall_cvar95_t"] >= ds["expected_cum_shortfall_t"] * (1 - 1e-9)).all()
    assert (
        ds["cum_shortfall_cvar95_t"] * 1.13 + 1e-9
        >= ds["cum_shortfall_quantile_t"].sel(quantile=0.95)
    ).all()
    assert ds["expected_output_lost_units"].sel(industry="other").isnull().all()
    assert (ds["expected_output_lost_units"].sel(industry="wind").fillna(0) >= 0).all()
    assert set(ds.attrs) >= {"scenario", "seed", "params_digest", "n_paths", "block_size"}
    assert ds.attrs["resampled_forecast_paths"] == 1


def test_deeper_cut_more_shortage(make_paths, bundled_params):
    mild = make_paths(n_paths=30, n_months=12, approval=(9.0, 1.0), seed=2)
    deep = mild.copy()
    deep["exports"] = mild["exports"] * 0.5
    a = propagate(mild, bundled_params, n_paths=256, seed=1, block_size=64)
    b = propagate(deep, bundled_params, n_paths=256, seed=1, block_size=64)
    # same random parameters, lower supply: every expected shortfall weakly higher
    assert (b["expected_shortfall_t"] >= a["expected_shortfall_t"] - 1e-6).all()
    assert float(b["expected_shortfall_t"].sum()) > float(a["expected_shortfall_t"].sum())


def test_end_use_denial_hurts_defense(make_paths, bundled_params):
    p = make_paths(n_paths=30, n_months=12, approval=(20.0, 1.0), seed=3)
    # the allocation alone: with substitution a worse-supplied industry cuts its
    # demand sooner, so "never worse off" holds only without it
    params = replace(bundled_params, substitution=Dist.fixed(0.0))
    prop = propagate(p, params, n_paths=256, seed=2, block_size=64)
    deny = propagate(
        p,
        params,
        n_paths=256,
        seed=2,
        block_size=64,
        scenario={"propagation": {"allocation": "end_use", "denied_end_uses": ["defense"]}},
    )
    d0 = prop["expected_shortfall_share"].sel(industry="defense").mean()
    d1 = deny["expected_shortfall_share"].sel(industry="defense").mean()
    assert float(d1) > float(d0) + 0.05
    # the others get defense's share of China's supply: never worse off
    others = [i for i in prop.industry.values if i != "defense"]
    assert (
        deny["expected_shortfall_t"].sel(industry=others)
        <= prop["expected_shortfall_t"].sel(industry=others) + 1e-6
    ).all()


def test_priority_protects_the_listed_industry(make_paths, bundled_params):
    p = make_paths(n_paths=30, n_months=12, approval=(2.0, 3.0), seed=4)
    pri = propagate(
        p,
        bundled_params,
        n_paths=128,
        seed=5,
        block_size=64,
        scenario={"allocation": "priority", "priority": ["defense", "medical"]},
    )
    prop = propagate(p, bundled_params, n_paths=128, seed=5, block_size=64)
    for ind in ("defense", "medical"):
        assert float(pri["expected_shortfall_t"].sel(industry=ind).sum()) <= float(
            prop["expected_shortfall_t"].sel(industry=ind).sum()
        )


def test_parse_allocation_errors_listed_together():
    industries = ("auto", "wind")
    assert parse_allocation(None, industries).rule == "proportional"
    assert parse_allocation({"propagation": None}, industries).rule == "proportional"
    with pytest.raises(ScenarioError) as err:
        parse_allocation({"allocation": "priority", "priority": ["autos"], "extra": 1}, industries)
    msg = str(err.value)
    assert "unknown industries ['autos']" in msg and "unknown key 'extra'" in msg
    with pytest.raises(ScenarioError, match="needs 'denied_end_uses'"):
        parse_allocation({"allocation": "end_use"}, industries)
    with pytest.raises(ScenarioError, match="unknown allocation 'lottery'"):
        parse_allocation({"allocation": "lottery"}, industries)


def test_bad_paths_are_reported(make_paths):
    good = make_paths(n_paths=3, n_months=4)
    bad = good.copy(deep=True)
    bad["exports"][0, 0, 0] = np.nan
    bad["counterfactual"][0, 0, 0] = -1.0
    with pytest.raises(ForecastInputError) as err:
        validate_paths(bad)
    assert "non-finite" in str(err.value) and "negative" in str(err.value)
    with pytest.raises(ForecastInputError, match="World"):
        validate_paths(good.sel(destination=["United States", "Japan"]))
    gap = good.isel(month=[0, 2, 3])
    with pytest.raises(ForecastInputError, match="consecutive"):
        validate_paths(gap)
    transposed = good.transpose("month", "destination", "path")
    assert validate_paths(transposed)["exports"].dims == ("path", "destination", "month")


def test_other_product_warns(make_paths, bundled_params):
    p = make_paths(n_paths=4, n_months=3)
    p.attrs["product"] = "gallium"
    with pytest.warns(PropagationWarning, match="gallium"):
        propagate(p, bundled_params, n_paths=8, block_size=8)


def test_histogram_statistics_match_exact_ones():
    """Share quantiles within a bin, CVaR95 within the bin ratio, counts exact."""
    rng = np.random.default_rng(0)
    R, T, I, P = 1, 3, 2, 5000  # noqa: E741
    demand = (rng.random((R, T, I, P)) * 100 + 1).astype(np.float32)
    share = np.where(rng.random((R, T, I, P)) < 0.3, 0.0, rng.beta(2, 3, (R, T, I, P)))
    short = (demand * share).astype(np.float32)
    upt = np.full((I, P), 500.0)
    counts = kernels.ShortfallCounts(R, T, I)
    sums = kernels.ShortfallSums(R, T, I)
    kernels.aggregate_block(short, demand, upt, 0, P, counts, sums)
    exact_share = short.astype(np.float64) / demand
    q = stats.quantile_from_share_hist(counts.share_hist, P, stats.QUANTILES)
    for k, level in enumerate(stats.QUANTILES):
        exact = np.quantile(exact_share, level, axis=-1)
        assert np.abs(q[..., k] - exact).max() <= 1.0 / kernels.SHARE_BINS + 1e-9
    cum = np.cumsum(short.astype(np.float64), axis=1)
    cvar = stats.cvar_from_hist(counts.cum_hist, sums.cum_hist_sum, P, 0.95)
    tail = np.sort(cum, axis=-1)[..., -int(0.05 * P) :].mean(axis=-1)
    np.testing.assert_allclose(cvar, tail, rtol=0.02)
    cq = stats.quantile_from_cum_hist(counts.cum_hist, sums.cum_hist_sum, P, stats.QUANTILES)
    for k, level in enumerate(stats.QUANTILES):
        exact = np.quantile(cum, level, axis=-1)
        ok = np.isclose(cq[..., k], exact, rtol=0.13, atol=1e-3)
        assert ok.all()
    np.testing.assert_array_equal(counts.exceed[1], (exact_share > 0.1).sum(axis=-1))
    np.testing.assert_allclose(sums.sums[4], (cum * 500).sum(axis=-1), rtol=1e-12)


def test_regions_without_data_are_left_out(make_paths, bundled_params):
    p = make_paths(n_paths=10, n_months=6).sel(
        destination=["World", "United States", "Germany", "Japan"]
    )
    out = propagate(p, bundled_params, n_paths=32, block_size=32)
    assert list(out.region.values) == ["US", "EU", "Japan", "RoW"]
    assert out.attrs["regions_without_data"] == "Korea,India"
    assert "EU=Germany" in out.attrs["region_destinations"]


def test_substitution_grows_with_the_shortage(make_paths, tiny_raw_builder):
    from riskmodel.propagation import parse_params

    p = make_paths(n_paths=20, n_months=24, destinations=["World", "United States"])
    # China's half of demand = the paths' counterfactual (US 450, RoW 4,550 t/month)
    raw = tiny_raw_builder(base_demand=(12 * 900.0, 12 * 9100.0))
    none = propagate(p, parse_params(raw), seed=1)
    raw["substitution_per_year"] = {"dist": "Fixed", "value": 0.1, "reason": "t", "judgement": True}
    raw["substitution_lag_months"] = {"dist": "Fixed", "value": 3, "reason": "t", "judgement": True}
    some = propagate(p, parse_params(raw), seed=1)
    short = {"threshold": 0.0}
    total_none = float(none["expected_shortfall_t"].sum())
    assert float(some["expected_shortfall_t"].sum()) < total_none
    # nothing changes until a shortage has lasted the lag: the first months are equal
    first = {"month": p.month.values[:4]}
    np.testing.assert_allclose(
        some["expected_shortfall_t"].sel(first), none["expected_shortfall_t"].sel(first), rtol=1e-6
    )
    # the gap widens as shortages last: later months gain more than earlier ones
    gain = (none["p_short"] - some["p_short"]).sel(short).mean(["region", "industry"])
    assert float(gain.isel(month=slice(-6, None)).mean()) > float(
        gain.isel(month=slice(4, 10)).mean()
    )
    # demand is reported before substitution (the shortfall share's denominator)
    np.testing.assert_allclose(some["expected_demand_t"], none["expected_demand_t"], rtol=1e-6)


def test_no_substitution_without_shortage(make_paths, tiny_raw_builder):
    from riskmodel.propagation import parse_params

    p = make_paths(n_paths=10, n_months=12, destinations=["World", "United States"])
    raw = tiny_raw_builder(base_demand=(12 * 100.0, 12 * 1000.0))  # China ships plenty
    none = propagate(p, parse_params(raw), seed=1)
    raw["substitution_per_year"] = {"dist": "Fixed", "value": 0.5, "reason": "t", "judgement": True}
    some = propagate(p, parse_params(raw), seed=1)
    assert float(none["expected_shortfall_t"].sum()) == 0.0
    xr.testing.assert_equal(some["p_short"], none["p_short"])


def test_physical_exports_replace_reporting_noise(make_paths, bundled_params):
    p = make_paths(n_paths=30, n_months=12, seed=4)
    rng = np.random.default_rng(0)
    approval = p["exports"] / p["counterfactual"]
    noisy = p.copy()
    noisy["exports"] = p["exports"] * np.exp(rng.standard_t(4, size=p["exports"].shape) * 0.4)
    noisy["approval"] = approval
    clean = propagate(p, bundled_params, seed=3)
    from_latent = propagate(noisy, bundled_params, seed=3)
    reported = propagate(noisy.drop_vars("approval"), bundled_params, seed=3)
    # counterfactual x approval is the noise-free flow: the same result as clean paths
    np.testing.assert_allclose(from_latent["p_short"], clean["p_short"], atol=1e-12)
    assert from_latent.attrs["china_supply"] == "counterfactual x approval"
    assert reported.attrs["china_supply"] == "exports"
    assert not np.allclose(reported["p_short"], clean["p_short"])
    # an explicit physical variable wins
    explicit = noisy.assign(exports_physical=p["exports"])
    out = propagate(explicit, bundled_params, seed=3)
    assert out.attrs["china_supply"] == "exports_physical"
    np.testing.assert_allclose(out["p_short"], clean["p_short"], atol=1e-12)
    # and the optional variables survive validation (riskmodel shortage reads paths.nc)
    assert "approval" in validate_paths(noisy).data_vars


def test_hoarding_ahead_of_a_known_date_keeps_surplus(make_paths, tiny_raw_builder):
    from riskmodel.propagation import parse_params

    # surplus until 2026-06, then China stops shipping: stock held ahead of the date
    # (announced 2026-01, lead 4 months) lasts longer into the stop
    p = make_paths(
        n_paths=5, n_months=12, destinations=["World", "United States"], approval=(50, 1)
    )
    p["exports"] = p["exports"].where(p.month < "2026-07", 0.0) * xr.where(
        p.month < "2026-07", 2.0, 1.0
    )
    raw = tiny_raw_builder(base_demand=(12 * 450.0, 12 * 4550.0))
    base = propagate(p, parse_params(raw), seed=1)
    raw["hoarding"] = {
        "multiple": {"dist": "Fixed", "value": 2.0, "reason": "t", "judgement": True},
        "lead_months": {"dist": "Fixed", "value": 4.0, "reason": "t", "judgement": True},
        "dates": [{"date": "2026-07", "announced": "2026-01", "reason": "t", "source": "t"}],
    }
    hoard = propagate(p, parse_params(raw), seed=1)
    # auto: half a month of cover (doubled by hoarding), non-China supply half of demand
    aug = {"month": "2026-08", "threshold": 0.0, "industry": "auto"}
    assert float(base["p_short"].sel(aug).min()) == 1.0
    assert float(hoard["p_short"].sel(aug).max()) == 0.0
    # before the window nothing differs; a withdrawn date has no window left
    early = {"month": ["2026-01", "2026-02", "2026-03"]}
    xr.testing.assert_equal(hoard["p_short"].sel(early), base["p_short"].sel(early))
    raw["hoarding"]["dates"][0]["withdrawn"] = "2026-01"
    xr.testing.assert_equal(propagate(p, parse_params(raw), seed=1)["p_short"], base["p_short"])


def test_reroute_moves_excess_to_regions_below_need():
    from riskmodel.propagation.engine import _reroute

    f32 = np.float32
    # region 0 gets 150 for a need of 100, region 1 gets 60 for 100, region 2 exactly 100
    china = np.array([150, 60, 100], dtype=f32).reshape(3, 1, 1)
    need = np.full((3, 1, 1), 100, dtype=f32)
    full = _reroute(china, need, np.array([1.0], dtype=f32))
    np.testing.assert_allclose(full.ravel(), [110, 100, 100])  # gap of 40 filled, 10 left
    half = _reroute(china, need, np.array([0.5], dtype=f32))
    np.testing.assert_allclose(half.ravel(), [125, 85, 100])
    none = _reroute(china, need, np.array([0.0], dtype=f32))
    np.testing.assert_array_equal(none, china)
    for out in (full, half):
        np.testing.assert_allclose(out.sum(), china.sum())  # nothing created or lost
