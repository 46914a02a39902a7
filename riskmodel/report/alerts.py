"""The report's early warning: this release against the previous report's forecast.

At each scheduled run, :func:`write_release_alerts` (called by
:func:`riskmodel.report.scheduled_report` before rendering):

1. keeps a predictive sample of this run's headline forecast (the reported figure,
   ``exports``, first :data:`KEEP_MONTHS` months, float32) as
   ``scenarios/<headline>/predictive.nc``, and the medians of approval and
   counterfactual demand it expects month by month, so that the next run can judge
   the next release against it (``riskmodel watch --previous REPORT`` reads it too);
2. places every figure of the data that falls in the previous report's forecast
   months in that forecast (:func:`riskmodel.forecast.alerts.watch`): PIT, tail
   probability, and an alert outside the central 90 %;
3. says what the refit made of the new month: the approval rate and counterfactual
   demand the previous forecast expected for it (medians) against what the refit
   now estimates;

and writes it all to ``alerts.json``. :func:`alerts_section` shows it, with the
headline risks that moved (from ``summary.json``'s comparison with the previous
report). Nothing here changes the report's exit code: when the comparison cannot be
made (first report, a previous report without a predictive sample, an unreadable
file) ``alerts.json`` says why and the section says so.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from riskmodel import compat
from riskmodel.atomic import atomic_write, write_text
from riskmodel.exceptions import RiskModelError
from riskmodel.forecast.alerts import (
    ALERT_CENTRAL,
    PREDICTIVE_FILE,
    find_forecast,
    load_forecast,
    predictive_sample,
    scenario_folder,
    watch,
)
from riskmodel.report.html import esc, table
from riskmodel.report.tables import pair_label

log = logging.getLogger(__name__)

#: File of the report holding the release's checks.
ALERTS_FILE: Final[str] = "alerts.json"
#: Layout version of ``alerts.json``.
ALERTS_SCHEMA: Final[int] = 1
#: Months of the headline forecast kept for the next release.
KEEP_MONTHS: Final[int] = 12
#: Headline probabilities that moved shown in the section.
SHOW_MOVES: Final[int] = 5

__all__ = [
    "ALERTS_FILE",
    "ALERTS_SCHEMA",
    "KEEP_MONTHS",
    "alerts_section",
    "expected_state",
    "write_release_alerts",
]


def expected_state(paths: Any, months: int | None = KEEP_MONTHS) -> dict[str, dict[str, Any]]:
    """Median approval and counterfactual demand a forecast expects, by destination and month.

    Parameters
    ----------
    paths : xarray.Dataset
        Forecast paths (``approval`` and ``counterfactual`` when present).
    months : int, optional
        First months to keep.

    Returns
    -------
    dict
        ``{destination: {month: {"approval": float, "demand_t": float}}}``; a variable
        the paths lack is left out.
    """
    names = [v for v in ("approval", "counterfactual") if v in paths.data_vars]
    out: dict[str, dict[str, Any]] = {}
    if not names:
        return out
    sub = paths[names].isel(month=slice(0, months))
    med = sub.median("path")
    for dest in (str(d) for d in sub["destination"].values):
        by_month: dict[str, Any] = {}
        for month in (str(m) for m in sub["month"].values):
            cell = med.sel(destination=dest, month=month)
            entry = {}
            if "approval" in names:
                entry["approval"] = round(float(cell["approval"]), 4)
            if "counterfactual" in names:
                entry["demand_t"] = round(float(cell["counterfactual"]), 1)
            by_month[month] = entry
        out[dest] = by_month
    return out


def _current_state(fitted: Any, wanted: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    """Return what the refit estimates for the wanted months: median approval and demand."""
    out: dict[str, dict[str, Any]] = {}
    approval = fitted.approval_summary()
    approval = approval.set_index(["destination", "month"])["q50"]
    idata = getattr(fitted, "idata", None)
    posterior = (
        compat.posterior(idata)
        if idata is not None and compat.has_group(idata, "posterior")
        else None
    )
    for dest, months in wanted.items():
        for month in months:
            entry: dict[str, Any] = {}
            if (dest, month) in approval.index:
                entry["approval"] = round(float(approval.loc[(dest, month)]), 4)
            if (
                posterior is not None
                and "log_demand" in posterior
                and dest in posterior["destination"].values
                and month in posterior["month"].values
            ):
                log_d = posterior["log_demand"].sel(destination=dest, month=month)
                entry["demand_t"] = round(float(np.median(np.exp(log_d.values))), 1)
            if entry:
                out.setdefault(dest, {})[month] = entry
    return out


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _compare(
    previous_dir: Path | None, customs: pd.DataFrame, product: str, fitted: Any
) -> dict[str, Any]:
    """Place the release in the previous report's forecast; add the refit's view."""
    from riskmodel.customs import reconcile

    if previous_dir is None:
        return {"status": "no_previous", "reason": "this is the first report in this place"}
    try:
        where = find_forecast(previous_dir)
    except RiskModelError:
        return {
            "status": "no_previous",
            "reason": "the previous report kept no forecast sample (made by an older riskmodel)",
        }
    prev_paths = load_forecast(where)
    rows = customs[customs["product"] == product]
    result = watch(prev_paths, reconcile(rows).observations, source=str(Path(previous_dir).name))
    payload: dict[str, Any] = {"status": "compared", **result.to_dict()}
    payload["lines"] = result.lines()
    # The refit's view of the newly observed months, against what was expected.
    wanted: dict[str, list[str]] = {}
    for c in result.scored:
        wanted.setdefault(c.destination, [])
        if c.month not in wanted[c.destination]:
            wanted[c.destination].append(c.month)
    before = (_read_json(Path(previous_dir) / ALERTS_FILE) or {}).get("expected_state") or {}
    now = _current_state(fitted, wanted)
    moves = []
    for dest, months in wanted.items():
        for month in months:
            old = (before.get(dest) or {}).get(month) or {}
            new = (now.get(dest) or {}).get(month) or {}
            if old or new:
                moves.append({"destination": dest, "month": month, "expected": old, "now": new})
    payload["state_moves"] = moves
    return payload


def write_release_alerts(
    out_dir: str | Path,
    *,
    previous_dir: str | Path | None,
    headline_paths: Any,
    fitted: Any,
    customs: pd.DataFrame,
    product: str,
) -> dict[str, Any]:
    """Keep this run's forecast sample and write ``alerts.json`` for this release.

    Parameters
    ----------
    out_dir : str or Path
        The report directory being built.
    previous_dir : str or Path, optional
        The previous report's directory (None for the first report).
    headline_paths : xarray.Dataset
        This run's headline forecast paths.
    fitted : FittedModel
        This run's fit (``approval_summary()``; ``idata`` for demand when present).
    customs : pandas.DataFrame
        The customs rows this run read (:func:`riskmodel.customs.read_customs`).
    product : str
        The product modelled.

    Returns
    -------
    dict
        What ``alerts.json`` holds: ``schema``, ``scenario``, ``forecast_start``,
        ``expected_state`` (this forecast's medians, for the next run) and ``release``
        (``status`` ``compared`` with the checks, alerts and ``state_moves``, or
        ``no_previous`` / ``unavailable`` with a ``reason``).
    """
    out = Path(out_dir)
    scenario = str(headline_paths.attrs.get("scenario", ""))
    keep = out / "scenarios" / scenario_folder(scenario)
    keep.mkdir(parents=True, exist_ok=True)
    sample = predictive_sample(headline_paths, KEEP_MONTHS)
    atomic_write(keep / PREDICTIVE_FILE, lambda p: sample.to_netcdf(p, engine="h5netcdf"))
    try:
        release = _compare(
            Path(previous_dir) if previous_dir is not None else None, customs, product, fitted
        )
    except (RiskModelError, OSError, ValueError, KeyError) as err:
        # The report must still be published: the section says why there is no comparison.
        log.warning("no early-warning comparison with the previous report: %s", err)
        release = {"status": "unavailable", "reason": str(err)}
    payload = {
        "schema": ALERTS_SCHEMA,
        "scenario": scenario,
        "forecast_start": str(headline_paths["month"].values[0]),
        "central_interval": ALERT_CENTRAL,
        "expected_state": expected_state(headline_paths),
        "release": release,
    }
    write_text(out / ALERTS_FILE, json.dumps(payload, indent=2, allow_nan=False) + "\n")
    for line in release.get("lines") or []:
        log.info("early warning: %s", line)
    return payload


def _fmt(x: Any, spec: str) -> str:
    return "" if x is None else format(x, spec)


def _state_sentence(move: dict[str, Any]) -> str:
    parts = []
    old, new = move.get("expected") or {}, move.get("now") or {}
    if "approval" in old or "approval" in new:
        parts.append(
            f"approval {_fmt(old.get('approval'), '.0%') or '?'} expected, "
            f"{_fmt(new.get('approval'), '.0%') or '?'} estimated now"
        )
    if "demand_t" in old or "demand_t" in new:
        parts.append(
            f"counterfactual demand {_fmt(old.get('demand_t'), ',.0f') or '?'} t expected, "
            f"{_fmt(new.get('demand_t'), ',.0f') or '?'} t now"
        )
    return f"{move['destination']} {move['month']}: " + "; ".join(parts)


def alerts_section(out_dir: str | Path, changes: dict[str, Any] | None = None) -> str:
    """Return the section: this release's alerts, how the headline risks moved and why.

    Parameters
    ----------
    out_dir : str or Path
        The report directory (holding ``alerts.json``; no section without it).
    changes : dict, optional
        ``summary.json``'s ``changes`` (:func:`riskmodel.report.changes.compare_summaries`).

    Returns
    -------
    str
        HTML (empty when there is no ``alerts.json``).
    """
    data = _read_json(Path(out_dir) / ALERTS_FILE)
    if data is None:
        return ""
    release = data.get("release") or {}
    head = '<section id="alerts"><h2>Early warning: this release against the last forecast</h2>'
    if release.get("status") != "compared":
        reason = esc(release.get("reason", "no previous forecast"))
        return (
            f"{head}<p>No comparison: {reason}. This report's forecast is kept "
            f"(<code>scenarios/{esc(scenario_folder(str(data.get('scenario', ''))))}/"
            f"{PREDICTIVE_FILE}</code>) to judge the next release.</p></section>"
        )
    alerts = release.get("alerts") or []
    checks = [c for c in release.get("checks") or [] if c.get("status") == "scored"]
    central = f"{float(release.get('central_interval', ALERT_CENTRAL)):.0%}"
    forecast = release.get("forecast") or {}
    intro = (
        f"<p>Each new customs figure placed in the previous report's forecast of the "
        f"reported figure (scenario {esc(forecast.get('scenario', ''))}, from "
        f"{esc(forecast.get('origin', ''))}); a figure outside its central {central} "
        "raises an alert.</p>"
    )
    if alerts:
        items = "".join(f'<li class="alert">{esc(a["message"])}</li>' for a in alerts)
        body = f'<ul class="alerts">{items}</ul>'
    elif checks:
        body = f"<p>No new figure fell outside the central {central} of the forecast.</p>"
    else:
        body = "<p>No new figure falls in the previous forecast's months.</p>"
    rows = [
        [
            c["destination"],
            c["months"][0] if len(c["months"]) == 1 else f"{c['months'][0]}..{c['month']}",
            f"{c['actual']:,.0f}",
            f"{c['median']:,.0f}",
            f"{c['lower']:,.0f}–{c['upper']:,.0f}",
            f"{c['pit']:.2f}",
            f"{c['tail_probability']:.3f}",
            {"low": "low", "high": "high"}.get(c.get("alert") or "", ""),
        ]
        for c in checks
    ]
    detail = (
        table(
            ["Destination", "Months", "Reported (t)", "Median", central, "PIT", "Tail", "Alert"],
            rows,
            numeric=(2, 3, 4, 5, 6),
        )
        if rows
        else ""
    )
    skipped = [
        esc(line)
        for line in release.get("lines") or []
        if "not scored" in line or "already observed" in line
    ]
    notes = f'<p class="note">{"<br>".join(skipped)}</p>' if skipped else ""
    why = [_state_sentence(m) for m in release.get("state_moves") or []]
    moved = [
        m for m in (changes or {}).get("moved") or [] if m.get("scenario") == data.get("scenario")
    ][:SHOW_MOVES]
    risk = [
        f"{pair_label(m['region'], m['industry'])}, next {m['window']} months: "
        f"{m['old']:.0%} → {m['new']:.0%} ({m['delta'] * 100:+.0f} pts)"
        for m in moved
        if m.get("old") is not None and m.get("new") is not None
    ]
    after = "<h3>After the refit</h3>"
    if risk:
        after += (
            "<p>Headline risks that moved since the previous report:</p><ul>"
            + "".join(f"<li>{esc(x)}</li>" for x in risk)
            + "</ul>"
        )
    else:
        after += "<p>No headline risk of this scenario moved by 5 points or more.</p>"
    if why:
        after += (
            "<p>Why: what the previous forecast expected for the new months against what "
            "the refit estimates (medians), and the new data above.</p><ul>"
            + "".join(f"<li>{esc(x)}</li>" for x in why)
            + "</ul>"
        )
    return f"{head}{intro}{body}{detail}{notes}{after}</section>"
