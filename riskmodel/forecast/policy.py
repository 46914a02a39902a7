"""Policy risk inside the forecast: new controls, tightening, deals and relief at learned rates.

The ``policy_risk`` regime kind (:mod:`riskmodel.config.scenario`) makes a forecast
unconditional: in each future month China may act on the product, and the approval
path moves by an amount that depends on what it did.

Event classes
-------------
Each dated policy event (:func:`riskmodel.customs.read_policy_events`) of a product is
one of four classes, by its type and by whether the product was under licensing then:

``control``
    ``control_effective`` or ``ban`` on a product not yet under licensing (the onset).
``tightening``
    ``control_effective`` or ``ban`` on a product already under licensing.
``deal``
    ``deal``, once licensing is in force.
``relief``
    ``suspension`` (controls suspended or lifted), once licensing is in force.

``control_announced`` is not counted (it announces a ``control_effective``), nor is
``licences_approved`` (licences granted after a control are the recovery that the
control's learned shape already holds). When the fitted window ends inside a control
episode, the approval that the events move is already the recovering one
(:func:`riskmodel.forecast.paths.recovered_logit`): a deal or relief drawn in the
horizon closes a share of the gap that the recovery leaves, so the two add up to at
most full approval; the deals dated inside the episode before the origin are part of
the recovery (the learned shape was measured through them).

Rates (Gamma-Poisson)
---------------------
Rates are per product and month, pooled over every product the events name: the
forecast product alone has too few events (magnets had none before April 2025), and
China's controls so far have moved from product to product. For each product, the
months from :data:`HISTORY_FROM` to the month before the forecast origin are split
into months without licensing (exposed to a ``control``) and months under licensing
(exposed to ``tightening``, ``deal`` and ``relief``); a class's count is the number of
(product, month) pairs with at least one event of it, and only events dated *before
the origin* are read, so a backtest sees what was known then. With a
``Gamma(alpha, beta)`` prior (``beta`` a rate, in product-months) the posterior of a
class's monthly rate is ``Gamma(alpha + count, beta + exposure)``; each path draws its
own rates from it, so the rate uncertainty is in the paths. A ``Fixed`` rate in the
scenario is used as it is (``Fixed 0`` switches a class off).

Events in the paths
-------------------
In each month from the regime's start a path has an event of a class with probability
``1 - exp(-rate)`` (at most one event of each class a month), ``control`` only while
the product is not under licensing and the other three only while it is. A ``control``
or ``tightening`` multiplies the approval rate from its month on by
:func:`~riskmodel.config.scenario.control_multiplier` with a shape drawn for that event
(by default the shape learned from past control episodes, ``priors/shock_shape.yaml``);
a ``deal`` closes a drawn share ``deal_gap_closed`` of the gap between the approval rate
and 1 from its month on, a ``relief`` a share ``relief_gap_closed``. Every event applies
to all destinations.

Limits: events that hit many products at once (the December 2024 ban, the May 2025
Geneva truce) are counted once per product, so the Poisson model understates how
clustered they are; the learned shape comes from every bundled control episode,
including ones after an early backtest origin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from riskmodel.config.dists import Dist
from riskmodel.config.scenario import POLICY_CLASSES, control_multiplier

__all__ = [
    "HISTORY_FROM",
    "POLICY_CLASSES",
    "PolicyHistory",
    "policy_history",
    "rate_posteriors",
    "simulate_policy",
]

#: First month counted: the PRC Export Control Law took effect on 1 December 2020
#: (an event in the bundled file); China's controls since then share one legal
#: framework, the 2010 embargo on Japan predates it.
HISTORY_FROM: Final[pd.Period] = pd.Period("2020-12", freq="M")

_CONTROL_TYPES: Final[frozenset[str]] = frozenset({"control_effective", "ban"})
_ALL: Final[str] = "all"


@dataclass(frozen=True)
class PolicyHistory:
    """Event counts and exposures, per class, pooled over products.

    Attributes
    ----------
    counts, exposure : dict of str to int
        Per class of :data:`POLICY_CLASSES`: (product, month) pairs with an event,
        and product-months at risk of one.
    products : tuple of str
        The products pooled.
    first, last : pandas.Period
        The months counted (``last`` is the month before the origin).
    """

    counts: dict[str, int]
    exposure: dict[str, int]
    products: tuple[str, ...]
    first: pd.Period
    last: pd.Period

    def to_dict(self) -> dict[str, object]:
        """Return the counts as plain data (for a forecast's attrs)."""
        return {
            "months": f"{self.first}..{self.last}",
            "products": len(self.products),
            "counts": dict(self.counts),
            "exposure_product_months": dict(self.exposure),
        }


def policy_history(
    events: pd.DataFrame,
    product: str,
    origin: pd.Period | str,
    *,
    history_from: pd.Period | str = HISTORY_FROM,
) -> PolicyHistory:
    """Count each class's events and exposure before ``origin``, pooled over products.

    Parameters
    ----------
    events : pandas.DataFrame
        Every product's events, as from :func:`riskmodel.customs.read_policy_events`
        (columns ``date``, ``commodities``, ``event_type``).
    product : str
        The forecast product (pooled even when no event names it yet).
    origin : pandas.Period or str
        The first forecast month: only events dated before its first day are read.
    history_from : pandas.Period or str
        The first month counted (default :data:`HISTORY_FROM`).

    Returns
    -------
    PolicyHistory

    Raises
    ------
    ValueError
        If ``history_from`` is not before ``origin``.
    """
    origin_p = pd.Period(origin, freq="M")
    first = pd.Period(history_from, freq="M")
    last = origin_p - 1
    if last < first:
        raise ValueError(f"the policy history starts at {first}, after the origin {origin_p}")
    known = events[pd.to_datetime(events["date"]) < origin_p.start_time]
    named = {c for names in known["commodities"] for c in names if c != _ALL}
    products = tuple(sorted(named | {product}))
    months = known["date"].map(lambda d: pd.Period(d, freq="M")) if len(known) else known["date"]
    in_window = (months >= first) & (months <= last) if len(known) else months.astype(bool)
    window = known[in_window.to_numpy(dtype=bool)]
    window_months = months[in_window.to_numpy(dtype=bool)]
    n_months = (last - first).n + 1
    counts = dict.fromkeys(POLICY_CLASSES, 0)
    exposure = dict.fromkeys(POLICY_CLASSES, 0)
    for name in products:
        hits = window["commodities"].map(lambda names, n=name: n in names or _ALL in names)
        mine = hits.to_numpy(dtype=bool)
        types, ms = window["event_type"].to_numpy()[mine], window_months.to_numpy()[mine]
        control = sorted({m for t, m in zip(types, ms, strict=True) if t in _CONTROL_TYPES})
        onset = control[0] if control else None
        free = n_months if onset is None else (onset - first).n + 1
        exposure["control"] += free
        counts["control"] += onset is not None
        for cls in ("tightening", "deal", "relief"):
            exposure[cls] += n_months - free
        if onset is None:
            continue
        later = {"tightening": _CONTROL_TYPES, "deal": {"deal"}, "relief": {"suspension"}}
        for cls, kinds in later.items():
            counts[cls] += len(
                {m for t, m in zip(types, ms, strict=True) if t in kinds and m > onset}
            )
    return PolicyHistory(counts, exposure, products, first, last)


def rate_posteriors(priors: Mapping[str, Dist], history: PolicyHistory) -> dict[str, Dist]:
    """Return each class's monthly rate: the Gamma posterior, or the Fixed rate as given.

    Parameters
    ----------
    priors : mapping of str to Dist
        ``{class}_rate`` for every class of :data:`POLICY_CLASSES`: a ``Gamma`` prior
        (``beta`` in product-months) or a ``Fixed`` rate.
    history : PolicyHistory
        The counts and exposures.

    Returns
    -------
    dict of str to Dist
        Keyed by class.
    """
    out: dict[str, Dist] = {}
    for cls in POLICY_CLASSES:
        prior = priors[f"{cls}_rate"]
        if prior.family == "Gamma":
            n, e = history.counts[cls], history.exposure[cls]
            out[cls] = Dist.of(
                "Gamma",
                f"{prior.describe()} prior updated with {n} events in {e} product-months",
                alpha=prior["alpha"] + n,
                beta=prior["beta"] + e,
            )
        else:
            out[cls] = prior
    return out


def simulate_policy(
    approval: np.ndarray,
    *,
    rates: Mapping[str, Dist],
    effects: Mapping[str, Dist],
    controlled: np.ndarray,
    start: int,
    gen: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw policy events over the horizon and move the approval paths by them.

    Parameters
    ----------
    approval : numpy.ndarray
        Approval rates without new events, (path, destination, month).
    rates : mapping of str to Dist
        Each class's monthly rate (:func:`rate_posteriors`); one draw per path.
    effects : mapping of str to Dist
        ``depth``, ``months_to_low``, ``recovery_half_life_months`` and ``long_run``
        (the shape of a ``control`` or ``tightening``), ``deal_gap_closed`` and
        ``relief_gap_closed``; one draw per path and month.
    controlled : numpy.ndarray of bool, shape (month,)
        Whether licensing is in force in each month without new events.
    start : int
        First month in which events can happen (the regime's start).
    gen : numpy.random.Generator
        The draws, in a fixed order: rates, uniforms, shapes, gap shares.

    Returns
    -------
    approval : numpy.ndarray
        The moved approval rates, clipped to [0, 1], same shape.
    events : numpy.ndarray of bool, shape (path, month, class)
        Which events each path had, classes in :data:`POLICY_CLASSES` order.
    """
    n_paths, _, horizon = approval.shape
    rate = np.stack([rates[c].sample(gen, n_paths) for c in POLICY_CLASSES], axis=1)
    prob = -np.expm1(-np.maximum(rate, 0.0))  # (P, class)
    u = gen.random((n_paths, horizon, len(POLICY_CLASSES)))
    shape = {
        k: effects[k].sample(gen, (n_paths, horizon))
        for k in ("depth", "months_to_low", "recovery_half_life_months", "long_run")
    }
    gaps = {
        c: effects[f"{c}_gap_closed"].sample(gen, (n_paths, horizon)) for c in ("deal", "relief")
    }
    out = np.array(approval, dtype=np.float64)
    events = np.zeros((n_paths, horizon, len(POLICY_CLASSES)), dtype=bool)
    onset = np.zeros(n_paths, dtype=bool)
    months = np.arange(horizon)
    for h in range(max(start, 0), horizon):
        under = controlled[h] | onset
        happens = u[:, h, :] < prob
        events[:, h, 0] = ~under & happens[:, 0]
        events[:, h, 1:] = under[:, None] & happens[:, 1:]
        shock = events[:, h, 0] | events[:, h, 1]
        if shock.any():
            mult = control_multiplier(
                (months - h)[None, :],
                *(shape[k][:, [h]] for k in shape),
            )
            out *= np.where(shock[:, None], mult, 1.0)[:, None, :]
        onset |= events[:, h, 0]
        for j, cls in ((2, "deal"), (3, "relief")):
            hit = events[:, h, j]
            if hit.any():
                closed = 1.0 - (1.0 - out[:, :, h:]) * (1.0 - gaps[cls][:, [h]])[:, :, None]
                out[:, :, h:] = np.where(hit[:, None, None], closed, out[:, :, h:])
    return np.clip(out, 0.0, 1.0), events
