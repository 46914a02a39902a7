"""Buffer sizing: the extra stock that keeps P(stock-out within H months) below a target.

For each region, industry and scenario, :func:`buffer` answers a procurement
question: how many weeks of *extra* cover (inventory held on top of the usual stock)
keep the probability of a stock-out within ``horizon`` months below a target (5% and
1% by default), what that stock weighs and is worth, and how much unmet demand it
avoids.

The buffer
----------
A buffer of ``x`` weeks is measured in weeks of the industry's **China-sourced**
demand (``china_share x demand``), the part a licensing stop puts at risk. On every
Monte Carlo path it

- raises the opening stock by ``x / WEEKS_PER_MONTH x china_share x D0`` tonnes,
  ``D0`` the mean demand of the first :data:`~riskmodel.propagation.engine.OPENING_MONTHS`
  months (as the usual opening stock), and
- raises the inventory ceiling by the same cover, ``x / WEEKS_PER_MONTH x china_share``
  months of current demand: a firm that holds a buffer restocks up to it, so the
  ceiling does not throw the buffer away in the first month (without this, extra stock
  above the usual ceiling would be clipped at once and buy almost nothing).

Everything else (the forecast path, every parameter draw, the allocation) is the
propagation's (:func:`~riskmodel.propagation.propagate`): the same blocks of paths and
the same random numbers for every buffer size (common random numbers).

Monotone in the buffer
----------------------
In the kernel (:func:`~riskmodel.propagation.kernels.simulate_shortfall`) the scarce
supply is allocated from demand and supply alone, never from stocks, so industries
are independent given the supply, and one step of an industry maps ``(stock,
backlog)`` to a new state that is monotone: more opening stock and a higher ceiling
give at least as much stock and at most as much backlog in every later month (each
of ``min``, ``max``, ``+`` and ``-`` of ordered float32 numbers keeps the order
after rounding). So a larger buffer never causes a stock-out: the set of buffers that
avoid one on a path is ``[need, inf)``, and each path has one number, the cover it
*needed*. (Behaviour that responds to a shortage, such as substitution that starts
after months short, cannot break this for the *first* stock-out: before it, the two
runs have the same demand.) The run checks this rather than assuming it: the
stock-out at each chosen cover is simulated directly and compared with ``need``
(``monotonicity_violations`` in the attrs; a warning when not 0).

Algorithm
---------
For each chunk of paths: one kernel run without a buffer; for the cells (region x
industry x path) short within the horizon, an upper bracket found by doubling from
``horizon`` months of China-sourced demand, then a vectorised bisection in which every
cell has its own buffer, to :data:`TOLERANCE_WEEKS` (about 15 kernel runs, on the paths
still unresolved only). Then

- ``P(stock-out | cover c) = mean(need > c)``: the risk-versus-cover curve, exact for
  the simulation up to the bisection tolerance, monotone by construction;
- the cover for a target ``a`` is the smallest ``c`` with ``P <= a``: an order
  statistic of ``need``; its Monte Carlo 90% interval comes from the binomial ranks;
- a second pass simulates every cell at its chosen cover (all cells at once): the
  direct P(stock-out), the expected unmet demand avoided, and the tonnes held.

Prices
------
The curated data hold no price of NdFeB magnets per kilogram (only NdPr, Dy and Tb
oxide prices and US import values without matching tonnages; see docs/buffer.md), so
by default the buffer is given in tonnes only, and the value columns say so. Given a
price range (``price_usd_per_kg=(low, high)``, the caller's source), the price is
drawn uniformly in it, independently per path, and the value of the stock held
(capital tied up, not a yearly carrying cost) is reported as a mean and a 90% interval.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from riskmodel import __version__
from riskmodel.config.limits import check_setting
from riskmodel.config.scenario import parse_allocation, parse_scenario
from riskmodel.exceptions import RiskModelError, RiskModelWarning
from riskmodel.propagation import kernels
from riskmodel.propagation.buyers import simulate_by_buyer
from riskmodel.propagation.draws import WEEKS_PER_MONTH, ParameterDraws, concat_draws, draw_block
from riskmodel.propagation.engine import (
    DEFAULT_BLOCK_SIZE,
    OPENING_MONTHS,
    _build_inputs,
    _regional_exports,
    _resolve_params,
    _root_seed,
    _Shared,
    physical_exports,
)
from riskmodel.propagation.io import validate_paths
from riskmodel.propagation.params import PropagationParams
from riskmodel.seeds import SeedLike, seed_label, stage_seeds

__all__ = [
    "BUFFER_COLUMNS",
    "CURVE_COLUMNS",
    "DEFAULT_BUFFER_PATHS",
    "DEFAULT_HORIZON",
    "DEFAULT_TARGETS",
    "MAX_WEEKS",
    "NO_PRICE_NOTE",
    "TOLERANCE_WEEKS",
    "BufferInputError",
    "BufferResult",
    "BufferWarning",
    "buffer",
    "stockout_at_cover",
    "write_buffer_outputs",
]

#: Targets for P(stock-out within the horizon).
DEFAULT_TARGETS = (0.05, 0.01)
#: Months of the stock-out horizon.
DEFAULT_HORIZON = 12
#: Monte Carlo paths (forecast paths resampled with replacement): the 1% tail needs many.
DEFAULT_BUFFER_PATHS = 10_000
#: Bisection tolerance on the cover a path needed (weeks).
TOLERANCE_WEEKS = 0.01
#: Largest buffer tried (weeks of China-sourced demand); a path short even then
#: cannot be covered by a buffer (its cover is reported as unreachable).
MAX_WEEKS = 520.0
#: Points of each risk-versus-cover curve in ``buffer_curve.csv``.
CURVE_POINTS = 121
#: Paths simulated at once (bounds memory; does not change results).
CHUNK_BLOCKS = 1
#: Monte Carlo interval of the cover (two-sided 90%).
CI_LEVEL = 0.90
NO_PRICE_NOTE = (
    "no sourced magnet price in the bundled data: tonnes only (give a price range to value it)"
)

#: Columns of ``buffer.csv``.
BUFFER_COLUMNS = (
    "scenario",
    "region",
    "industry",
    "horizon_months",
    "target",
    "p_stockout_no_buffer",
    "cover_weeks",
    "cover_weeks_low",
    "cover_weeks_high",
    "reachable",
    "p_stockout_at_cover",
    "usual_cover_weeks",
    "china_share",
    "buffer_t_mean",
    "buffer_t_p05",
    "buffer_t_p95",
    "price_usd_per_kg_low",
    "price_usd_per_kg_high",
    "buffer_value_musd_mean",
    "buffer_value_musd_p05",
    "buffer_value_musd_p95",
    "value_note",
    "expected_shortfall_no_buffer_t",
    "expected_shortfall_at_cover_t",
    "expected_shortfall_avoided_t",
    "n_paths",
    "seed",
)
#: Columns of ``buffer_curve.csv``.
CURVE_COLUMNS = ("scenario", "region", "industry", "cover_weeks", "p_stockout")


class BufferInputError(RiskModelError, ValueError):
    """A setting of the buffer sizing is out of range (one-line message)."""


class BufferWarning(RiskModelWarning):
    """The buffer sizing ran, but a check deserves a look (monotonicity, unreachable covers)."""


@dataclass
class BufferResult:
    """What :func:`buffer` returns.

    Attributes
    ----------
    table : pandas.DataFrame
        :data:`BUFFER_COLUMNS`, one row per region, industry and target.
    curve : pandas.DataFrame
        :data:`CURVE_COLUMNS`: P(stock-out within the horizon) against the buffer, on
        :data:`CURVE_POINTS` covers per region and industry.
    need_weeks : numpy.ndarray
        ``(R, I, N)`` float64: the buffer each Monte Carlo path needed to avoid a
        stock-out within the horizon (0: none needed; ``inf``: none up to
        :data:`MAX_WEEKS`). ``P(stock-out | c) = mean(need_weeks > c, axis=-1)``.
    regions, industries : list of str
        Labels of the first two axes of ``need_weeks``.
    attrs : dict
        Scenario, seeds, horizon, targets, number of paths, monotonicity check.
    """

    table: pd.DataFrame
    curve: pd.DataFrame
    need_weeks: np.ndarray
    regions: list[str]
    industries: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)

    def p_stockout(self, cover_weeks: float | np.ndarray) -> np.ndarray:
        """P(stock-out within the horizon) with a buffer of ``cover_weeks``.

        Parameters
        ----------
        cover_weeks : float or numpy.ndarray
            A buffer for every cell, or ``(R, I)`` buffers.

        Returns
        -------
        numpy.ndarray
            ``(R, I)``.
        """
        c = np.broadcast_to(np.asarray(cover_weeks, dtype=np.float64), self.need_weeks.shape[:2])
        return (self.need_weeks > c[..., None]).mean(axis=-1)

    def covers(self, target: float) -> np.ndarray:
        """``(R, I)`` chosen covers (weeks) for one of the run's targets (NaN: unreachable)."""
        rows = self.table[np.isclose(self.table["target"], target)]
        if rows.empty:
            raise KeyError(f"target {target} is not one of the run's targets")
        out = np.full(self.need_weeks.shape[:2], np.nan)
        for row in rows.itertuples(index=False):
            out[self.regions.index(row.region), self.industries.index(row.industry)] = (
                row.cover_weeks
            )
        return out


# --------------------------------------------------------------------------------------
# Settings and inputs
# --------------------------------------------------------------------------------------


def _check_targets(targets: Sequence[float]) -> tuple[float, ...]:
    out = []
    for t in targets:
        try:
            value = float(t)
        except (TypeError, ValueError):
            raise BufferInputError(f"target must be a probability, got {t!r:.40}") from None
        if not 0.0 < value < 1.0 or not math.isfinite(value):
            raise BufferInputError(f"target must lie strictly between 0 and 1, got {t!r:.40}")
        out.append(value)
    if not out:
        raise BufferInputError("give at least one target probability")
    if len(set(out)) != len(out):
        raise BufferInputError(f"a target is given twice: {sorted(out)}")
    return tuple(sorted(out, reverse=True))


def _check_price(price: Sequence[float] | None) -> tuple[float, float] | None:
    if price is None:
        return None
    try:
        low, high = (float(v) for v in price)
    except (TypeError, ValueError):
        raise BufferInputError(
            f"price must be (low, high) in USD per kg, got {price!r:.60}"
        ) from None
    if not (math.isfinite(low) and math.isfinite(high)) or low <= 0 or high < low:
        raise BufferInputError(
            f"price must be 0 < low <= high (USD per kg of magnet), got {low:g} {high:g}"
        )
    return low, high


def _carried_scenario(paths: xr.Dataset) -> Any:
    """Return the scenario the paths carry (``scenario_json``), else None (proportional)."""
    text = paths.attrs.get("scenario_json")
    if not text:
        return None
    where = f"<scenario '{paths.attrs.get('scenario', '')}' carried by the forecast paths>"
    return parse_scenario(str(text), path=where)


@dataclass
class _Setup:
    """The propagation's inputs for the horizon, and the block layout of the paths."""

    shared: _Shared
    params: PropagationParams
    months: list[str]
    horizon: int
    n_forecast: int
    n_paths: int
    resample: bool
    block_size: int
    children: list[np.random.SeedSequence]
    root: np.random.SeedSequence
    entropy: str
    scenario_name: str
    allocation_rule: str

    @classmethod
    def build(
        cls,
        paths: xr.Dataset,
        params: PropagationParams | str | Path | None,
        scenario: Any,
        horizon: int,
        n_paths: int | None,
        seed: Any,
        block_size: int,
        kernel: str,
    ) -> _Setup:
        ds = validate_paths(physical_exports(paths)[0])
        params = _resolve_params(params)
        months_all = [str(m) for m in ds["month"].values]
        T = len(months_all)
        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)):
            raise BufferInputError(f"horizon must be a whole number of months, got {horizon!r}")
        if not 1 <= horizon <= T:
            raise BufferInputError(
                f"horizon must lie in [1, {T}] (the forecast's months "
                f"{months_all[0]}..{months_all[-1]}), got {horizon}"
            )
        if block_size < 1:
            raise BufferInputError(f"block_size must be >= 1, got {block_size}")
        params, _, exports, _ = _regional_exports(params, ds, BufferInputError)
        F = exports.shape[0]
        n = F if n_paths is None else check_setting("paths", n_paths)
        if scenario is None:
            scenario = _carried_scenario(ds)
        allocation = parse_allocation(scenario, params.industries)
        # the kernel is causal: months past the horizon cannot change a stock-out within
        # it, so they are not simulated (the opening stock still averages its months)
        keep = max(int(horizon), min(OPENING_MONTHS, T))
        shared = _Shared.build(
            params,
            exports[:, :, :keep],
            months_all[:keep],
            allocation,
            resample=n != F,
            backend=kernels.resolve_backend(kernel),
            parallel=True,
            paths=ds,
        )
        root, entropy = _root_seed(seed)
        n_blocks = math.ceil(n / block_size)
        children = root.spawn(n_blocks)
        name = getattr(scenario, "name", None) or str(ds.attrs.get("scenario", "") or "")
        return cls(
            shared=shared,
            params=params,
            months=months_all,
            horizon=int(horizon),
            n_forecast=F,
            n_paths=n,
            resample=n != F,
            block_size=block_size,
            children=children,
            root=root,
            entropy=entropy,
            scenario_name=name,
            allocation_rule=allocation.rule,
        )

    def chunks(self) -> Iterator[tuple[int, int, ParameterDraws]]:
        """``(start, stop, draws)`` of each chunk of paths, block-aligned."""
        step = CHUNK_BLOCKS
        for b0 in range(0, len(self.children), step):
            parts = []
            start = b0 * self.block_size
            for b in range(b0, min(b0 + step, len(self.children))):
                a = b * self.block_size
                z = min(a + self.block_size, self.n_paths)
                rng = np.random.Generator(np.random.PCG64(self.children[b]))
                parts.append(
                    draw_block(
                        self.params,
                        rng,
                        z - a,
                        first_path=a,
                        n_forecast=self.n_forecast,
                        resample=self.resample,
                        n_months=self.shared.exports.shape[1],
                    )
                )
            draws = concat_draws(parts)
            yield start, start + draws.n, draws


class _Chunk:
    """The kernel inputs of one chunk, and stock-outs as a function of the buffer."""

    def __init__(self, setup: _Setup, draws: ParameterDraws) -> None:
        self.setup = setup
        arrays = _build_inputs(setup.shared, draws)
        H = setup.horizon
        self.use_h = np.ascontiguousarray(arrays.pop("use")[:, :H])
        self.arrays = arrays
        demand = arrays["demand"]
        n0 = min(OPENING_MONTHS, demand.shape[1])
        chi = draws.china_share.astype(np.float64)[:, None, :]  # (R, 1, P)
        opening = demand[:, :n0].mean(axis=1, dtype=np.float64)  # (R, I, P) t/month
        #: tonnes of the buffer per week of cover
        self.tonnes_per_week = chi * opening / WEEKS_PER_MONTH
        #: months of current demand the ceiling rises by per week of cover
        self.ceiling_per_week = np.broadcast_to(chi / WEEKS_PER_MONTH, opening.shape)
        self.stock0 = arrays["stock0"].astype(np.float64)
        self.cap = arrays["cap_cover"].astype(np.float64)
        self.H = H
        self.usual_cover = draws.cover_weeks.astype(np.float64)
        self.china_share = np.broadcast_to(chi, opening.shape)

    def run(
        self, cover: np.ndarray, cols: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Stock-out within the horizon and unmet tonnes within it, with buffer ``cover``.

        Parameters
        ----------
        cover : numpy.ndarray
            ``(R, I, P')`` weeks, for the paths ``cols`` (all paths when None).
        cols : numpy.ndarray, optional
            Path indices of the chunk to simulate.

        Returns
        -------
        stockout : numpy.ndarray
            ``(R, I, P')`` bool.
        unmet : numpy.ndarray
            ``(R, I, P')`` float64, tonnes unmet over the horizon.
        """

        def take(a: np.ndarray) -> np.ndarray:
            return a if cols is None else a[..., cols]

        arrays = {k: take(v) for k, v in self.arrays.items()}
        arrays["stock0"] = (take(self.stock0) + cover * take(self.tonnes_per_week)).astype(
            np.float32
        )
        arrays["cap_cover"] = (take(self.cap) + cover * take(self.ceiling_per_week)).astype(
            np.float32
        )
        shared = self.setup.shared
        short = simulate_by_buyer(
            arrays, shared.allocation, backend=shared.backend, parallel=shared.parallel
        )
        H = self.H
        s = short[:, :H]  # (R, H, I, P) float32
        u = take(self.use_h)
        # the share of whole use, in float64 as the propagation's statistics compute it,
        # only where something is short (most cells are not)
        idx = np.nonzero(s > 0)
        s_nz = s[idx].astype(np.float64)
        u_nz = u[idx].astype(np.float64)
        share = np.divide(s_nz, u_nz, out=np.zeros_like(s_nz), where=u_nz > 0)
        hit = np.zeros(s.shape, dtype=bool)
        hit[idx] = share > kernels.SHARE_TOL
        return hit.any(axis=1), s.sum(axis=1, dtype=np.float64)


def _need(chunk: _Chunk, tolerance: float, max_weeks: float) -> tuple[np.ndarray, np.ndarray]:
    """Return the buffer each cell of the chunk needed, and its unmet tonnes without one."""
    fail0, unmet0 = chunk.run(np.zeros_like(chunk.stock0))
    hi0 = min(chunk.H * WEEKS_PER_MONTH, max_weeks)
    lo = np.zeros(fail0.shape)
    hi = np.where(fail0, hi0, 0.0)
    reachable = np.ones(fail0.shape, dtype=bool)
    # 1. an upper bracket: double until the stock-out is gone
    open_ = fail0.copy()
    while open_.any():
        cols = np.flatnonzero(open_.any(axis=(0, 1)))
        short, _ = chunk.run(hi[..., cols], cols)
        o = open_[..., cols]
        failing = o & short
        h = hi[..., cols]
        lo[..., cols] = np.where(failing, h, lo[..., cols])
        top = failing & (h >= max_weeks)
        reachable[..., cols] &= ~top
        hi[..., cols] = np.where(failing & ~top, np.minimum(2 * h, max_weeks), h)
        open_[..., cols] = failing & ~top
    # 2. bisection, every cell with its own buffer
    active = fail0 & reachable & (hi - lo > tolerance)
    while active.any():
        cols = np.flatnonzero(active.any(axis=(0, 1)))
        a = active[..., cols]
        l_, h_ = lo[..., cols], hi[..., cols]
        mid = np.where(a, 0.5 * (l_ + h_), h_)
        short, _ = chunk.run(mid, cols)
        lo[..., cols] = np.where(a & short, mid, l_)
        hi[..., cols] = np.where(a & ~short, mid, h_)
        active = fail0 & reachable & (hi - lo > tolerance)
    need = np.where(fail0, np.where(reachable, hi, np.inf), 0.0)
    return need, unmet0


# --------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------


def _order_stat_cover(sorted_need: np.ndarray, target: float) -> tuple[float, float, float]:
    """Smallest cover with P(need > c) <= target, and its Monte Carlo 90% interval."""
    n = sorted_need.shape[-1]
    k = math.floor(target * n + 1e-9)  # paths allowed above the cover
    cover = float(sorted_need[n - 1 - k]) if k < n else 0.0
    z = NormalDist().inv_cdf(0.5 + CI_LEVEL / 2)
    spread = z * math.sqrt(n * target * (1 - target))
    lo_k = min(n - 1, max(0, math.floor(n - 1 - k - spread)))
    hi_k = min(n - 1, max(0, math.ceil(n - 1 - k + spread)))
    return cover, float(sorted_need[lo_k]), float(sorted_need[hi_k])


def _curve(need: np.ndarray, covers_max: np.ndarray) -> list[tuple[int, int, float, float]]:
    R, I, _ = need.shape  # noqa: E741
    rows = []
    for r in range(R):
        for i in range(I):
            top = covers_max[r, i]
            grid = np.linspace(0.0, top, CURVE_POINTS) if top > 0 else np.zeros(1)
            s = np.sort(need[r, i])
            # P(need > c) = 1 - (number of need <= c) / n
            p = 1.0 - np.searchsorted(s, grid, side="right") / s.size
            rows.extend((r, i, float(c), float(q)) for c, q in zip(grid, p, strict=True))
    return rows


def _quantiles(x: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return x.mean(axis=axis), np.quantile(x, 0.05, axis=axis), np.quantile(x, 0.95, axis=axis)


def buffer(
    paths: xr.Dataset,
    params: PropagationParams | str | Path | None = None,
    *,
    scenario: Any = None,
    targets: Sequence[float] = DEFAULT_TARGETS,
    horizon: int = DEFAULT_HORIZON,
    n_paths: int | None = DEFAULT_BUFFER_PATHS,
    seed: SeedLike = 0,
    price_usd_per_kg: Sequence[float] | None = None,
    block_size: int = DEFAULT_BLOCK_SIZE,
    kernel: str = "auto",
    tolerance_weeks: float = TOLERANCE_WEEKS,
    max_weeks: float = MAX_WEEKS,
) -> BufferResult:
    """Size the buffer stock that keeps P(stock-out within ``horizon`` months) below targets.

    Parameters
    ----------
    paths : xarray.Dataset
        Forecast paths (``paths.nc`` of ``riskmodel forecast``; see
        :func:`~riskmodel.propagation.propagate`).
    params : PropagationParams, str or pathlib.Path, optional
        Propagation parameters; the bundled ``priors/propagation.yaml`` when omitted.
    scenario : Scenario, mapping or None
        The allocation rule (as in :func:`~riskmodel.propagation.propagate`); None: the
        scenario the paths carry (``scenario_json``), else proportional allocation.
    targets : sequence of float
        Targets for P(stock-out within the horizon), each in (0, 1).
    horizon : int
        Months from the forecast's first month; at most the forecast's length.
    n_paths : int or None
        Monte Carlo paths (forecast paths resampled with replacement unless equal to
        their number); None: one per forecast path, as ``riskmodel shortage`` does.
    seed : int or numpy.random.Generator
        The run's seed: the Monte Carlo uses ``stage_seeds(seed).shortage``, as
        :func:`riskmodel.pipeline.shortage` does, so with ``n_paths=None`` the risk
        without a buffer is ``riskmodel shortage --seed``'s. A Generator is advanced.
    price_usd_per_kg : (float, float), optional
        A sourced price range of the magnets (USD per kg), drawn uniformly and
        independently per path. None (default): no value, tonnes only (the bundled
        data hold no magnet price; the ``value_note`` column says so).
    block_size : int
        Paths per block of randomness (as in :func:`~riskmodel.propagation.propagate`).
    kernel : {"auto", "numba", "numpy"}
        Kernel implementation.
    tolerance_weeks : float
        Bisection tolerance on each path's needed cover.
    max_weeks : float
        Largest buffer tried; paths short even then make the cover unreachable.

    Returns
    -------
    BufferResult
        ``table`` (:data:`BUFFER_COLUMNS`, one row per region, industry and target),
        ``curve`` (:data:`CURVE_COLUMNS`), ``need_weeks`` and ``attrs``.

    Raises
    ------
    BufferInputError
        If a target, the horizon, the price or ``n_paths`` is out of range.
    riskmodel.propagation.io.ForecastInputError
        If ``paths`` breaks the input contract.

    Warns
    -----
    BufferWarning
        If a path is short at a cover above the one it needed (the stock-out was not
        monotone in the buffer: the direct simulation is reported), or a target is
        unreachable within ``max_weeks``.

    Examples
    --------
    >>> import riskmodel as rm
    >>> from riskmodel.propagation import read_paths
    >>> res = rm.buffer(read_paths("forecast/baseline"), seed=0)  # doctest: +SKIP
    >>> res.table.query("region == 'EU' and industry == 'automotive'")  # doctest: +SKIP
    """
    targets_ = _check_targets(targets)
    price = _check_price(price_usd_per_kg)
    if not tolerance_weeks > 0 or not max_weeks > tolerance_weeks:
        raise BufferInputError("need 0 < tolerance_weeks < max_weeks")
    run_seed = seed_label(seed)
    mc_seed = stage_seeds(seed).shortage
    setup = _Setup.build(paths, params, scenario, horizon, n_paths, mc_seed, block_size, kernel)
    params_ = setup.params
    R, I, N = len(params_.regions), len(params_.industries), setup.n_paths  # noqa: E741

    need = np.empty((R, I, N))
    unmet0 = np.zeros((R, I))
    tonnes_pw = np.empty((R, I, N))
    usual = np.zeros((R, I))
    chi = np.zeros((R, I))
    for a, b, draws in setup.chunks():
        chunk = _Chunk(setup, draws)
        need[..., a:b], u0 = _need(chunk, tolerance_weeks, max_weeks)
        unmet0 += u0.sum(axis=-1)
        tonnes_pw[..., a:b] = chunk.tonnes_per_week
        usual += chunk.usual_cover.sum(axis=-1)
        chi += chunk.china_share.sum(axis=-1)
    unmet0 /= N
    usual /= N
    chi /= N

    sorted_need = np.sort(need, axis=-1)
    p0 = (need > 0).mean(axis=-1)
    chosen = np.zeros((len(targets_), R, I))
    ci = np.zeros((len(targets_), R, I, 2))
    for k, t in enumerate(targets_):
        for r in range(R):
            for i in range(I):
                c, lo, hi = _order_stat_cover(sorted_need[r, i], t)
                chosen[k, r, i] = c
                ci[k, r, i] = (lo, hi)
    reachable = np.isfinite(chosen)

    # second pass: every cell at its chosen cover, simulated directly
    p_direct = np.zeros((len(targets_), R, I))
    unmet_at = np.zeros((len(targets_), R, I))
    violations = 0
    for a, b, draws in setup.chunks():
        chunk = _Chunk(setup, draws)
        for k in range(len(targets_)):
            c = np.where(reachable[k], chosen[k], max_weeks)[..., None]
            cover = np.broadcast_to(c, (R, I, b - a)).astype(np.float64)
            short, unmet = chunk.run(cover)
            p_direct[k] += short.sum(axis=-1)
            unmet_at[k] += unmet.sum(axis=-1)
            predicted = need[..., a:b] > cover
            violations += int((short & ~predicted & reachable[k][..., None]).sum())
    p_direct /= N
    unmet_at /= N
    if violations:
        warnings.warn(
            f"{violations} path(s) ran short at a buffer above the one they needed: the "
            "stock-out was not monotone in the buffer there; p_stockout_at_cover is the "
            "direct simulation",
            BufferWarning,
            stacklevel=2,
        )
    if not reachable.all():
        warnings.warn(
            f"{int((~reachable).sum())} region x industry x target(s) cannot be reached with "
            f"a buffer of up to {max_weeks:g} weeks (cover reported as inf)",
            BufferWarning,
            stacklevel=2,
        )

    price_draw = None
    if price is not None:
        (price_seed,) = setup.root.spawn(1)
        rng = np.random.Generator(np.random.PCG64(price_seed))
        price_draw = rng.uniform(price[0], price[1], size=N)  # USD per kg, per path

    regions, industries = list(params_.region_names), list(params_.industries)
    rows = []
    for k, t in enumerate(targets_):
        for r, region in enumerate(regions):
            for i, industry in enumerate(industries):
                c = chosen[k, r, i]
                ok = bool(reachable[k, r, i])
                tonnes = c * tonnes_pw[r, i] if ok else np.full(N, np.nan)
                t_mean, t05, t95 = _quantiles(tonnes)
                if price_draw is not None and ok:
                    v_mean, v05, v95 = _quantiles(tonnes * price_draw * 1000.0 / 1e6)
                    note = "price drawn uniformly in the given range, per path"
                else:
                    v_mean = v05 = v95 = np.nan
                    note = NO_PRICE_NOTE if price_draw is None else "cover unreachable"
                rows.append(
                    {
                        "scenario": setup.scenario_name,
                        "region": region,
                        "industry": industry,
                        "horizon_months": setup.horizon,
                        "target": t,
                        "p_stockout_no_buffer": p0[r, i],
                        "cover_weeks": c,
                        "cover_weeks_low": ci[k, r, i, 0],
                        "cover_weeks_high": ci[k, r, i, 1],
                        "reachable": ok,
                        "p_stockout_at_cover": p_direct[k, r, i],
                        "usual_cover_weeks": usual[r, i],
                        "china_share": chi[r, i],
                        "buffer_t_mean": t_mean,
                        "buffer_t_p05": t05,
                        "buffer_t_p95": t95,
                        "price_usd_per_kg_low": np.nan if price is None else price[0],
                        "price_usd_per_kg_high": np.nan if price is None else price[1],
                        "buffer_value_musd_mean": v_mean,
                        "buffer_value_musd_p05": v05,
                        "buffer_value_musd_p95": v95,
                        "value_note": note,
                        "expected_shortfall_no_buffer_t": unmet0[r, i],
                        "expected_shortfall_at_cover_t": unmet_at[k, r, i],
                        "expected_shortfall_avoided_t": unmet0[r, i] - unmet_at[k, r, i],
                        "n_paths": N,
                        "seed": run_seed,
                    }
                )
    table = pd.DataFrame(rows, columns=list(BUFFER_COLUMNS))

    finite = np.where(np.isfinite(chosen), chosen, 0.0)
    top = np.maximum(1.25 * finite.max(axis=0), 0.0)
    curve_rows = _curve(need, top)
    curve = pd.DataFrame(
        [(setup.scenario_name, regions[r], industries[i], c, p) for r, i, c, p in curve_rows],
        columns=list(CURVE_COLUMNS),
    )
    attrs = {
        "stage": "buffer",
        "scenario": setup.scenario_name,
        "horizon_months": setup.horizon,
        "first_month": setup.months[0],
        "last_month_in_horizon": setup.months[setup.horizon - 1],
        "targets": list(targets_),
        "n_paths": N,
        "n_forecast_paths": setup.n_forecast,
        "resampled_forecast_paths": int(setup.resample),
        "run_seed": run_seed,
        "seed": setup.entropy,
        "block_size": setup.block_size,
        "tolerance_weeks": tolerance_weeks,
        "max_weeks": max_weeks,
        "monotonicity_violations": violations,
        "allocation": setup.allocation_rule,
        "params_digest": params_.digest,
        "price_usd_per_kg": None if price is None else list(price),
        "riskmodel_version": __version__,
    }
    return BufferResult(table, curve, need, regions, industries, attrs)


def stockout_at_cover(
    paths: xr.Dataset,
    cover_weeks: float | np.ndarray,
    params: PropagationParams | str | Path | None = None,
    *,
    scenario: Any = None,
    horizon: int = DEFAULT_HORIZON,
    n_paths: int | None = DEFAULT_BUFFER_PATHS,
    seed: SeedLike = 0,
    block_size: int = DEFAULT_BLOCK_SIZE,
    kernel: str = "auto",
) -> np.ndarray:
    """P(stock-out within ``horizon`` months) with a given buffer, simulated directly.

    The check of a chosen cover on other paths: with a fresh ``seed`` the Monte Carlo
    draws are independent of the ones that chose it.

    Parameters
    ----------
    paths : xarray.Dataset
        Forecast paths.
    cover_weeks : float or numpy.ndarray
        The buffer, in weeks of China-sourced demand: one for every cell or ``(R, I)``.
    params, scenario, horizon, n_paths, seed, block_size, kernel
        As in :func:`buffer`.

    Returns
    -------
    numpy.ndarray
        ``(R, I)`` P(stock-out within the horizon), regions and industries in the
        parameters' order.
    """
    setup = _Setup.build(
        paths, params, scenario, horizon, n_paths, stage_seeds(seed).shortage, block_size, kernel
    )
    R, I = len(setup.params.regions), len(setup.params.industries)  # noqa: E741
    c = np.broadcast_to(np.asarray(cover_weeks, dtype=np.float64), (R, I))
    if not np.isfinite(c).all() or (c < 0).any():
        raise BufferInputError("cover_weeks must be finite and >= 0")
    hits = np.zeros((R, I))
    for a, b, draws in setup.chunks():
        chunk = _Chunk(setup, draws)
        short, _ = chunk.run(np.broadcast_to(c[..., None], (R, I, b - a)).astype(np.float64))
        hits += short.sum(axis=-1)
    return hits / setup.n_paths


def write_buffer_outputs(
    results: BufferResult | Sequence[BufferResult], out_dir: str | Path
) -> dict[str, Path]:
    """Write ``buffer.csv``, ``buffer_curve.csv`` and ``buffer.json`` atomically.

    Parameters
    ----------
    results : BufferResult or sequence of BufferResult
        From :func:`buffer`, one per scenario (their rows are stacked).
    out_dir : str or pathlib.Path
        Folder (created if needed).

    Returns
    -------
    dict of str to Path
        File name -> path written.
    """
    from riskmodel.atomic import atomic_write

    items = [results] if isinstance(results, BufferResult) else list(results)
    if not items:
        raise ValueError("nothing to write: no buffer results")
    table = pd.concat([r.table for r in items], ignore_index=True)
    curve = pd.concat([r.curve for r in items], ignore_index=True)
    attrs = {"scenarios": [r.attrs for r in items]}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {name: out / name for name in ("buffer.csv", "buffer_curve.csv", "buffer.json")}
    atomic_write(files["buffer.csv"], lambda p: table.to_csv(p, index=False, float_format="%.6g"))
    atomic_write(
        files["buffer_curve.csv"], lambda p: curve.to_csv(p, index=False, float_format="%.6g")
    )
    atomic_write(
        files["buffer.json"],
        lambda p: Path(p).write_text(json.dumps(attrs, indent=2, default=str) + "\n"),
    )
    return files
