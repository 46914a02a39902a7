"""Buyer groups: China's licences granted firm by firm, not pro rata.

Without this, each region and industry is one representative buyer: a month in which
China ships 60% of a region's China-sourced need gives every firm 60%, and the
pooled stock outlasts a two-month cut. Under licensing the cut falls unevenly: a
licence is granted or not, application by application (a quarter of EU suppliers'
requests granted by early June 2025, CLEPA), so some firms receive their whole need
and others nothing, and one supplier running out stops a car line while the
industry's pooled stock would have lasted (docs/hindcast.md).

With a ``buyers`` block in the parameters (:class:`~riskmodel.propagation.params.Buyers`),
each region's industries are split into ``K`` buyer groups of equal demand. In a
month ``t`` from ``licensing_since`` on, with ``a = shipments / China-sourced need``
below 1, group ``k`` receives

    b_k = sigmoid(logit(a) + spread * z_k[t]),  rescaled so that mean_k b_k = a,

of its need: the groups together receive exactly the region's shipments. The
standing ``z_k`` is a stationary AR(1) (lag-one correlation ``persistence``; a
licence takes weeks to be decided and a refused firm stays behind for a while).
When ``a >= 1``, before licensing, or in a forecast month whose path has every
destination's approval at 1 (controls lifted), every group gets the same share. Opening
stocks and ceilings differ across groups by a log-normal factor of mean 1 on paths with
a licensing month: a licence names its end user, so a firm cannot draw on another's
stock, while without licences distributors and the spot market pool the region's stock
(the groups then hold the same stock and the result is the representative buyer's).

The kernel (:func:`~riskmodel.propagation.kernels.simulate_shortfall`) is unchanged:
it is linear in the scale of demand, supply and stock, so group ``k`` is simulated
at the region's full scale with its own China supply ``shipments x b_k / a`` and
stock factor, and the region's unmet demand is the mean over the groups. A month is
short for an industry when any group is short; the share short is the groups'
total unmet demand over the industry's demand.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from riskmodel.propagation import kernels

__all__ = ["buyer_factors", "simulate_by_buyer"]

#: ``a`` is clipped to [_EPS, 1 - _EPS] before its logit.
_EPS = np.float32(1e-6)


def buyer_factors(
    china: np.ndarray,
    need: np.ndarray,
    licensing: np.ndarray,
    spread: np.ndarray,
    persistence: np.ndarray,
    stock_spread: np.ndarray,
    licence_shocks: np.ndarray,
    stock_shocks: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Return each buyer group's multiple of the region's China supply and of its stock.

    Parameters
    ----------
    china, need : numpy.ndarray
        ``(R, T, P)`` float32: China's shipments to each region and its China-sourced
        need (tonnes a month).
    licensing : numpy.ndarray
        ``(T,)`` or ``(T, P)`` bool: licences are granted firm by firm in month ``t``
        (of path ``p``).
    spread, persistence, stock_spread : numpy.ndarray
        ``(P,)`` float32: the licence spread, the lag-one correlation of a group's
        standing, the log-sd of the groups' stock factors.
    licence_shocks : numpy.ndarray
        ``(R, K, T, P)`` float32 standard normals (the standings' innovations).
    stock_shocks : numpy.ndarray
        ``(R, K, I, P)`` float32 standard normals.

    Returns
    -------
    supply : numpy.ndarray
        ``(R, K, T, P)`` float32, mean 1 over ``K``: group ``k`` receives
        ``china x supply[:, k]`` (at the region's scale).
    stock : numpy.ndarray
        ``(R, K, I, P)`` float32, mean 1 over ``K``: the group's opening stock and
        ceiling as multiples of the region's.
    """
    f32 = np.float32
    R, _, T, P = licence_shocks.shape
    if china.shape != (R, T, P) or need.shape != (R, T, P):
        raise ValueError(f"china and need must have shape {(R, T, P)}")
    # the standings: z_0 = e_0, z_t = phi z_{t-1} + sqrt(1 - phi^2) e_t (stationary)
    z = np.empty_like(licence_shocks)
    z[:, :, 0] = licence_shocks[:, :, 0]
    keep = np.sqrt(f32(1) - persistence * persistence).astype(f32)
    for t in range(1, T):
        z[:, :, t] = persistence * z[:, :, t - 1] + keep * licence_shocks[:, :, t]
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(need > 0, china / need, f32(np.inf)).astype(f32)  # (R, T, P)
    licensing = np.broadcast_to(licensing.reshape(T, -1), (T, P))
    uneven = (a < 1) & licensing[None]
    a_c = np.clip(a, _EPS, f32(1) - _EPS)
    logit = np.log(a_c) - np.log1p(-a_c)
    b = 1 / (1 + np.exp(-(logit[:, None] + spread * z)))  # (R, K, T, P)
    supply = b / b.mean(axis=1, keepdims=True)
    supply = np.where(uneven[:, None], supply, f32(1)).astype(f32)
    c = np.exp(stock_spread * stock_shocks - f32(0.5) * stock_spread * stock_spread)
    stock = c / c.mean(axis=1, keepdims=True)
    # without licences a firm short of stock buys from distributors and the spot market,
    # and the region's stock is shared as one pool; a licence names its end user, so
    # under licensing each group lives on its own stock
    stock = np.where(licensing.any(axis=0), stock, f32(1)).astype(f32)
    return supply, stock


def simulate_by_buyer(
    arrays: dict[str, np.ndarray],
    allocation: dict[str, Any],
    *,
    backend: str,
    parallel: bool = False,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Run the kernel once per buyer group and return the region's unmet demand.

    Parameters
    ----------
    arrays : dict
        The kernel's inputs (see :func:`~riskmodel.propagation.kernels.simulate_shortfall`),
        plus ``buyer_supply`` and ``buyer_stock`` from :func:`buyer_factors` when the
        parameters have buyer groups (without them: one kernel run, as before). Not
        modified.
    allocation : dict
        ``mode``, ``eligible`` and ``order`` of the kernel.
    backend : {"numba", "numpy"}
        The kernel's backend.
    parallel : bool
        With numba, run regions on separate threads.
    out : numpy.ndarray, optional
        ``(R, T, I, P)`` float32 array to write the result into.

    Returns
    -------
    numpy.ndarray
        ``(R, T, I, P)`` float32, tonnes of demand not met each month (summed over the
        groups).
    """
    inputs = {k: v for k, v in arrays.items() if k not in ("buyer_supply", "buyer_stock")}
    run = {**allocation, "backend": backend, "parallel": parallel}
    supply = arrays.get("buyer_supply")
    if supply is None:
        return kernels.simulate_shortfall(**inputs, **run, out=out)
    stock = arrays["buyer_stock"]
    K = supply.shape[1]
    total = np.zeros(inputs["demand"].shape, dtype=np.float32) if out is None else out
    total[...] = 0
    group_short = np.empty_like(total)
    for k in range(K):
        group = {
            **inputs,
            "supply_china": inputs["supply_china"] * supply[:, k],
            "stock0": inputs["stock0"] * stock[:, k],
            "cap_cover": inputs["cap_cover"] * stock[:, k],
        }
        total += kernels.simulate_shortfall(**group, **run, out=group_short)
    total *= np.float32(1.0 / K)
    return total
