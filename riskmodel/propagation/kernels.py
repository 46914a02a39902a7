"""Array kernels of the Monte Carlo propagation: NumPy reference and fused numba loops.

This module depends on NumPy only (numba is used when it is installed); it knows
nothing of xarray, pandas, YAML or the pipeline. The engine
(:mod:`riskmodel.propagation.engine`) draws the random parameters, builds the arrays
below and calls these kernels chunk by chunk.

Array layout
------------
Every per-path array keeps the **path axis last** (``P``, contiguous), so that the
fused loops run over paths in the innermost loop, where the compiler can vectorise
them (each path is independent), and a block of paths is a slice of the last axis:

==================  ===================  =============================================
name                shape                meaning
==================  ===================  =============================================
``demand``          ``(R, T, I, P)``     tonnes of magnets industry ``i`` of region
                                         ``r`` needs in month ``t`` (float32)
``demand_total``    ``(R, T, P)``        ``demand`` summed over industries
``supply_china``    ``(R, T, P)``        China's exports reaching region ``r``
``supply_other``    ``(R, T, P)``        non-China supply reaching region ``r``
``stock0``          ``(R, I, P)``        opening inventory (tonnes)
``cap_cover``       ``(R, I, P)``        inventory ceiling in months of current demand
``deferred_share``  ``(R, I, P)``        share of a month's unmet demand made up later
``sub_rate``        ``(R, I, P)``        share of demand substituted or cut per month of
                                         shortage beyond the lag (see below)
``sub_lag``         ``(R, I, P)``        months of shortage before substitution starts
``ceiling_scale``   ``(R, T, P)``        multiplier of the inventory ceiling in month
                                         ``t`` (above 1: hoarding ahead of a policy date)
``short``           ``(R, T, I, P)``     unmet demand (tonnes), the kernel's output
==================  ===================  =============================================

The recursion
-------------
For each path, region ``r``, industry ``i`` and month ``t``::

    keep      = max(1 - sub_rate * max(z, 0), 0)  # z: months short - sub_lag
    need      = D * keep                    # demand left after substitution
    allocated = share of the region's supply given to i (see below, from D)
    available = stock + allocated
    used      = min(available, need)
    short     = need - used
    z         = z + [short > SHARE_TOL * need]
    rest      = available - used
    catch_up  = min(rest, backlog)          # deferred orders made up first
    backlog   = backlog - catch_up + deferred_share * short
    stock     = min(rest - catch_up, cap_cover * ceiling_scale[t] * need)

Substitution and demand reduction grow with the length of a shortage: ``z`` starts
at ``-sub_lag`` and counts the months the industry is short; once it is positive,
each further month of shortage removes ``sub_rate`` of the industry's demand for
good (redesigns are not undone within the horizon). The allocation is computed from
the demand before substitution (buyers keep their contracted share; what they no
longer need goes to their stock, up to the ceiling).

Part of a month's unmet demand (``deferred_share``) is deferred: the output is made
later, when supply allows, and competes with restocking; the rest is lost. ``short``
is the month's own unmet demand (deferred orders are not counted twice). Stocks
rebuild whenever supply exceeds demand and the backlog, up to the ceiling
``cap_cover`` (the usual cover times the restock multiple): beyond it buyers stop
taking deliveries, so a surplus of the forecast's shipments is not bought.
``short == 0`` exactly whenever ``available >= D`` (IEEE subtraction of ordered
numbers never goes negative).

Allocation of a region's supply across its industries
-----------------------------------------------------
``PROPORTIONAL``
    Every industry gets ``(supply_china + supply_other) * D_i / sum(D)``.
``END_USE``
    China's licences are refused to some end uses (``eligible[i] = False``): China's
    supply goes to the eligible industries in proportion to their demand; non-China
    supply is shared by all industries in proportion to demand.
``PRIORITY``
    The industries in ``order`` are served in that order, each up to its demand,
    from the pooled supply; the remaining industries share what is left in
    proportion to demand; anything left after every industry is served in full is
    shared by all in proportion to demand (it goes to stock, up to the ceiling).

Floating point
--------------
All arithmetic is float32, in the same order in the NumPy and numba versions, and
without ``fastmath`` (no reassociation, no fused multiply-add contraction): the
result of a path does not depend on where the path sits in the chunk, which is what
makes results bit-identical across chunk sizes. Statistics are accumulated in
float64: integer counts (:class:`ShortfallCounts`) in any order, float sums
(:class:`ShortfallSums`) per block of paths, in path order, so that the engine can add
the blocks in a fixed order.

Speed
-----
The NumPy reference makes about eight array passes per month (the "naive" version,
~0.1 of a streaming add over the same bytes); the numba loops make one pass, are
vectorised over paths (AVX-512 where available), and with ``parallel=True`` spread
regions over threads (``numba.prange``) with identical results. See
``benchmarks/bench_propagation.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:  # numba is a dependency of riskmodel, but the NumPy reference works without it
    import numba as _numba

    NUMBA_AVAILABLE = True
except ImportError:  # pragma: no cover - exercised only where numba is missing
    _numba = None
    NUMBA_AVAILABLE = False

__all__ = [
    "CUM_BINS",
    "CUM_BINS_PER_OCTAVE",
    "CUM_MIN_T",
    "END_USE",
    "MODES",
    "NUMBA_AVAILABLE",
    "PRIORITY",
    "PROPORTIONAL",
    "SHARE_BINS",
    "SHARE_TOL",
    "THRESHOLDS",
    "ShortfallCounts",
    "ShortfallSums",
    "aggregate_block",
    "build_demand",
    "cum_bin_edges",
    "cum_bins",
    "resolve_backend",
    "simulate_shortfall",
]

#: Allocation modes (ints, so the numba loop can branch on them cheaply).
PROPORTIONAL = 0
PRIORITY = 1
END_USE = 2
MODES = {"proportional": PROPORTIONAL, "priority": PRIORITY, "end_use": END_USE}

#: A monthly shortfall below this share of demand counts as none: float32 rounding of
#: the allocation leaves shortfalls of a few 1e-7 of demand when supply equals demand.
SHARE_TOL = 1e-5

#: Shortfall-share thresholds x of P(shortfall share > x); 0 means "> SHARE_TOL".
THRESHOLDS = (0.0, 0.1, 0.25, 0.5)

#: Histogram of the monthly shortfall share: bin 0 holds "no shortfall" (share <=
#: SHARE_TOL), bins 1..SHARE_BINS are [k/SHARE_BINS, (k+1)/SHARE_BINS), width 0.01.
SHARE_BINS = 100

#: Histogram of cumulative unmet demand (tonnes): bin 0 holds values below CUM_MIN_T
#: (2**-10 t, about 1 kg), then CUM_BINS_PER_OCTAVE bins per doubling over CUM_OCTAVES
#: doublings (to 2**24 t); the last bin also takes everything above. Within a doubling
#: the bins are equally wide, so neighbouring edges are at most 12.5% apart. The bin
#: is read off the float's exponent and top mantissa bits: no logarithm per cell.
CUM_MIN_EXP = -10
CUM_MIN_T = 2.0**CUM_MIN_EXP
CUM_OCTAVES = 34
CUM_BINS_PER_OCTAVE = 8
CUM_BINS = 1 + CUM_OCTAVES * CUM_BINS_PER_OCTAVE
#: float64 bits >> _CUM_SHIFT = biased exponent * 8 + top 3 mantissa bits (c > 0)
_CUM_SHIFT = 52 - 3
_CUM_OFFSET = (1023 + CUM_MIN_EXP) * CUM_BINS_PER_OCTAVE - 1


def cum_bin_edges() -> np.ndarray:
    """Return the edges of the cumulative-unmet-demand bins (tonnes).

    Returns
    -------
    numpy.ndarray
        ``CUM_BINS + 1`` edges: ``0``; then for bin ``k >= 1`` the lower edge
        ``2**(CUM_MIN_EXP + (k - 1) // 8) * (1 + ((k - 1) % 8) / 8)``; the last edge is
        the top of the last regular bin (the last bin is open above).
    """
    k = np.arange(CUM_BINS, dtype=np.int64)  # bins 1..CUM_BINS-1 and the top edge
    octave, step = np.divmod(k, CUM_BINS_PER_OCTAVE)
    lower = 2.0 ** (CUM_MIN_EXP + octave) * (1.0 + step / CUM_BINS_PER_OCTAVE)
    return np.concatenate([[0.0], lower])


def cum_bins(cum: np.ndarray) -> np.ndarray:
    """Bin index of cumulative unmet demand (float64 tonnes, >= 0), see ``CUM_BINS``."""
    cum = np.ascontiguousarray(cum, dtype=np.float64)
    raw = (cum.view(np.int64) >> _CUM_SHIFT) - _CUM_OFFSET
    return np.where(cum < CUM_MIN_T, 0, np.minimum(raw, CUM_BINS - 1))


def resolve_backend(backend: str = "auto") -> str:
    """Return ``"numba"`` or ``"numpy"`` for a backend request.

    Parameters
    ----------
    backend : {"auto", "numba", "numpy"}
        ``"auto"`` picks numba when it is installed.

    Returns
    -------
    str
    """
    if backend == "auto":
        return "numba" if NUMBA_AVAILABLE else "numpy"
    if backend == "numba" and not NUMBA_AVAILABLE:
        raise ValueError("kernel backend 'numba' requested but numba is not installed")
    if backend not in ("numba", "numpy"):
        raise ValueError(f"unknown kernel backend {backend!r}; use 'auto', 'numba' or 'numpy'")
    return backend


# --------------------------------------------------------------------------------------
# Demand
# --------------------------------------------------------------------------------------


def _build_demand_numpy(
    region_demand: np.ndarray, shares: np.ndarray, mix: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    R, T, P = region_demand.shape
    I = shares.shape[1]  # noqa: E741 - I is the industry count throughout
    demand = np.empty((R, T, I, P), dtype=np.float32)
    total = np.empty((R, T, P), dtype=np.float32)
    for t in range(T):
        weights = shares * mix[None, :, t, :]  # (R, I, P)
        norm = weights[:, 0, :].copy()
        for i in range(1, I):
            norm += weights[:, i, :]
        scale = np.divide(region_demand[:, t, :], norm, out=np.zeros_like(norm), where=norm > 0)
        dt = weights * scale[:, None, :]
        demand[:, t] = dt
        acc = dt[:, 0, :].copy()
        for i in range(1, I):
            acc += dt[:, i, :]
        total[:, t] = acc
    return demand, total


def build_demand(
    region_demand: np.ndarray,
    shares: np.ndarray,
    mix: np.ndarray,
    *,
    backend: str = "auto",
    parallel: bool = False,
    out: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Split each region's demand across industries.

    ``demand[r, t, i, p] = region_demand[r, t, p] * w[r, i, p] m[i, t, p] /
    sum_j w[r, j, p] m[j, t, p]``: the industry mix starts at the shares ``w`` and
    drifts with the relative growth factors ``m`` while the region's total stays
    ``region_demand``.

    Parameters
    ----------
    region_demand : numpy.ndarray
        ``(R, T, P)`` float32, tonnes per month.
    shares : numpy.ndarray
        ``(R, I, P)`` float32, industry shares (each column sums to 1).
    mix : numpy.ndarray
        ``(I, T, P)`` float32, growth factors (1 in the first month).
    backend : {"auto", "numba", "numpy"}
        Which implementation to use.
    parallel : bool
        With numba, build regions on separate threads (identical result).
    out : tuple of numpy.ndarray, optional
        ``(demand, demand_total)`` arrays to write into (numba backend; reusing them
        across chunks saves the page faults of fresh allocations).

    Returns
    -------
    demand : numpy.ndarray
        ``(R, T, I, P)`` float32.
    demand_total : numpy.ndarray
        ``(R, T, P)`` float32, ``demand`` summed over industries (in industry order).
    """
    region_demand = np.ascontiguousarray(region_demand, dtype=np.float32)
    shares = np.ascontiguousarray(shares, dtype=np.float32)
    mix = np.ascontiguousarray(mix, dtype=np.float32)
    if resolve_backend(backend) == "numba":
        R, T, P = region_demand.shape
        I = shares.shape[1]  # noqa: E741
        if out is None:
            demand = np.empty((R, T, I, P), dtype=np.float32)
            total = np.empty((R, T, P), dtype=np.float32)
        else:
            demand, total = out
            if demand.shape != (R, T, I, P) or total.shape != (R, T, P):
                raise ValueError("build_demand: out arrays have the wrong shape")
        run = _build_demand_par_nb if parallel else _build_demand_nb
        run(region_demand, shares, mix, demand, total)
        return demand, total
    return _build_demand_numpy(region_demand, shares, mix)


# --------------------------------------------------------------------------------------
# The inventory recursion
# --------------------------------------------------------------------------------------


def _check_kernel_inputs(
    demand: np.ndarray,
    demand_total: np.ndarray,
    supply_china: np.ndarray,
    supply_other: np.ndarray,
    stock0: np.ndarray,
    cap_cover: np.ndarray,
    deferred_share: np.ndarray,
    sub_rate: np.ndarray,
    sub_lag: np.ndarray,
    ceiling_scale: np.ndarray,
) -> tuple[int, int, int, int]:
    if demand.ndim != 4:
        raise ValueError(f"demand must be (region, month, industry, path), got {demand.shape}")
    R, T, I, P = demand.shape  # noqa: E741
    for name, arr, shape in (
        ("demand_total", demand_total, (R, T, P)),
        ("supply_china", supply_china, (R, T, P)),
        ("supply_other", supply_other, (R, T, P)),
        ("stock0", stock0, (R, I, P)),
        ("cap_cover", cap_cover, (R, I, P)),
        ("deferred_share", deferred_share, (R, I, P)),
        ("sub_rate", sub_rate, (R, I, P)),
        ("sub_lag", sub_lag, (R, I, P)),
        ("ceiling_scale", ceiling_scale, (R, T, P)),
    ):
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    return R, T, I, P


def _allocation_arrays(
    mode: int, n_industries: int, eligible: Any, order: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    elig = (
        np.ones(n_industries, dtype=np.bool_)
        if eligible is None
        else np.asarray(eligible, dtype=np.bool_)
    )
    if elig.shape != (n_industries,):
        raise ValueError(f"eligible must have {n_industries} entries, got {elig.shape}")
    ordr = np.zeros(0, dtype=np.int64) if order is None else np.asarray(order, dtype=np.int64)
    if ordr.ndim != 1 or (ordr.size and (ordr.min() < 0 or ordr.max() >= n_industries)):
        raise ValueError(f"order must list industry indices in [0, {n_industries}), got {ordr}")
    if np.unique(ordr).size != ordr.size:
        raise ValueError(f"order lists an industry twice: {ordr}")
    is_pri = np.zeros(n_industries, dtype=np.bool_)
    is_pri[ordr] = True
    if mode not in (PROPORTIONAL, PRIORITY, END_USE):
        raise ValueError(f"unknown allocation mode {mode!r}")
    return elig, ordr, is_pri


def simulate_shortfall(
    demand: np.ndarray,
    demand_total: np.ndarray,
    supply_china: np.ndarray,
    supply_other: np.ndarray,
    stock0: np.ndarray,
    cap_cover: np.ndarray,
    deferred_share: np.ndarray | None = None,
    sub_rate: np.ndarray | None = None,
    sub_lag: np.ndarray | None = None,
    ceiling_scale: np.ndarray | None = None,
    *,
    mode: int = PROPORTIONAL,
    eligible: Any = None,
    order: Any = None,
    out: np.ndarray | None = None,
    backend: str = "auto",
    parallel: bool = False,
) -> np.ndarray:
    """Step the inventory recursion over months and return the unmet demand.

    Parameters
    ----------
    demand : numpy.ndarray
        ``(R, T, I, P)`` float32, tonnes per month.
    demand_total : numpy.ndarray
        ``(R, T, P)`` float32, ``demand`` summed over industries.
    supply_china, supply_other : numpy.ndarray
        ``(R, T, P)`` float32, tonnes per month reaching each region.
    stock0 : numpy.ndarray
        ``(R, I, P)`` float32, opening inventories (tonnes).
    cap_cover : numpy.ndarray
        ``(R, I, P)`` float32, inventory ceiling in months of the current month's
        demand.
    deferred_share : numpy.ndarray, optional
        ``(R, I, P)`` float32 in [0, 1], share of a month's unmet demand deferred
        (made up later from surplus supply); default 0 (all of it lost).
    sub_rate : numpy.ndarray, optional
        ``(R, I, P)`` float32 >= 0, share of the industry's demand substituted or
        cut for each month of shortage beyond ``sub_lag``; default 0 (none).
    sub_lag : numpy.ndarray, optional
        ``(R, I, P)`` float32 >= 0, months of shortage before substitution starts;
        default 0.
    ceiling_scale : numpy.ndarray, optional
        ``(R, T, P)`` float32 > 0, multiplier of the inventory ceiling by month
        (hoarding ahead of a known policy date); default 1.
    mode : int
        :data:`PROPORTIONAL`, :data:`PRIORITY` or :data:`END_USE`.
    eligible : array_like of bool, optional
        ``(I,)``: for ``END_USE``, the industries China supplies (default all).
    order : array_like of int, optional
        For ``PRIORITY``, industry indices served first, in order.
    out : numpy.ndarray, optional
        ``(R, T, I, P)`` float32 array to write into.
    backend : {"auto", "numba", "numpy"}
        ``"numpy"`` is the vectorised reference (one pass per operation and month);
        ``"numba"`` the fused loop (same arithmetic, one pass).
    parallel : bool
        With numba, run regions on separate threads (``numba.prange``; the result is
        identical). Leave False inside Dask tasks, which are parallel already.

    Returns
    -------
    numpy.ndarray
        ``short``, ``(R, T, I, P)`` float32, tonnes of demand not met each month.
    """
    if deferred_share is None:
        deferred_share = np.zeros_like(stock0, dtype=np.float32)
    if sub_rate is None:
        sub_rate = np.zeros_like(stock0, dtype=np.float32)
    if sub_lag is None:
        sub_lag = np.zeros_like(stock0, dtype=np.float32)
    if ceiling_scale is None:
        ceiling_scale = np.ones_like(supply_china, dtype=np.float32)
    R, T, I, P = _check_kernel_inputs(  # noqa: E741
        demand,
        demand_total,
        supply_china,
        supply_other,
        stock0,
        cap_cover,
        deferred_share,
        sub_rate,
        sub_lag,
        ceiling_scale,
    )
    elig, ordr, is_pri = _allocation_arrays(mode, I, eligible, order)
    if out is None:
        out = np.empty((R, T, I, P), dtype=np.float32)
    args = [
        np.ascontiguousarray(a, dtype=np.float32)
        for a in (
            demand,
            demand_total,
            supply_china,
            supply_other,
            stock0,
            cap_cover,
            deferred_share,
            sub_rate,
            sub_lag,
            ceiling_scale,
        )
    ]
    if resolve_backend(backend) == "numba":
        run = _simulate_par_nb if parallel else _simulate_nb
        run(*args, mode, elig, ordr, is_pri, out)
    else:
        _simulate_numpy(*args, mode, elig, ordr, is_pri, out)
    return out


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` where ``den > 0``, else 0 (float32, no warnings)."""
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def _simulate_numpy(
    demand: np.ndarray,
    demand_total: np.ndarray,
    supply_china: np.ndarray,
    supply_other: np.ndarray,
    stock0: np.ndarray,
    cap_cover: np.ndarray,
    deferred_share: np.ndarray,
    sub_rate: np.ndarray,
    sub_lag: np.ndarray,
    ceiling_scale: np.ndarray,
    mode: int,
    elig: np.ndarray,
    order: np.ndarray,
    is_pri: np.ndarray,
    out: np.ndarray,
) -> None:
    """Vectorised reference: one array operation at a time over (R, I, P), month by month."""
    T, I = demand.shape[1], demand.shape[2]  # noqa: E741
    zero, one, tol = np.float32(0), np.float32(1), np.float32(SHARE_TOL)
    stock = stock0.copy()
    backlog = np.zeros_like(stock0)
    z = -sub_lag
    for t in range(T):
        d = demand[:, t]  # (R, I, P)
        sd = demand_total[:, t]  # (R, P)
        sc = supply_china[:, t]
        sn = supply_other[:, t]
        if mode == PROPORTIONAL:
            q = _safe_div(sc + sn, sd)
            alloc = d * q[:, None, :]
        elif mode == END_USE:
            se = np.zeros_like(sd)
            for i in range(I):
                if elig[i]:
                    se += d[:, i]
            qn = _safe_div(sn, sd)
            qe = _safe_div(sc, se) + qn
            alloc = d * np.where(elig[None, :, None], qe[:, None, :], qn[:, None, :])
        else:
            rem = sc + sn
            base = np.zeros_like(d)
            for i in order:
                a = np.minimum(d[:, i], rem)
                base[:, i] = a
                rem = rem - a
            sdr = np.zeros_like(sd)
            for i in range(I):
                if not is_pri[i]:
                    sdr += d[:, i]
            qr = np.minimum(_safe_div(rem, sdr), np.float32(1))
            left = np.where(sdr > 0, np.maximum(rem - qr * sdr, np.float32(0)), rem)
            qs = _safe_div(left, sd)
            qrow = np.where(is_pri[None, :, None], qs[:, None, :], (qr + qs)[:, None, :])
            alloc = base + d * qrow
        keep = np.maximum(one - sub_rate * np.maximum(z, zero), zero)
        need = d * keep
        available = stock + alloc
        used = np.minimum(available, need)
        short = need - used
        out[:, t] = short
        z = z + (short > tol * need).astype(np.float32)
        rest = available - used
        catch = np.minimum(rest, backlog)
        backlog = (backlog - catch) + deferred_share * short
        stock = np.minimum(rest - catch, (cap_cover * ceiling_scale[:, t][:, None, :]) * need)


# --------------------------------------------------------------------------------------
# Streaming statistics of one block of paths
# --------------------------------------------------------------------------------------


class ShortfallCounts:
    """Integer counts of the shortfall statistics (can be added in any order).

    Parameters
    ----------
    n_regions, n_months, n_industries : int
        Sizes of the region, month and industry axes.

    Attributes
    ----------
    exceed : numpy.ndarray
        ``(len(THRESHOLDS), R, T, I)`` int64: paths whose shortfall share is above
        each threshold (the first threshold, 0, is read as ``SHARE_TOL``).
    share_hist : numpy.ndarray
        ``(R, T, I, SHARE_BINS + 1)`` int64 histogram of the monthly shortfall share.
    cum_hist : numpy.ndarray
        ``(R, T, I, CUM_BINS)`` int64 histogram of the cumulative shortfall (tonnes).
    first : numpy.ndarray
        ``(R, I, T + 1)`` int64: paths whose first stock-out is in month ``t``
        (index ``T``: none within the horizon).
    n : int
        Number of paths counted.
    """

    def __init__(self, n_regions: int, n_months: int, n_industries: int) -> None:
        R, T, I = n_regions, n_months, n_industries  # noqa: E741
        self.exceed = np.zeros((len(THRESHOLDS), R, T, I), dtype=np.int64)
        self.share_hist = np.zeros((R, T, I, SHARE_BINS + 1), dtype=np.int64)
        self.cum_hist = np.zeros((R, T, I, CUM_BINS), dtype=np.int64)
        self.first = np.zeros((R, I, T + 1), dtype=np.int64)
        self.n = 0

    def add(self, other: ShortfallCounts) -> None:
        """Add another set of counts."""
        self.exceed += other.exceed
        self.share_hist += other.share_hist
        self.cum_hist += other.cum_hist
        self.first += other.first
        self.n += other.n


class ShortfallSums:
    """Float64 sums of the shortfall statistics over one block of paths.

    Float addition is not associative, so the engine keeps one ``ShortfallSums`` per
    block of paths and adds them in block order: the totals are then bit-identical
    whatever the chunking.

    Attributes
    ----------
    sums : numpy.ndarray
        ``(5, R, T, I)``: sums over paths of the monthly shortfall (t), the shortfall
        share, the demand (t), the cumulative shortfall (t) and the cumulative output
        lost (units).
    cum_hist_sum : numpy.ndarray
        ``(R, T, I, CUM_BINS)``: sum of the cumulative shortfall falling in each bin
        of ``ShortfallCounts.cum_hist`` (used for CVaR).
    """

    N_SUMS = 5

    def __init__(self, n_regions: int, n_months: int, n_industries: int) -> None:
        R, T, I = n_regions, n_months, n_industries  # noqa: E741
        self.sums = np.zeros((self.N_SUMS, R, T, I), dtype=np.float64)
        self.cum_hist_sum = np.zeros((R, T, I, CUM_BINS), dtype=np.float64)

    def add(self, other: ShortfallSums) -> None:
        """Add another block's sums (call in block order)."""
        self.sums += other.sums
        self.cum_hist_sum += other.cum_hist_sum


def aggregate_block(
    short: np.ndarray,
    demand: np.ndarray,
    units_per_tonne: np.ndarray,
    start: int,
    stop: int,
    counts: ShortfallCounts,
    sums: ShortfallSums,
    *,
    backend: str = "auto",
    parallel: bool = False,
) -> None:
    """Add the statistics of paths ``start:stop`` to ``counts`` and ``sums``.

    Parameters
    ----------
    short, demand : numpy.ndarray
        ``(R, T, I, P)`` float32, the kernel's output and input.
    units_per_tonne : numpy.ndarray
        ``(I, P)`` float64, units of output per tonne of magnets (1000 / kg per
        unit); 0 for industries without a unit.
    start, stop : int
        The block's paths (a slice of the last axis).
    counts : ShortfallCounts
        Integer counts to add to.
    sums : ShortfallSums
        Float sums to add to (use a fresh one per block: see :class:`ShortfallSums`).
    backend : {"auto", "numba", "numpy"}
        Which implementation to use.
    parallel : bool
        With numba, aggregate regions on separate threads (identical result).
    """
    thresholds = np.asarray(THRESHOLDS, dtype=np.float64)
    thresholds[0] = SHARE_TOL
    if resolve_backend(backend) == "numba":
        assert thresholds.shape == (4,), "the numba aggregation unrolls four thresholds"
        run = _aggregate_par_nb if parallel else _aggregate_nb
        run(
            short,
            demand,
            units_per_tonne,
            start,
            stop,
            thresholds,
            sums.sums,
            sums.cum_hist_sum,
            counts.exceed,
            counts.share_hist,
            counts.cum_hist,
            counts.first,
        )
    else:
        _aggregate_numpy(
            short[..., start:stop],
            demand[..., start:stop],
            units_per_tonne[:, start:stop],
            thresholds,
            counts,
            sums,
        )
    counts.n += stop - start


def _aggregate_numpy(
    short: np.ndarray,
    demand: np.ndarray,
    units_per_tonne: np.ndarray,
    thresholds: np.ndarray,
    counts: ShortfallCounts,
    acc: ShortfallSums,
) -> None:
    R, T, I = short.shape[:3]  # noqa: E741
    s = short.astype(np.float64)
    d = demand.astype(np.float64)
    share = np.divide(s, d, out=np.zeros_like(s), where=d > 0)
    cum = np.cumsum(s, axis=1)
    units = cum * units_per_tonne[None, None, :, :]
    acc.sums[0] += s.sum(axis=-1)
    acc.sums[1] += share.sum(axis=-1)
    acc.sums[2] += d.sum(axis=-1)
    acc.sums[3] += cum.sum(axis=-1)
    acc.sums[4] += units.sum(axis=-1)
    for k, x in enumerate(thresholds):
        counts.exceed[k] += (share > x).sum(axis=-1)
    sbin = np.where(
        share <= SHARE_TOL,
        0,
        1 + np.minimum((share * SHARE_BINS).astype(np.int64), SHARE_BINS - 1),
    )
    cells = np.arange(R * T * I).reshape(R, T, I, 1)
    counts.share_hist += np.bincount(
        (cells * (SHARE_BINS + 1) + sbin).ravel(), minlength=R * T * I * (SHARE_BINS + 1)
    ).reshape(R, T, I, SHARE_BINS + 1)
    cbin = cum_bins(cum)
    flat = (cells * CUM_BINS + cbin).ravel()
    counts.cum_hist += np.bincount(flat, minlength=R * T * I * CUM_BINS).reshape(R, T, I, CUM_BINS)
    acc.cum_hist_sum += np.bincount(
        flat, weights=cum.ravel(), minlength=R * T * I * CUM_BINS
    ).reshape(R, T, I, CUM_BINS)
    hit = share > SHARE_TOL  # (R, T, I, B)
    first = np.where(hit.any(axis=1), hit.argmax(axis=1), T)  # (R, I, B)
    for r in range(R):
        for i in range(I):
            counts.first[r, i] += np.bincount(first[r, i], minlength=T + 1)


# --------------------------------------------------------------------------------------
# numba versions (compiled lazily on first call, cached on disk)
# --------------------------------------------------------------------------------------

if NUMBA_AVAILABLE:
    _jit = _numba.njit(nogil=True, cache=True, boundscheck=False, fastmath=False)
    #: Same, with regions spread over threads (numba.prange); results are identical.
    _pjit = _numba.njit(nogil=True, cache=True, boundscheck=False, fastmath=False, parallel=True)

    @_jit
    def _build_demand_region_nb(r, region_demand, shares, mix, demand, total):  # pragma: no cover
        # 1-D row views (not 2-D/3-D indexing) keep the inner loops vectorisable
        _, T, P = region_demand.shape
        I = shares.shape[1]  # noqa: E741
        zero = np.float32(0)
        norm = np.empty(P, dtype=np.float32)
        scale = np.empty(P, dtype=np.float32)
        for t in range(T):
            rd = region_demand[r, t]
            tot = total[r, t]
            w = shares[r, 0]
            m = mix[0, t]
            for k in range(P):
                norm[k] = w[k] * m[k]
            for i in range(1, I):
                w = shares[r, i]
                m = mix[i, t]
                for k in range(P):
                    norm[k] += w[k] * m[k]
            for k in range(P):
                scale[k] = rd[k] / norm[k] if norm[k] > zero else zero
            w = shares[r, 0]
            m = mix[0, t]
            row = demand[r, t, 0]
            for k in range(P):
                v = (w[k] * m[k]) * scale[k]
                row[k] = v
                tot[k] = v
            for i in range(1, I):
                w = shares[r, i]
                m = mix[i, t]
                row = demand[r, t, i]
                for k in range(P):
                    v = (w[k] * m[k]) * scale[k]
                    row[k] = v
                    tot[k] += v

    # Each kernel below has a serial and a parallel driver that differ only in how
    # they loop over regions (``range`` or ``numba.prange``); both hand the arguments
    # through unchanged to the per-region function named in the driver.

    @_jit
    def _build_demand_nb(*args):  # pragma: no cover
        # args: those of _build_demand_region_nb after the region index
        for r in range(args[0].shape[0]):
            _build_demand_region_nb(r, *args)

    @_pjit
    def _build_demand_par_nb(*args):  # pragma: no cover
        for r in _numba.prange(args[0].shape[0]):
            _build_demand_region_nb(r, *args)

    @_jit
    def _step_cell(dk, supplied, stk, bkk, zk, capk, hsk, dfk, srk):  # pragma: no cover
        # One cell of the recursion in the module docstring, for one path: ``dk`` the
        # demand, ``supplied`` what the allocation gives; returns the month's
        # shortfall and the new z, backlog and stock. The branch-free min()s keep the
        # calling loops vectorisable (numba inlines this small function).
        zero = np.float32(0)
        one = np.float32(1)
        tol = np.float32(SHARE_TOL)
        kf = one - srk * (zk if zk > zero else zero)
        nk = dk * (kf if kf > zero else zero)
        av = stk + supplied
        u = av if av < nk else nk
        s = nk - u
        z_new = zk + (one if s > tol * nk else zero)
        rest = av - u
        c = rest if rest < bkk else bkk
        bk_new = (bkk - c) + dfk * s
        rest = rest - c
        ceiling = (capk * hsk) * nk
        st_new = rest if rest < ceiling else ceiling
        return s, z_new, bk_new, st_new

    @_jit
    def _update_rows(d, st, bk, z, q, cap, hs, df, sr, o):  # pragma: no cover
        # one industry's row of paths, allocated d * q
        for k in range(d.shape[0]):
            dk = d[k]
            o[k], z[k], bk[k], st[k] = _step_cell(
                dk, dk * q[k], st[k], bk[k], z[k], cap[k], hs[k], df[k], sr[k]
            )

    @_jit
    def _update_rows_base(d, st, bk, z, base, q, cap, hs, df, sr, o):  # pragma: no cover
        # the same, allocated base + d * q (PRIORITY)
        for k in range(d.shape[0]):
            dk = d[k]
            o[k], z[k], bk[k], st[k] = _step_cell(
                dk, base[k] + dk * q[k], st[k], bk[k], z[k], cap[k], hs[k], df[k], sr[k]
            )

    @_jit
    def _simulate_region_nb(
        r,
        demand,
        demand_total,
        supply_china,
        supply_other,
        stock0,
        cap_cover,
        deferred_share,
        sub_rate,
        sub_lag,
        ceiling_scale,
        mode,
        elig,
        order,
        is_pri,
        out,
    ):  # pragma: no cover
        # one region; regions are independent, so they can run on different threads
        _, T, I, P = demand.shape  # noqa: E741
        zero = np.float32(0)
        one = np.float32(1)
        stock = np.empty((I, P), dtype=np.float32)
        backlog = np.zeros((I, P), dtype=np.float32)
        base = np.zeros((I, P), dtype=np.float32)
        qa = np.empty(P, dtype=np.float32)
        qb = np.empty(P, dtype=np.float32)
        rem = np.empty(P, dtype=np.float32)
        z = np.empty((I, P), dtype=np.float32)
        # the industries allocated at the rate qb rather than qa: under END_USE those
        # China does not supply, under PRIORITY those served first (plus their base)
        use_qb = np.zeros(I, dtype=np.bool_)
        for i in range(I):
            s0 = stock0[r, i]
            st = stock[i]
            lg = sub_lag[r, i]
            zi = z[i]
            for k in range(P):
                st[k] = s0[k]
                zi[k] = -lg[k]
            if mode == END_USE:
                use_qb[i] = not elig[i]
            elif mode == PRIORITY:
                use_qb[i] = is_pri[i]
        dfr = deferred_share[r]
        srr = sub_rate[r]
        for t in range(T):
            dt = demand[r, t]
            ot = out[r, t]
            sd = demand_total[r, t]
            sc = supply_china[r, t]
            sn = supply_other[r, t]
            hs = ceiling_scale[r, t]
            if mode == PROPORTIONAL:
                for k in range(P):
                    qa[k] = (sc[k] + sn[k]) / sd[k] if sd[k] > zero else zero
            elif mode == END_USE:
                for k in range(P):
                    qb[k] = zero
                for i in range(I):
                    if elig[i]:
                        row = dt[i]
                        for k in range(P):
                            qb[k] += row[k]
                for k in range(P):
                    se = qb[k]
                    qn = sn[k] / sd[k] if sd[k] > zero else zero
                    qc = sc[k] / se if se > zero else zero
                    qa[k] = qc + qn
                    qb[k] = qn
            else:  # PRIORITY
                for k in range(P):
                    rem[k] = sc[k] + sn[k]
                for j in range(order.shape[0]):
                    i = order[j]
                    row = dt[i]
                    b = base[i]
                    for k in range(P):
                        a = row[k] if row[k] < rem[k] else rem[k]
                        b[k] = a
                        rem[k] = rem[k] - a
                for k in range(P):
                    qb[k] = zero
                for i in range(I):
                    if not is_pri[i]:
                        row = dt[i]
                        for k in range(P):
                            qb[k] += row[k]
                for k in range(P):
                    sdr = qb[k]
                    rm = rem[k]
                    if sdr > zero:
                        qr = rm / sdr
                        qr = qr if qr < one else one
                        left = rm - qr * sdr
                        left = left if left > zero else zero
                    else:
                        qr = zero
                        left = rm
                    qs = left / sd[k] if sd[k] > zero else zero
                    qa[k] = qr + qs
                    qb[k] = qs
            for i in range(I):
                q = qb if use_qb[i] else qa
                if use_qb[i] and mode == PRIORITY:
                    _update_rows_base(
                        dt[i],
                        stock[i],
                        backlog[i],
                        z[i],
                        base[i],
                        q,
                        cap_cover[r, i],
                        hs,
                        dfr[i],
                        srr[i],
                        ot[i],
                    )
                else:
                    _update_rows(
                        dt[i],
                        stock[i],
                        backlog[i],
                        z[i],
                        q,
                        cap_cover[r, i],
                        hs,
                        dfr[i],
                        srr[i],
                        ot[i],
                    )

    @_jit
    def _simulate_nb(*args):  # pragma: no cover
        # args: those of _simulate_region_nb after the region index
        for r in range(args[0].shape[0]):
            _simulate_region_nb(r, *args)

    @_pjit
    def _simulate_par_nb(*args):  # pragma: no cover
        for r in _numba.prange(args[0].shape[0]):
            _simulate_region_nb(r, *args)

    @_jit
    def _aggregate_region_nb(
        r,
        short,
        demand,
        units_per_tonne,
        start,
        stop,
        thresholds,
        sums,
        cum_hist_sum,
        exceed,
        share_hist,
        cum_hist,
        first_counts,
    ):  # pragma: no cover
        # Same statistics as _aggregate_numpy. Months without a shortfall (the common
        # case) take a short path; float sums run in path order (bit-reproducible).
        _, T, I, _ = short.shape  # noqa: E741
        B = stop - start
        # the four thresholds of THRESHOLDS, unrolled (checked by aggregate_block)
        x0, x1, x2, x3 = thresholds[0], thresholds[1], thresholds[2], thresholds[3]
        tol = x0
        cum = np.zeros((I, B), dtype=np.float64)
        cum_bits = cum.view(np.int64)  # the same memory, read as integers
        cbin = np.zeros((I, B), dtype=np.int64)
        first = np.empty((I, B), dtype=np.int64)
        cum[:, :] = 0.0
        cbin[:, :] = 0
        first[:, :] = T
        for t in range(T):
            for i in range(I):
                srow = short[r, t, i]
                drow = demand[r, t, i]
                upt = units_per_tonne[i]
                crow = cum[i]
                bits = cum_bits[i]
                brow = cbin[i]
                frow = first[i]
                sh = share_hist[r, t, i]
                ch = cum_hist[r, t, i]
                cs = cum_hist_sum[r, t, i]
                s_short = 0.0
                s_share = 0.0
                s_dem = 0.0
                s_cum = 0.0
                s_units = 0.0
                none = 0  # share <= tol
                zc = 0  # cumulative below CUM_MIN_T
                zs = 0.0
                o0 = 0
                o1 = 0
                o2 = 0
                o3 = 0
                for k in range(B):
                    p = start + k
                    s = np.float64(srow[p])
                    d = np.float64(drow[p])
                    s_dem += d
                    c = crow[k]
                    if s > 0.0:
                        # branch-free inside: shortfalls come and go at random across
                        # paths, and mispredicted branches cost more than the work
                        share = s / d if d > 0.0 else 0.0
                        s_short += s
                        s_share += share
                        o0 += share > x0
                        o1 += share > x1
                        o2 += share > x2
                        o3 += share > x3
                        hit = share > tol
                        sb = min(int(share * SHARE_BINS), SHARE_BINS - 1)
                        sh[(1 + sb) * hit] += 1
                        frow[k] = min(frow[k], t if hit else T)
                        c += s
                        crow[k] = c
                        raw = (bits[k] >> _CUM_SHIFT) - _CUM_OFFSET
                        cb = min(raw, CUM_BINS - 1) * (c >= CUM_MIN_T)
                        brow[k] = cb
                    else:
                        none += 1
                        cb = brow[k]
                    if cb == 0:
                        zc += 1
                        zs += c
                    else:
                        ch[cb] += 1
                        cs[cb] += c
                    s_cum += c
                    s_units += c * upt[p]
                sh[0] += none
                ch[0] += zc
                cs[0] += zs
                exceed[0, r, t, i] += o0
                exceed[1, r, t, i] += o1
                exceed[2, r, t, i] += o2
                exceed[3, r, t, i] += o3
                sums[0, r, t, i] += s_short
                sums[1, r, t, i] += s_share
                sums[2, r, t, i] += s_dem
                sums[3, r, t, i] += s_cum
                sums[4, r, t, i] += s_units
        for i in range(I):
            frow = first[i]
            fc = first_counts[r, i]
            for k in range(B):
                fc[frow[k]] += 1

    @_jit
    def _aggregate_nb(*args):  # pragma: no cover
        # args: those of _aggregate_region_nb after the region index
        for r in range(args[0].shape[0]):
            _aggregate_region_nb(r, *args)

    @_pjit
    def _aggregate_par_nb(*args):  # pragma: no cover
        # every region writes its own slices of the accumulators: no races
        for r in _numba.prange(args[0].shape[0]):
            _aggregate_region_nb(r, *args)
