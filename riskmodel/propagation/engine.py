"""Monte Carlo propagation of export paths to shortages by region, industry and month.

:func:`propagate` is the stage's entry point. For each Monte Carlo path it takes one
forecast path (China's exports, mapped to regions) and one
draw of every parameter in ``priors/propagation.yaml``, and steps the months:

1. **China supply** to region ``r``: the path's physical exports to ``r``'s
   destinations (:func:`physical_exports`: the forecast's shipped flow, approval x
   (counterfactual + kept backlog), without the customs reporting noise, when the
   paths carry it; the reported ``exports`` otherwise).
2. **Demand**, from outside the export model: region ``r`` bought ``B_r`` tonnes of
   magnets in the base year; industry ``i`` takes ``w_ri = s_ri (1 - e_ri) /
   sum_j s_rj (1 - e_rj)`` of it (``s`` the industry shares, ``e`` the share of the
   industry's magnets that arrives inside imported assemblies) and grows at its sector
   rate: ``D_rit = B_r / 12 * w_ri * (1 + g_i) ** tau_t`` with ``tau_t`` the years
   from the middle of the base year.
3. **Non-China supply**: ``(1 - china_share_r) * D_r`` (existing suppliers keep
   their share of demand before substitution) plus the ramp-up of new plants.
4. **Inventories and behaviour**: each industry starts with an uncertain multiple of
   ``cover`` weeks of demand, restocks whenever supply exceeds demand, up to
   ``restock_multiple`` x its cover, and up to ``hoarding.multiple`` times more in
   the months before a known policy date; after ``substitution_lag_months`` months
   of shortage, each further month short removes ``substitution_per_year / 12`` of
   its demand for good (substitution and demand reduction grow with the length of
   the shortage); part of unmet demand is deferred (made up later), the rest lost; the
   scarce supply is allocated across industries by the scenario's rule
   (``proportional``, ``priority`` or ``end_use``), and
   ``short = D - min(stock + allocated, D)``
   (:func:`~riskmodel.propagation.kernels.simulate_shortfall`).
   With a ``buyers`` block, each industry is split into buyer groups that receive
   licences unevenly in licensing months and hold their own stocks (the kernel runs
   once per group; :mod:`riskmodel.propagation.buyers`).
5. **Statistics** are streamed, the shortfall as a share of the industry's whole
   magnet use ``D_rit / (1 - e_ri)`` (embedded magnets are not cut by the controls);
   they are streamed (sums, counts, histograms) chunk by chunk, so memory
   does not grow with the number of paths (:mod:`riskmodel.propagation.stats`).

Randomness and reproducibility
------------------------------
Monte Carlo paths are grouped in *blocks* of ``block_size`` paths; block ``b`` draws
from ``numpy.random.SeedSequence(seed).spawn(n_blocks)[b]`` (see
:mod:`riskmodel.propagation.draws`). Chunks are whole blocks (``chunk_size`` is
rounded up to a multiple of ``block_size``), and float sums are kept per block and
added in block order. So for a given ``seed``, ``n_paths`` and ``block_size`` the
result is bit-identical whatever ``chunk_size`` and whether the chunks run in process
or on Dask workers. (The NumPy and numba kernels do the same float32 arithmetic, but
their statistics sum in a different order, so they agree to rounding, not bits.)

Forecast paths and Monte Carlo paths
------------------------------------
By default ``n_paths`` is the number of forecast paths and Monte Carlo path ``k``
uses forecast path ``k``. With any other ``n_paths`` each Monte Carlo path picks a
forecast path uniformly at random with replacement (a bootstrap over paths, drawn
from the block's generator): more Monte Carlo paths than forecast paths then add
draws of the propagation parameters, but the export uncertainty is still only
represented by the forecast's paths.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from riskmodel import __version__
from riskmodel.config.scenario import Allocation, parse_allocation
from riskmodel.exceptions import RiskModelWarning
from riskmodel.parallel import run_tasks
from riskmodel.propagation import kernels
from riskmodel.propagation.buyers import buyer_factors, simulate_by_buyer
from riskmodel.propagation.draws import WEEKS_PER_MONTH, ParameterDraws, concat_draws, draw_block
from riskmodel.propagation.io import validate_paths
from riskmodel.propagation.params import PropagationParams, load_params
from riskmodel.propagation.regions import RegionMapping, map_destinations
from riskmodel.propagation.stats import finalize

__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "DEFAULT_CHUNK_SIZE",
    "PHYSICAL_VARIABLE",
    "physical_exports",
    "propagate",
]

log = logging.getLogger(__name__)

#: Paths per block of randomness (part of the reproducibility key, with the seed).
DEFAULT_BLOCK_SIZE = 4096
#: Paths per chunk: bounds memory (~30 KB per path with 6 regions, 11 industries and
#: 36 months, i.e. ~250 MB per chunk of 8192 paths).
DEFAULT_CHUNK_SIZE = 8192
#: Months of demand averaged for the opening stock (smooths a seasonal first month).
OPENING_MONTHS = 3

ProgressCallback = Callable[[int, int, int], None]

#: Variable of the forecast paths holding China's physical shipments, when the forecast
#: stage writes one (preferred over ``counterfactual x approval``).
PHYSICAL_VARIABLE = "exports_physical"


def physical_exports(paths: Any) -> tuple[Any, str]:
    """Replace the paths' reported ``exports`` by China's physical shipments, if carried.

    The forecast stage draws ``exports = exports_physical x exp(noise)``, where
    ``exports_physical`` is the shipped flow (approval times the month's demand plus
    the kept backlog, :func:`riskmodel.forecast.paths.release_backlog`) and the noise
    is the export model's customs observation error (reporting, not shipments). The
    physical flow is, in order of preference:

    1. a variable ``exports_physical`` (:data:`PHYSICAL_VARIABLE`) on the paths' dims
       (the Bayesian forecast carries it);
    2. ``counterfactual x approval`` when the paths carry ``approval`` but not the
       shipped flow (path files written before the backlog): the latent flow without
       the observation noise;
    3. otherwise the reported ``exports`` (baselines, realised customs figures).

    Parameters
    ----------
    paths : xarray.Dataset
        Forecast paths (anything else is returned unchanged, for validation to refuse).

    Returns
    -------
    paths : xarray.Dataset
        The paths with ``exports`` replaced by the physical flow (a shallow copy).
    source : str
        ``"exports_physical"``, ``"counterfactual x approval"`` or ``"exports"``.
    """
    if not isinstance(paths, xr.Dataset) or "exports" not in paths.data_vars:
        return paths, "exports"
    if PHYSICAL_VARIABLE in paths.data_vars:
        flow = paths[PHYSICAL_VARIABLE]
        source = PHYSICAL_VARIABLE
    elif "approval" in paths.data_vars and "counterfactual" in paths.data_vars:
        flow = paths["counterfactual"] * paths["approval"]
        source = "counterfactual x approval"
    else:
        return paths, "exports"
    out = paths.copy()
    out["exports"] = flow.transpose(*paths["exports"].dims)
    out.attrs = dict(paths.attrs)
    return out, source


class PropagationWarning(RiskModelWarning):
    """Propagation ran, but on inputs that deserve a look (a product it was not built for)."""


# --------------------------------------------------------------------------------------
# Allocation rule for the kernel
# --------------------------------------------------------------------------------------


def _kernel_allocation(allocation: Allocation, industries: Sequence[str]) -> dict[str, Any]:
    """``mode``, ``eligible`` and ``order`` of an allocation, for the kernel."""
    index = {name: k for k, name in enumerate(industries)}
    eligible = np.array([name not in allocation.denied_end_uses for name in industries])
    order = np.array([index[name] for name in allocation.priority], dtype=np.int64)
    return {"mode": kernels.MODES[allocation.rule], "eligible": eligible, "order": order}


# --------------------------------------------------------------------------------------
# Chunks
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Shared:
    """Inputs every chunk needs (sent once to each Dask worker)."""

    params: PropagationParams
    exports: np.ndarray  # (R, T, F) float32
    base_year: int
    month_index: np.ndarray  # (T,) calendar month numbers (year * 12 + month - 1)
    project_region: np.ndarray  # (J,) region index
    project_start: np.ndarray  # (J,) calendar month numbers
    allocation: dict[str, Any]
    hoard_dates: np.ndarray  # (K, 3) int64: date, announced, end (min(date, withdrawn))
    hoard_regions: np.ndarray  # (K, R) bool: the regions that hoard ahead of date k
    resample: bool
    backend: str
    parallel: bool = False
    # (T, F) bool: licences are required in month t of forecast path f (some
    # destination's approval below 1); None when the paths carry no approval
    controls: np.ndarray | None = None

    @classmethod
    def build(
        cls,
        params: PropagationParams,
        exports: np.ndarray,
        months: Sequence[str],
        allocation: Allocation,
        *,
        resample: bool,
        backend: str,
        parallel: bool = False,
        paths: xr.Dataset | None = None,
    ) -> _Shared:
        """Lay out the inputs: ``exports`` is ``(path, region, month)`` in tonnes.

        ``paths`` (the validated forecast paths, optional): when they carry
        ``approval``, the months in which licences are required are those with some
        destination's approval below 1 (only the first ``len(months)`` are used).
        """
        controls = None
        if paths is not None and "approval" in paths.data_vars:
            approval = paths["approval"].values[:, :, : len(months)]
            controls = (approval < 1).any(axis=1).T.copy()
        region_index = {name: k for k, name in enumerate(params.region_names)}
        dates = () if params.hoarding is None else params.hoarding.dates
        hoard_dates = np.array(
            [
                (
                    _month_number(d.date),
                    _month_number(d.announced),
                    _month_number(min(d.date, d.withdrawn or d.date)),
                )
                for d in dates
            ],
            dtype=np.int64,
        ).reshape(-1, 3)
        hoard_regions = np.array(
            [[name in d.regions for name in params.region_names] for d in dates], dtype=np.bool_
        ).reshape(-1, len(params.region_names))
        return cls(
            params=params,
            exports=np.ascontiguousarray(exports.transpose(1, 2, 0), dtype=np.float32),
            base_year=params.base_year,
            month_index=np.array([_month_number(m) for m in months], dtype=np.int64),
            project_region=np.array(
                [region_index[p.region] for p in params.projects], dtype=np.int64
            ),
            project_start=np.array(
                [_month_number(p.start) for p in params.projects], dtype=np.int64
            ),
            allocation=_kernel_allocation(allocation, params.industries),
            hoard_dates=hoard_dates,
            hoard_regions=hoard_regions,
            resample=resample,
            backend=backend,
            parallel=parallel,
            controls=controls,
        )


@dataclass(frozen=True)
class _Task:
    index: int
    blocks: tuple[tuple[int, int, int, np.random.SeedSequence], ...]  # (block, start, stop, seed)


@dataclass
class _ChunkResult:
    index: int
    counts: kernels.ShortfallCounts
    sums: list[tuple[int, kernels.ShortfallSums]]


def _month_number(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


class _Workspace:
    """Big per-chunk arrays kept between chunks of one in-process run.

    Fresh 100 MB arrays cost page faults (the OS zeroes every page) that take longer
    than the kernel itself; chunks of the same size reuse these instead.
    """

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        arr = self.arrays.get(name)
        if arr is None or arr.shape != shape:
            arr = np.empty(shape, dtype=np.float32)
            self.arrays[name] = arr
        return arr


def _build_inputs(
    shared: _Shared, draws: ParameterDraws, workspace: _Workspace | None = None
) -> dict[str, np.ndarray]:
    """Arrays of the kernel for one chunk (path axis last, float32)."""
    f32 = np.float32
    idx = draws.path_index
    T = shared.exports.shape[1]
    china = np.take(shared.exports, idx, axis=2)  # (R, T, P), C-contiguous copy
    # magnets bought as magnets: industry shares net of those arriving in assemblies
    bought = f32(1) - draws.embedded  # (R, I, P)
    weights = draws.shares * bought
    weights /= np.maximum(weights.sum(axis=1, keepdims=True), f32(1e-30))
    base_month = f32(shared.base_year * 12 + 6)  # 1 July of the base year
    tau = (shared.month_index.astype(f32) + f32(0.5) - base_month) / f32(12)  # (T,)
    growth = np.log1p(draws.growth)[:, None, :] * tau[None, :, None]  # (I, T, P)
    np.exp(growth, out=growth)
    monthly = draws.base_demand / f32(12)  # (R, P)
    region_demand = monthly[:, None, :] * np.einsum("rip,itp->rtp", weights, growth)
    region_demand = region_demand.astype(f32)
    chi = draws.china_share  # (R, P)
    # existing non-China suppliers keep their share of demand (before substitution,
    # which the kernel applies as a shortage lasts)
    other = (f32(1) - chi)[:, None, :] * region_demand
    need = chi[:, None, :] * region_demand
    china = _reroute(china, need, draws.reroute)
    out = None
    R, _, P = region_demand.shape
    I = draws.shares.shape[1]  # noqa: E741
    if workspace is not None and shared.backend == "numba":
        out = (workspace.get("demand", (R, T, I, P)), workspace.get("total", (R, T, P)))
    demand, demand_total = kernels.build_demand(
        region_demand, weights, growth, backend=shared.backend, parallel=shared.parallel, out=out
    )
    shape = (R, T, I, P)
    use = np.empty(shape, dtype=f32) if workspace is None else workspace.get("use", shape)
    np.divide(demand, bought[:, None, :, :], out=use)
    cover_months = draws.cover_weeks / f32(WEEKS_PER_MONTH)
    n0 = min(OPENING_MONTHS, T)
    stock0 = cover_months * demand[:, :n0].mean(axis=1, dtype=f32) * draws.opening
    deferred = np.broadcast_to(draws.deferred[None, None, :], stock0.shape)
    cap_cover = cover_months * draws.restock[None, None, :]
    sub_rate = np.broadcast_to((draws.substitution / f32(12))[None, None, :], stock0.shape)
    sub_lag = np.broadcast_to(draws.substitution_lag[None, None, :], stock0.shape)
    ceiling_scale = np.ones((R, T, P), dtype=f32)
    month = shared.month_index
    for (date, announced, end), regions in zip(
        shared.hoard_dates, shared.hoard_regions, strict=True
    ):
        known = (month >= announced) & (month < end)  # (T,)
        if not known.any():
            continue
        ahead = (date - month).astype(f32)  # months to the date
        window = known[:, None] & (ahead[:, None] <= draws.hoard_lead[None, :])  # (T, P)
        scale = np.where(window, draws.hoard, f32(1)).astype(f32)
        for r in np.flatnonzero(regions):
            np.maximum(ceiling_scale[r], scale, out=ceiling_scale[r])
    for j in range(len(shared.project_region)):
        # months since the start: the ramp is 0 in the start month (+ delay)
        since = shared.month_index.astype(f32)[:, None] - f32(shared.project_start[j])
        frac = np.clip((since - draws.delay[j][None, :]) / draws.ramp[j][None, :], f32(0), f32(1))
        rate = draws.capacity[j] / f32(12) * draws.utilisation[j]
        other[shared.project_region[j]] += frac * rate[None, :]
    arrays = {
        "demand": demand,
        "demand_total": demand_total,
        "supply_china": china,
        "supply_other": other,
        "stock0": stock0,
        "cap_cover": cap_cover,
        "deferred_share": deferred,
        "sub_rate": sub_rate,
        "sub_lag": sub_lag,
        "ceiling_scale": ceiling_scale,
        "use": use,
    }
    buyers = shared.params.buyers
    if buyers is None:
        return arrays
    # firm-by-firm licences from the licensing date on, while the path's controls are in
    # force (a scenario that lifts them returns to pro rata)
    licensing = shared.month_index >= _month_number(buyers.licensing_since)
    if shared.controls is not None:
        licensing = licensing[:, None] & shared.controls[:, idx]
    if licensing.any():  # otherwise the groups are one pool: a single kernel pass
        arrays["buyer_supply"], arrays["buyer_stock"] = buyer_factors(
            china,
            need,
            licensing,
            draws.licence_spread,
            draws.licence_persistence,
            draws.stock_spread,
            draws.licence_shocks,
            draws.stock_shocks,
        )
    return arrays


def _reroute(china: np.ndarray, need: np.ndarray, share: np.ndarray) -> np.ndarray:
    """Move re-exported shipments from regions above their China-sourced need to those below.

    China's customs record a shipment's first destination (an EU hub, a distributor),
    not where the magnets are used. Each month, ``share`` of every region's shipments
    beyond its China-sourced need (``china_share x demand``) joins a pool that goes to
    the regions below their need, in proportion to their gap and at most up to it;
    the rest stays where it landed. The total is unchanged.

    Parameters
    ----------
    china, need : numpy.ndarray
        ``(R, T, P)`` float32, China's shipments and the China-sourced need.
    share : numpy.ndarray
        ``(P,)`` float32 in [0, 1].

    Returns
    -------
    numpy.ndarray
        ``(R, T, P)`` float32.
    """
    f32 = np.float32
    if china.shape[0] < 2 or not np.any(share > 0):
        return china
    excess = np.maximum(china - need, f32(0))
    gap = np.maximum(need - china, f32(0))
    total_excess = excess.sum(axis=0)  # (T, P)
    total_gap = gap.sum(axis=0)
    moved = np.minimum(share[None, :] * total_excess, total_gap)
    tiny = f32(1e-30)
    out = china - excess * (moved / np.maximum(total_excess, tiny))[None]
    out += gap * (moved / np.maximum(total_gap, tiny))[None]
    return np.maximum(out, f32(0)).astype(f32)


def _run_chunk(task: _Task, shared: _Shared, workspace: _Workspace | None = None) -> _ChunkResult:
    """Draw, simulate and aggregate one chunk (runs in process or on a Dask worker)."""
    params = shared.params
    F = shared.exports.shape[2]
    parts = []
    for _, start, stop, seed in task.blocks:
        rng = np.random.Generator(np.random.PCG64(seed))
        parts.append(
            draw_block(
                params,
                rng,
                stop - start,
                first_path=start,
                n_forecast=F,
                resample=shared.resample,
                n_months=shared.exports.shape[1],
            )
        )
    draws = concat_draws(parts)
    arrays = _build_inputs(shared, draws, workspace)
    use = arrays.pop("use")
    out = None if workspace is None else workspace.get("short", arrays["demand"].shape)
    short = simulate_by_buyer(
        arrays, shared.allocation, backend=shared.backend, parallel=shared.parallel, out=out
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        upt = np.where(
            np.isfinite(draws.content_kg), 1000.0 / draws.content_kg.astype(np.float64), 0.0
        )
    R, T, I, _ = short.shape  # noqa: E741
    counts = kernels.ShortfallCounts(R, T, I)
    sums = []
    offset = 0
    for block, start, stop, _seed in task.blocks:
        block_sums = kernels.ShortfallSums(R, T, I)
        kernels.aggregate_block(
            short,
            use,
            upt,
            offset,
            offset + stop - start,
            counts,
            block_sums,
            backend=shared.backend,
            parallel=shared.parallel,
        )
        sums.append((block, block_sums))
        offset += stop - start
    return _ChunkResult(task.index, counts, sums)


class _Folder:
    """Adds chunk results: counts in any order, float sums strictly in block order."""

    def __init__(self, R: int, T: int, I: int, n_blocks: int) -> None:  # noqa: E741
        self.counts = kernels.ShortfallCounts(R, T, I)
        self.sums = kernels.ShortfallSums(R, T, I)
        self.pending: dict[int, kernels.ShortfallSums] = {}
        self.next_block = 0
        self.n_blocks = n_blocks

    def add(self, result: _ChunkResult) -> None:
        self.counts.add(result.counts)
        for block, sums in result.sums:
            self.pending[block] = sums
        while self.next_block in self.pending:
            self.sums.add(self.pending.pop(self.next_block))
            self.next_block += 1

    def check_done(self) -> None:
        if self.next_block != self.n_blocks or self.pending:  # pragma: no cover - defensive
            raise RuntimeError("propagation finished with blocks missing")


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------


def _resolve_params(params: PropagationParams | str | Path | None) -> PropagationParams:
    """Return the parameters given, those of a YAML file, or (``None``) the bundled ones."""
    if params is None or isinstance(params, (str, Path)):
        params = load_params(params)
    if not isinstance(params, PropagationParams):
        raise TypeError(
            f"params must be PropagationParams, a path or None, got {type(params).__name__}"
        )
    return params


def _regional_exports(
    params: PropagationParams, ds: xr.Dataset, error: type[Exception] = ValueError
) -> tuple[PropagationParams, RegionMapping, np.ndarray, Any]:
    """Map the forecast's destinations onto the parameters' regions.

    Returns the parameters cut to the regions with data, the mapping, and the regional
    exports and residual floor events (as :meth:`RegionMapping.apply` gives them);
    raises ``error`` when no region has data.
    """
    mapping = map_destinations(params, ds["destination"].values)
    if not mapping.regions:
        raise error("no region has data in the forecast paths")
    exports, floors = mapping.apply(ds["exports"].values)
    return params.subset_regions(mapping.regions), mapping, exports, floors


def _root_seed(seed: Any) -> tuple[np.random.SeedSequence, str]:
    if isinstance(seed, np.random.SeedSequence):
        root = np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key)
        return root, str(seed.entropy)
    if isinstance(seed, np.random.Generator):
        entropy = int.from_bytes(seed.bytes(16), "little")
        return np.random.SeedSequence(entropy), "generator"
    if seed is None:
        root = np.random.SeedSequence()
        return root, str(root.entropy)
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return np.random.SeedSequence(int(seed)), str(int(seed))
    raise TypeError(
        f"seed must be a non-negative int, a SeedSequence, a Generator or None, got {seed!r}"
    )


def propagate(
    paths: xr.Dataset,
    params: PropagationParams | str | Path | None = None,
    *,
    scenario: Any = None,
    n_paths: int | None = None,
    seed: int | np.random.Generator | np.random.SeedSequence | None = 0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    block_size: int = DEFAULT_BLOCK_SIZE,
    scheduler: str | None = None,
    kernel: str = "auto",
    parallel: bool | None = None,
    progress: ProgressCallback | None = None,
) -> xr.Dataset:
    """Propagate forecast export paths to shortage probabilities by region and industry.

    Parameters
    ----------
    paths : xarray.Dataset
        Forecast paths: ``exports`` and ``counterfactual`` on ``(path, destination,
        month)`` in tonnes per month (see :mod:`riskmodel.propagation.io`), and
        optionally ``approval`` or ``exports_physical``: China's supply is then the
        noise-free flow (:func:`physical_exports`), otherwise ``exports``.
    params : PropagationParams, str or pathlib.Path, optional
        Parameters, or a YAML file of them; the bundled ``priors/propagation.yaml``
        when omitted.
    scenario : mapping or None
        The scenario's ``propagation:`` block (``{"allocation": "proportional" |
        "priority" | "end_use", "priority": [...], "denied_end_uses": [...]}``), a
        whole scenario mapping holding one, or a loaded scenario; ``None`` means
        proportional allocation.
    n_paths : int, optional
        Monte Carlo paths; the number of forecast paths when omitted (each used
        once). Any other value resamples forecast paths with replacement.
    seed : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Root of the per-block seeds. A Generator is advanced (16 bytes are drawn from
        it); ``None`` takes fresh entropy (recorded in ``attrs["seed_entropy"]``).
    chunk_size : int
        Paths per chunk (rounded up to a multiple of ``block_size``); bounds memory
        and is the unit of work on Dask. Does not change the result.
    block_size : int
        Paths per block of randomness. Changes the random streams (like the seed).
    scheduler : str, optional
        ``None``: run in process. ``"local"``: a ``distributed.LocalCluster``
        (2 workers, threads). Anything else: the address of a Dask scheduler.
    kernel : {"auto", "numba", "numpy"}
        Kernel implementation (``auto``: numba when installed).
    parallel : bool, optional
        Spread each chunk's regions over threads (numba only). Default: True when
        running in process, False on Dask (whose workers already run chunks in
        parallel). Does not change the result.
    progress : callable, optional
        Called as ``progress(chunks_done, chunks_total, paths_done)`` after each chunk.

    Returns
    -------
    xarray.Dataset
        On ``(region, industry, month)``:

        - ``p_short`` (+ ``threshold``): P(shortfall share > x) for x in 0, 0.1,
          0.25, 0.5 (x = 0 means above 1e-5 of demand); shares are of the
          industry's whole magnet use, including magnets inside imported assemblies;
        - ``expected_shortfall_t``, ``expected_shortfall_share``,
          ``expected_demand_t`` (that whole use);
        - ``shortfall_share_quantile`` (+ ``quantile``);
        - ``expected_cum_shortfall_t``, ``cum_shortfall_quantile_t``
          (+ ``quantile``), ``cum_shortfall_cvar95_t``: cumulative unmet demand;
        - ``expected_output_lost_units``: cumulative unmet tonnes / magnet content
          per unit (NaN for industries without a unit; the ``unit`` coordinate
          names it);
        - ``p_first_stockout``: P(first stock-out in that month);

        on ``(region, industry)``: ``p_stockout_within_horizon``, and
        ``first_stockout_month`` (+ ``stockout_quantile``: 0.1, 0.5, 0.9; ``""``
        when the quantile is past the horizon). Attrs record the scenario, seed,
        parameters' digest, allocation, region mapping, residual floor events and
        ``china_supply``: which variable China's supply came from
        (:func:`physical_exports`).

    Raises
    ------
    riskmodel.propagation.io.ForecastInputError
        If ``paths`` breaks the input contract.
    riskmodel.exceptions.PriorsError
        If the parameter file is invalid.
    riskmodel.exceptions.ScenarioError
        If the allocation rule is invalid.
    """
    paths, supply_source = physical_exports(paths)
    ds = validate_paths(paths)
    params = _resolve_params(params)
    product = ds.attrs.get("product")
    if product not in (None, "magnets"):
        import warnings

        warnings.warn(
            f"the propagation parameters describe NdFeB magnets; the paths are for {product!r}",
            PropagationWarning,
            stacklevel=2,
        )
    params, mapping, exports, floors_x = _regional_exports(params, ds)
    F = exports.shape[0]
    months = [str(m) for m in ds["month"].values]
    T = len(months)
    allocation = parse_allocation(scenario, params.industries)

    n_paths = F if n_paths is None else int(n_paths)
    if n_paths < 1:
        raise ValueError(f"n_paths must be >= 1, got {n_paths}")
    if block_size < 1 or chunk_size < 1:
        raise ValueError("block_size and chunk_size must be >= 1")
    resample = n_paths != F
    backend = kernels.resolve_backend(kernel)
    root, entropy = _root_seed(seed)
    n_blocks = math.ceil(n_paths / block_size)
    children = root.spawn(n_blocks)
    blocks_per_chunk = max(1, math.ceil(chunk_size / block_size))
    tasks = []
    for c, b0 in enumerate(range(0, n_blocks, blocks_per_chunk)):
        blocks = tuple(
            (b, b * block_size, min((b + 1) * block_size, n_paths), children[b])
            for b in range(b0, min(b0 + blocks_per_chunk, n_blocks))
        )
        tasks.append(_Task(c, blocks))

    shared = _Shared.build(
        params,
        exports,
        months,
        allocation,
        resample=resample,
        backend=backend,
        parallel=(scheduler is None) if parallel is None else bool(parallel),
        paths=ds,
    )
    R, I = len(params.regions), len(params.industries)  # noqa: E741
    folder = _Folder(R, T, I, n_blocks)
    log.info(
        "propagating %d paths (%d forecast paths) in %d chunks, %s kernel, scheduler %s",
        n_paths,
        F,
        len(tasks),
        backend,
        scheduler or "in-process",
    )
    # in process, chunks reuse one workspace (dropped when the run ends)
    run = partial(_run_chunk, workspace=_Workspace() if scheduler is None else None)
    done_paths = 0
    chunks = run_tasks(run, tasks, scheduler=scheduler, shared=shared, processes=False)
    for done, (k, result) in enumerate(chunks, start=1):
        folder.add(result)
        done_paths += sum(stop - start for _, start, stop, _ in tasks[k].blocks)
        if progress is not None:
            progress(done, len(tasks), done_paths)
    folder.check_done()

    out = finalize(
        folder.counts,
        folder.sums,
        regions=params.region_names,
        industries=params.industries,
        months=months,
        units=params.units,
        labels=params.labels,
    )
    out.attrs = {
        "stage": "shortage",
        "scenario": str(ds.attrs.get("scenario", "")),
        "product": str(ds.attrs.get("product", "")),
        "forecast_seed": str(ds.attrs.get("seed", "")),
        "forecast_riskmodel_version": str(ds.attrs.get("riskmodel_version", "")),
        "riskmodel_version": __version__,
        "seed": entropy,
        "n_paths": n_paths,
        "n_forecast_paths": F,
        "resampled_forecast_paths": int(resample),
        "block_size": block_size,
        "kernel": backend,
        "allocation": allocation.rule,
        "priority": ",".join(allocation.priority),
        "denied_end_uses": ",".join(allocation.denied_end_uses),
        "params_file": params.path,
        "params_digest": params.digest,
        "regions_without_data": ",".join(mapping.missing),
        "region_destinations": mapping.describe(),
        "residual_floor_events_exports": floors_x,
        "residual_cells": F * T,
        "share_tolerance": kernels.SHARE_TOL,
        "china_supply": supply_source,
    }
    return out
