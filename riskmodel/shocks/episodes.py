"""Past export-control episodes, found from the policy events and the customs series.

An *episode* is the onset of licensing on one product, seen in one customs series:
the first ``control_effective`` or ``ban`` event that names the product and falls
inside the span of the product's series (World, or the only destination when there
is no World series, as for Japan's 2010 imports of rare earths from China).

Per episode this module also decides, from the events and the data alone:

- the *announcement*: the last ``control_announced`` event of the product at most
  six months before the effect (``None`` when the control took effect on
  publication);
- the *rush months*: customs months from the announcement to the month before the
  effect. They are not fitted (exports front-loaded ahead of a control are not
  counterfactual demand); the rush is measured on them instead. A month counts only
  when the announcement falls in its first half (the rule of
  :func:`riskmodel.models.regimes.effective_month`), so an announcement on
  20 October leaves November as the rush month;
- the *window*: the episode ends before the next ``ban`` on the product (a new
  shock, such as the December 2024 ban on gallium and germanium to the United
  States) and at its last observed month;
- whether it is *fitted*, *not fitted* (no pre-control or no post-control
  observation) or *fitted but not pooled* (a series that duplicates another
  episode's goods, mixes controlled with uncontrolled goods, or whose only
  pre-control figure is too far from the effect to anchor the counterfactual), with
  the reason.

Nothing here samples; see :mod:`riskmodel.shocks.measure` for the fits.
"""

from __future__ import annotations

import calendar
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from riskmodel.customs import events_for_product, read_customs, read_policy_events, reconcile
from riskmodel.customs.read import WORLD, bundled_customs_paths
from riskmodel.models.regimes import CONTROL_START_TYPES, effective_month
from riskmodel.resources import bundled_data_file

__all__ = [
    "ANNOUNCEMENT_MAX_MONTHS",
    "NOT_POOLED",
    "SINGLE_ANCHOR_MAX_GAP",
    "Episode",
    "find_episodes",
]

PathLike = str | os.PathLike[str]

#: An announcement more than this many months before the effect is not this episode's.
ANNOUNCEMENT_MAX_MONTHS = 6
#: With a single pre-control figure, it must end at most this many months before the
#: effect month to anchor the counterfactual there.
SINGLE_ANCHOR_MAX_GAP = 2

#: Series that are fitted and shown but kept out of the across-episode model, and why.
NOT_POOLED: Mapping[str, str] = {
    "rare_earths": (
        "GACC headline category, mostly light rare-earth oxides and metals that the "
        "April 2025 controls (Sm, Gd, Tb, Dy, Lu, Sc, Y) did not cover: a diluted shock"
    ),
    "rare_earth_products_bloomberg": (
        "Bloomberg's rare-earth products are dominated by magnets: the same goods as the "
        "magnets episode, so pooling both would count April 2025 twice"
    ),
    "tungsten_products": (
        "total of all tungsten products, of which only some items were controlled: a "
        "diluted shock, and only year-to-date totals"
    ),
    "graphite_natural_total": "all natural graphite: overlaps the flake and spherical series",
}


@dataclass(frozen=True)
class Episode:
    """One control episode in one customs series.

    Attributes
    ----------
    product, destination : str
        The customs series (``destination`` is ``World`` or, for a series without a
        World total, its only destination).
    effective : pandas.Timestamp
        Date the control took effect (the ``control_effective``/``ban`` event).
    effective_month : pandas.Period
        First customs month under the control (the model's regime start month).
    announced : pandas.Timestamp or None
        Date of the announcement, when it preceded the effect.
    rush_months : tuple of pandas.Period
        Months between announcement and effect (not fitted; the rush is measured there).
    as_of : pandas.Period
        Point-in-time cut for :func:`riskmodel.pipeline.load_inputs`: only months
        before it are used (the month after the episode's last observed month).
    events_from : pandas.Timestamp
        Only events of the product dated on or after this date define the episode's
        regimes (earlier controls elsewhere, e.g. the 2010 Japan ban for a World series
        of rare earths, are not this episode's).
    data_file : str
        The customs file holding the series.
    events_file : str
        The policy events file.
    status : str
        ``"fitted"``, ``"not_pooled"`` (fitted, shown, kept out of the pooled model)
        or ``"not_fitted"``.
    reason : str
        Why an episode is not fitted or not pooled, or why its evidence is weak (empty
        for a well-observed pooled episode).
    n_pre, n_post : int
        Observations (rows after reconciliation) before the effect month and from it on,
        inside the window, not counting rush months.
    sources : tuple of str
        Sources (URLs) of the effect and announcement events.
    notes : tuple of str
        Anything else worth saying (later regimes inside the window, partial coverage).
    """

    product: str
    destination: str
    effective: pd.Timestamp
    effective_month: pd.Period
    announced: pd.Timestamp | None
    rush_months: tuple[pd.Period, ...]
    as_of: pd.Period
    events_from: pd.Timestamp
    data_file: str
    events_file: str
    status: str
    reason: str = ""
    n_pre: int = 0
    n_post: int = 0
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        """A stable label, e.g. ``gallium_2023-08``."""
        return f"{self.product}_{self.effective_month}"

    @property
    def label(self) -> str:
        """A short human label, e.g. ``gallium 2023-08 (World)``."""
        return f"{self.product} {self.effective_month} ({self.destination})"

    @property
    def partial_first_month(self) -> float:
        """Effect day of month over the days in that month (1/31 for 1 August).

        The share of the effect month under the control is
        ``1 - (day - 1) / days_in_month``; an effect late in a month (day > 15)
        starts the regime in the next month.
        """
        day = self.effective.day
        days = calendar.monthrange(self.effective.year, self.effective.month)[1]
        return day / days

    @property
    def fitted(self) -> bool:
        """Whether the episode has an approval-rate fit."""
        return self.status in ("fitted", "not_pooled")

    @property
    def pooled(self) -> bool:
        """Whether the episode enters the across-episode model."""
        return self.status == "fitted"


def _series_table(frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(product, destination, file) of each series an episode can be read from."""
    out: list[tuple[str, str, str]] = []
    for product, rows in frame.groupby("product", sort=True):
        dests = sorted(set(rows["destination"]))
        if WORLD in dests:
            dest = WORLD
        elif len(dests) == 1:
            dest = dests[0]
        else:
            continue
        files = sorted(set(rows.loc[rows["destination"] == dest, "file"]))
        out.append((str(product), dest, str(files[0])))
    return out


def _months_of(rows: pd.DataFrame) -> list[tuple[pd.Period, pd.Period]]:
    """(first, last) month of each row."""
    return [
        (m - (int(k) - 1), m) for m, k in zip(rows["month"], rows["months_covered"], strict=True)
    ]


def find_episodes(
    data: PathLike | Iterable[PathLike] | None = None,
    events: PathLike | None = None,
) -> list[Episode]:
    """Find the control episodes in the customs series.

    Parameters
    ----------
    data : path or iterable of paths, optional
        Customs CSV files; default: the bundled series.
    events : path, optional
        Policy events CSV; default: the bundled ``policy_events.csv``.

    Returns
    -------
    list of Episode
        One per series with a control inside its span, sorted by effect date then
        product; every episode says whether it can be fitted and why not.
    """
    paths = [data] if isinstance(data, str | os.PathLike) else list(data or bundled_customs_paths())
    frame = read_customs(paths)
    events_path = str(events) if events is not None else str(bundled_data_file("policy_events.csv"))
    all_events = read_policy_events(events_path)
    episodes: list[Episode] = []
    for product, dest, file in _series_table(frame):
        rows = frame[(frame["product"] == product) & (frame["destination"] == dest)]
        spans = _months_of(rows)
        first_month = min(a for a, _ in spans)
        last_month = max(b for _, b in spans)
        ev = events_for_product(all_events, product)
        ev = ev[ev["commodities"].map(lambda c, p=product: p in c)]  # not the 'all' events
        controls = ev[ev["event_type"].isin(CONTROL_START_TYPES)]
        starts = [
            (row.date, effective_month(pd.Timestamp(row.date), bool(row.day_known)), row)
            for row in controls.itertuples()
        ]
        # The first control effective inside the series' span (or up to a year before
        # it, so that a series that starts after its control is listed, not fitted).
        inside = [s for s in starts if first_month - 12 <= s[1] <= last_month]
        if not inside:
            continue
        eff_date, eff_month, eff_row = inside[0]
        announced_rows = ev[
            (ev["event_type"] == "control_announced")
            & (ev["date"] <= eff_date)
            & (ev["month"] >= eff_month - ANNOUNCEMENT_MAX_MONTHS)
        ]
        announced: pd.Timestamp | None = None
        rush: tuple[pd.Period, ...] = ()
        sources = [str(eff_row.source)]
        if len(announced_rows):
            ann = announced_rows.iloc[-1]
            ann_month = effective_month(pd.Timestamp(ann["date"]), bool(ann["day_known"]))
            if ann_month < eff_month:
                announced = pd.Timestamp(ann["date"])
                rush = tuple(pd.period_range(ann_month, eff_month - 1, freq="M"))
            if str(ann["source"]) not in sources:
                sources.append(str(ann["source"]))
        # The episode ends before the next ban (a new shock) and at its last observed month.
        later_bans = [
            effective_month(pd.Timestamp(r.date), bool(r.day_known))
            for r in ev[ev["event_type"] == "ban"].itertuples()
            if pd.Timestamp(r.date) > eff_date
        ]
        cut = min([*later_bans, last_month + 1])
        kept = [(a, b) for a, b in spans if b < cut]
        if not kept:
            continue
        last_kept = max(b for _, b in kept)
        as_of = last_kept + 1
        events_from = announced if announced is not None else pd.Timestamp(eff_date)
        obs = reconcile(rows[rows["month"] < as_of]).observations
        obs_months = [tuple(ms) for ms in obs["months"]]
        pre_ends = [max(ms) for ms in obs_months if max(ms) < eff_month and not set(ms) & set(rush)]
        pre = len(pre_ends)
        post = sum(1 for ms in obs_months if max(ms) >= eff_month)
        notes: list[str] = []
        later = ev[
            ev["event_type"].isin({"control_effective", "ban", "suspension", "deal"})
            & (ev["date"] > eff_date)
            & (ev["month"] < as_of)
        ]
        for r in later.itertuples():
            notes.append(f"{r.event_type} {pd.Timestamp(r.date).date()} inside the window")
        if later_bans and min(later_bans) < last_month + 1:
            notes.append(f"window ends before the {min(later_bans)} ban")
        if any(len(ms) > 1 for ms in obs_months if max(ms) >= eff_month):
            notes.append("some post-control months are known only through multi-month totals")
        status, reason = "fitted", ""
        if pre == 0:
            status, reason = "not_fitted", "no pre-control observation: no counterfactual"
        elif post == 0:
            status, reason = "not_fitted", "no post-control observation"
        elif product in NOT_POOLED:
            status, reason = "not_pooled", NOT_POOLED[product]
        elif pre == 1 and (eff_month - max(pre_ends)).n > SINGLE_ANCHOR_MAX_GAP:
            status, reason = (
                "not_pooled",
                f"the only pre-control figure ends {max(pre_ends)}, "
                f"{(eff_month - max(pre_ends)).n} months before the effect"
                + (" (the rush month left out)" if rush else "")
                + ": the counterfactual at the effect is an extrapolation from one figure, "
                "and the fit can call that figure an outlier",
            )
        elif pre == 1:
            reason = (
                "weak: one pre-control observation, so the counterfactual rests on one "
                "figure (pooled with its wide uncertainty; prior-dominated months are left out)"
            )
        episodes.append(
            Episode(
                product=product,
                destination=dest,
                effective=pd.Timestamp(eff_date),
                effective_month=eff_month,
                announced=announced,
                rush_months=rush,
                as_of=as_of,
                events_from=events_from,
                data_file=file,
                events_file=events_path,
                status=status,
                reason=reason,
                n_pre=pre,
                n_post=post,
                sources=tuple(sources),
                notes=tuple(notes),
            )
        )
    return sorted(episodes, key=lambda e: (e.effective, e.product))
