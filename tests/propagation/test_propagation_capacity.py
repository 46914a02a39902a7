"""New plants' ramp-up, checked through the propagation's output.

Set-up: the US gets nothing from China (exports 0, China's share 1, so existing
non-China suppliers have no share either) and its only supply is one new plant whose
output is exactly the region's demand once ramped. With no stock worth speaking of, a
month is short exactly when the plant's ramp fraction is below 1.
"""

from __future__ import annotations

import numpy as np

from riskmodel.propagation import parse_params, propagate

MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]


def _plant(start: str, ramp: float, capacity_tpy: float) -> dict:
    def fixed(v):
        return {"dist": "Fixed", "value": float(v), "reason": "t", "judgement": True}

    return {
        "name": "test plant",
        "region": "US",
        "start": start,
        "capacity_tpy": fixed(capacity_tpy),
        "delay_months": fixed(0.0),
        "ramp_months": fixed(ramp),
        "utilisation": fixed(1.0),
    }


def test_ramp_starts_at_zero_in_the_start_month(arrays_to_paths, tiny_raw_builder):
    demand = 100.0  # t/month in the US, all of it to be met by the plant
    cf = np.full((1, 2, len(MONTHS)), demand)
    cf[:, 0] *= 3  # World
    ex = np.zeros_like(cf)
    paths = arrays_to_paths(ex, cf, ["World", "United States"], MONTHS)
    raw = tiny_raw_builder(
        china_share=1.0, cover_months=(1e-6, 1e-6), base_demand=(12 * demand, 24 * demand)
    )
    # ramp from 0 in 2026-02 to full output in 2026-04 (two months later)
    raw["new_capacity"] = [_plant("2026-02", 2.0, 12 * demand)]
    out = propagate(paths, parse_params(raw), seed=0)
    share = out["expected_shortfall_share"].sel(region="US", industry="auto").values
    # 2026-01: before the plant; 2026-02: ramp 0; 2026-03: ramp 0.5; then full output
    np.testing.assert_allclose(share, [1.0, 1.0, 0.5, 0.0, 0.0], atol=1e-4)
