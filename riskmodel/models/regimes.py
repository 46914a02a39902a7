"""Licensing regimes from dated policy events.

Regimes are taken from the policy events, never from the fit. For one product:

- Before the first ``control_effective`` or ``ban`` event that matches the product,
  there is no licensing: the approval rate is 1.
- From that month on, every matching event of a type in :data:`REGIME_EVENT_TYPES`
  opens a new regime. Several events that fall in the same month open one regime.
- An event in the second half of a month (day > 15) takes effect from the next
  month, because a month's customs figure mostly reflects shipments cleared
  before it; an event whose day is unknown counts from its own month.

``control_announced`` events do not change the approval regime (they are kept for
the report and for the pre-control rush of the shock-shape work).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Event types that open a new approval regime once licensing is in force.
REGIME_EVENT_TYPES = frozenset(
    {"control_effective", "ban", "licences_approved", "deal", "suspension"}
)
#: Event types that put licensing in force.
CONTROL_START_TYPES = frozenset({"control_effective", "ban"})

#: Event types that move approval up once licensing is in force (the rest of
#: :data:`REGIME_EVENT_TYPES`, :data:`CONTROL_START_TYPES`, move it down).
EASING_TYPES = frozenset({"licences_approved", "deal", "suspension"})

#: Day of month after which an event counts from the next month.
LATE_IN_MONTH_DAY = 15


@dataclass(frozen=True)
class RegimeSchedule:
    """The approval regime of each modelled month.

    Attributes
    ----------
    names : tuple of str
        One label per regime, e.g. ``"2025-04 control_effective"``.
    starts : tuple of pandas.Period
        The first month of each regime.
    index : numpy.ndarray
        Regime number of every month of the window, -1 where no control is in force.
    """

    names: tuple[str, ...]
    starts: tuple[pd.Period, ...]
    index: np.ndarray

    @property
    def n_regimes(self) -> int:
        """Number of regimes under licensing."""
        return len(self.names)

    @property
    def control_start(self) -> int | None:
        """Index of the first controlled month in the window, or None."""
        hits = np.flatnonzero(self.index >= 0)
        return int(hits[0]) if hits.size else None


def regime_kinds(label: str) -> set[str]:
    """Return the event types of a regime label, ``"YYYY-MM type+type"``."""
    return set(label.partition(" ")[2].split("+")) - {""}


def regime_direction(label: str) -> int:
    """Return which way a regime's events move approval: +1 up, -1 down, 0 either.

    ``label`` is a regime label, ``"YYYY-MM type+type"``. A regime opened only by
    easing events (:data:`EASING_TYPES`: a deal, licences approved, a suspension) is
    +1, one opened only by a control or a ban (:data:`CONTROL_START_TYPES`) is -1;
    a mix of both, or a label with neither, is 0.
    """
    kinds = regime_kinds(label)
    up, down = bool(kinds & EASING_TYPES), bool(kinds & CONTROL_START_TYPES)
    return int(up) - int(down) if up != down else 0


def effective_month(date: pd.Timestamp, day_known: bool = True) -> pd.Period:
    """Return the first month whose customs figure an event affects."""
    month = pd.Period(date, freq="M")
    if day_known and date.day > LATE_IN_MONTH_DAY:
        return month + 1
    return month


def regime_starts(events: pd.DataFrame | None) -> list[tuple[pd.Period, str]]:
    """Return every regime a product's events open, in time order, with no window.

    Parameters
    ----------
    events : pandas.DataFrame or None
        Policy events already filtered to the product (columns ``date``,
        ``event_type``, and optionally ``day_known``).

    Returns
    -------
    list of (pandas.Period, str)
        The first month of each regime and its label (e.g. ``"2025-04
        control_effective"``); empty when no control is ever put in force.
    """
    if events is None or len(events) == 0:
        return []
    ev = events[events["event_type"].isin(REGIME_EVENT_TYPES)].copy()
    if ev.empty:
        return []
    day_known = ev["day_known"] if "day_known" in ev else pd.Series(True, index=ev.index)
    ev["start"] = [
        effective_month(pd.Timestamp(d), bool(k))
        for d, k in zip(ev["date"], day_known, strict=True)
    ]
    ev = ev.sort_values(["start", "date"])
    control = ev[ev["event_type"].isin(CONTROL_START_TYPES)]
    if control.empty:
        return []
    ev = ev[ev["start"] >= control["start"].iloc[0]]
    return [
        (start, f"{start} {'+'.join(sorted(set(group['event_type'])))}")
        for start, group in ev.groupby("start", sort=True)
    ]


def regime_schedule(events: pd.DataFrame | None, months: pd.PeriodIndex) -> RegimeSchedule:
    """Build the regime schedule of a product over the modelling window.

    Regimes that start after the window's last month are not part of it; see
    :func:`regime_starts` for all of them.

    Parameters
    ----------
    events : pandas.DataFrame
        Policy events already filtered to the product (see :func:`regime_starts`).
    months : pandas.PeriodIndex
        The modelled months.

    Returns
    -------
    RegimeSchedule
    """
    index = np.full(len(months), -1, dtype=np.int64)
    inside = [(s, n) for s, n in regime_starts(events) if s <= months[-1]]
    for r, (start, _name) in enumerate(inside):
        index[np.asarray(months >= start)] = r
    # A regime superseded before the window opens has no month to inform it: drop it.
    used = sorted(set(index[index >= 0].tolist()))
    remap = {old: new for new, old in enumerate(used)}
    index = np.array([remap.get(int(i), -1) for i in index], dtype=np.int64)
    return RegimeSchedule(
        tuple(inside[i][1] for i in used), tuple(inside[i][0] for i in used), index
    )
