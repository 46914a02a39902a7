"""What drives each number: the headline shortage risks split into their input groups.

A headline risk is one cell of the propagation, P(short) for a region, industry and
month: the probability that the indicator ``Y = 1[shortfall share > x]`` is 1. Its
uncertainty is ``Var(Y) = p (1 - p)``, and :func:`shortage_drivers` splits it into the
groups of inputs of :data:`GROUPS` (China's exports, base demand, growth, inventory
cover, ...) with variance-based (Sobol) indices estimated by pick-freeze:

1. Draw two independent samples ``A`` and ``B`` of every random input of ``n_paths``
   Monte Carlo paths each (the forecast path is one input: each Monte Carlo path
   picks a forecast path at random, so China's exports are drawn like the rest).
2. For every group ``g``, ``A_B^g`` is ``A`` with the draws of group ``g`` taken from
   ``B``. The propagation runs on ``A``, ``B`` and every ``A_B^g``:
   ``(n_groups + 2) x n_paths`` paths.
3. First-order share (Saltelli et al. 2010, eq. (b) of their table 2):
   ``S_g = mean(Y_B (Y_{A_B^g} - Y_A)) / V``, the share of ``Var(Y)`` that knowing
   group ``g`` alone would remove. Total share (Jansen 1999):
   ``ST_g = mean((Y_A - Y_{A_B^g})^2) / (2 V)``, the share that involves ``g`` at all,
   interactions included. ``V`` is the variance of ``Y`` over ``A`` and ``B`` pooled.
   ``1 - sum_g S_g`` is the part only interactions explain; for a 0/1 outcome
   behind a threshold it is seldom small. Standard errors are those of the means
   (central limit theorem), divided by ``V``.

A group whose draws cannot change the cell gets ``S = ST = 0`` exactly (``Y_{A_B^g}``
equals ``Y_A`` path by path); when one group is the only random input, it gets
``S = ST = 1`` up to Monte Carlo error.

:func:`judgement_sweep` answers another question: how far the headline moves when
one judgement parameter (``judgement: true`` in ``priors/propagation.yaml``) is held
at its 5th and then its 95th percentile, every other input drawn as usual, on common
random numbers (the same draws ``A``), so the difference is the parameter's, not
sampling noise.

Both are reproducible: the same paths, parameters, scenario, ``n_paths`` and ``seed``
give the same numbers (``riskmodel drivers``). The allocation rule is the scenario's,
fixed, not an uncertain input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from riskmodel.config.scenario import parse_allocation
from riskmodel.propagation import kernels
from riskmodel.propagation.buyers import simulate_by_buyer
from riskmodel.propagation.draws import (
    EMBEDDED_CEILING,
    GROWTH_FLOOR,
    ParameterDraws,
    draw_block,
)
from riskmodel.propagation.engine import (
    _build_inputs,
    _regional_exports,
    _resolve_params,
    _Shared,
    physical_exports,
)
from riskmodel.propagation.io import validate_paths
from riskmodel.propagation.params import PropagationParams

__all__ = [
    "DEFAULT_DRIVER_PATHS",
    "DEFAULT_TOP",
    "DRIVER_COLUMNS",
    "GROUPS",
    "MIN_EVENTS",
    "SWEEP_COLUMNS",
    "headline_cells",
    "judgement_sweep",
    "shortage_drivers",
    "sobol_indices",
]

#: Monte Carlo paths per sample (A and B) of the decomposition.
DEFAULT_DRIVER_PATHS = 4000
#: Headline risks decomposed: the region x industry pairs with the largest P(short).
DEFAULT_TOP = 5
#: A headline month needs this many paths short and as many not (see :func:`headline_cells`).
MIN_EVENTS = 100
#: Paths simulated at once (bounds memory: ~40 KB a path with 6 regions, 11 industries, 18 months).
_CHUNK = 2048

#: Input group -> (label, fields of :class:`~riskmodel.propagation.draws.ParameterDraws`).
#: Every field that can change a shortfall is in exactly one group; magnet content per
#: unit only converts tonnes into units of output and is in none.
GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "exports": ("China's exports (approval path)", ("path_index",)),
    "base_demand": ("Base-year demand", ("base_demand",)),
    "growth": ("Demand growth by sector", ("growth",)),
    "industry_mix": ("Industry shares of demand", ("shares",)),
    "embedded": ("Magnets in imported assemblies", ("embedded",)),
    "china_share": ("China's share of supply", ("china_share",)),
    "rerouting": ("Re-routing of excess shipments", ("reroute",)),
    "new_capacity": ("New non-China plants", ("capacity", "delay", "ramp", "utilisation")),
    "substitution": (
        "Substitution and demand reduction",
        ("substitution", "substitution_lag"),
    ),
    "cover": ("Inventory cover", ("cover_weeks",)),
    "opening": ("Opening stock", ("opening",)),
    "restock": ("Restocking ceiling", ("restock",)),
    "hoarding": ("Hoarding ahead of policy dates", ("hoard", "hoard_lead")),
    "deferred": ("Deferred unmet demand", ("deferred",)),
    "licences": (
        "Licences granted firm by firm",
        ("licence_spread", "licence_persistence", "licence_shocks"),
    ),
    "buyer_stocks": ("Stocks across buyers", ("stock_spread", "stock_shocks")),
}

#: Columns of ``drivers.csv``.
DRIVER_COLUMNS = (
    "region",
    "industry",
    "month",
    "threshold",
    "p_short",
    "group",
    "label",
    "first_order",
    "first_order_se",
    "total",
    "total_se",
    "n_paths",
    "seed",
)
#: Columns of ``judgement.csv``.
SWEEP_COLUMNS = (
    "block",
    "key",
    "p05",
    "p95",
    "region",
    "industry",
    "month",
    "p_short",
    "p_short_at_p05",
    "p_short_at_p95",
    "n_paths",
    "seed",
)


# --------------------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------------------


def sobol_indices(
    y_a: np.ndarray, y_b: np.ndarray, y_ab: Mapping[str, np.ndarray]
) -> dict[str, dict[str, np.ndarray]]:
    """First-order and total Sobol shares from pick-freeze samples.

    Parameters
    ----------
    y_a, y_b : numpy.ndarray
        ``(K, N)``: the outcome of ``K`` cells on samples ``A`` and ``B``.
    y_ab : mapping of str to numpy.ndarray
        Group -> ``(K, N)`` outcome on ``A`` with that group's draws from ``B``.

    Returns
    -------
    dict
        Group -> ``{"first", "first_se", "total", "total_se"}``, each ``(K,)``; NaN
        where the outcome does not vary (``V = 0``).
    """
    y_a = np.asarray(y_a, dtype=np.float64)
    y_b = np.asarray(y_b, dtype=np.float64)
    n = y_a.shape[-1]
    var = np.concatenate([y_a, y_b], axis=-1).var(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(var > 0, 1.0 / var, np.nan)
    out = {}
    for name, y in y_ab.items():
        y = np.asarray(y, dtype=np.float64)
        first = y_b * (y - y_a)
        total = 0.5 * (y_a - y) ** 2
        out[name] = {
            "first": first.mean(axis=-1) * scale,
            "first_se": first.std(axis=-1) / np.sqrt(n) * scale,
            "total": total.mean(axis=-1) * scale,
            "total_se": total.std(axis=-1) / np.sqrt(n) * scale,
        }
    return out


# --------------------------------------------------------------------------------------
# The propagation as a function of the draws
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Model:
    """The propagation of one set of paths, evaluated on given draws."""

    shared: _Shared
    params: PropagationParams
    months: tuple[str, ...]
    n_forecast: int

    @classmethod
    def build(
        cls,
        paths: xr.Dataset,
        params: PropagationParams | str | Path | None,
        scenario: Any,
        kernel: str,
    ) -> _Model:
        ds = validate_paths(physical_exports(paths)[0])
        params, _, exports, _ = _regional_exports(_resolve_params(params), ds)
        months = tuple(str(m) for m in ds["month"].values)
        shared = _Shared.build(
            params,
            exports,
            months,
            parse_allocation(scenario, params.industries),
            resample=True,
            backend=kernels.resolve_backend(kernel),
            paths=ds,
        )
        return cls(shared, params, months, int(exports.shape[0]))

    def draw(self, seed: np.random.SeedSequence, n: int) -> ParameterDraws:
        rng = np.random.Generator(np.random.PCG64(seed))
        return draw_block(
            self.params,
            rng,
            n,
            n_forecast=self.n_forecast,
            resample=True,
            n_months=self.shared.exports.shape[1],
        )

    def short(self, draws: ParameterDraws, threshold: float) -> np.ndarray:
        """``(R, T, I, P)`` bool: the shortfall share of whole use is above ``threshold``."""
        x = max(float(threshold), kernels.SHARE_TOL)
        parts = []
        for a in range(0, draws.n, _CHUNK):
            part = _slice(draws, a, min(a + _CHUNK, draws.n))
            arrays = _build_inputs(self.shared, part)
            use = arrays.pop("use")
            short = simulate_by_buyer(arrays, self.shared.allocation, backend=self.shared.backend)
            with np.errstate(divide="ignore", invalid="ignore"):
                share = np.where(use > 0, short / use, 0.0)
            parts.append(share > x)
        return np.concatenate(parts, axis=-1)


def _slice(draws: ParameterDraws, a: int, b: int) -> ParameterDraws:
    return ParameterDraws(**{f.name: getattr(draws, f.name)[..., a:b] for f in fields(draws)})


def _swap(a: ParameterDraws, b: ParameterDraws, names: Sequence[str]) -> ParameterDraws:
    """Return ``a`` with the fields ``names`` taken from ``b``."""
    return replace(a, **{name: getattr(b, name) for name in names})


# --------------------------------------------------------------------------------------
# Headline cells
# --------------------------------------------------------------------------------------


def headline_cells(
    p_short: np.ndarray,
    regions: Sequence[str],
    industries: Sequence[str],
    months: Sequence[str],
    top: int = DEFAULT_TOP,
    *,
    n_paths: int | None = None,
    min_events: int = MIN_EVENTS,
) -> list[tuple[str, str, str]]:
    """Pick the headline risks: the ``top`` region x industry pairs by largest P(short).

    Parameters
    ----------
    p_short : numpy.ndarray
        ``(R, T, I)`` P(short) by region, month and industry.
    regions, industries, months : sequence of str
        Labels of the axes.
    top : int
        How many pairs.
    n_paths : int, optional
        Paths behind ``p_short``. When given, a month counts only if at least
        ``min_events`` paths are short and as many are not: near 0 or 1 the
        variance ``p (1 - p)`` is too small to split.
    min_events : int
        See ``n_paths``.

    Returns
    -------
    list of (region, industry, month)
        Each pair at its month of largest P(short) among the months that count
        (the earliest on ties), largest first. Months where P(short) is 0 or 1
        never count (nothing to decompose).
    """
    ok = (p_short > 0) & (p_short < 1)
    if n_paths is not None:
        ok &= (p_short * n_paths >= min_events) & ((1 - p_short) * n_paths >= min_events)
    p = np.where(ok, p_short, -1.0)
    rows = []
    for r, region in enumerate(regions):
        for i, industry in enumerate(industries):
            t = int(np.argmax(p[r, :, i]))
            if p[r, t, i] > 0:
                rows.append((-float(p[r, t, i]), r, i, region, industry, months[t]))
    rows.sort()
    return [(reg, ind, month) for *_, reg, ind, month in rows[:top]]


def _headline(model: _Model, flags: np.ndarray, top: int) -> list[tuple[str, str, str]]:
    """Headline cells of a propagation's flags (sample ``A``)."""
    params = model.params
    return headline_cells(
        flags.mean(axis=-1),
        params.region_names,
        params.industries,
        model.months,
        top,
        n_paths=flags.shape[-1],
    )


def _cell_index(model: _Model, cells: Sequence[tuple[str, str, str]]) -> np.ndarray:
    regions, industries = model.params.region_names, model.params.industries
    idx = []
    for cell in cells:
        for name, value, values in zip(
            ("region", "industry", "month"), cell, (regions, industries, model.months), strict=True
        ):
            if value not in values:
                raise ValueError(f"{name} {value!r} is not in the propagation: {', '.join(values)}")
        region, industry, month = cell
        idx.append((regions.index(region), model.months.index(month), industries.index(industry)))
    return np.array(idx, dtype=np.int64).reshape(-1, 3)


def _take(flags: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return flags[idx[:, 0], idx[:, 1], idx[:, 2]].astype(np.float64)  # (K, P)


def _setup(
    paths: xr.Dataset,
    params: PropagationParams | str | Path | None,
    scenario: Any,
    n_paths: int,
    seed: int,
    kernel: str,
) -> tuple[_Model, ParameterDraws, ParameterDraws]:
    if n_paths < 2:
        raise ValueError(f"n_paths must be >= 2, got {n_paths}")
    model = _Model.build(paths, params, scenario, kernel)
    seed_a, seed_b = np.random.SeedSequence(int(seed)).spawn(2)
    return model, model.draw(seed_a, n_paths), model.draw(seed_b, n_paths)


# --------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------


def shortage_drivers(
    paths: xr.Dataset,
    params: PropagationParams | str | Path | None = None,
    *,
    scenario: Any = None,
    n_paths: int = DEFAULT_DRIVER_PATHS,
    seed: int = 0,
    top: int = DEFAULT_TOP,
    cells: Sequence[tuple[str, str, str]] | None = None,
    threshold: float = 0.0,
    kernel: str = "auto",
) -> pd.DataFrame:
    """Split the uncertainty of the headline shortage risks into input groups.

    Parameters
    ----------
    paths : xarray.Dataset
        Forecast paths (the input of :func:`~riskmodel.propagation.propagate`).
    params : PropagationParams, str or pathlib.Path, optional
        Propagation parameters; the bundled ``priors/propagation.yaml`` when omitted.
    scenario : optional
        The allocation (a scenario, its ``propagation:`` block, or None for
        proportional), as in :func:`~riskmodel.propagation.propagate`.
    n_paths : int
        Monte Carlo paths of each of the samples ``A`` and ``B``; the propagation
        runs ``(len(GROUPS) + 2) * n_paths`` paths.
    seed : int
        Seeds ``A`` and ``B`` (``SeedSequence(seed).spawn(2)``).
    top : int
        Number of headline risks when ``cells`` is not given (see
        :func:`headline_cells`; P(short) from sample ``A``).
    cells : sequence of (region, industry, month), optional
        The risks to decompose instead.
    threshold : float
        The shortfall share x of P(shortfall share > x); 0 means above 1e-5.

    Returns
    -------
    pandas.DataFrame
        :data:`DRIVER_COLUMNS`, one row per cell and group, cells in headline order,
        groups by decreasing first-order share. ``p_short`` is P(short) over ``A``
        and ``B``.

    Raises
    ------
    ValueError
        For a cell outside the propagation, or ``n_paths`` below 2.
    """
    model, draws_a, draws_b = _setup(paths, params, scenario, n_paths, seed, kernel)
    flags_a = model.short(draws_a, threshold)
    if cells is None:
        cells = _headline(model, flags_a, top)
    idx = _cell_index(model, cells)
    y_a = _take(flags_a, idx)
    del flags_a
    y_b = _take(model.short(draws_b, threshold), idx)
    y_ab = {
        group: _take(model.short(_swap(draws_a, draws_b, names), threshold), idx)
        for group, (_, names) in GROUPS.items()
    }
    shares = sobol_indices(y_a, y_b, y_ab)
    p = np.concatenate([y_a, y_b], axis=-1).mean(axis=-1)
    rows = []
    for k, (region, industry, month) in enumerate(cells):
        block = []
        for group, (label, _) in GROUPS.items():
            s = shares[group]
            block.append(
                {
                    "region": region,
                    "industry": industry,
                    "month": month,
                    "threshold": float(threshold),
                    "p_short": float(p[k]),
                    "group": group,
                    "label": label,
                    "first_order": float(s["first"][k]),
                    "first_order_se": float(s["first_se"][k]),
                    "total": float(s["total"][k]),
                    "total_se": float(s["total_se"][k]),
                    "n_paths": int(n_paths),
                    "seed": int(seed),
                }
            )
        block.sort(key=lambda row: (-np.nan_to_num(row["first_order"], nan=-1.0), -row["total"]))
        rows.extend(block)
    return pd.DataFrame(rows, columns=list(DRIVER_COLUMNS))


def _fixer(params: PropagationParams, block: str, key: str) -> Any:
    """Return ``(draws, value) -> draws`` holding one parameter at ``value``, or None."""
    regions, industries = list(params.region_names), list(params.industries)
    f32 = np.float32

    def put(name: str, index: Any, lo: float = -np.inf, hi: float = np.inf) -> Any:
        def apply(draws: ParameterDraws, value: float) -> ParameterDraws:
            arr = getattr(draws, name).copy()
            arr[index] = f32(min(max(value, lo), hi))
            return replace(draws, **{name: arr})

        return apply

    if block == "base_demand_tpy":
        return put("base_demand", regions.index(key))
    if block == "china_share":
        return put("china_share", regions.index(key), lo=1e-6)
    if block == "embedded_share":
        region, industry = key.split(".", 1)
        where = (regions.index(region), industries.index(industry))
        return put("embedded", where, hi=EMBEDDED_CEILING)
    if block == "demand_growth":
        return put("growth", industries.index(key), lo=GROWTH_FLOOR)
    if block == "inventory_cover_weeks":
        return put("cover_weeks", (slice(None), industries.index(key)))
    scalars = {
        "substitution_per_year": "substitution",
        "restock_multiple": "restock",
        "opening_stock_ratio": "opening",
        "deferred_share": "deferred",
        "substitution_lag_months": "substitution_lag",
        "reroute_share": "reroute",
        "hoarding.multiple": "hoard",
        "hoarding.lead_months": "hoard_lead",
        "buyers.licence_spread": "licence_spread",
        "buyers.licence_persistence": "licence_persistence",
        "buyers.stock_spread": "stock_spread",
    }
    if block in scalars:
        return put(scalars[block], Ellipsis)
    if block.startswith("new_capacity."):
        attr = block.split(".", 1)[1]
        name = {"capacity_tpy": "capacity", "delay_months": "delay"}.get(attr)
        name = name or {"ramp_months": "ramp", "utilisation": "utilisation"}[attr]
        names = [f"{p.region}: {p.name}" for p in params.projects]
        return put(name, names.index(key), lo=1e-3 if name == "ramp" else -np.inf)
    return None  # magnet content (output units only) and industry shares (Dirichlet)


def judgement_sweep(
    paths: xr.Dataset,
    params: PropagationParams | str | Path | None = None,
    *,
    scenario: Any = None,
    n_paths: int = DEFAULT_DRIVER_PATHS,
    seed: int = 0,
    top: int = DEFAULT_TOP,
    cells: Sequence[tuple[str, str, str]] | None = None,
    threshold: float = 0.0,
    judgement_only: bool = True,
    kernel: str = "auto",
) -> pd.DataFrame:
    """How far the headline risks move with each parameter at its 5th and 95th percentile.

    Parameters
    ----------
    paths, params, scenario, n_paths, seed, top, cells, threshold, kernel
        As :func:`shortage_drivers` (the headline cells and sample ``A`` are the same
        for the same arguments).
    judgement_only : bool
        Sweep only the parameters marked ``judgement: true`` (default); False sweeps
        the sourced ones too.

    Returns
    -------
    pandas.DataFrame
        :data:`SWEEP_COLUMNS`, one row per parameter and headline cell: P(short)
        with every input drawn (``p_short``), and with the parameter held at its 5th
        and 95th percentile, on the same draws. Point masses, the Dirichlet industry
        shares and magnet content (which does not change P(short)) are not swept.
    """
    model, draws_a, _ = _setup(paths, params, scenario, n_paths, seed, kernel)
    flags = model.short(draws_a, threshold)
    if cells is None:
        cells = _headline(model, flags, top)
    idx = _cell_index(model, cells)
    base = _take(flags, idx).mean(axis=-1)
    del flags
    rows = []
    for row in model.params.summary():
        if judgement_only and not row["judgement"]:
            continue
        lo, hi = float(row["p05"]), float(row["p95"])
        fix = _fixer(model.params, row["block"], row["key"])
        if fix is None or not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
            continue
        at = [
            _take(model.short(fix(draws_a, value), threshold), idx).mean(axis=-1)
            for value in (lo, hi)
        ]
        for k, (region, industry, month) in enumerate(cells):
            rows.append(
                {
                    "block": row["block"],
                    "key": row["key"],
                    "p05": lo,
                    "p95": hi,
                    "region": region,
                    "industry": industry,
                    "month": month,
                    "p_short": float(base[k]),
                    "p_short_at_p05": float(at[0][k]),
                    "p_short_at_p95": float(at[1][k]),
                    "n_paths": int(n_paths),
                    "seed": int(seed),
                }
            )
    return pd.DataFrame(rows, columns=list(SWEEP_COLUMNS))
