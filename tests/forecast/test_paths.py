import numpy as np
import pandas as pd
import pytest

from riskmodel.config import load_scenario
from riskmodel.forecast import FORECAST_QUANTILES, forecast_paths, forecast_table, write_forecast
from tests.conftest import make_posterior


def _paths(posterior, scenario="baseline", seed=1, horizon=12, n_paths=400):
    return forecast_paths(
        posterior, load_scenario(scenario), horizon=horizon, n_paths=n_paths, rng=seed
    )


def test_shapes_dims_and_names(fitted_posterior):
    ds = _paths(fitted_posterior)
    assert ds["exports"].dims == ("path", "destination", "month")
    assert ds["exports"].shape == (400, 2, 12)
    assert list(ds["destination"].values) == ["World", "United States"]
    assert ds["month"].values[0] == "2026-01" and ds["month"].values[-1] == "2026-12"
    assert (ds["exports"].values >= 0).all()
    assert ds.attrs["scenario"] == "baseline"


def test_quantiles_are_ordered(fitted_posterior):
    table = forecast_table(_paths(fitted_posterior))
    cols = [f"q{round(q * 100):02d}" for q in FORECAST_QUANTILES]
    assert len(table) == 24
    assert (np.diff(table[cols].to_numpy(), axis=1) >= 0).all()


def test_forecast_centres_on_the_fitted_level(fitted_posterior):
    ds = _paths(fitted_posterior, n_paths=2000)
    first = np.median(ds["exports"].sel(destination="World").isel(month=0).values)
    # level exp(8.5) = 4915 t, approval ~0.9 and relaxing towards sigmoid(2.0) = 0.88
    assert 0.8 * 4915 * 0.88 < first < 1.2 * 4915 * 0.9


def test_same_seed_same_numbers_and_other_seed_differs(fitted_posterior):
    a = _paths(fitted_posterior, seed=7)["exports"].values
    b = _paths(fitted_posterior, seed=7)["exports"].values
    c = _paths(fitted_posterior, seed=8)["exports"].values
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_scenarios_move_the_forecast_the_right_way(fitted_posterior):
    med = {
        s: np.median(_paths(fitted_posterior, s, n_paths=2000)["exports"].values, axis=0)
        for s in ("baseline", "escalation", "relief", "us_embargo")
    }
    world, us = 0, 1
    shock = slice(3, 8)  # escalation starts at +2 and bottoms out within a few months
    assert (med["escalation"][world, shock] < med["baseline"][world, shock]).all()
    assert (med["baseline"][world, shock] < med["relief"][world, shock]).all()
    assert (med["us_embargo"][us] < 0.1 * med["baseline"][us]).all()
    # the US embargo leaves World's forecast approval untouched for the World series
    np.testing.assert_allclose(med["us_embargo"][world], med["baseline"][world], rtol=0.1)


def test_suspension_lapse_cuts_from_november_2026(fitted_posterior):
    base = _paths(fitted_posterior, "baseline", n_paths=2000)["approval"]
    lapse = _paths(fitted_posterior, "suspension_lapse", n_paths=2000)["approval"]
    before = lapse.sel(month="2026-10").median().item() / base.sel(month="2026-10").median().item()
    after = lapse.sel(month="2026-11").median().item() / base.sel(month="2026-11").median().item()
    assert before == pytest.approx(1.0, abs=0.05)
    assert after < 0.85


def test_no_control_in_window_means_full_approval_under_baseline():
    post = make_posterior(controlled=False, approval_last=(0.98, 0.98))
    ds = _paths(post)
    np.testing.assert_array_equal(ds["approval"].values, 1.0)


def test_future_regime_dated_by_events_enters_the_forecast(fitted_posterior):
    start = pd.Period("2026-03", freq="M")
    ds = forecast_paths(
        fitted_posterior,
        load_scenario("baseline"),
        horizon=6,
        n_paths=500,
        rng=3,
        future_regime_starts=[start],
    )
    plain = _paths(fitted_posterior, horizon=6, n_paths=500, seed=3)
    # the new regime's mean is drawn (N(0.5, 1)), so the rates spread out from March on
    assert ds["approval"].sel(month="2026-06").std() > plain["approval"].sel(month="2026-06").std()


def test_write_forecast_outputs(tmp_path, fitted_posterior):
    out = write_forecast(_paths(fitted_posterior), tmp_path / "f")
    table = pd.read_csv(out / "forecast.csv")
    assert list(table.columns) == [
        "month", "destination", "scenario", "mean",
        "q05", "q10", "q25", "q50", "q75", "q90", "q95",
    ]  # fmt: skip
    import xarray as xr

    ds = xr.open_dataset(out / "paths.nc", engine="h5netcdf")
    assert ds["exports"].dims == ("path", "destination", "month")
    assert str(ds["month"].values[0]) == "2026-01"
    ds.close()
