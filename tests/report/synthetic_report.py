"""Synthetic stage outputs for the report tests: a fit, forecasts and shortages, no sampling.

The numbers are made up but shaped like the real ones (approval rates that fall
when the April 2025 controls take effect, exports with seasonality, shortage
probabilities that rise over the horizon and differ by scenario); the history
is the bundled customs data and policy events. ``write_stage_outputs`` writes
the files the earlier stages write; ``make_inputs`` reads them back the way a
real run does. Also importable from a subprocess (the kill and lock tests).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

DESTINATIONS = ("World", "United States", "Japan", "South Korea", "Germany", "India")
#: Regions and industries (the names of ``priors/propagation.yaml``) of the small fixture.
REGIONS = {
    "US": ("automotive_ev", "defense", "wind"),
    "EU": ("automotive_ev", "wind", "industrial"),
    "Japan": ("automotive_ev", "consumer_electronics"),
    "Korea": ("automotive_other",),
    "India": ("e_bikes",),
}
#: Every region and industry of a real run (6 x 11), for the report benchmark.
FULL_REGIONS = {
    region: (
        "automotive_ev",
        "automotive_other",
        "wind",
        "consumer_electronics",
        "industrial",
        "hvac_appliances",
        "e_bikes",
        "robotics_drones",
        "medical",
        "defense",
        "other",
    )
    for region in ("US", "EU", "Japan", "Korea", "India", "RoW")
}
SCENARIO_LEVEL = {"baseline": 0.0, "suspension_lapse": 0.25, "us_embargo": 0.45}
DESCRIPTIONS = {
    "baseline": "Today's licensing regime persists.",
    "suspension_lapse": "The suspension of the October 2025 controls ends in November 2026.",
    "us_embargo": "No licences for the United States from the second forecast month.",
}
LEVEL = {
    "World": 5200.0,
    "United States": 520.0,
    "Japan": 380.0,
    "South Korea": 620.0,
    "Germany": 780.0,
    "India": 350.0,
}


def _approval(months: pd.PeriodIndex, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for dest in DESTINATIONS:
        for m in months:
            if m < pd.Period("2025-04", "M"):
                mid, width = 0.985, 0.01
            else:
                k = (m - pd.Period("2025-04", "M")).n
                low = 0.25 if dest == "United States" else 0.45
                mid = low + (0.85 - low) * (1 - np.exp(-k / 3.0))
                width = 0.12
            mid = float(np.clip(mid + rng.normal(0, 0.01), 0.02, 0.995))
            rows.append(
                {
                    "month": str(m),
                    "destination": dest,
                    "mean": mid,
                    "q05": max(mid - width, 0.0),
                    "q50": mid,
                    "q95": min(mid + width * 0.8, 1.0),
                }
            )
    return pd.DataFrame(rows)


def _paths(scenario: str, months: pd.PeriodIndex, n_paths: int, seed: int) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    shock = SCENARIO_LEVEL.get(scenario, 0.1)
    n_m = len(months)
    season = 1 + 0.12 * np.cos(2 * np.pi * (np.asarray(months.month) - 1) / 12)
    counter = np.empty((n_paths, len(DESTINATIONS), n_m))
    exports = np.empty_like(counter)
    for d, dest in enumerate(DESTINATIONS):
        base = LEVEL[dest] * season * np.exp(0.01 * np.arange(n_m))
        noise = rng.normal(0, 0.18, (n_paths, n_m)).cumsum(axis=1) * 0.25
        counter[:, d] = base * np.exp(noise)
        a = 0.8 - shock * (np.arange(n_m) >= 10) - (0.3 if dest == "United States" else 0.0) * shock
        a = np.clip(a + rng.normal(0, 0.05, (n_paths, n_m)), 0.02, 1.0)
        exports[:, d] = counter[:, d] * a
    coords = {
        "path": np.arange(n_paths),
        "destination": list(DESTINATIONS),
        "month": [str(m) for m in months],
    }
    return xr.Dataset(
        {
            "exports": (("path", "destination", "month"), exports),
            "counterfactual": (("path", "destination", "month"), counter),
        },
        coords=coords,
        attrs={"scenario": scenario, "product": "magnets", "seed": seed},
    )


def _forecast_csv(ds: xr.Dataset, scenario: str) -> pd.DataFrame:
    qs = {"q05": 0.05, "q10": 0.10, "q25": 0.25, "q50": 0.5, "q75": 0.75, "q90": 0.9, "q95": 0.95}
    ex = ds["exports"].values
    rows = []
    for d, dest in enumerate(ds["destination"].values):
        for t, m in enumerate(ds["month"].values):
            v = ex[:, d, t]
            row = {
                "month": str(m),
                "destination": str(dest),
                "scenario": scenario,
                "mean": float(v.mean()),
            }
            row.update({k: float(np.quantile(v, q)) for k, q in qs.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def _shortage(
    scenario: str,
    months: pd.PeriodIndex,
    shift: float,
    regions: dict[str, tuple[str, ...]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    shock = SCENARIO_LEVEL.get(scenario, 0.1)
    rows, stock = [], []
    for r, (region, industries) in enumerate((regions or REGIONS).items()):
        for i, industry in enumerate(industries):
            base = 0.05 + 0.07 * r + 0.05 * i + (0.25 if industry == "defense" else 0.0)
            ps = []
            for t, m in enumerate(months):
                p = base + 0.015 * t + shock * (t >= 10) + shift
                p = float(np.clip(p, 0.0, 0.99))
                ps.append(p)
                rows.append(
                    {
                        "region": region,
                        "industry": industry,
                        "month": str(m),
                        "p_short": p,
                        "p_short_10": p * 0.7,
                        "p_short_25": p * 0.45,
                        "p_short_50": p * 0.2,
                        "expected_shortfall_t": round(p * 40.0 * (1 + r), 3),
                        "expected_shortfall_share": p * 0.3,
                    }
                )
            ps = np.array(ps)
            p_any = float(np.clip(ps.max() * 0.9, 0, 1))
            first = int(np.argmax(ps > 0.3)) if (ps > 0.3).any() else None
            med = str(months[first]) if p_any >= 0.5 and first is not None else ""
            q10 = (
                str(months[max((first or 0) - 2, 0)]) if p_any >= 0.1 and first is not None else ""
            )
            q90 = str(months[min((first or 0) + 4, len(months) - 1)]) if p_any >= 0.9 else ""
            stock.append(
                {
                    "region": region,
                    "industry": industry,
                    "p_stockout_within_horizon": p_any,
                    "median_first_stockout_month": med,
                    "q10_first_stockout_month": q10,
                    "q90_first_stockout_month": q90,
                }
            )
    return pd.DataFrame(rows), pd.DataFrame(stock)


def write_stage_outputs(
    root: Path,
    *,
    scenarios: tuple[str, ...] = ("baseline", "suspension_lapse", "us_embargo"),
    passed: bool = True,
    data_hash: str = "d0a7a5e1c2b3",
    priors_hash: str = "9f1e2d3c4b5a",
    shift: float = 0.0,
    horizon: int = 18,
    n_paths: int = 200,
    seed: int = 0,
    regions: dict[str, tuple[str, ...]] | None = None,
) -> tuple[Path, dict[str, Path]]:
    """Write fit/, and <scenario>/ with forecast.csv, paths.nc, shortage.csv, stockout.csv."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    fit = root / "fit"
    fit.mkdir(parents=True, exist_ok=True)
    hist = pd.period_range("2023-01", "2025-12", freq="M")
    _approval(hist, rng).to_csv(fit / "approval.csv", index=False, float_format="%.6g")
    diag = {
        "max_rhat": 1.004 if passed else 1.087,
        "min_ess_bulk": 812.0 if passed else 61.0,
        "min_ess_tail": 655.0 if passed else 95.0,
        "divergences": 0 if passed else 14,
        "min_bfmi": 0.71 if passed else 0.21,
        "passed": passed,
        "failures": []
        if passed
        else [
            "max R-hat 1.087 > 1.01 (sigma_level)",
            "min bulk ESS 61 < 400 (z_approval)",
            "14 divergent transitions",
        ],
        "backend": "nutpie",
        "seconds": 41.2,
        "compile_seconds": 12.5,
        "data_hash": data_hash,
        "priors_hash": priors_hash,
    }
    (fit / "diagnostics.json").write_text(json.dumps(diag, indent=2))
    post = xr.Dataset(
        {"approval": (("chain", "draw"), np.zeros((1, 2)))},
        attrs={
            "riskmodel_version": "0.1.0",
            "model_type": "joint_export_v1",
            "product": "magnets",
            "data_hash": data_hash,
            "priors_hash": priors_hash,
            "seed": seed,
            "backend": "nutpie",
            "regimes": "2025-04 control_effective|2025-06 licences_approved|2025-11 suspension",
            "regime_starts": "2025-04|2025-06|2025-11",
        },
    )
    post.to_netcdf(fit / "posterior.nc", group="posterior", engine="h5netcdf")
    months = pd.period_range("2026-01", periods=horizon, freq="M")
    dirs = {}
    for k, name in enumerate(scenarios):
        d = root / name
        d.mkdir(parents=True, exist_ok=True)
        ds = _paths(name, months, n_paths, seed + k)
        ds.to_netcdf(d / "paths.nc", engine="h5netcdf")
        _forecast_csv(ds, name).to_csv(d / "forecast.csv", index=False, float_format="%.6g")
        shortage, stock = _shortage(name, months, shift, regions)
        shortage.to_csv(d / "shortage.csv", index=False, float_format="%.6g")
        stock.to_csv(d / "stockout.csv", index=False)
        dirs[name] = d
    return fit, dirs


def make_inputs(root: Path, **kwargs):
    """Write synthetic stage outputs under ``root`` and read them as ReportInputs."""
    from riskmodel.report import ReportInputs

    fit, dirs = write_stage_outputs(root, **kwargs)
    return ReportInputs.from_dirs(
        fit,
        dirs,
        descriptions=DESCRIPTIONS,
        settings={
            "n_paths": kwargs.get("n_paths", 200),
            "horizon": kwargs.get("horizon", 18),
            "seed": kwargs.get("seed", 0),
        },
        data_files=["data/magnet_exports.csv", "data/policy_events.csv"],
    )
