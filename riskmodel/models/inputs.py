"""Model inputs: validated observations -> the arrays the PyMC model needs.

How World and the destinations are combined (never counting a destination twice):
every destination series, World included, is modelled as its own series with its
own counterfactual demand, partially pooled through a common trend. Nothing is
summed across destinations inside the model, so a country and a regional aggregate
that contains it (Germany and the European Union) can both be fitted without double
counting. The rest of the world is World minus the named, non-overlapping
destinations, and is formed only downstream (in propagation), where the
destination -> region table says which series are disjoint.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskmodel.exceptions import DataValidationError
from riskmodel.models.regimes import RegimeSchedule, regime_schedule

WORLD = "World"


@dataclass(frozen=True)
class LicenceCounts:
    """Approved-of-applied licence counts, as arrays aligned with the model."""

    destination: np.ndarray  # (n,) destination index
    first: np.ndarray  # (n,) first month index
    last: np.ndarray  # (n,) last month index
    applications: np.ndarray  # (n,)
    approved: np.ndarray  # (n,)


@dataclass(frozen=True)
class ModelInputs:
    """Everything the joint model needs, as plain arrays with their labels.

    Observation ``i`` is the total of destination ``obs_destination[i]`` over the
    months ``obs_months[i, obs_mask[i]]`` (one month for a monthly row, several for a
    residual of a January-February or year-to-date row).
    """

    product: str
    months: pd.PeriodIndex
    destinations: tuple[str, ...]
    obs_destination: np.ndarray  # (n_obs,) int
    obs_months: np.ndarray  # (n_obs, K) int, month index (padded with 0)
    obs_mask: np.ndarray  # (n_obs, K) bool
    obs_quantity: np.ndarray  # (n_obs,) tonnes
    obs_label: tuple[str, ...]  # file:line of each observation
    regimes: RegimeSchedule
    licences: LicenceCounts | None
    dropped: tuple[str, ...] = field(default=())  # what was left out of the window, and why
    future_regime_starts: tuple[pd.Period, ...] = field(default=())  # dated after the window
    future_regime_names: tuple[str, ...] = field(default=())  # their labels (event types)
    as_of: pd.Period | None = None  # the point in time of a point-in-time run

    @property
    def n_months(self) -> int:
        """Number of modelled months."""
        return len(self.months)

    @property
    def month_labels(self) -> list[str]:
        """Months as ``YYYY-MM`` strings."""
        return [str(m) for m in self.months]

    @property
    def obs_is_zero(self) -> np.ndarray:
        """Which observations are reported zeros (handled by censoring)."""
        return self.obs_quantity <= 0

    def log_location(self) -> np.ndarray:
        """Median log monthly quantity per destination: centres the demand levels."""
        per_month = self.obs_quantity / self.obs_mask.sum(axis=1)
        loc = np.zeros(len(self.destinations))
        for d in range(len(self.destinations)):
            vals = per_month[(self.obs_destination == d) & (per_month > 0)]
            loc[d] = np.log(np.median(vals)) if vals.size else 0.0
        return loc

    @property
    def data_hash(self) -> str:
        """A stable hash of what the fit sees and records (observations, regimes, licences).

        The regime starts dated after the window are part of it: a saved fit carries
        them to the forecast, so a fit made before a new event was added is not reused.
        """
        payload = {
            "product": self.product,
            "months": [str(self.months[0]), str(self.months[-1])],
            "destinations": list(self.destinations),
            "obs": [
                [int(d), [int(m) for m in ms[mk]], round(float(q), 6)]
                for d, ms, mk, q in zip(
                    self.obs_destination,
                    self.obs_months,
                    self.obs_mask,
                    self.obs_quantity,
                    strict=True,
                )
            ],
            "regimes": [list(self.regimes.names), self.regimes.index.tolist()],
            "future_regime_starts": [str(s) for s in self.future_regime_starts],
            "licences": None
            if self.licences is None
            else [np.asarray(a).tolist() for a in vars(self.licences).values()],
        }
        if self.future_regime_names:  # absent when empty: hashes of earlier inputs hold
            payload["future_regime_names"] = list(self.future_regime_names)
        text = json.dumps(payload, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def prepare_inputs(
    observations: pd.DataFrame,
    *,
    product: str,
    events: pd.DataFrame | None = None,
    licence_counts: pd.DataFrame | None = None,
    start: str | pd.Period | None = None,
    end: str | pd.Period | None = None,
    history_months: int = 84,
    min_observations: int = 4,
    max_staleness_months: int = 36,
) -> ModelInputs:
    """Turn reconciled observations of one product into :class:`ModelInputs`.

    Parameters
    ----------
    observations : pandas.DataFrame
        ``reconcile(...).observations``: columns ``product``, ``destination``,
        ``months`` (tuple of Periods), ``quantity_t`` and optionally ``file``/``line``.
    product : str
        The product to model.
    events : pandas.DataFrame, optional
        Policy events already matched to the product (see
        :func:`riskmodel.customs.events_for_product`); they define the regimes.
    licence_counts : pandas.DataFrame, optional
        Columns ``product``, ``destination``, ``start``, ``end``, ``applications``,
        ``approved``; rows for other products or unmodelled destinations are skipped
        (and listed in ``dropped``).
    start, end : str or Period, optional
        The modelling window; by default it ends at the last observed month and spans
        ``history_months`` months.
    history_months : int
        Window length when ``start`` is not given (84 = seven years: long enough for
        seasonality and trend, short enough to keep the latent state small).
    min_observations : int
        Destinations with fewer observations inside the window are not modelled
        (listed in ``dropped``). World is always modelled when present.
    max_staleness_months : int
        Destinations whose last observation lies more than this many months before the
        window's end are not modelled either (a 2020 figure says little about 2026).

    Returns
    -------
    ModelInputs
    """
    obs = observations[observations["product"] == product]
    if obs.empty:
        raise DataValidationError(f"no observations of product '{product}'")
    last_month = max(max(ms) for ms in obs["months"])
    first_month = min(min(ms) for ms in obs["months"])
    end_p = pd.Period(end, freq="M") if end is not None else last_month
    if start is not None:
        start_p = pd.Period(start, freq="M")
    else:
        # No latent months before the first observation: they would only add prior mass.
        start_p = max(end_p - (history_months - 1), first_month)
    if start_p > end_p:
        raise DataValidationError(f"modelling window starts ({start_p}) after it ends ({end_p})")
    months = pd.period_range(start_p, end_p, freq="M")

    dropped: list[str] = []
    inside = obs["months"].map(lambda ms: min(ms) >= start_p and max(ms) <= end_p)
    n_out = int((~inside).sum())
    if n_out:
        dropped.append(f"{n_out} observations outside the window {start_p}..{end_p}")
    obs = obs[inside]
    counts = obs.groupby("destination").size()
    latest = obs.groupby("destination")["months"].agg(lambda col: max(max(ms) for ms in col))
    stale_before = end_p - max_staleness_months
    keep = []
    for d in counts.index:
        if d != WORLD and counts[d] < min_observations:
            dropped.append(f"destination '{d}': {counts[d]} observations (< {min_observations})")
        elif d != WORLD and latest[d] <= stale_before:
            dropped.append(
                f"destination '{d}': last observed {latest[d]}, more than "
                f"{max_staleness_months} months before {end_p} (too stale to forecast)"
            )
        else:
            keep.append(d)
    if not keep:
        raise DataValidationError(
            f"no destination of '{product}' has {min_observations} observations in "
            f"{start_p}..{end_p}"
        )
    destinations = ([WORLD] if WORLD in keep else []) + sorted(d for d in keep if d != WORLD)
    obs = obs[obs["destination"].isin(destinations)].reset_index(drop=True)
    dest_index = {d: i for i, d in enumerate(destinations)}

    k_max = max(len(ms) for ms in obs["months"])
    obs_months = np.zeros((len(obs), k_max), dtype=np.int64)
    obs_mask = np.zeros((len(obs), k_max), dtype=bool)
    for i, ms in enumerate(obs["months"]):
        for k, m in enumerate(sorted(ms)):
            obs_months[i, k] = (m - start_p).n
            obs_mask[i, k] = True
    labels = tuple(
        f"{f}:{ln}"
        for f, ln in zip(
            obs.get("file", pd.Series("", index=obs.index)),
            obs.get("line", pd.Series(0, index=obs.index)),
            strict=True,
        )
    )

    schedule = regime_schedule(events if events is not None else pd.DataFrame(), months)
    licences = _licence_arrays(licence_counts, product, months, dest_index, schedule, dropped)

    return ModelInputs(
        product=product,
        months=months,
        destinations=tuple(destinations),
        obs_destination=obs["destination"].map(dest_index).to_numpy(dtype=np.int64),
        obs_months=obs_months,
        obs_mask=obs_mask,
        obs_quantity=obs["quantity_t"].to_numpy(dtype=float),
        obs_label=labels,
        regimes=schedule,
        licences=licences,
        dropped=tuple(dropped),
    )


def _licence_arrays(
    counts: pd.DataFrame | None,
    product: str,
    months: pd.PeriodIndex,
    dest_index: dict[str, int],
    schedule: RegimeSchedule,
    dropped: list[str],
) -> LicenceCounts | None:
    if counts is None or len(counts) == 0 or schedule.control_start is None:
        return None
    rows = []
    for row in counts[counts["product"] == product].itertuples():
        first = pd.Period(row.start, freq="M")
        last = pd.Period(row.end, freq="M")
        if row.destination not in dest_index:
            dropped.append(f"licence counts for '{row.destination}': destination not modelled")
            continue
        if first < months[0] or last > months[-1]:
            dropped.append(f"licence counts {first}..{last} for {row.destination}: outside window")
            continue
        f, ell = (first - months[0]).n, (last - months[0]).n
        if schedule.index[f] < 0:
            # Counts that begin before licensing started cannot inform the approval rate.
            f = max(f, schedule.control_start)
            if f > ell:
                dropped.append(f"licence counts {first}..{last}: before controls took effect")
                continue
        rows.append((dest_index[row.destination], f, ell, int(row.applications), int(row.approved)))
    if not rows:
        return None
    arr = np.array(rows, dtype=np.int64)
    return LicenceCounts(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4])


__all__ = ["WORLD", "LicenceCounts", "ModelInputs", "prepare_inputs"]
