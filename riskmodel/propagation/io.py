"""Read forecast paths and write shortage outputs (atomically).

Input contract (``paths.nc``, written by the forecast stage): an xarray Dataset with
``exports`` and ``counterfactual`` on ``(path, destination, month)`` in tonnes per
month (>= 0, finite), ``destination`` customs names including ``World``, ``month``
consecutive ``YYYY-MM`` strings, and attrs ``scenario``, ``product``, ``seed``,
``riskmodel_version``.

Outputs: ``shortage.csv``, ``stockout.csv`` and ``shortage.nc``
(:func:`write_shortage_outputs`); each is written to a temporary file in the output
folder and moved into place with :func:`os.replace`, so a failed or killed run never
leaves a half-written file behind.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from riskmodel.atomic import atomic_write
from riskmodel.exceptions import RiskModelError
from riskmodel.months import MONTH_RE

__all__ = [
    "PATHS_FILE",
    "ForecastInputError",
    "read_paths",
    "shortage_table",
    "stockout_table",
    "validate_paths",
    "write_shortage_outputs",
]

PATHS_FILE = "paths.nc"
_DIMS = ("path", "destination", "month")


class ForecastInputError(RiskModelError, ValueError):
    """The forecast paths are missing or break the input contract (one-line message)."""


def read_paths(path: str | Path) -> xr.Dataset:
    """Read and validate forecast paths.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``paths.nc`` file, or the forecast folder holding one.

    Returns
    -------
    xarray.Dataset
        Loaded into memory and validated (see :func:`validate_paths`).

    Raises
    ------
    ForecastInputError
        If the file is missing, unreadable or breaks the contract.
    """
    path = Path(path)
    file = path / PATHS_FILE if path.is_dir() else path
    if not file.is_file():
        if path.is_dir():
            where = f"{path}: no {PATHS_FILE} in this folder"
        else:
            where = f"{path}: no such forecast folder or file"
        raise ForecastInputError(f"{where} (run `riskmodel forecast` first)")
    try:
        with xr.open_dataset(file) as ds:
            loaded = ds.load()
    except Exception as exc:  # any reader failure is bad input here
        raise ForecastInputError(f"{file}: cannot read forecast paths: {exc}") from None
    return validate_paths(loaded, source=str(file))


def validate_paths(ds: Any, *, source: str = "paths") -> xr.Dataset:
    """Check forecast paths against the input contract and normalise them.

    Parameters
    ----------
    ds : xarray.Dataset
        Forecast paths.
    source : str
        Name used in messages.

    Returns
    -------
    xarray.Dataset
        ``exports`` and ``counterfactual`` as float64 on ``(path, destination,
        month)``, coordinates as str, attrs kept.

    Raises
    ------
    ForecastInputError
        Listing every problem found, on one line.
    """
    if not isinstance(ds, xr.Dataset):
        raise ForecastInputError(f"{source}: expected an xarray.Dataset, got {type(ds).__name__}")
    problems: list[str] = []
    out = {}
    # approval and exports_physical are optional: they carry China's physical
    # shipments without the customs noise (engine.physical_exports)
    for name in ("exports", "counterfactual", "approval", "exports_physical"):
        if name not in ds.data_vars:
            if name in ("exports", "counterfactual"):
                problems.append(f"variable '{name}' missing")
            continue
        var = ds[name]
        if set(var.dims) != set(_DIMS):
            problems.append(f"'{name}' has dims {tuple(var.dims)}, expected {_DIMS}")
            continue
        values = np.asarray(var.transpose(*_DIMS).values, dtype=np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            problems.append(f"'{name}' has {int(bad.sum())} non-finite values (NaN or inf)")
        elif (values < 0).any():
            problems.append(f"'{name}' has {int((values < 0).sum())} negative values")
        out[name] = values
    if problems:
        raise ForecastInputError(f"{source}: " + "; ".join(problems))
    dests = [str(d) for d in ds["destination"].values]
    months = [str(m) for m in ds["month"].values]
    if "World" not in dests:
        problems.append("destination 'World' missing (the contract requires it)")
    if len(set(dests)) != len(dests):
        problems.append("duplicate destinations")
    bad_months = [m for m in months if not MONTH_RE.match(m)]
    if bad_months:
        problems.append(f"months must be YYYY-MM, got {bad_months[:3]}")
    elif months:
        idx = np.array([int(m[:4]) * 12 + int(m[5:]) - 1 for m in months])
        if np.any(np.diff(idx) != 1):
            problems.append("months must be consecutive and increasing")
    if not months:
        problems.append("no months")
    if ds.sizes.get("path", 0) == 0:
        problems.append("no paths")
    if problems:
        raise ForecastInputError(f"{source}: " + "; ".join(problems))
    return xr.Dataset(
        {name: (_DIMS, values) for name, values in out.items()},
        coords={
            "path": np.asarray(ds["path"].values),
            "destination": dests,
            "month": months,
        },
        attrs=dict(ds.attrs),
    )


# --------------------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------------------


def shortage_table(ds: xr.Dataset) -> pd.DataFrame:
    """One row per region, industry and month (the ``shortage.csv`` columns).

    Parameters
    ----------
    ds : xarray.Dataset
        Output of :func:`riskmodel.propagation.propagate`.

    Returns
    -------
    pandas.DataFrame
        Columns ``region``, ``industry``, ``month``, ``p_short``, ``p_short_10``,
        ``p_short_25``, ``p_short_50``, ``expected_shortfall_t``,
        ``expected_shortfall_share``.
    """
    p = ds["p_short"]
    frame = pd.DataFrame(
        {
            "p_short": p.sel(threshold=0.0).values.ravel(),
            "p_short_10": p.sel(threshold=0.1).values.ravel(),
            "p_short_25": p.sel(threshold=0.25).values.ravel(),
            "p_short_50": p.sel(threshold=0.5).values.ravel(),
            "expected_shortfall_t": ds["expected_shortfall_t"].values.ravel(),
            "expected_shortfall_share": ds["expected_shortfall_share"].values.ravel(),
        }
    )
    index = pd.MultiIndex.from_product(
        [ds["region"].values, ds["industry"].values, ds["month"].values],
        names=["region", "industry", "month"],
    )
    frame.index = index
    return frame.reset_index()


def stockout_table(ds: xr.Dataset) -> pd.DataFrame:
    """One row per region and industry (the ``stockout.csv`` columns).

    Parameters
    ----------
    ds : xarray.Dataset
        Output of :func:`riskmodel.propagation.propagate`.

    Returns
    -------
    pandas.DataFrame
        Columns ``region``, ``industry``, ``p_stockout_within_horizon``,
        ``median_first_stockout_month``, ``q10_first_stockout_month``,
        ``q90_first_stockout_month`` (months as ``YYYY-MM``, empty when the quantile
        is past the horizon).
    """
    fs = ds["first_stockout_month"]
    index = pd.MultiIndex.from_product(
        [ds["region"].values, ds["industry"].values], names=["region", "industry"]
    )
    frame = pd.DataFrame(
        {
            "p_stockout_within_horizon": ds["p_stockout_within_horizon"].values.ravel(),
            "median_first_stockout_month": fs.sel(stockout_quantile=0.5).values.ravel(),
            "q10_first_stockout_month": fs.sel(stockout_quantile=0.1).values.ravel(),
            "q90_first_stockout_month": fs.sel(stockout_quantile=0.9).values.ravel(),
        },
        index=index,
    )
    return frame.reset_index()


def _netcdf_safe(ds: xr.Dataset) -> xr.Dataset:
    """Attrs netCDF can store: bools as ints, anything else not str/number as str."""
    out = ds.copy()

    def clean(attrs: dict[str, Any]) -> dict[str, Any]:
        safe: dict[str, Any] = {}
        for k, v in attrs.items():
            if isinstance(v, (bool, np.bool_)):
                safe[k] = int(v)
            elif isinstance(v, (str, int, float, np.integer, np.floating)):
                safe[k] = v
            else:
                safe[k] = str(v)
        return safe

    out.attrs = clean(out.attrs)
    for name in out.variables:
        out[name].attrs = clean(out[name].attrs)
    return out


def write_shortage_outputs(ds: xr.Dataset, out_dir: str | Path) -> dict[str, Path]:
    """Write ``shortage.csv``, ``stockout.csv`` and ``shortage.nc`` atomically.

    Parameters
    ----------
    ds : xarray.Dataset
        Output of :func:`riskmodel.propagation.propagate`.
    out_dir : str or pathlib.Path
        Folder (created if needed).

    Returns
    -------
    dict of str to pathlib.Path
        ``{"shortage_csv": ..., "stockout_csv": ..., "netcdf": ...}``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shortage = shortage_table(ds)
    stockout = stockout_table(ds)
    paths = {
        "shortage_csv": atomic_write(
            out / "shortage.csv",
            lambda p: shortage.to_csv(p, index=False, float_format="%.6g"),
        ),
        "stockout_csv": atomic_write(
            out / "stockout.csv",
            lambda p: stockout.to_csv(p, index=False, float_format="%.6g"),
        ),
        "netcdf": atomic_write(
            out / "shortage.nc",
            lambda p: _netcdf_safe(ds).to_netcdf(p, engine="h5netcdf"),
        ),
    }
    return paths
