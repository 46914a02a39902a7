"""Targets: which observations are scored from an origin, and sums scored as sums."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from riskmodel.backtest.scoring import score_samples
from riskmodel.backtest.targets import (
    Target,
    observed_targets,
    target_samples,
    targets_for_origin,
)
from riskmodel.exceptions import DataValidationError
from riskmodel.models.simulate import synthetic_inputs


def _inputs():
    """World 2025-01..2025-12 monthly except 2025-04/05 (one Apr-May sum) and a Jun-Jul sum
    straddling nothing, plus a Feb-Mar sum for D1."""
    base = synthetic_inputs(2, 12, start="2025-01", control_at=None, rng=0)
    rows = []  # (destination index, [month indices], quantity)
    for t in range(12):
        if t not in (3, 4):
            rows.append((0, [t], 100.0 + t))
    rows.append((0, [3, 4], 150.0))  # Apr-May 2025
    rows.append((1, [1, 2], 40.0))  # D1 Feb-Mar 2025
    rows.append((1, [5], 21.0))  # D1 Jun 2025
    k = max(len(ms) for _, ms, _ in rows)
    months = np.zeros((len(rows), k), dtype=np.int64)
    mask = np.zeros((len(rows), k), dtype=bool)
    for i, (_, ms, _) in enumerate(rows):
        months[i, : len(ms)] = ms
        mask[i, : len(ms)] = True
    return dataclasses.replace(
        base,
        obs_destination=np.array([d for d, _, _ in rows]),
        obs_months=months,
        obs_mask=mask,
        obs_quantity=np.array([q for _, _, q in rows]),
        obs_label=tuple(f"x:{i}" for i in range(len(rows))),
    )


def _paths(months, destinations=("World", "D1"), n_paths=500, seed=0):
    rng = np.random.default_rng(seed)
    values = rng.lognormal(4.0, 0.3, size=(n_paths, len(destinations), len(months)))
    return xr.Dataset(
        {"exports": (("path", "destination", "month"), values)},
        coords={"path": np.arange(n_paths), "destination": list(destinations), "month": months},
    )


def test_observed_targets_keep_sums():
    targets = observed_targets(_inputs())
    apr_may = [t for t in targets if t.destination == "World" and len(t.months) == 2]
    assert apr_may == [Target("World", ("2025-04", "2025-05"), 150.0, apr_may[0].label)]
    assert apr_may[0].month == "2025-05"
    assert apr_may[0].horizon("2025-04") == 2


def test_only_targets_wholly_inside_the_horizon():
    inputs = _inputs()
    # origin 2025-03, horizon 3: Mar, Apr-May (a sum), D1's Feb-Mar sum straddles -> out
    got = targets_for_origin(inputs, "2025-03", 3)
    assert [(t.destination, t.months) for t in got] == [
        ("World", ("2025-03",)),
        ("World", ("2025-04", "2025-05")),
    ]
    # origin 2025-04, horizon 1: the Apr-May sum ends after the horizon -> nothing for World
    with pytest.raises(DataValidationError, match="no observation lies wholly"):
        targets_for_origin(inputs, "2025-04", 1)
    got = targets_for_origin(inputs, "2025-05", 2)
    assert [(t.destination, t.month, t.horizon("2025-05")) for t in got] == [
        ("D1", "2025-06", 2),
        ("World", "2025-06", 2),
    ]


def test_origin_after_the_data_is_an_error():
    with pytest.raises(DataValidationError, match="no observed month at or after"):
        targets_for_origin(_inputs(), "2026-01", 6)


def test_sum_targets_are_scored_as_the_sum_of_the_paths():
    months = [str(m) for m in pd.period_range("2025-03", periods=3, freq="M")]
    paths = _paths(months)
    target = targets_for_origin(_inputs(), "2025-03", 3)[1]
    assert target.months == ("2025-04", "2025-05")
    samples = target_samples(paths, target)
    summed = paths["exports"].sel(destination="World").values[:, 1:3].sum(axis=1)
    np.testing.assert_allclose(samples, summed)
    # the score of the sum is not the score of either month
    s = score_samples(samples, target.actual)
    single = score_samples(paths["exports"].sel(destination="World").values[:, 2], target.actual)
    assert s["crps"] != pytest.approx(single["crps"])


def test_target_samples_missing_destination_raises():
    paths = _paths(["2025-03"], destinations=("World",))
    with pytest.raises(KeyError):
        target_samples(paths, Target("D1", ("2025-03",), 1.0))
