"""Builders of synthetic forecast paths and small parameter sets for the propagation tests.

``paths.nc`` contract (forecast stage -> propagation): ``exports`` and
``counterfactual`` on (path, destination, month), tonnes per month, ``World`` among the
destinations, months ``YYYY-MM``, attrs scenario/product/seed/riskmodel_version.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import xarray as xr
import yaml

from riskmodel.propagation import default_params_path, parse_params
from riskmodel.propagation.draws import WEEKS_PER_MONTH

#: 2024-ish monthly tonnes by destination (World ~5,000 t/month, US ~420 t/month).
BASE_TONNES = {
    "World": 5000.0,
    "United States": 450.0,
    "Germany": 1200.0,
    "European Union": 2000.0,
    "Japan": 300.0,
    "South Korea": 700.0,
    "India": 150.0,
    "Vietnam": 400.0,
}


def month_range(start: str, n: int) -> list[str]:
    y, m = int(start[:4]), int(start[5:7]) - 1
    return [f"{y + (m + k) // 12}-{(m + k) % 12 + 1:02d}" for k in range(n)]


def paths_from_arrays(exports, counterfactual, destinations, months, *, scenario="baseline"):
    exports = np.asarray(exports, dtype=float)
    counterfactual = np.asarray(counterfactual, dtype=float)
    dims = ("path", "destination", "month")
    return xr.Dataset(
        {"exports": (dims, exports), "counterfactual": (dims, counterfactual)},
        coords={
            "path": np.arange(exports.shape[0]),
            "destination": list(destinations),
            "month": list(months),
        },
        attrs={"scenario": scenario, "product": "magnets", "seed": 0, "riskmodel_version": "test"},
    )


def synthetic_paths(
    n_paths: int = 20,
    n_months: int = 12,
    *,
    start: str = "2026-01",
    destinations=None,
    approval=(4.0, 2.0),
    seed: int = 0,
    scenario: str = "baseline",
) -> xr.Dataset:
    """Counterfactual = base x slow growth x noise; exports = counterfactual x a, a ~ Beta.

    The approval draw is shared by all destinations of a path and month, so World minus
    the named destinations stays >= 0.
    """
    rng = np.random.default_rng(seed)
    dests = list(destinations or BASE_TONNES)
    base = np.array([BASE_TONNES[d] for d in dests])
    growth = np.exp(0.005 * np.arange(n_months))
    cf = (
        base[None, :, None]
        * growth[None, None, :]
        * rng.lognormal(0.0, 0.05, (n_paths, 1, n_months))
    )
    a = rng.beta(*approval, size=(n_paths, 1, n_months))
    return paths_from_arrays(cf * a, cf, dests, month_range(start, n_months), scenario=scenario)


def bundled_raw() -> dict:
    return yaml.safe_load(default_params_path().read_text(encoding="utf-8"))


def fixed(value, reason="test"):
    return {"dist": "Fixed", "value": float(value), "reason": reason, "judgement": True}


def tiny_raw(
    *,
    china_share=0.5,
    shares=(0.75, 0.25),
    cover_months=(0.5, 1.0),
    content=(2.0, 500.0),
    industries=("auto", "wind"),
    restock=1.0,
    base_demand=(2400.0, 4800.0),
    base_year=2025,
    opening=1.0,
    deferred=0.0,
) -> dict:
    """US + RoW, a few industries, every parameter fixed (deterministic).

    ``base_demand``: tonnes a year bought by the US and RoW (200 and 400 t/month).
    """
    inds = list(industries)
    return {
        "model": "propagation",
        "regions": {
            "US": {"destinations": ["United States"]},
            "RoW": {"residual": True},
        },
        "industries": {name: {"unit": f"{name}-units"} for name in inds},
        "base_demand_tpy": {
            "base_year": base_year,
            "US": fixed(base_demand[0]),
            "RoW": fixed(base_demand[1]),
        },
        "china_share": {"US": fixed(china_share), "RoW": fixed(china_share)},
        "industry_shares": {
            "dist": "Fixed",
            "mean": dict(zip(inds, shares, strict=True)),
            "reason": "test",
            "judgement": True,
        },
        "demand_growth": {name: fixed(0.0) for name in inds},
        "substitution_per_year": fixed(0.0),
        "inventory_cover_weeks": {
            "correlation": fixed(0.0),
            **{
                name: fixed(c * WEEKS_PER_MONTH) for name, c in zip(inds, cover_months, strict=True)
            },
        },
        "restock_multiple": fixed(restock),
        "opening_stock_ratio": fixed(opening),
        "deferred_share": fixed(deferred),
        "magnet_content_kg": {name: fixed(c) for name, c in zip(inds, content, strict=True)},
        "new_capacity": [],
    }


@pytest.fixture(scope="session")
def make_paths():
    return synthetic_paths


@pytest.fixture(scope="session")
def bundled_params():
    from riskmodel.propagation import load_params

    return load_params()


@pytest.fixture(scope="session")
def tiny_params():
    def build(**kw):
        return parse_params(tiny_raw(**kw), source="tiny")

    return build


@pytest.fixture
def raw_copy():
    return copy.deepcopy(bundled_raw())


@pytest.fixture(scope="session")
def arrays_to_paths():
    return paths_from_arrays


@pytest.fixture(scope="session")
def tiny_raw_builder():
    return tiny_raw


@pytest.fixture(scope="session")
def months_from():
    return month_range
