"""The hindcast's input: China's realised monthly exports, gaps filled from World."""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel.propagation.hindcast import hindcast, realised_paths


@pytest.fixture(scope="module")
def realised():
    return realised_paths("2025-01", "2025-12", n_paths=50, seed=3)


def test_reported_months_are_taken_as_reported(realised):
    ex = realised["exports"]
    # bundled customs figures (China customs via Reuters/Adamas, data/magnet_exports.csv)
    assert (ex.sel(destination="United States", month="2025-05") == 46.0).all()
    assert (ex.sel(destination="World", month="2025-05") == 1238.0).all()
    assert (ex.sel(destination="European Union", month="2025-07") == 2140.0).all()
    assert (realised["counterfactual"] == ex).all()
    assert realised.attrs["scenario"] == "hindcast"


def test_gaps_are_filled_from_world_with_uncertainty(realised):
    ex = realised["exports"]
    assert "United States=2025-01,2025-02" in realised.attrs["filled_months"]
    jan = ex.sel(destination="United States", month="2025-01").values
    assert np.unique(jan).size == jan.size  # every path its own factor
    # World x the US share of World interpolated between Nov 2024 and Mar 2025
    nov, mar = 638.2 / 4793.8, 585.0 / 5323.2
    share = nov + (mar - nov) * 2 / 4
    np.testing.assert_allclose(np.median(jan), 6357.0 * share, rtol=0.15)


def test_world_must_report_every_month():
    with pytest.raises(ValueError, match="World exports of magnets missing for 2024-01"):
        realised_paths("2024-01", "2024-06")


def test_hindcast_runs_on_the_realised_paths():
    out = hindcast("2025-01", "2025-06", n_paths=64, seed=1)
    assert out.attrs["scenario"] == "hindcast"
    assert "European Union=" in out.attrs["filled_months"]
    p = out["p_short"].sel(threshold=0)
    # stocks open at their cover: hardly a shortage before the April 2025 controls,
    # then the US, whose supply fell to 46 t in May, runs short
    assert float(p.sel(month="2025-01").max()) < 0.05
    us = p.sel(region="US", industry="automotive_other")
    assert float(us.sel(month="2025-06")) > float(us.sel(month="2025-03")) + 0.2
