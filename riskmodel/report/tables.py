"""The numbers a report shows: headline risks, the scenario table, data freshness.

Pure pandas on the stage outputs (see :mod:`riskmodel.report.inputs`); no plotting.
Probabilities are "P(short)": the probability that an industry in a region gets
less magnet supply than it needs in a month (``p_short`` of the shortage stage).
Windows ("the next 3 months") count forecast months from the first month of the
shortage table, which is the month after the last customs month of the fit.
"""

from __future__ import annotations

import functools
import math
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.exceptions import RiskModelError
from riskmodel.report.inputs import ScenarioResult

__all__ = [
    "WINDOWS",
    "fmt_month",
    "fmt_prob",
    "fmt_tonnes",
    "freshness",
    "history_observations",
    "max_by_pair",
    "pair_key",
    "pair_label",
    "product_events",
    "scenario_summary",
    "source_table",
    "top_risks",
    "window_months",
]

#: Headline windows, in forecast months.
WINDOWS = (3, 6, 12)
WORLD = "World"


@functools.cache
def _industry_labels() -> dict[str, str]:
    """Industry name -> readable label: ``industries.<name>.label`` of ``priors/propagation.yaml``.

    The same labels :class:`~riskmodel.propagation.params.PropagationParams` carries,
    read with the shared YAML reader: importing the propagation stage would load
    numba into the report.
    """
    from riskmodel.config.yamlio import read_yaml
    from riskmodel.resources import priors_dir

    try:
        industries = read_yaml(priors_dir() / "propagation.yaml").get("industries") or {}
    except (RiskModelError, OSError, AttributeError):
        return {}
    return {
        str(name): str(spec["label"])
        for name, spec in industries.items()
        if isinstance(spec, dict) and spec.get("label")
    }


def pair_key(region: str, industry: str) -> str:
    """Return the key of a region and industry in ``summary.json`` (``"US/automotive"``)."""
    return f"{region}/{industry}"


def industry_label(industry: str) -> str:
    """Return the readable label of an industry (``e_bikes``: ``E-bikes, e-scooters, e-2W/3W``).

    Labels are those of ``priors/propagation.yaml`` (``industries.<name>.label``);
    a name not listed there is shown with spaces for underscores.
    """
    name = str(industry)
    return _industry_labels().get(name) or name.replace("_", " ")


def pair_label(region: str, industry: str) -> str:
    """Return ``"US · EV/HEV/PHEV traction motors"`` (region, then the industry's label)."""
    return f"{region} · {industry_label(industry)}"


def fmt_prob(p: float | None) -> str:
    """Format a probability as a percentage: ``<1%``, ``37%``, ``>99%``, ``n/a``."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "n/a"
    if p < 0.005:
        return "0%" if p <= 0 else "<1%"
    if p > 0.995:
        return "100%" if p >= 1 else ">99%"
    return f"{p:.0%}"


def fmt_month(month: str | pd.Period | None) -> str:
    """Format ``2026-03`` as ``Mar 2026``; None as an en dash."""
    if month is None or (isinstance(month, float) and math.isnan(month)):
        return "–"
    return pd.Period(str(month), freq="M").strftime("%b %Y")


def fmt_tonnes(x: float | None) -> str:
    """Format tonnes with thousands separators (``12,345 t``)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if abs(x) >= 100:
        return f"{x:,.0f} t"
    return f"{x:,.1f} t"


def window_months(months: list[str], window: int) -> list[str]:
    """Return the months of ``months`` within ``window`` calendar months of the first one."""
    if not months:
        return []
    first = pd.Period(min(months), freq="M")
    return sorted(m for m in months if (pd.Period(m, freq="M") - first).n < window)


def _window(shortage: pd.DataFrame, window: int) -> pd.DataFrame:
    months = window_months(sorted({str(m) for m in shortage["month"]}), window)
    return shortage[shortage["month"].astype(str).isin(months)]


def top_risks(shortage: pd.DataFrame, window: int, n: int = 3) -> pd.DataFrame:
    """Return the largest shortage risks within the first ``window`` forecast months.

    Each region and industry appears at most once, at its worst month.

    Parameters
    ----------
    shortage : pandas.DataFrame
        ``shortage.csv`` of one scenario.
    window : int
        Number of forecast months counted from the first.
    n : int, default 3
        How many region/industry pairs to return.

    Returns
    -------
    pandas.DataFrame
        Columns ``region``, ``industry``, ``month`` (the worst month), ``p_short``,
        ``expected_shortfall_share``, ``expected_shortfall_t``; largest ``p_short``
        first (ties: larger expected shortfall share, then earlier month).
    """
    cols = [
        "region",
        "industry",
        "month",
        "p_short",
        "expected_shortfall_share",
        "expected_shortfall_t",
    ]
    rows = _window(shortage, window)
    if rows.empty:
        return pd.DataFrame(columns=cols)
    ordered = rows.sort_values(
        ["p_short", "expected_shortfall_share", "month"],
        ascending=[False, False, True],
        kind="stable",
    )
    worst = ordered.drop_duplicates(["region", "industry"], keep="first")
    return worst[cols].head(n).reset_index(drop=True)


def max_by_pair(
    shortage: pd.DataFrame, windows: tuple[int, ...] = WINDOWS
) -> dict[str, dict[str, float]]:
    """Largest ``p_short`` of each region/industry within each window.

    Returns
    -------
    dict
        ``{"US/automotive": {"3": 0.12, "6": 0.30, "12": 0.41}, ...}``; window
        keys are strings so the dict round-trips through JSON.
    """
    out: dict[str, dict[str, float]] = {}
    for w in windows:
        rows = _window(shortage, w)
        peak = rows.groupby(["region", "industry"], sort=True)["p_short"].max()
        for (region, industry), p in peak.items():
            out.setdefault(pair_key(str(region), str(industry)), {})[str(w)] = round(float(p), 4)
    return out


def _risk_record(row: pd.Series | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "region": str(row["region"]),
        "industry": str(row["industry"]),
        "month": str(row["month"]),
        "p_short": round(float(row["p_short"]), 4),
        "expected_shortfall_share": round(float(row["expected_shortfall_share"]), 4),
        "expected_shortfall_t": round(float(row["expected_shortfall_t"]), 3),
    }


def scenario_summary(
    scenario: ScenarioResult, windows: tuple[int, ...] = WINDOWS
) -> dict[str, Any]:
    """Key numbers of one scenario for the side-by-side table and ``summary.json``.

    Returns
    -------
    dict
        ``name``, ``description``, ``forecast_start``, ``forecast_end``,
        ``months``, ``top`` (window -> the largest risk or None),
        ``pairs_over_half`` (region/industry pairs with P(short) > 50 % in some
        month of the longest window), ``worst_stockout`` (the pair most likely
        to run out of stock within the horizon), ``expected_shortfall_t``
        (summed over regions, industries and months of the longest window),
        ``world_exports_t`` (expected World exports over the longest window)
        and ``world_share_of_counterfactual`` (that as a share of expected
        counterfactual demand, from the paths; None without them).
    """
    months = scenario.months
    longest = max(windows)
    top = {}
    for w in windows:
        risks = top_risks(scenario.shortage, w, n=1)
        top[str(w)] = _risk_record(risks.iloc[0] if len(risks) else None)
    within = _window(scenario.shortage, longest)
    peak = within.groupby(["region", "industry"])["p_short"].max()
    stock = scenario.stockout.sort_values(
        "p_stockout_within_horizon", ascending=False, kind="stable"
    )
    worst_stockout = None
    if len(stock):
        row = stock.iloc[0]
        worst_stockout = {
            "region": str(row["region"]),
            "industry": str(row["industry"]),
            "p": round(float(row["p_stockout_within_horizon"]), 4),
            "median_month": row["median_first_stockout_month"],
            "q10_month": row["q10_first_stockout_month"],
            "q90_month": row["q90_first_stockout_month"],
        }
    world_exports, share = _world_exports(scenario, window_months(months, longest))
    return {
        "name": scenario.name,
        "description": scenario.description,
        "forecast_start": months[0] if months else None,
        "forecast_end": months[-1] if months else None,
        "months": len(months),
        "top": top,
        "pairs_over_half": int((peak > 0.5).sum()),
        "pairs": len(peak),
        "worst_stockout": worst_stockout,
        "expected_shortfall_t": round(float(within["expected_shortfall_t"].sum()), 3),
        "world_exports_t": world_exports,
        "world_share_of_counterfactual": share,
    }


def _world_exports(
    scenario: ScenarioResult, months: list[str]
) -> tuple[float | None, float | None]:
    fc = scenario.forecast
    world = fc[(fc["destination"] == WORLD) & fc["month"].astype(str).isin(months)]
    total = round(float(world["mean"].sum()), 1) if len(world) else None
    share = None
    ds = scenario.paths
    if (
        ds is not None
        and "exports" in ds
        and "counterfactual" in ds
        and WORLD in [str(d) for d in ds["destination"].values]
    ):
        month_coord = [str(m) for m in ds["month"].values]
        keep = [m for m in month_coord if m in months]
        if keep:
            sel = {"destination": WORLD, "month": keep}
            exports = float(ds["exports"].sel(sel).sum("month").mean())
            counter = float(ds["counterfactual"].sel(sel).sum("month").mean())
            if counter > 0:
                share = round(exports / counter, 4)
    return total, share


def history_observations(customs: pd.DataFrame | None, product: str) -> pd.DataFrame:
    """Return the customs observations of ``product`` as points to plot, one per month.

    Overlapping rows are reconciled first (:func:`riskmodel.customs.reconcile`),
    so every month is counted once. A monthly figure is a point of kind
    ``month``; a total over several months with no figure of their own (a
    January–February release, a year-to-date residual) gives each of its months
    the average, kind ``sum``, so it is never mistaken for a monthly figure.

    Returns
    -------
    pandas.DataFrame
        Columns ``destination``, ``month`` (``YYYY-MM``), ``quantity_t`` (per
        month), ``kind`` (``month`` or ``sum``), ``n_months`` (months in the total).
    """
    cols = ["destination", "month", "quantity_t", "kind", "n_months"]
    if customs is None or customs.empty:
        return pd.DataFrame(columns=cols)
    rows = customs[customs["product"] == product]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    from riskmodel.customs import reconcile

    try:
        obs = reconcile(rows).observations
    except RiskModelError:
        monthly = rows[rows["months_covered"] == 1]
        return pd.DataFrame(
            {
                "destination": monthly["destination"].astype(str),
                "month": monthly["month"].astype(str),
                "quantity_t": monthly["quantity_t"].astype(float),
                "kind": "month",
                "n_months": 1,
            }
        )[cols].reset_index(drop=True)
    records = []
    for o in obs.itertuples(index=False):
        k = len(o.months)
        for m in o.months:
            records.append(
                {
                    "destination": str(o.destination),
                    "month": str(m),
                    "quantity_t": float(o.quantity_t) / k,
                    "kind": "month" if k == 1 else "sum",
                    "n_months": k,
                }
            )
    return pd.DataFrame(records, columns=cols)


def freshness(customs: pd.DataFrame | None, product: str, today: date) -> pd.DataFrame:
    """Span and age of each customs series of ``product``.

    Parameters
    ----------
    customs : pandas.DataFrame or None
        Customs rows (:func:`riskmodel.customs.read_customs`).
    product : str
        The product the model was fitted on.
    today : datetime.date
        The report date.

    Returns
    -------
    pandas.DataFrame
        One row per destination, latest first: ``destination``, ``first``,
        ``last`` (``YYYY-MM``), ``months_observed``, ``months_missing``,
        ``months_only_in_sums``, ``days_since`` (days from the end of the last
        month to ``today``).
    """
    cols = [
        "destination",
        "first",
        "last",
        "months_observed",
        "months_missing",
        "months_only_in_sums",
        "days_since",
    ]
    if customs is None or customs.empty:
        return pd.DataFrame(columns=cols)
    rows = customs[customs["product"] == product]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    from riskmodel.customs import summarize_series

    summary = summarize_series(rows)
    out = pd.DataFrame(
        {
            "destination": summary["destination"].astype(str),
            "first": summary["first"].astype(str),
            "last": summary["last"].astype(str),
            "months_observed": summary["months_observed"].astype(int),
            "months_missing": summary["months_missing"].astype(int),
            "months_only_in_sums": summary["months_only_in_sums"].astype(int),
            "days_since": [(today - p.end_time.date()).days for p in summary["last"]],
        }
    )
    out["_world"] = out["destination"] != WORLD
    out = out.sort_values(["_world", "last", "destination"], ascending=[True, False, True])
    return out.drop(columns="_world").reset_index(drop=True)[cols]


def source_table(customs: pd.DataFrame | None, product: str) -> pd.DataFrame:
    """Where the customs figures of ``product`` come from.

    Returns
    -------
    pandas.DataFrame
        One row per source: ``source``, ``rows``, ``first``, ``last``
        (``YYYY-MM``), ``files``; the most recent first.
    """
    cols = ["source", "rows", "first", "last", "files"]
    if customs is None or customs.empty:
        return pd.DataFrame(columns=cols)
    rows = customs[customs["product"] == product].copy()
    if rows.empty:
        return pd.DataFrame(columns=cols)
    rows["source"] = rows["source"].fillna("").astype(str).replace("", "(no source given)")
    rows["file_name"] = rows["file"].map(lambda f: str(f).replace("\\", "/").rsplit("/", 1)[-1])
    grouped = rows.groupby("source", sort=False).agg(
        rows=("month", "size"),
        first=("month", "min"),
        last=("month", "max"),
        files=("file_name", lambda s: ", ".join(sorted(set(s)))),
    )
    grouped = grouped.reset_index().sort_values(["last", "rows"], ascending=[False, False])
    grouped["first"] = grouped["first"].astype(str)
    grouped["last"] = grouped["last"].astype(str)
    return grouped[cols].reset_index(drop=True)


def product_events(events: pd.DataFrame | None, product: str) -> pd.DataFrame:
    """Return the policy events of ``product``, numbered 1, 2, ... in date order.

    Returns
    -------
    pandas.DataFrame
        Columns ``number``, ``date`` (Timestamp), ``label`` (``YYYY-MM-DD`` or
        ``YYYY-MM`` when the day is unknown), ``event_type``, ``description``,
        ``source``.
    """
    cols = ["number", "date", "label", "event_type", "description", "source"]
    if events is None or events.empty:
        return pd.DataFrame(columns=cols)
    from riskmodel.customs import events_for_product

    ev = events_for_product(events, product).copy()
    if ev.empty:
        return pd.DataFrame(columns=cols)
    day_known = ev["day_known"] if "day_known" in ev else pd.Series(True, index=ev.index)
    ev["label"] = [
        pd.Timestamp(d).strftime("%Y-%m-%d" if k else "%Y-%m")
        for d, k in zip(ev["date"], day_known, strict=True)
    ]
    ev["number"] = np.arange(1, len(ev) + 1)
    for col in ("description", "source"):
        if col not in ev:
            ev[col] = ""
        ev[col] = ev[col].fillna("").astype(str)
    return ev[cols].reset_index(drop=True)
