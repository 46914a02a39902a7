"""Inventories: uncertain opening stock, deferred demand made up later, restocking."""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel.propagation import kernels, parse_params, propagate


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_deferred_demand_is_made_up_before_restocking(backend):
    """One industry, demand 100 t/month, opening stock 50, ceiling 100, half deferred.

    Month 0: 150 available, stock 50. Month 1: no supply, 50 short, 25 deferred.
    Month 2: 180 arrive, 100 used, 25 made up, stock 55 (80 without deferral).
    Month 3: supply = demand, stock 55. Month 4: no supply: short 45 (20 without).
    """
    f32 = np.float32
    demand = np.full((1, 5, 1, 1), 100.0, dtype=f32)
    supply = np.array([100.0, 0.0, 180.0, 100.0, 0.0], dtype=f32).reshape(1, 5, 1)
    args = {
        "demand": demand,
        "demand_total": demand[:, :, 0],
        "supply_china": supply,
        "supply_other": np.zeros_like(supply),
        "stock0": np.full((1, 1, 1), 50.0, dtype=f32),
        "cap_cover": np.ones((1, 1, 1), dtype=f32),
    }
    half = np.full((1, 1, 1), 0.5, dtype=f32)
    short = kernels.simulate_shortfall(**args, deferred_share=half, backend=backend)
    np.testing.assert_allclose(short[0, :, 0, 0], [0, 50, 0, 0, 45])
    lost = kernels.simulate_shortfall(**args, backend=backend)  # nothing deferred
    np.testing.assert_allclose(lost[0, :, 0, 0], [0, 50, 0, 0, 20])


def test_opening_stock_is_a_multiple_of_the_cover(arrays_to_paths, tiny_raw_builder):
    """The hand-worked set-up of test_propagation_reference, opening at half the cover.

    US auto, path 0: stock 37.5 (not 75); month 1 leaves it at 37.5; month 2 gets 105 of
    150, so 7.5 short (0 at the full cover); averaged over the two paths 3.75.
    """
    months = ["2026-01", "2026-02", "2026-03"]
    us_cf = np.full((2, 3), 100.0)
    us_ex = np.array([[100.0, 40.0, 0.0], [100.0, 100.0, 100.0]])
    ex = np.stack([3 * us_ex, us_ex], axis=1)
    cf = np.stack([3 * us_cf, us_cf], axis=1)
    paths = arrays_to_paths(ex, cf, ["World", "United States"], months)
    out = propagate(paths, parse_params(tiny_raw_builder(opening=0.5)), seed=0)
    short = out["expected_shortfall_t"].sel(region="US", industry="auto").values
    np.testing.assert_allclose(short[:2], [0.0, 3.75], rtol=1e-5, atol=1e-4)


def test_bundled_inventory_parameters_are_uncertain(bundled_params):
    assert not bundled_params.opening_stock.is_fixed
    assert not bundled_params.deferred_share.is_fixed
    lo, hi = bundled_params.opening_stock.interval(0.9)
    assert lo < 1.0 < hi
