"""Shared fixtures and the ``--run-slow`` switch.

Tests marked ``slow`` (full-size sampling, parameter recovery, SBC) are skipped
unless ``--run-slow`` is given.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False, help="run slow tests too")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip_slow = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


# --------------------------------------------------------------------------- #
# Real data slices and fitted fixtures (fixed posterior draws, no sampling)
# --------------------------------------------------------------------------- #

import csv  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402

from riskmodel.resources import bundled_data_file  # noqa: E402


def reference_mode():
    """PyTensor mode of the reference logps tests compare against: Python, unoptimised.

    FAST_COMPILE fuses the export model's 32+ logp terms into one Add, and an Elemwise
    of that many inputs has no Python implementation.
    """
    from pytensor.compile.mode import Mode

    return Mode(linker="py", optimizer=None)


def reference_dlogp(model):
    """The model's logp gradient (Jacobian included) in :func:`reference_mode`.

    PyMC's ``compile_dlogp`` first rewrites the logp, which flattens its terms into one
    Add; with more than 32 terms that Elemwise has no Python implementation. The
    gradient of the unrewritten logp is the same function.

    Returns
    -------
    callable
        ``point -> gradient``: a dict of value-variable values to the gradient, flat,
        in the order of ``model.value_vars``.
    """
    import pytensor
    import pytensor.tensor as pt

    values = model.value_vars
    grads = pt.grad(model.logp(jacobian=True), values)
    fn = pytensor.function(
        values, pt.concatenate([g.ravel() for g in grads]), mode=reference_mode()
    )
    return lambda point: fn(*[point[v.name] for v in values])


#: The slice of real data the default-run NUTS fits use: two destinations, 2022 on.
SLICE_DESTINATIONS = ("World", "United States")
SLICE_FROM = "2022-01"


@pytest.fixture(scope="session")
def magnet_slice_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real bundled magnet rows for World and the US since 2022, as a customs CSV."""
    src = bundled_data_file("magnet_exports.csv")
    out = tmp_path_factory.mktemp("slice") / "magnets_slice.csv"
    with src.open(newline="", encoding="utf-8-sig") as fin, out.open("w", newline="") as fout:
        reader = csv.DictReader(fin)
        writer = csv.DictWriter(fout, fieldnames=reader.fieldnames)
        writer.writeheader()
        for row in reader:
            if row["destination"] in SLICE_DESTINATIONS and row["month"] >= SLICE_FROM:
                writer.writerow(row)
    return out


def make_posterior(
    *,
    destinations=("World", "United States"),
    months=None,
    n_chains: int = 2,
    n_draws: int = 50,
    level=(8.5, 6.3),
    approval_last=(0.9, 0.7),
    regime_mean_last: float = 2.0,
    seed: int = 0,
    controlled: bool = True,
) -> xr.Dataset:
    """A posterior Dataset with the fitted model's variables at known values.

    Draws scatter a little around the given values so quantiles are non-degenerate.
    """
    if months is None:
        months = pd.period_range("2023-01", "2025-12", freq="M")
    rng = np.random.default_rng(seed)
    n_d, n_t = len(destinations), len(months)
    shape = (n_chains, n_draws)
    season = np.zeros((*shape, 12))
    log_demand = np.broadcast_to(
        np.asarray(level)[None, None, :, None], (*shape, n_d, n_t)
    ) + 0.01 * rng.standard_normal((*shape, n_d, n_t))
    a_last = np.asarray(approval_last)
    logit_last = np.log(a_last / (1 - a_last))
    approval_logit = np.broadcast_to(logit_last[None, None, :, None], (*shape, n_d, n_t)).copy()
    coords = {
        "chain": np.arange(n_chains),
        "draw": np.arange(n_draws),
        "destination": list(destinations),
        "month": [str(m) for m in months],
        "month_of_year": np.arange(1, 13),
        "regime": ["r0", "r1"],
        "other_destination": list(destinations[1:]),
    }
    data = {
        "log_demand": (("chain", "draw", "destination", "month"), log_demand),
        "approval_logit": (("chain", "draw", "destination", "month"), approval_logit),
        "approval": (
            ("chain", "draw", "destination", "month"),
            1 / (1 + np.exp(-approval_logit)),
        ),
        "season": (("chain", "draw", "month_of_year"), season),
        "demand_drift": (("chain", "draw"), np.full(shape, 0.005)),
        "demand_level_sigma": (("chain", "draw"), np.full(shape, 0.03)),
        "destination_share_sigma": (("chain", "draw"), np.full(shape, 0.05)),
        "destination_share_persistence": (("chain", "draw"), np.full(shape, 0.9)),
        # flat share walks (knots every 6 months, as in the bundled priors)
        "share_innovation": (
            ("chain", "draw", "other_destination", "knot"),
            np.zeros((*shape, n_d - 1, (n_t - 1) // 6 + 2)),
        ),
        "obs_sigma": (("chain", "draw"), np.full(shape, 0.1)),
    }
    if controlled:
        delta = logit_last - regime_mean_last
        delta = delta - delta[0]
        data.update(
            {
                "regime_mean": (
                    ("chain", "draw", "regime"),
                    np.broadcast_to([-1.0, regime_mean_last], (*shape, 2)).copy(),
                ),
                "regime_mean_mu": (("chain", "draw"), np.full(shape, 0.5)),
                "regime_mean_sigma": (("chain", "draw"), np.full(shape, 1.0)),
                "destination_offset": (
                    ("chain", "draw", "destination"),
                    np.broadcast_to(delta, (*shape, n_d)).copy(),
                ),
                "approval_persistence": (("chain", "draw"), np.full(shape, 0.5)),
                "approval_sigma": (("chain", "draw"), np.full(shape, 0.1)),
            }
        )
    return xr.Dataset(
        data, coords=coords, attrs={"product": "magnets", "data_hash": "x", "priors_hash": "y"}
    )


@pytest.fixture
def fitted_posterior() -> xr.Dataset:
    """A fixed posterior (World + US, controls in force, approval 0.9 / 0.7)."""
    return make_posterior()
