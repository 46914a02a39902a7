"""``summary.json`` (the headline numbers of a report) and what changed since the last one.

A report directory always holds a ``summary.json``. The next report in the
same place reads it (:func:`riskmodel.report.schedule.run_report` copies it
into the new report as ``previous_summary.json`` before building) and
:func:`compare_summaries` says what changed: the data and priors hashes, the
last customs month of each series, the fit's diagnostics, the scenarios, and
every headline probability (largest P(short) of a region and industry within
the next 3, 6 or 12 months of a scenario) that moved by at least
:data:`MOVE_THRESHOLD`.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

from riskmodel.report.tables import pair_label

__all__ = [
    "MOVE_THRESHOLD",
    "SUMMARY_SCHEMA",
    "compare_summaries",
    "describe_changes",
    "read_summary",
]

#: Version of the ``summary.json`` layout.
SUMMARY_SCHEMA = 1
#: A headline probability that moved by this much or more (absolute) is listed.
MOVE_THRESHOLD = 0.05

log = logging.getLogger(__name__)


def read_summary(path: str | Path) -> dict[str, Any] | None:
    """Read a ``summary.json``; None when it is missing, unreadable or not a summary.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    dict or None
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        data = None
    if not _well_formed(data):
        # A scheduled run must heal: a damaged previous summary only loses "what changed".
        log.warning("%s is not a report summary; comparing as if this were the first report", path)
        return None
    return data


def _well_formed(data: Any) -> bool:
    """Whether ``data`` has the shape :func:`compare_summaries` reads."""
    if not isinstance(data, dict) or "schema" not in data:
        return False
    mappings = ("last_data_month_by_series", "max_p_short", "diagnostics")
    if any(not isinstance(data.get(k) or {}, dict) for k in mappings):
        return False
    scenarios = data.get("scenarios") or []
    if not isinstance(scenarios, list) or not all(isinstance(x, str) for x in scenarios):
        return False
    for by_key in (data.get("max_p_short") or {}).values():
        if not isinstance(by_key, dict):
            return False
        for windows in by_key.values():
            if not isinstance(windows, dict):
                return False
            for window, p in windows.items():
                if not str(window).isdigit() or not (p is None or isinstance(p, int | float)):
                    return False
    return True


def _pair(old: Any, new: Any) -> dict[str, Any]:
    return {"old": old, "new": new, "changed": old != new}


def compare_summaries(
    previous: dict[str, Any] | None,
    current: dict[str, Any],
    *,
    threshold: float = MOVE_THRESHOLD,
) -> dict[str, Any]:
    """Say what changed between two report summaries.

    Parameters
    ----------
    previous : dict or None
        The previous ``summary.json`` (None for the first report).
    current : dict
        The new summary (``changes`` is ignored).
    threshold : float, default :data:`MOVE_THRESHOLD`
        Smallest absolute move of a headline probability that is listed.

    Returns
    -------
    dict
        ``first_report`` (bool). Otherwise also ``previous_generated_at``;
        ``data_hash``, ``priors_hash``, ``riskmodel_version``, ``seed``,
        ``last_data_month``, ``forecast_start`` and ``diagnostics_passed``, each
        ``{"old", "new", "changed"}``; ``series`` (destinations whose last
        customs month changed: ``destination``, ``old``, ``new``, None for a
        series that appeared or disappeared); ``scenarios_added`` and
        ``scenarios_removed``; ``moved`` (``scenario``, ``region``, ``industry``,
        ``window``, ``old``, ``new``, ``delta``; largest move first) and
        ``threshold``.
    """
    if previous is None:
        return {"first_report": True}
    old_series = previous.get("last_data_month_by_series") or {}
    new_series = current.get("last_data_month_by_series") or {}
    series = [
        {"destination": d, "old": old_series.get(d), "new": new_series.get(d)}
        for d in sorted(set(old_series) | set(new_series))
        if old_series.get(d) != new_series.get(d)
    ]
    old_scen = list(previous.get("scenarios") or [])
    new_scen = list(current.get("scenarios") or [])
    moved = []
    old_max = previous.get("max_p_short") or {}
    new_max = current.get("max_p_short") or {}
    for scenario in new_scen:
        before = old_max.get(scenario) or {}
        after = new_max.get(scenario) or {}
        for key in sorted(set(before) & set(after)):
            for window in sorted(set(before[key]) & set(after[key]), key=int):
                old_p, new_p = before[key][window], after[key][window]
                if old_p is None or new_p is None:
                    continue
                delta = float(new_p) - float(old_p)
                if abs(delta) >= threshold - 1e-12:
                    region, _, industry = key.partition("/")
                    moved.append(
                        {
                            "scenario": scenario,
                            "region": region,
                            "industry": industry,
                            "window": int(window),
                            "old": float(old_p),
                            "new": float(new_p),
                            "delta": round(delta, 4),
                        }
                    )
    moved.sort(
        key=lambda m: (-abs(m["delta"]), m["scenario"], m["region"], m["industry"], m["window"])
    )
    old_diag = (previous.get("diagnostics") or {}).get("passed")
    new_diag = (current.get("diagnostics") or {}).get("passed")
    return {
        "first_report": False,
        "previous_generated_at": previous.get("generated_at"),
        "data_hash": _pair(previous.get("data_hash"), current.get("data_hash")),
        "priors_hash": _pair(previous.get("priors_hash"), current.get("priors_hash")),
        "riskmodel_version": _pair(
            previous.get("riskmodel_version"), current.get("riskmodel_version")
        ),
        "seed": _pair(
            (previous.get("run") or {}).get("seed"), (current.get("run") or {}).get("seed")
        ),
        "last_data_month": _pair(previous.get("last_data_month"), current.get("last_data_month")),
        "forecast_start": _pair(previous.get("forecast_start"), current.get("forecast_start")),
        "diagnostics_passed": _pair(old_diag, new_diag),
        "series": series,
        "scenarios_added": [s for s in new_scen if s not in old_scen],
        "scenarios_removed": [s for s in old_scen if s not in new_scen],
        "moved": moved,
        "threshold": threshold,
    }


def _short(h: Any) -> str:
    return "none" if not h else str(h)[:12]


def _pct(p: float) -> str:
    return f"{p * 100:.0f}%"


def describe_changes(changes: dict[str, Any], *, max_moves: int = 10) -> list[str]:
    """Describe the result of :func:`compare_summaries` in short sentences.

    Parameters
    ----------
    changes : dict
        From :func:`compare_summaries`.
    max_moves : int, default 10
        At most this many moved probabilities are listed one by one.

    Returns
    -------
    list of str
        Plain text, one fact per item; the first says whether anything changed.
    """
    if changes.get("first_report", True):
        return ["First report in this directory: nothing to compare with."]
    lines: list[str] = []
    for key, what in (("data_hash", "Data"), ("priors_hash", "Priors")):
        c = changes[key]
        if c["changed"]:
            lines.append(f"{what} changed (hash {_short(c['old'])} → {_short(c['new'])}).")
    c = changes["last_data_month"]
    if c["changed"]:
        lines.append(
            f"Latest customs month moved from {c['old'] or 'none'} to {c['new'] or 'none'}."
        )
    for s in changes["series"]:
        if s["old"] is None:
            lines.append(f"New series {s['destination']} (to {s['new']}).")
        elif s["new"] is None:
            lines.append(f"Series {s['destination']} is no longer in the data (was to {s['old']}).")
        else:
            lines.append(f"{s['destination']}: data now to {s['new']} (was {s['old']}).")
    c = changes["forecast_start"]
    if c["changed"] and c["old"] is not None:
        lines.append(f"The forecast now starts in {c['new']} (was {c['old']}).")
    c = changes["diagnostics_passed"]
    if c["changed"]:
        state = {True: "passed", False: "FAILED", None: "unknown"}
        lines.append(
            f"The fit's convergence checks: {state.get(c['old'], c['old'])} → "
            f"{state.get(c['new'], c['new'])}."
        )
    for key, what in (("riskmodel_version", "riskmodel version"), ("seed", "Seed")):
        c = changes[key]
        if c["changed"]:
            lines.append(f"{what[0].upper()}{what[1:]} {c['old']} → {c['new']}.")
    if changes["scenarios_added"]:
        lines.append(f"Scenarios added: {', '.join(changes['scenarios_added'])}.")
    if changes["scenarios_removed"]:
        lines.append(f"Scenarios removed: {', '.join(changes['scenarios_removed'])}.")
    moved = changes["moved"]
    threshold = changes.get("threshold", MOVE_THRESHOLD)
    for m in moved[:max_moves]:
        arrow = "up" if m["delta"] > 0 else "down"
        lines.append(
            f"{m['scenario']}: {pair_label(m['region'], m['industry'])}, next "
            f"{m['window']} months: P(short) {_pct(m['old'])} → {_pct(m['new'])} "
            f"({arrow} {abs(m['delta']) * 100:.0f} points)."
        )
    if len(moved) > max_moves:
        lines.append(f"... and {len(moved) - max_moves} more headline probabilities moved.")
    if not moved:
        pts = math.floor(threshold * 100 + 0.5)
        lines.append(f"No headline probability moved by {pts} points or more.")
    if len(lines) == 1 and not moved:
        lines.insert(0, "Nothing material changed since the previous report.")
    return lines
