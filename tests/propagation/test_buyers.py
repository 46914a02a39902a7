"""Buyer groups: licences granted firm by firm (riskmodel/propagation/buyers.py)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from riskmodel.exceptions import PriorsError
from riskmodel.propagation import parse_params, propagate
from riskmodel.propagation.buyers import buyer_factors

f32 = np.float32


def _buyers(groups=8, spread=2.0, persistence=0.5, stock_spread=0.0, since="2026-01"):
    def fixed(v):
        return {"dist": "Fixed", "value": float(v), "reason": "test", "judgement": True}

    return {
        "groups": groups,
        "licensing_since": since,
        "licence_spread": fixed(spread),
        "licence_persistence": fixed(persistence),
        "stock_spread": fixed(stock_spread),
        "reason": "test",
        "source": "test",
    }


def _factors(a, *, K=6, T=5, P=400, licensing=None, spread=2.0, stock_spread=0.4, seed=0):
    rng = np.random.default_rng(seed)
    need = np.full((2, T, P), 100.0, dtype=f32)
    china = (need * np.asarray(a, dtype=f32)[None, :, None]).astype(f32)
    licensing = np.ones(T, dtype=bool) if licensing is None else np.asarray(licensing)
    return buyer_factors(
        china,
        need,
        licensing,
        np.full(P, spread, dtype=f32),
        np.full(P, 0.5, dtype=f32),
        np.full(P, stock_spread, dtype=f32),
        rng.standard_normal((2, K, T, P), dtype=f32),
        rng.standard_normal((2, K, 3, P), dtype=f32),
    )


def test_groups_together_receive_exactly_the_shipments():
    supply, stock = _factors([1.2, 0.6, 0.3, 0.05, 1.0])
    np.testing.assert_allclose(supply.mean(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(stock.mean(axis=1), 1.0, rtol=1e-5)
    assert (supply >= 0).all() and (stock > 0).all()
    # pro rata where shipments cover the need (a >= 1) ...
    assert (supply[:, :, [0, 4]] == 1).all()
    # ... uneven where they do not, the more so the deeper the cut
    spread_by_month = supply.std(axis=1).mean(axis=(0, 2))
    assert spread_by_month[1] > 0.2 and spread_by_month[3] > spread_by_month[1]


def test_before_licensing_the_cut_is_shared_pro_rata():
    supply, _ = _factors([0.5, 0.5, 0.5, 0.5, 0.5], licensing=[False, False, True, True, True])
    assert (supply[:, :, :2] == 1).all()
    assert (supply[:, :, 2:] != 1).any()


def test_no_spread_means_no_heterogeneity():
    supply, stock = _factors([0.5] * 5, spread=0.0, stock_spread=0.0)
    np.testing.assert_allclose(supply, 1.0, rtol=1e-6)
    np.testing.assert_allclose(stock, 1.0, rtol=1e-6)


def test_without_licensing_the_groups_are_one_pool():
    supply, stock = _factors([0.5] * 5, licensing=[False] * 5, stock_spread=0.5)
    assert (supply == 1).all() and (stock == 1).all()
    # licensing on some paths only: pooled stock on the others
    licensing = np.zeros((5, 400), dtype=bool)
    licensing[2:, :100] = True
    supply, stock = _factors([0.5] * 5, licensing=licensing, stock_spread=0.5)
    assert (stock[..., 100:] == 1).all() and (stock[..., :100] != 1).any()
    assert (supply[..., 100:] == 1).all() and (supply[:, :, :2] == 1).all()


def _cut_paths(arrays_to_paths, months_from, n_paths=200):
    """US gets 70% of its need for two months: the pooled stock (1 month) covers it."""
    months = months_from("2026-01", 6)
    us = np.tile([200.0, 140.0, 140.0, 200.0, 200.0, 200.0], (n_paths, 1))
    ex = np.stack([3 * us, us], axis=1)
    cf = np.stack([np.full_like(us, 600.0), np.full_like(us, 200.0)], axis=1)
    return arrays_to_paths(ex, cf, ["World", "United States"], months)


def test_uneven_licences_short_some_buyers_the_pooled_stock_would_cover(
    arrays_to_paths, months_from, tiny_raw_builder
):
    paths = _cut_paths(arrays_to_paths, months_from)
    raw = tiny_raw_builder(china_share=1.0, cover_months=(1.0, 1.0))
    pooled = propagate(paths, parse_params(raw), seed=0)
    raw["buyers"] = _buyers(groups=8, spread=3.0)
    uneven = propagate(paths, parse_params(raw), seed=0)
    cell = {"region": "US", "industry": "auto", "threshold": 0.0}
    p_pooled = pooled["p_short"].sel(**cell).values
    p_uneven = uneven["p_short"].sel(**cell).values
    assert p_pooled.max() == 0.0  # 60 t short over two months against 200 t of stock
    assert p_uneven.max() > 0.3
    # the groups' unmet demand is a share of the region's, never more than the cut
    total = uneven["expected_shortfall_t"].sel(region="US", industry="auto").values.sum()
    assert 0 < total < 0.75 * 2 * 60


def test_one_group_is_the_representative_buyer(arrays_to_paths, months_from, tiny_raw_builder):
    paths = _cut_paths(arrays_to_paths, months_from, n_paths=30)
    raw = tiny_raw_builder(china_share=1.0, cover_months=(0.2, 0.5))
    without = propagate(paths, parse_params(raw), seed=3)
    raw["buyers"] = _buyers(groups=1, spread=3.0, stock_spread=0.5)
    one = propagate(paths, parse_params(raw), seed=3)
    for name in ("p_short", "expected_shortfall_t"):
        np.testing.assert_array_equal(without[name].values, one[name].values)


@pytest.mark.parametrize(("approval", "uneven"), [(1.0, False), (0.7, True)])
def test_controls_lifted_on_the_paths_mean_one_pool(
    arrays_to_paths, months_from, tiny_raw_builder, approval, uneven
):
    """The paths' approval says whether licences are required; at 1 they are not."""
    paths = _cut_paths(arrays_to_paths, months_from, n_paths=50)
    cut = paths["exports"].sel(destination="United States") < 200
    level = xr.where(cut, approval, 1.0) * xr.ones_like(paths["exports"])
    paths["approval"] = level.transpose(*paths["exports"].dims)
    # the physical flow is counterfactual x approval: the same 140 t in both cases
    paths["counterfactual"] = paths["exports"] / paths["approval"]
    raw = tiny_raw_builder(china_share=1.0, cover_months=(0.2, 0.5))
    pooled = propagate(paths, parse_params(raw), seed=3)
    raw["buyers"] = _buyers(groups=8, spread=3.0, stock_spread=0.5)
    groups = propagate(paths, parse_params(raw), seed=3)
    same = np.array_equal(pooled["p_short"].values, groups["p_short"].values)
    assert same is not uneven


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"groups": 0}, "buyers.groups"),
        ({"groups": 2.5}, "buyers.groups"),
        ({"groups": 1000}, "buyers.groups"),
        ({"licensing_since": "April 2025"}, "buyers.licensing_since"),
        ({"licence_persistence": {"dist": "Fixed", "value": 1.0}}, "licence_persistence"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_buyers_block_names_its_field(tiny_raw_builder, change, field):
    raw = tiny_raw_builder()
    raw["buyers"] = {**_buyers(), **change}
    with pytest.raises(PriorsError, match=field):
        parse_params(raw, source="p.yaml")


def test_bundled_buyers_are_judgement_with_reasons(bundled_params):
    buyers = bundled_params.buyers
    assert buyers is not None and buyers.groups >= 2
    rows = [r for r in bundled_params.summary() if r["block"].startswith("buyers.")]
    assert len(rows) == 3 and all(r["judgement"] for r in rows)
