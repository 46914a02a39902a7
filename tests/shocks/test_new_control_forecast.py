"""A product with only pre-control history and a dated control: the forecast collapses."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pandas as pd
import pytest

from riskmodel.config import control_multiplier, load_scenario
from riskmodel.config.dists import Dist
from riskmodel.config.scenario import load_learned_shape
from riskmodel.exceptions import RiskModelWarning
from riskmodel.forecast import forecast_paths
from riskmodel.pipeline import load_inputs
from riskmodel.resources import bundled_data_file
from tests.conftest import make_posterior

MONTHS = pd.period_range("2021-01", "2023-07", freq="M")


def _uncontrolled():
    return make_posterior(
        controlled=False, approval_last=(0.98, 0.98), months=MONTHS, level=(8.5, 6.3)
    )


def _paths(start, **kw):
    return forecast_paths(
        _uncontrolled(),
        load_scenario("baseline"),
        horizon=kw.pop("horizon", 12),
        n_paths=kw.pop("n_paths", 2000),
        rng=kw.pop("rng", 5),
        future_regime_starts=[pd.Period(start, freq="M")],
        **kw,
    )


def test_control_dated_after_the_data_collapses_exports():
    ds = _paths("2023-09")  # forecast starts 2023-08; the control two months... one month in
    appr = ds["approval"].sel(destination="World")
    np.testing.assert_array_equal(appr.sel(month="2023-08").values, 1.0)  # not yet in force
    med = appr.median("path")
    assert med.sel(month="2023-10").item() < 0.25  # the low, a month after the start
    assert med.sel(month="2023-10").item() < med.sel(month="2023-09").item() < 1.0
    assert med.sel(month="2024-07").item() > 0.5  # and the recovery
    exports = ds["exports"].sel(destination="World").median("path")
    cf = ds["counterfactual"].sel(destination="World").median("path")
    assert (exports / cf).sel(month="2023-10").item() < 0.3
    assert (exports / cf).sel(month="2023-08").item() > 0.8
    # every destination is hit: the control is on the product
    assert ds["approval"].sel(destination="United States", month="2023-10").median() < 0.25


def test_the_path_is_control_multiplier_of_the_given_shape():
    fixed = {
        "depth": Dist.fixed(0.2, "r"),
        "months_to_low": Dist.fixed(1.0, "r"),
        "recovery_half_life_months": Dist.fixed(2.0, "r"),
        "long_run": Dist.fixed(0.9, "r"),
    }
    ds = _paths("2023-08", horizon=6, n_paths=10, new_control_shape=fixed)
    expected = control_multiplier(np.arange(6), 0.2, 1.0, 2.0, 0.9)
    np.testing.assert_allclose(ds["approval"].values[0, 0], expected)
    np.testing.assert_allclose(ds["approval"].values[:, 1], np.broadcast_to(expected, (10, 6)))


def test_default_shape_is_the_learned_one():
    specs = load_learned_shape()
    a = _paths("2023-08", horizon=4, n_paths=300, rng=9)["approval"].values
    b = _paths("2023-08", horizon=4, n_paths=300, rng=9, new_control_shape=specs)
    np.testing.assert_array_equal(a, b["approval"].values)


def test_control_beyond_the_horizon_warns_and_leaves_approval_at_one():
    with pytest.warns(RiskModelWarning, match="after the forecast's last month"):
        ds = _paths("2025-01", horizon=6, n_paths=50)
    np.testing.assert_array_equal(ds["approval"].values, 1.0)


def test_no_dated_control_means_no_collapse():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = forecast_paths(_uncontrolled(), load_scenario("baseline"), horizon=6, n_paths=50)
    np.testing.assert_array_equal(ds["approval"].values, 1.0)


# --------------------------------------------------------------------------- inputs


@pytest.fixture()
def gallium_cut(tmp_path):
    """Real gallium rows before the July 2023 announcement, and the real events."""
    src = bundled_data_file("other_controls.csv")
    out = tmp_path / "gallium_pre.csv"
    with src.open(newline="", encoding="utf-8-sig") as fin, out.open("w", newline="") as fout:
        reader = csv.DictReader(fin)
        writer = csv.DictWriter(fout, fieldnames=reader.fieldnames)
        writer.writeheader()
        for row in reader:
            if row["product"] == "gallium" and row["month"] <= "2023-06":
                writer.writerow(row)
    return out


def test_as_of_at_the_control_month_dates_it_in_the_forecast(gallium_cut):
    inputs = load_inputs(gallium_cut, product="gallium", as_of="2023-08")
    assert inputs.regimes.control_start is None  # nothing controlled in the window
    assert inputs.months[-1] == pd.Period("2023-07", "M")  # forecast starts 2023-08
    assert inputs.future_regime_starts == (pd.Period("2023-08", "M"),)


def test_events_after_the_last_data_month_are_dated_without_as_of(gallium_cut):
    inputs = load_inputs(gallium_cut, product="gallium")
    assert inputs.months[-1] == pd.Period("2023-06", "M")  # forecast starts 2023-07
    assert inputs.future_regime_starts[0] == pd.Period("2023-08", "M")


def test_controlled_products_are_unchanged():
    inputs = load_inputs(product="magnets")
    assert inputs.regimes.control_start is not None
    assert inputs.future_regime_starts == ()


@pytest.mark.slow
def test_cli_forecast_of_a_product_with_only_pre_control_history(tmp_path, gallium_cut):
    """riskmodel forecast --data FILE --events EVENTS --as-of CONTROL_MONTH shows the collapse."""
    from riskmodel.cli import main

    out = tmp_path / "fc"
    events = bundled_data_file("policy_events.csv")
    code = main(
        [
            "forecast", "--data", str(gallium_cut), "--events", str(events),
            "--product", "gallium", "--as-of", "2023-08", "--horizon", "6", "--paths", "500",
            "--draws", "300", "--tune", "300", "--chains", "2", "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    table = pd.read_csv(out / "forecast.csv").set_index("month")
    assert table.index[0] == "2023-08"
    pre = pd.read_csv(gallium_cut)
    level = pre.loc[pre["months_covered"] == 1, "quantity"].median() / 1000  # kg -> t
    assert table.loc["2023-09", "q50"] < 0.3 * level
