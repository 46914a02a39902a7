"""Turn the streamed counts and sums of the shortfall into probabilities and quantiles.

Exact and approximate outputs
-----------------------------
Exact (up to float64 rounding): every probability (``p_short``,
``p_first_stockout``, ``p_stockout_within_horizon``), every expectation and the
quantiles of the first stock-out month (months are discrete).

From histograms, so approximate:

- ``shortfall_share_quantile``: the monthly shortfall share is binned in steps of
  0.01 of demand (plus an exact "no shortfall" bin); the quantile is interpolated
  linearly inside its bin, so it is within 0.01 of the exact sample quantile.
- ``cum_shortfall_quantile_t``: cumulative unmet demand (tonnes) is binned on a log
  scale, 8 bins per doubling from 2**-10 t (about 1 kg) to 2**24 t (bin edges at most
  12.5% apart), interpolated linearly inside the bin: within 12.5% of the exact sample
  quantile (values below 1 kg count as 0).
- ``cum_shortfall_cvar95_t``: the mean of the worst 5% of paths. Each bin also keeps
  the sum of its values, so the tail mean is exact except for the one bin the 95th
  percentile falls in, where the bin's mean stands in for its upper part.

Keeping histograms instead of the paths is what keeps memory bounded: the state is a
few MB whatever the number of paths.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from riskmodel.propagation.kernels import (
    CUM_BINS,
    SHARE_BINS,
    THRESHOLDS,
    ShortfallCounts,
    ShortfallSums,
    cum_bin_edges,
)

__all__ = [
    "CVAR_LEVEL",
    "QUANTILES",
    "STOCKOUT_QUANTILES",
    "cvar_from_hist",
    "finalize",
    "quantile_from_cum_hist",
    "quantile_from_share_hist",
]

#: Quantile levels of the shortfall share and of cumulative unmet demand.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: Quantile levels of the month of the first stock-out.
STOCKOUT_QUANTILES = (0.1, 0.5, 0.9)
#: CVaR level (mean of the worst 1 - CVAR_LEVEL of paths).
CVAR_LEVEL = 0.95


def _locate(
    hist: np.ndarray, n: int, levels: Sequence[float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each quantile level, the bin where the CDF reaches it and the fraction inside it."""
    targets = np.broadcast_to(
        np.asarray(levels, dtype=np.float64) * n, (*hist.shape[:-1], len(levels))
    )
    cdf = np.cumsum(hist, axis=-1)  # (..., B)
    # first bin with cdf >= target (targets > 0 always reach: the cdf ends at n >= target)
    b = (cdf[..., None, :] < targets[..., :, None]).sum(axis=-1)  # (..., Q)
    b = np.minimum(b, hist.shape[-1] - 1)
    prev = np.where(b > 0, np.take_along_axis(cdf, np.maximum(b - 1, 0), axis=-1), 0)
    inbin = np.take_along_axis(hist, b, axis=-1)
    frac = np.where(inbin > 0, (targets - prev) / np.maximum(inbin, 1), 0.0)
    return b, np.clip(frac, 0.0, 1.0), inbin


def quantile_from_share_hist(hist: np.ndarray, n: int, levels: Sequence[float]) -> np.ndarray:
    """Quantiles of the shortfall share from its histogram.

    Parameters
    ----------
    hist : numpy.ndarray
        ``(..., SHARE_BINS + 1)`` counts.
    n : int
        Number of paths.
    levels : sequence of float
        Quantile levels in [0, 1].

    Returns
    -------
    numpy.ndarray
        ``(..., len(levels))``.
    """
    b, frac, _ = _locate(hist, n, levels)
    width = 1.0 / SHARE_BINS
    value = (b - 1) * width + frac * width
    return np.where(b == 0, 0.0, value)


def quantile_from_cum_hist(
    hist: np.ndarray, hist_sum: np.ndarray, n: int, levels: Sequence[float]
) -> np.ndarray:
    """Quantiles of cumulative unmet demand (tonnes) from its log-binned histogram.

    Parameters
    ----------
    hist, hist_sum : numpy.ndarray
        ``(..., CUM_BINS)`` counts and sums of values per bin.
    n : int
        Number of paths.
    levels : sequence of float
        Quantile levels in [0, 1].

    Returns
    -------
    numpy.ndarray
        ``(..., len(levels))``.
    """
    b, frac, inbin = _locate(hist, n, levels)
    edges = cum_bin_edges()  # CUM_BINS + 1
    lo = edges[b]
    hi = edges[np.minimum(b + 1, CUM_BINS)]
    value = lo + frac * (hi - lo)
    # the open top bin: use its mean
    top_mean = np.take_along_axis(hist_sum, b, axis=-1) / np.maximum(inbin, 1)
    value = np.where(b == CUM_BINS - 1, top_mean, value)
    return np.where(b == 0, 0.0, value)


def cvar_from_hist(hist: np.ndarray, hist_sum: np.ndarray, n: int, level: float) -> np.ndarray:
    """Mean of the worst ``1 - level`` share of paths, from counts and sums per bin.

    Parameters
    ----------
    hist, hist_sum : numpy.ndarray
        ``(..., B)`` counts and sums of values per bin (bins in increasing order).
    n : int
        Number of paths.
    level : float
        E.g. 0.95.

    Returns
    -------
    numpy.ndarray
        ``(...)``.
    """
    m = (1.0 - level) * n
    c_rev = np.cumsum(hist[..., ::-1], axis=-1)[..., ::-1]  # count at or above bin b
    s_rev = np.cumsum(hist_sum[..., ::-1], axis=-1)[..., ::-1]
    # the VaR bin: the highest b with c_rev[b] >= m
    reach = c_rev >= m
    b = hist.shape[-1] - 1 - np.argmax(reach[..., ::-1], axis=-1)
    b = b[..., None]
    above_c = np.where(
        b + 1 < hist.shape[-1],
        np.take_along_axis(
            np.concatenate([c_rev, np.zeros_like(c_rev[..., :1])], axis=-1), b + 1, axis=-1
        ),
        0,
    )
    above_s = np.take_along_axis(
        np.concatenate([s_rev, np.zeros_like(s_rev[..., :1])], axis=-1), b + 1, axis=-1
    )
    cnt = np.take_along_axis(hist, b, axis=-1)
    mean_b = np.take_along_axis(hist_sum, b, axis=-1) / np.maximum(cnt, 1)
    tail = above_s + (m - above_c) * mean_b
    return (tail / m)[..., 0] if m > 0 else np.zeros(hist.shape[:-1])


def finalize(
    counts: ShortfallCounts,
    sums: ShortfallSums,
    *,
    regions: Sequence[str],
    industries: Sequence[str],
    months: Sequence[str],
    units: Sequence[str | None],
    labels: Sequence[str] | None = None,
) -> xr.Dataset:
    """Build the output Dataset from the streamed statistics.

    Parameters
    ----------
    counts : ShortfallCounts
        Totals over all paths.
    sums : ShortfallSums
        Totals over all paths (folded in block order).
    regions, industries, months : sequence of str
        Coordinates.
    units : sequence of str or None
        Unit of output per industry.
    labels : sequence of str, optional
        Readable industry labels.

    Returns
    -------
    xarray.Dataset
        Variables on ``(region, industry, month)`` plus ``threshold``, ``quantile``
        and ``stockout_quantile`` dims (see :func:`riskmodel.propagation.propagate`).
    """
    n = counts.n
    T = len(months)

    def rim(a: np.ndarray) -> np.ndarray:
        # (R, T, I, ...) -> (R, I, T, ...)
        return np.swapaxes(a, 1, 2)

    base = ("region", "industry", "month")
    s = sums.sums / n
    no_unit = np.array([u is None for u in units])
    units_lost = rim(s[4]).copy()
    units_lost[:, no_unit, :] = np.nan

    p_short = np.moveaxis(counts.exceed / n, 0, -1)  # (R, T, I, X)
    share_q = quantile_from_share_hist(counts.share_hist, n, QUANTILES)
    cum_q = quantile_from_cum_hist(counts.cum_hist, sums.cum_hist_sum, n, QUANTILES)
    cvar = cvar_from_hist(counts.cum_hist, sums.cum_hist_sum, n, CVAR_LEVEL)

    first = counts.first / n  # (R, I, T + 1)
    p_within = 1.0 - first[..., T]
    cdf = np.cumsum(first[..., :T], axis=-1)
    month_arr = np.asarray(months, dtype=object)
    fs = np.empty((*first.shape[:2], len(STOCKOUT_QUANTILES)), dtype=object)
    for k, q in enumerate(STOCKOUT_QUANTILES):
        reached = cdf >= q - 1e-12
        idx = np.argmax(reached, axis=-1)
        fs[..., k] = np.where(reached.any(axis=-1), month_arr[idx], "")

    ds = xr.Dataset(
        {
            "p_short": (
                (*base, "threshold"),
                rim(p_short),
                {
                    "long_name": "P(monthly shortfall share > threshold)",
                    "note": "threshold 0 means a shortfall above 1e-5 of demand",
                },
            ),
            "expected_shortfall_t": (
                base,
                rim(s[0]),
                {"long_name": "expected unmet demand", "units": "t"},
            ),
            "expected_shortfall_share": (
                base,
                rim(s[1]),
                {"long_name": "expected share of the month's demand unmet (mean over paths)"},
            ),
            "expected_demand_t": (base, rim(s[2]), {"long_name": "expected demand", "units": "t"}),
            "shortfall_share_quantile": (
                (*base, "quantile"),
                rim(share_q),
                {
                    "long_name": "quantiles of the monthly shortfall share",
                    "note": "from a histogram with bins of 0.01, interpolated",
                },
            ),
            "expected_cum_shortfall_t": (
                base,
                rim(s[3]),
                {
                    "long_name": "expected cumulative unmet demand since the first month",
                    "units": "t",
                },
            ),
            "cum_shortfall_quantile_t": (
                (*base, "quantile"),
                rim(cum_q),
                {
                    "long_name": "quantiles of cumulative unmet demand",
                    "units": "t",
                    "note": "from a log histogram (8 bins per doubling), within 12.5%",
                },
            ),
            "cum_shortfall_cvar95_t": (
                base,
                rim(cvar),
                {
                    "long_name": "CVaR95 of cumulative unmet demand "
                    "(mean of the worst 5% of paths)",
                    "units": "t",
                    "note": "from a log histogram with per-bin sums",
                },
            ),
            "expected_output_lost_units": (
                base,
                units_lost,
                {
                    "long_name": "expected cumulative output lost (unmet tonnes / magnet content)",
                    "units": "see the unit coordinate",
                },
            ),
            "p_first_stockout": (
                base,
                first[..., :T],
                {"long_name": "P(first stock-out in this month)"},
            ),
            "p_stockout_within_horizon": (
                ("region", "industry"),
                p_within,
                {"long_name": "P(a stock-out within the horizon)"},
            ),
            "first_stockout_month": (
                ("region", "industry", "stockout_quantile"),
                fs.astype(str),
                {
                    "long_name": "quantiles of the month of the first stock-out",
                    "note": "empty: no stock-out within the horizon at that quantile",
                },
            ),
        },
        coords={
            "region": list(regions),
            "industry": list(industries),
            "month": list(months),
            "threshold": list(THRESHOLDS),
            "quantile": list(QUANTILES),
            "stockout_quantile": list(STOCKOUT_QUANTILES),
            "unit": ("industry", ["" if u is None else u for u in units]),
            "label": ("industry", list(labels) if labels is not None else list(industries)),
        },
    )
    return ds
