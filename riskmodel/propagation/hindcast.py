"""Hindcast: the propagation driven by China's realised exports instead of forecast paths.

:func:`realised_paths` turns the bundled customs series into the propagation's input
(``exports`` on ``(path, destination, month)``): a month a destination reports is
taken as reported; a month it does not report is filled with World's figure times the
destination's share of World, interpolated linearly in time between the months it
does report (flat beyond the first and last). Each filled month is uncertain: every
path multiplies it by its own log-normal factor (``fill_sigma``), so the hindcast's
spread includes the gaps in the record. :func:`hindcast` propagates those paths.

What the hindcast is compared with (dated line stoppages and supplier warnings of
2025) is documented in ``docs/hindcast.md``, not bundled as data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from riskmodel.customs import WORLD, read_customs, reconcile
from riskmodel.customs.read import bundled_customs_paths
from riskmodel.propagation.engine import propagate
from riskmodel.propagation.params import PropagationParams

__all__ = ["HINDCAST_DESTINATIONS", "hindcast", "realised_paths"]

#: Destinations whose exports drive the hindcast (each region's own series; RoW is
#: World minus these).
HINDCAST_DESTINATIONS = (
    WORLD,
    "European Union",
    "United States",
    "Japan",
    "South Korea",
    "India",
)


def _monthly(frame: pd.DataFrame, product: str) -> pd.DataFrame:
    """Single-month observations as a (month x destination) table of tonnes."""
    obs = reconcile(frame[frame["product"] == product]).observations
    single = obs[obs["months"].map(len) == 1]
    table = single.pivot_table(
        index="month", columns="destination", values="quantity_t", aggfunc="first"
    )
    table.index = pd.PeriodIndex(table.index, freq="M")
    return table.sort_index()


def realised_paths(
    start: str = "2025-01",
    end: str = "2025-12",
    *,
    destinations: Sequence[str] = HINDCAST_DESTINATIONS,
    n_paths: int = 200,
    fill_sigma: float = 0.25,
    seed: int = 0,
    data: str | Path | Sequence[str | Path] | None = None,
    product: str = "magnets",
) -> xr.Dataset:
    """Build propagation input paths from China's realised monthly exports.

    Parameters
    ----------
    start, end : str
        First and last month (``YYYY-MM``) of the hindcast.
    destinations : sequence of str
        Destinations to include; ``World`` must be one and must report every month.
    n_paths : int
        Paths; they differ only in the months a destination does not report.
    fill_sigma : float
        Standard deviation of the log factor applied to each filled month (a
        judgement: the share of World moves by ~25% month to month in 2025).
    seed : int
        Seed of those factors.
    data : path or sequence of paths, optional
        Customs CSV files; default the bundled series.
    product : str
        Product whose exports are read.

    Returns
    -------
    xarray.Dataset
        ``exports`` and ``counterfactual`` (equal; the propagation does not use the
        counterfactual) on ``(path, destination, month)`` in tonnes, attrs
        ``scenario="hindcast"``, ``product`` and ``filled_months`` (per destination,
        the months filled from World).

    Raises
    ------
    ValueError
        If World misses a month of the window, or a destination reports no month
        at all.
    """
    files = bundled_customs_paths() if data is None else data
    files = [files] if isinstance(files, (str, Path)) else list(files)
    table = _monthly(read_customs(files), product)
    months = pd.period_range(start, end, freq="M")
    if WORLD not in destinations:
        raise ValueError(f"destinations must include {WORLD!r}")
    world = table[WORLD].reindex(months) if WORLD in table else pd.Series(np.nan, index=months)
    if world.isna().any():
        missing = ", ".join(str(m) for m in world.index[world.isna()])
        raise ValueError(f"{WORLD} exports of {product} missing for {missing}")
    rng = np.random.default_rng(seed)
    values = np.empty((n_paths, len(destinations), len(months)))
    filled: list[str] = []
    # shares of World are interpolated over every month with both figures, any year
    all_world = table[WORLD]
    ordinal = np.array([p.ordinal for p in months], dtype=float)
    for k, dest in enumerate(destinations):
        if dest == WORLD:
            values[:, k] = world.to_numpy()[None, :]
            continue
        if dest not in table:
            raise ValueError(f"no monthly exports of {product} to {dest!r} in the data")
        both = table[dest].notna() & all_world.notna()
        if not both.any():
            raise ValueError(f"no month with exports to both {dest!r} and {WORLD}")
        share = table[dest][both] / all_world[both]
        at = np.array([p.ordinal for p in share.index], dtype=float)
        interp = np.interp(ordinal, at, share.to_numpy())
        observed = table[dest].reindex(months)
        gap = observed.isna().to_numpy()
        base = np.where(gap, world.to_numpy() * interp, observed.to_numpy())
        noise = np.exp(rng.normal(0.0, fill_sigma, size=(n_paths, len(months))))
        values[:, k] = np.where(gap[None, :], base[None, :] * noise, base[None, :])
        filled.append(f"{dest}=" + ",".join(str(m) for m in months[gap]))
    dims = ("path", "destination", "month")
    labels = [str(m) for m in months]
    return xr.Dataset(
        {"exports": (dims, values), "counterfactual": (dims, values.copy())},
        coords={"path": np.arange(n_paths), "destination": list(destinations), "month": labels},
        attrs={
            "scenario": "hindcast",
            "product": product,
            "seed": seed,
            "filled_months": "; ".join(filled),
            "fill_sigma": fill_sigma,
        },
    )


def hindcast(
    start: str = "2025-01",
    end: str = "2025-12",
    *,
    params: PropagationParams | str | Path | None = None,
    n_paths: int = 4000,
    seed: int = 0,
    **paths_kw: Any,
) -> xr.Dataset:
    """Propagate China's realised exports from ``start`` to ``end``.

    Parameters
    ----------
    start, end : str
        First and last month of the hindcast (``YYYY-MM``).
    params : PropagationParams, str or pathlib.Path, optional
        Propagation parameters (default: the bundled ``priors/propagation.yaml``).
    n_paths : int
        Monte Carlo paths (each picks one of the realised paths at random).
    seed : int
        Seed of the propagation (the gap filling has its own, in ``paths_kw``).
    **paths_kw
        Passed to :func:`realised_paths`.

    Returns
    -------
    xarray.Dataset
        The output of :func:`~riskmodel.propagation.propagate`, with the attrs of
        the realised paths (``filled_months``, ``fill_sigma``) added.
    """
    paths = realised_paths(start, end, **paths_kw)
    out = propagate(paths, params, n_paths=n_paths, seed=seed)
    out.attrs["filled_months"] = paths.attrs["filled_months"]
    out.attrs["fill_sigma"] = paths.attrs["fill_sigma"]
    return out
