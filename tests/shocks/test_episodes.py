"""Episodes are found from the events and the series; their inputs load with the pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.shocks import find_episodes
from riskmodel.shocks.measure import episode_inputs, summarise_posterior


@pytest.fixture(scope="module")
def episodes():
    return {e.id: e for e in find_episodes()}


def test_the_known_episodes_are_found(episodes):
    expected = {
        "rare_earths_japan_imports_from_china_2010-10": ("Japan", "2010-09-21"),
        "gallium_2023-08": ("World", "2023-08-01"),
        "germanium_2023-08": ("World", "2023-08-01"),
        "graphite_flake_2023-12": ("World", "2023-12-01"),
        "bismuth_refined_and_products_2025-02": ("World", "2025-02-04"),
        "bismuth_unrefined_and_scrap_2025-02": ("World", "2025-02-04"),
        "tungsten_APT_2025-02": ("World", "2025-02-04"),
        "magnets_2025-04": ("World", "2025-04-04"),
    }
    for eid, (dest, day) in expected.items():
        assert episodes[eid].destination == dest
        assert episodes[eid].effective == pd.Timestamp(day)
        assert episodes[eid].pooled, eid


def test_announcement_rush_window_and_partial_month(episodes):
    ga = episodes["gallium_2023-08"]
    assert ga.announced == pd.Timestamp("2023-07-03")
    assert ga.rush_months == (pd.Period("2023-07", "M"),)
    assert ga.partial_first_month == pytest.approx(1 / 31)
    # announced 20 October (late in the month): November is the rush month
    gr = episodes["graphite_flake_2023-12"]
    assert gr.rush_months == (pd.Period("2023-11", "M"),)
    # effective on publication: no rush window
    assert episodes["magnets_2025-04"].announced is None
    assert episodes["magnets_2025-04"].rush_months == ()
    assert episodes["magnets_2025-04"].partial_first_month == pytest.approx(4 / 30)
    # embargo from 21 September 2010: the regime starts in October
    jp = episodes["rare_earths_japan_imports_from_china_2010-10"]
    assert jp.effective_month == pd.Period("2010-10", "M")
    assert jp.partial_first_month == pytest.approx(21 / 30)


def test_window_ends_before_the_next_ban(episodes):
    # the December 2024 ban on gallium to the US is a new shock
    assert episodes["gallium_2023-08"].as_of == pd.Period("2024-11", "M")
    assert any("2024-12 ban" in n for n in episodes["gallium_2023-08"].notes)


def test_sparse_and_diluted_series_say_why(episodes):
    for eid in ("dysprosium_2025-04", "terbium_2025-04", "graphite_natural_total_2023-12"):
        assert episodes[eid].status == "not_fitted"
        assert "no pre-control observation" in episodes[eid].reason
    for eid in ("rare_earths_2025-04", "tungsten_products_2025-02"):
        assert episodes[eid].status == "not_pooled"
        assert "diluted" in episodes[eid].reason
    # one pre-control figure, ten months before the effect: no anchor for the counterfactual
    sph = episodes["graphite_spherical_2023-12"]
    assert sph.status == "not_pooled" and "10 months before the effect" in sph.reason
    # one pre-control figure, the month before: pooled, marked weak
    assert episodes["bismuth_refined_and_products_2025-02"].pooled
    assert episodes["bismuth_refined_and_products_2025-02"].reason.startswith("weak")


def test_episode_inputs_world_only_rush_left_out(episodes):
    inputs = episode_inputs(episodes["gallium_2023-08"])
    assert inputs.destinations == ("World",)
    assert inputs.months[inputs.regimes.control_start] == pd.Period("2023-08", "M")
    july = (pd.Period("2023-07", "M") - inputs.months[0]).n
    touched = [
        set(ms[mk].tolist()) for ms, mk in zip(inputs.obs_months, inputs.obs_mask, strict=True)
    ]
    assert not any(july in t for t in touched)
    assert any("rush" in d for d in inputs.dropped)
    assert inputs.months[-1] == pd.Period("2024-10", "M")


def test_short_series_and_other_destinations_load(episodes):
    bi = episode_inputs(episodes["bismuth_refined_and_products_2025-02"])
    assert bi.n_months == 2 and len(bi.obs_quantity) == 2
    jp = episode_inputs(episodes["rare_earths_japan_imports_from_china_2010-10"])
    assert jp.destinations == ("Japan",)
    mg = episode_inputs(episodes["magnets_2025-04"])
    assert mg.destinations == ("World",) and mg.licences is None


def test_summaries_of_known_draws(episodes):
    ep = episodes["graphite_flake_2023-12"]
    inputs = episode_inputs(ep)
    t0 = inputs.regimes.control_start
    n, t = 200, inputs.n_months
    approval = np.ones((n, t))
    approval[:, t0:] = [0.3, 0.1, 0.9]  # Dec, Jan, Feb
    log_demand = np.full((n, t), np.log(10_000.0))
    summary, windows, path, unidentified = summarise_posterior(
        inputs, approval, log_demand, ep, [(pd.Period("2023-11", "M"), 25_000.0)]
    )
    assert summary["depth"]["q50"] == pytest.approx(0.1)
    assert summary["months_to_low"]["q50"] == 1
    assert summary["months_to_80"]["q50"] == 2 and summary["months_to_80"]["p_reached"] == 1
    assert summary["long_run"]["q50"] == pytest.approx((0.3 + 0.1 + 0.9) / 3)
    assert summary["rush"]["q50"] == pytest.approx(2.5)
    assert summary["partial_first_month"]["q50"] == pytest.approx(1 / 31)
    assert [w.taus for w in windows] == [(0,), (1,), (2,)]
    assert path["observed"].sum() == 3 and not unidentified
    # never back to 80%: censored at the last month
    approval[:, t0:] = [0.3, 0.1, 0.5]
    summary, *_ = summarise_posterior(inputs, approval, log_demand, ep)
    assert np.isinf(summary["months_to_80"]["q50"]) and summary["months_to_80"]["p_reached"] == 0


def test_year_to_date_totals_identify_only_the_mean(episodes):
    ep = episodes["tungsten_APT_2025-02"]
    inputs = episode_inputs(ep)
    n, t = 100, inputs.n_months
    approval = np.full((n, t), 0.4)
    approval[:, : inputs.regimes.control_start] = 1.0
    summary, windows, _, unidentified = summarise_posterior(inputs, approval, np.zeros((n, t)), ep)
    assert set(unidentified) >= {"depth", "months_to_low", "months_to_80", "long_run"}
    assert summary["window_mean"]["q50"] == pytest.approx(0.4)
    assert len(windows) == 1 and windows[0].taus == tuple(range(10))
