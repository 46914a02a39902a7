"""Bulk draws of every random parameter of the propagation, one block of paths at a time.

The unit of randomness is a *block* of consecutive Monte Carlo paths with its own
generator, ``numpy.random.Generator(PCG64(child))`` where ``child`` is the block's
entry of ``numpy.random.SeedSequence(seed).spawn(n_blocks)``. A block's draws depend
only on the seed, the block's index and its length, never on how blocks are grouped
into chunks or on which worker runs them: this is what makes results bit-identical
across chunk sizes and between Dask and in-process runs.

Within a block, parameters are drawn in a fixed order, each for the whole block at
once and in float32 (path axis last):

1. forecast path index (only when resampling, see :func:`draw_block`);
2. China's share of each region's supply, region by region;
3. industry shares: Gamma(concentration * mean) per region and industry, normalised
   (Dirichlet);
4. sector growth rates, industry by industry;
5. substitution rate;
6. inventory cover: one common standard normal per path, then one per region and
   industry, combined with the configured correlation;
7. restock multiple;
8. magnet content per unit, industry by industry (industries with a unit);
9. per new-capacity project: capacity, delay, ramp length, utilisation;
10. base-year demand, region by region;
11. embedded shares, region by region and industry by industry (listed ones only);
12. opening stock ratio, ``(R, I)`` per path;
13. deferred share of unmet demand;
14. substitution lag (months of shortage before substitution starts);
15. hoarding multiple and lead (months), when the parameters have a ``hoarding``
    block (otherwise 1 and 0, nothing drawn);
16. re-routed share of shipments beyond a region's China-sourced need;
17. when the parameters have a ``buyers`` block (otherwise nothing is drawn): licence
    spread, licence persistence and stock spread per path, the standard normals of
    each buyer group's stock factor, ``(R, K, I)`` per path, then month by month the
    innovations of each group's licence standing, ``(R, K)`` per path (last, so that
    a run over fewer months draws the same first months).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from riskmodel.propagation.params import BUYER_DISTS, PropagationParams

__all__ = [
    "EMBEDDED_CEILING",
    "GROWTH_FLOOR",
    "WEEKS_PER_MONTH",
    "ParameterDraws",
    "concat_draws",
    "draw_block",
]

#: Growth draws below this are clipped (a Normal prior has unbounded tails).
GROWTH_FLOOR = -0.9
#: Embedded-share draws above this are clipped (an industry keeps some magnet purchases).
EMBEDDED_CEILING = 0.99
#: 52.1775 weeks a year / 12.
WEEKS_PER_MONTH = 365.25 / 7.0 / 12.0


@dataclass
class ParameterDraws:
    """Random parameters of a set of Monte Carlo paths (path axis last).

    Attributes
    ----------
    path_index : numpy.ndarray
        ``(P,)`` int64, the forecast path each Monte Carlo path uses.
    china_share : numpy.ndarray
        ``(R, P)`` float32.
    shares : numpy.ndarray
        ``(R, I, P)`` float32, industry shares (sum to 1 over I).
    growth : numpy.ndarray
        ``(I, P)`` float32, growth per year.
    substitution : numpy.ndarray
        ``(P,)`` float32, share of demand substituted or cut per year of shortage.
    cover_weeks : numpy.ndarray
        ``(R, I, P)`` float32.
    restock : numpy.ndarray
        ``(P,)`` float32.
    content_kg : numpy.ndarray
        ``(I, P)`` float32, NaN for industries without a unit.
    capacity, delay, ramp, utilisation : numpy.ndarray
        ``(J, P)`` float32, one row per new-capacity project.
    base_demand : numpy.ndarray
        ``(R, P)`` float32, tonnes of magnets a region bought in the base year.
    embedded : numpy.ndarray
        ``(R, I, P)`` float32, share of an industry's use arriving in assemblies.
    opening : numpy.ndarray
        ``(R, I, P)`` float32, opening stock as a multiple of the usual cover.
    deferred : numpy.ndarray
        ``(P,)`` float32, share of unmet demand made up later.
    substitution_lag : numpy.ndarray
        ``(P,)`` float32, months of shortage before substitution starts.
    hoard : numpy.ndarray
        ``(P,)`` float32, inventory ceiling multiple ahead of a known policy date.
    hoard_lead : numpy.ndarray
        ``(P,)`` float32, months before the date that hoarding starts.
    licence_spread, licence_persistence, stock_spread : numpy.ndarray
        ``(P,)`` float32, the ``buyers`` block's distributions (0 without one).
    licence_shocks : numpy.ndarray
        ``(R, K, T, P)`` float32 standard normals: innovations of each buyer group's
        licence standing by month (``K = T = 0`` without a ``buyers`` block).
    stock_shocks : numpy.ndarray
        ``(R, K, I, P)`` float32 standard normals: each buyer group's stock factor.
    reroute : numpy.ndarray
        ``(P,)`` float32, share of a region's excess China shipments re-exported.
    """

    path_index: np.ndarray
    china_share: np.ndarray
    shares: np.ndarray
    growth: np.ndarray
    substitution: np.ndarray
    cover_weeks: np.ndarray
    restock: np.ndarray
    content_kg: np.ndarray
    capacity: np.ndarray
    delay: np.ndarray
    ramp: np.ndarray
    utilisation: np.ndarray
    base_demand: np.ndarray
    embedded: np.ndarray
    opening: np.ndarray
    deferred: np.ndarray
    substitution_lag: np.ndarray
    hoard: np.ndarray
    hoard_lead: np.ndarray
    reroute: np.ndarray
    licence_spread: np.ndarray
    licence_persistence: np.ndarray
    stock_spread: np.ndarray
    licence_shocks: np.ndarray
    stock_shocks: np.ndarray

    @property
    def n(self) -> int:
        """Number of paths."""
        return int(self.path_index.shape[0])


def draw_block(
    params: PropagationParams,
    rng: np.random.Generator,
    n: int,
    *,
    first_path: int = 0,
    n_forecast: int,
    resample: bool,
    n_months: int = 0,
) -> ParameterDraws:
    """Draw the parameters of ``n`` consecutive Monte Carlo paths.

    Parameters
    ----------
    params : PropagationParams
        The distributions.
    rng : numpy.random.Generator
        The block's generator.
    n : int
        Number of paths in the block.
    first_path : int
        Index of the block's first Monte Carlo path (used without resampling).
    n_forecast : int
        Number of forecast paths available.
    resample : bool
        If True, each Monte Carlo path picks a forecast path uniformly at random
        (with replacement); if False, Monte Carlo path ``k`` uses forecast path ``k``.
    n_months : int
        Months simulated (the buyer groups' licence standings are drawn per month;
        required when the parameters have a ``buyers`` block).

    Returns
    -------
    ParameterDraws
    """
    f32 = np.float32
    R, I = len(params.regions), len(params.industries)  # noqa: E741
    if resample:
        path_index = rng.integers(0, n_forecast, size=n, dtype=np.int64)
    else:
        path_index = np.arange(first_path, first_path + n, dtype=np.int64)
        if path_index.size and path_index[-1] >= n_forecast:
            raise ValueError("more Monte Carlo paths than forecast paths without resampling")

    china = np.empty((R, n), dtype=f32)
    for r, dist in enumerate(params.china_share):
        china[r] = dist.sample(rng, n, dtype=np.float32)
    np.maximum(china, f32(1e-6), out=china)

    if params.share_concentration is None:
        shares = np.repeat(params.share_mean.astype(f32)[:, :, None], n, axis=2)
    else:
        alpha = (params.share_concentration * params.share_mean)[:, :, None]
        g = rng.standard_gamma(np.broadcast_to(alpha, (R, I, n)), dtype=f32)
        total = g.sum(axis=1, keepdims=True)
        # a region whose gammas all underflow (vanishing alpha) falls back to the mean
        fallback = params.share_mean.astype(f32)[:, :, None]
        shares = np.where(total > 0, g / np.where(total > 0, total, f32(1)), fallback)
        shares = shares.astype(f32)

    growth = np.empty((I, n), dtype=f32)
    for i, dist in enumerate(params.growth):
        growth[i] = dist.sample(rng, n, dtype=np.float32)
    np.maximum(growth, f32(GROWTH_FLOOR), out=growth)

    substitution = params.substitution.sample(rng, n, dtype=np.float32)

    z_common = rng.standard_normal(n, dtype=f32)
    z = rng.standard_normal((R, I, n), dtype=f32)
    rho = params.cover_correlation
    z = f32(np.sqrt(rho)) * z_common[None, None, :] + f32(np.sqrt(1.0 - rho)) * z
    cover = np.empty((R, I, n), dtype=f32)
    for i, dist in enumerate(params.cover_weeks):
        if dist.is_fixed:
            cover[:, i] = f32(dist["value"])
        else:
            cover[:, i] = np.exp(f32(dist["mu"]) + f32(dist["sigma"]) * z[:, i])

    restock = params.restock_multiple.sample(rng, n, dtype=np.float32)

    content = np.full((I, n), np.nan, dtype=f32)
    for i, dist in enumerate(params.content_kg):
        if dist is not None:
            content[i] = dist.sample(rng, n, dtype=np.float32)

    J = len(params.projects)
    capacity = np.empty((J, n), dtype=f32)
    delay = np.empty((J, n), dtype=f32)
    ramp = np.empty((J, n), dtype=f32)
    util = np.empty((J, n), dtype=f32)
    for j, proj in enumerate(params.projects):
        capacity[j] = proj.capacity_tpy.sample(rng, n, dtype=np.float32)
        delay[j] = proj.delay_months.sample(rng, n, dtype=np.float32)
        ramp[j] = proj.ramp_months.sample(rng, n, dtype=np.float32)
        util[j] = proj.utilisation.sample(rng, n, dtype=np.float32)
    np.maximum(ramp, f32(1e-3), out=ramp)

    base = np.empty((R, n), dtype=f32)
    for r, dist in enumerate(params.base_demand):
        base[r] = dist.sample(rng, n, dtype=np.float32)
    embedded = np.zeros((R, I, n), dtype=f32)
    for r, row in enumerate(params.embedded_share):
        for i, dist in enumerate(row):
            if dist is not None:
                embedded[r, i] = dist.sample(rng, n, dtype=np.float32)
    np.minimum(embedded, f32(EMBEDDED_CEILING), out=embedded)
    opening = params.opening_stock.sample(rng, R * I * n, dtype=np.float32).reshape(R, I, n)
    deferred = params.deferred_share.sample(rng, n, dtype=np.float32)
    lag = params.substitution_lag.sample(rng, n, dtype=np.float32)
    if params.hoarding is None:
        hoard = np.ones(n, dtype=f32)
        lead = np.zeros(n, dtype=f32)
    else:
        hoard = params.hoarding.multiple.sample(rng, n, dtype=np.float32)
        lead = params.hoarding.lead_months.sample(rng, n, dtype=np.float32)
    reroute = params.reroute_share.sample(rng, n, dtype=np.float32)
    buyers = params.buyers
    if buyers is None:
        K, T = 0, 0
        spreads = [np.zeros(n, dtype=f32) for _ in range(3)]
    else:
        if n_months < 1:
            raise ValueError("draw_block: n_months is required with a 'buyers' block")
        K, T = buyers.groups, n_months
        spreads = [getattr(buyers, name).sample(rng, n, dtype=np.float32) for name in BUYER_DISTS]
    stock_shocks = rng.standard_normal((R, K, I, n), dtype=f32)
    # month by month and last: a run over fewer months draws the same first months
    licence_shocks = np.empty((R, K, T, n), dtype=f32)
    for t in range(T):
        licence_shocks[:, :, t] = rng.standard_normal((R, K, n), dtype=f32)

    return ParameterDraws(
        path_index=path_index,
        china_share=china,
        shares=shares,
        growth=growth,
        substitution=substitution,
        cover_weeks=cover,
        restock=restock,
        content_kg=content,
        capacity=capacity,
        delay=delay,
        ramp=ramp,
        utilisation=util,
        base_demand=base,
        embedded=embedded,
        opening=opening,
        deferred=deferred,
        substitution_lag=lag,
        hoard=hoard,
        hoard_lead=lead,
        reroute=reroute,
        licence_spread=spreads[0],
        licence_persistence=spreads[1],
        stock_spread=spreads[2],
        licence_shocks=licence_shocks,
        stock_shocks=stock_shocks,
    )


def concat_draws(parts: list[ParameterDraws]) -> ParameterDraws:
    """Concatenate blocks along the path axis (the last axis of every array)."""
    if len(parts) == 1:
        return parts[0]
    return ParameterDraws(
        **{
            f.name: np.concatenate([getattr(p, f.name) for p in parts], axis=-1)
            for f in fields(ParameterDraws)
        }
    )
