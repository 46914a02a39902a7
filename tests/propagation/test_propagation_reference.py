"""A propagation worked by hand: 2 forecast paths, 3 months, US + RoW, 2 industries.

Do NOT change the expected numbers unless the model's arithmetic changed on purpose;
then redo the hand calculation below and say why in the commit.

Set-up (every parameter Fixed, so there is no randomness):

- Demand from outside the export model: the US buys 2,400 t a year (200 t/month),
  RoW 4,800 t (400 t/month); the paths' counterfactual is not used.
- China's share of supply chi = 0.5 in both regions; industry shares auto 0.75,
  wind 0.25; no growth, no substitution, no new capacity; restock up to the usual cover.
- Inventory cover: auto 0.5 month, wind 1 month. Opening stock = cover x mean demand
  of the first 3 months; ceiling = cover x the month's demand.
- Magnet content: auto 2 kg/unit, wind 500 kg/unit.
- Forecast path 0: US counterfactual 100 t/month, exports [100, 40, 0];
  World counterfactual 300, exports [300, 120, 0] (so RoW: cf 200, exports [200, 80, 0]).
  Forecast path 1: exports = counterfactual (no cut).

US, path 0, proportional allocation:

- Demand D = 200 t/month: auto 150, wind 50. China supply [100, 40, 0],
  non-China supply (1 - chi) x 200 = 100, total S = [200, 140, 100].
- Opening stock: auto 0.5 x 150 = 75, wind 1 x 50 = 50 (also the ceilings).
- Month 1: S / D = 1: auto gets 150, available 225, uses 150, short 0, stock
  min(75, 75) = 75; wind gets 50, available 100, stock 50.
- Month 2: S / D = 0.7: auto gets 105, available 180, uses 150, stock 30; wind gets 35,
  available 85, stock 35.
- Month 3: S / D = 0.5: auto gets 75, available 105, uses 105, **short 45** (share 0.3),
  stock 0; wind gets 25, available 60, uses 50, short 0, stock 10.

RoW, path 0: every figure doubles (cf 200): auto short 90 in month 3 (share 0.3).
Path 1: supply = demand every month: no shortfall anywhere.

So over the 2 paths, for (US, auto, month 3): P(share > 0) = P(> 0.1) = P(> 0.25) = 0.5,
P(> 0.5) = 0; E[shortfall] = 22.5 t; E[share] = 0.15; E[cumulative] = 22.5 t;
output lost 45 t x 1000 / 2 kg = 22,500 vehicles on path 0, expected 11,250; the first
stock-out is month 3 on path 0 and never on path 1: P(first in month 3) = 0.5 =
P(within horizon); its 10% and 50% quantiles are month 3, its 90% quantile is past the
horizon (""). CVaR95 of cumulative unmet demand at month 3: the worst 5% of 2 paths is
a tenth of path 0, whose value is 45 t, so 45 t.

Priority [wind, auto] (US, path 0): wind is served its 50 first. Month 2: auto gets
140 - 50 = 90, available 165, stock 15. Month 3: auto gets 50, available 65, **short 85**.

End use, China denies wind (US, path 0): China's supply goes to auto only, non-China
supply is shared by demand (wind gets 0.5 x 50 = 25 a month). Month 1: auto gets
150 x (100/150 + 0.5) = 175, stock 75; wind available 75, stock 25. Month 2: auto gets
150 x (40/150 + 0.5) = 115, stock 40; wind available 50, stock 0. Month 3: auto gets 75,
available 115, **short 35**; wind available 25, **short 25**. On path 1 wind runs
short by 25 in month 3 too (it never gets China's magnets).
"""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel.propagation import propagate

MONTHS = ["2026-01", "2026-02", "2026-03"]


@pytest.fixture
def hand_paths(arrays_to_paths):
    us_cf = np.full((2, 3), 100.0)
    us_ex = np.array([[100.0, 40.0, 0.0], [100.0, 100.0, 100.0]])
    world_cf = 3 * us_cf
    world_ex = 3 * us_ex
    ex = np.stack([world_ex, us_ex], axis=1)  # (path, destination, month)
    cf = np.stack([world_cf, us_cf], axis=1)
    return arrays_to_paths(ex, cf, ["World", "United States"], MONTHS)


@pytest.mark.parametrize("kernel", ["numpy", "numba"])
def test_proportional_by_hand(hand_paths, tiny_params, kernel):
    out = propagate(hand_paths, tiny_params(), seed=0, kernel=kernel)
    us, row = out.sel(region="US"), out.sel(region="RoW")
    short = us["expected_shortfall_t"].sel(industry="auto").values
    np.testing.assert_allclose(short, [0.0, 0.0, 22.5], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(
        row["expected_shortfall_t"].sel(industry="auto").values, [0, 0, 45.0], rtol=1e-5, atol=1e-4
    )
    np.testing.assert_allclose(
        out["expected_shortfall_t"].sel(industry="wind").values, 0.0, atol=1e-4
    )
    np.testing.assert_allclose(
        us["expected_shortfall_share"].sel(industry="auto").values, [0, 0, 0.15], atol=1e-6
    )
    np.testing.assert_allclose(
        us["expected_demand_t"].sel(industry="auto").values, 150.0, rtol=1e-6
    )
    p = us["p_short"].sel(industry="auto", month="2026-03").values
    np.testing.assert_allclose(p, [0.5, 0.5, 0.5, 0.0])
    assert us["p_short"].sel(industry="auto", month=["2026-01", "2026-02"]).values.max() == 0.0
    np.testing.assert_allclose(
        us["expected_cum_shortfall_t"].sel(industry="auto").values,
        [0, 0, 22.5],
        rtol=1e-5,
        atol=1e-4,
    )
    np.testing.assert_allclose(
        us["expected_output_lost_units"].sel(industry="auto").values,
        [0, 0, 11250.0],
        rtol=1e-5,
        atol=1e-3,
    )
    np.testing.assert_allclose(us["p_first_stockout"].sel(industry="auto").values, [0, 0, 0.5])
    assert float(us["p_stockout_within_horizon"].sel(industry="auto")) == 0.5
    assert float(us["p_stockout_within_horizon"].sel(industry="wind")) == 0.0
    fs = us["first_stockout_month"].sel(industry="auto").values.tolist()
    assert fs == ["2026-03", "2026-03", ""]
    np.testing.assert_allclose(
        float(us["cum_shortfall_cvar95_t"].sel(industry="auto", month="2026-03")), 45.0, rtol=1e-5
    )
    # the 95% quantile of cumulative unmet demand lies in 45 t's log bin (12% wide)
    q95 = float(us["cum_shortfall_quantile_t"].sel(industry="auto", month="2026-03", quantile=0.95))
    assert 45.0 / 1.13 < q95 < 45.0 * 1.13
    # the median is 0 (path 1) and the 95% share quantile sits in 0.3's bin
    share_q = us["shortfall_share_quantile"].sel(industry="auto", month="2026-03")
    assert float(share_q.sel(quantile=0.25)) == 0.0
    assert 0.3 <= float(share_q.sel(quantile=0.95)) <= 0.31


def test_priority_by_hand(hand_paths, tiny_params):
    out = propagate(
        hand_paths, tiny_params(), scenario={"allocation": "priority", "priority": ["wind", "auto"]}
    )
    us = out.sel(region="US")
    np.testing.assert_allclose(
        us["expected_shortfall_t"].sel(industry="auto").values,
        [0, 0, 85.0 / 2],
        rtol=1e-5,
        atol=1e-4,
    )
    np.testing.assert_allclose(
        us["expected_shortfall_t"].sel(industry="wind").values, 0.0, atol=1e-4
    )
    assert out.attrs["allocation"] == "priority"


def test_end_use_by_hand(hand_paths, tiny_params):
    out = propagate(
        hand_paths, tiny_params(), scenario={"allocation": "end_use", "denied_end_uses": ["wind"]}
    )
    us = out.sel(region="US")
    np.testing.assert_allclose(
        us["expected_shortfall_t"].sel(industry="auto").values,
        [0, 0, 35.0 / 2],
        rtol=1e-5,
        atol=1e-4,
    )
    np.testing.assert_allclose(
        us["expected_shortfall_t"].sel(industry="wind").values, [0, 0, 25.0], rtol=1e-5, atol=1e-4
    )
    assert float(us["p_stockout_within_horizon"].sel(industry="wind")) == 1.0
