"""The episode table: how deep, how fast and how far each past control cut exports.

:func:`episode_table` returns one row per episode (fitted or not) with the median and
90% interval of each shape quantity; it reads the learned-shape file, so it is cheap
(no sampling) and the report can call it. :func:`format_episode_table` renders it as
text for the command line.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from riskmodel.shocks.learn import LearnedShape, read_shock_shape, shock_shape_document

__all__ = ["QUANTITIES", "episode_table", "format_episode_table"]

#: Quantities of the table, in column order, with their headings.
QUANTITIES: dict[str, str] = {
    "depth": "depth (low)",
    "months_to_low": "months to low",
    "months_to_80": "months to 80%",
    "long_run": "long run",
    "window_mean": "mean after effect",
    "rush": "rush (x normal)",
    "partial_first_month": "effect day / month",
}


def _num(value: Any) -> float:
    if isinstance(value, str):
        return float(value)  # "inf"
    return math.nan if value is None else float(value)


def episode_table(source: str | Path | LearnedShape | dict | None = None) -> pd.DataFrame:
    """One row per control episode with the posterior of its shock's shape.

    Parameters
    ----------
    source : path, LearnedShape or dict, optional
        A learned-shape file (default ``priors/shock_shape.yaml``), a fresh
        :class:`~riskmodel.shocks.learn.LearnedShape`, or its document.

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``product``, ``destination``, ``effective``, ``announced``,
        ``status`` (``fitted``, ``not_pooled``, ``not_fitted``), ``reason``, ``n_pre``,
        ``n_post``, then for each quantity of :data:`QUANTITIES` its ``_q05``, ``_q50``
        and ``_q95`` (NaN when not identified, ``inf`` for "not reached in the
        window"), ``months_to_80_p_reached``, ``months_to_80_censored_at``,
        ``max_rhat``, ``contribution`` and ``unidentified`` (quantity: why).
    """
    if isinstance(source, LearnedShape):
        doc = shock_shape_document(source)
    elif isinstance(source, dict):
        doc = source
    else:
        doc = read_shock_shape(source)
    rows = []
    for e in doc["episodes"]:
        row: dict[str, Any] = {
            k: e.get(k)
            for k in (
                "id",
                "product",
                "destination",
                "effective",
                "announced",
                "status",
                "reason",
                "n_pre",
                "n_post",
            )
        }
        summary = e.get("summary", {})
        for q in QUANTITIES:
            s = summary.get(q, {})
            for k in ("q05", "q50", "q95"):
                row[f"{q}_{k}"] = _num(s.get(k))
        if "partial_first_month" not in summary:
            for k in ("q05", "q50", "q95"):
                row[f"partial_first_month_{k}"] = float(e["partial_first_month"])
        m80 = summary.get("months_to_80", {})
        row["months_to_80_p_reached"] = _num(m80.get("p_reached"))
        row["months_to_80_censored_at"] = _num(m80.get("censored_at"))
        row["max_rhat"] = _num(e.get("diagnostics", {}).get("max_rhat"))
        row["contribution"] = e.get("contribution", "")
        row["unidentified"] = "; ".join(f"{k}: {v}" for k, v in e.get("unidentified", {}).items())
        rows.append(row)
    return pd.DataFrame(rows)


def _cell(row: pd.Series, q: str) -> str:
    mid, lo, hi = row[f"{q}_q50"], row[f"{q}_q05"], row[f"{q}_q95"]
    if math.isnan(mid):
        return "-"
    if q == "partial_first_month":
        return f"{mid:.2f}"
    if q in ("months_to_low", "months_to_80"):

        def f(x: float) -> str:
            return f">{row['months_to_80_censored_at']:.0f}" if math.isinf(x) else f"{x:.0f}"

        text = f"{f(mid)} ({f(lo)} to {f(hi)})"
        if q == "months_to_80":
            text += f" p={row['months_to_80_p_reached']:.2f}"
        return text
    return f"{mid:.2f} ({lo:.2f} to {hi:.2f})"


def format_episode_table(table: pd.DataFrame) -> str:
    """Render :func:`episode_table` as aligned text: median (90% interval) per cell.

    Months to 80% reads ``>N`` where approval had not reached 80% by the window's last
    month N, with ``p`` the posterior probability that it had.
    """
    head = ["episode", "status", "pre/post", *QUANTITIES.values()]
    lines = []
    for _, row in table.iterrows():
        cells = [
            f"{row['product']} {row['effective']} ({row['destination']})",
            str(row["status"]),
            f"{row['n_pre']}/{row['n_post']}",
        ]
        cells += [_cell(row, q) for q in QUANTITIES]
        lines.append(cells)
    widths = [max(len(h), *(len(r[i]) for r in lines)) for i, h in enumerate(head)]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in lines]
    notes = [
        f"  {row['product']} {row['effective']}: {row['reason']}"
        for _, row in table.iterrows()
        if row["reason"]
    ]
    if notes:
        out += ["", "Notes:", *notes]
    return "\n".join(out)
