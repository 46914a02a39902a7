"""Licensing regimes from dated policy events.

Regimes are taken from the policy events, never from the fit. For one product:

- Before the first ``control_effective`` or ``ban`` event that matches the product,
  there is no licensing: the approval rate is 1.
- From that month on, every matching event of a type in :data:`REGIME_EVENT_TYPES`
  opens a new regime. Several events that fall in the same month open one regime.
- A ``suspension`` that lifts the last control in force ends licensing until the
  next control; a suspension of a control only announced, not yet in force, does
  not (see :func:`regime_starts`). A window that opens after such a lift has no
  licensing until the next control; a lift inside the window is fitted as an easing
  regime (see :func:`regime_schedule`).
- An event in the second half of a month (day > 15) takes effect from the next
  month, because a month's customs figure mostly reflects shipments cleared
  before it; an event whose day is unknown counts from its own month.

``control_announced`` events do not change the approval regime (they are kept for
the report and for the pre-control rush of the shock-shape work); they only tell
which control a later suspension lifts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Event types that open a new approval regime once licensing is in force.
REGIME_EVENT_TYPES = frozenset(
    {"control_effective", "ban", "licences_approved", "deal", "suspension"}
)
#: The event type of a control announced but not yet in force.
ANNOUNCED = "control_announced"
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


def _regime_boundaries(events: pd.DataFrame | None) -> list[tuple[pd.Period, str, bool]]:
    """Return each month where a product's approval regime changes, in time order.

    Each entry is ``(first month, label, licensing in force from then)``; the
    tally is described in :func:`regime_starts`.
    """
    if events is None or len(events) == 0:
        return []
    kinds = REGIME_EVENT_TYPES | {ANNOUNCED}
    ev = events[events["event_type"].isin(kinds)].copy()
    if ev.empty:
        return []
    day_known = ev["day_known"] if "day_known" in ev else pd.Series(True, index=ev.index)
    ev["start"] = [
        effective_month(pd.Timestamp(d), bool(k))
        for d, k in zip(ev["date"], day_known, strict=True)
    ]
    boundaries = []
    in_force = pending = 0
    for start, group in ev.groupby("start", sort=True):
        types = list(group["event_type"])
        was_in_force = in_force > 0
        pending += types.count(ANNOUNCED)
        for _ in range(sum(t in CONTROL_START_TYPES for t in types)):
            in_force += 1
            pending = max(pending - 1, 0)
        for _ in range(types.count("suspension")):
            if pending:
                pending -= 1
            elif in_force:
                in_force -= 1
        opened = sorted(set(types) & REGIME_EVENT_TYPES)
        if opened and (was_in_force or in_force):
            boundaries.append((start, f"{start} {'+'.join(opened)}", in_force > 0))
    return boundaries


def regime_starts(events: pd.DataFrame | None) -> list[tuple[pd.Period, str]]:
    """Return every month where a product's approval regime changes, with no window.

    The events of a month are tallied with announcements first: a
    ``control_announced`` is pending until a control or ban takes effect (which
    settles it); a ``suspension`` cancels a pending announcement if there is one
    (a control suspended before it took effect, e.g. China's October 2025 rare-earth
    controls) and otherwise lifts one control in force (e.g. the end of the 2010
    embargo on Japan). Easing events while no control is in force change nothing.

    Parameters
    ----------
    events : pandas.DataFrame or None
        Policy events already filtered to the product (columns ``date``,
        ``event_type``, and optionally ``day_known``).

    Returns
    -------
    list of (pandas.Period, str)
        The first month of each regime and its label (e.g. ``"2025-04
        control_effective"``), in time order; empty when no control is ever put in
        force. A month where a suspension lifts the last control in force is
        included too (licensing ends there; its label's events ease, so a forecast
        that meets it steps approval up).
    """
    return [(start, name) for start, name, _ in _regime_boundaries(events)]


def regime_schedule(events: pd.DataFrame | None, months: pd.PeriodIndex) -> RegimeSchedule:
    """Build the regime schedule of a product over the modelling window.

    Regimes that start after the window's last month are not part of it; see
    :func:`regime_starts` for all of them. A spell of licensing that a suspension
    lifted (:func:`regime_starts`) by the window's first month is not part of it
    either: its months up to the next control are uncontrolled. A lift inside the
    window is a regime of the fit like any easing event (direction +1), so the
    months after it show how fully shipments resumed.

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
    inside = [b for b in _regime_boundaries(events) if b[0] <= months[-1]]
    # A spell of licensing lifted by the window's first month has nothing to inform.
    lifted = [i for i, (s, _, in_force) in enumerate(inside) if not in_force and s <= months[0]]
    inside = [(s, n) for s, n, _ in inside[lifted[-1] + 1 if lifted else 0 :]]
    for r, (start, _name) in enumerate(inside):
        index[np.asarray(months >= start)] = r
    # A regime superseded before the window opens has no month to inform it: drop it.
    used = sorted(set(index[index >= 0].tolist()))
    remap = {old: new for new, old in enumerate(used)}
    index = np.array([remap.get(int(i), -1) for i in index], dtype=np.int64)
    return RegimeSchedule(
        tuple(inside[i][1] for i in used), tuple(inside[i][0] for i in used), index
    )
