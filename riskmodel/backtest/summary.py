"""Summaries of backtest scores: per model, overall and for the headline destinations.

Scopes of :func:`summarise` (the ``destination`` column):

``all``
    Every target the model scored. Models that cannot forecast some destinations
    (a baseline on a short series) are scored on fewer targets, and means in tonnes
    are dominated by the large series (World), so compare models on ``common``.
``common``
    The targets every model in the table scored: the like-for-like comparison.
``World``, ``United States`` (or the destinations asked for)
    That destination only.

The ``unavailable`` column counts targets in the scope the model could not forecast
(listed with the reason in ``unavailable.csv``); they are never dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

#: Columns of ``summary.csv``.
SUMMARY_COLUMNS: Final[tuple[str, ...]] = (
    "model",
    "destination",
    "n",
    "crps",
    "wis",
    "abs_error",
    "cover50",
    "cover80",
    "cover95",
    "unavailable",
)
#: Destinations summarised on their own by default.
HEADLINE_DESTINATIONS: Final[tuple[str, ...]] = ("World", "United States")
_KEY = ["origin", "destination", "month"]


def _row(model: str, scope: str, part: pd.DataFrame, unavailable: int) -> dict[str, object]:
    n = len(part)
    mean = (lambda c: float(part[c].astype(float).mean())) if n else (lambda c: float("nan"))
    return {
        "model": model,
        "destination": scope,
        "n": n,
        "crps": mean("crps"),
        "wis": mean("wis"),
        "abs_error": mean("abs_error"),
        "cover50": mean("in50"),
        "cover80": mean("in80"),
        "cover95": mean("in95"),
        "unavailable": int(unavailable),
    }


def _models(scores: pd.DataFrame, unavailable: pd.DataFrame | None) -> list[str]:
    seen = list(dict.fromkeys(scores["model"]))
    if unavailable is not None and len(unavailable):
        seen += [m for m in dict.fromkeys(unavailable["model"]) if m not in seen]
    return seen


def common_targets(scores: pd.DataFrame, models: Sequence[str] | None = None) -> pd.DataFrame:
    """Return the rows of ``scores`` whose target every model scored.

    A target is identified by its origin, destination and (last) month.
    """
    models = list(models) if models is not None else list(dict.fromkeys(scores["model"]))
    if not models or scores.empty:
        return scores.iloc[0:0]
    counts = (
        scores[scores["model"].isin(models)]
        .drop_duplicates(["model", *_KEY])
        .groupby(_KEY)["model"]
        .nunique()
    )
    keys = counts[counts == len(models)].index
    idx = pd.MultiIndex.from_frame(scores[_KEY])
    return scores[idx.isin(keys) & scores["model"].isin(models).to_numpy()]


def summarise(
    scores: pd.DataFrame,
    unavailable: pd.DataFrame | None = None,
    *,
    destinations: Sequence[str] = HEADLINE_DESTINATIONS,
    models: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Mean scores and interval coverage per model and scope.

    Parameters
    ----------
    scores : pandas.DataFrame
        ``scores.csv`` rows (see :data:`riskmodel.backtest.SCORE_COLUMNS`).
    unavailable : pandas.DataFrame, optional
        ``unavailable.csv`` rows: ``model``, ``origin``, ``destination``, ``targets``,
        ``reason``.
    destinations : sequence of str
        Destinations summarised on their own (default World and United States).
    models : sequence of str, optional
        Models and their order; default: in order of appearance.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUMMARY_COLUMNS`: per model, the scopes ``all``, ``common``
        and each destination; ``n`` scored targets, mean ``crps``, ``wis`` and
        ``abs_error`` (tonnes), the share of actuals inside the central 50/80/95%
        intervals, and the number of ``unavailable`` targets.
    """
    models = list(models) if models is not None else _models(scores, unavailable)
    unav = (
        unavailable
        if unavailable is not None
        else pd.DataFrame(columns=["model", "origin", "destination", "targets", "reason"])
    )
    common = common_targets(scores, models)
    rows = []
    for model in models:
        mine = scores[scores["model"] == model]
        gone = unav[unav["model"] == model]
        rows.append(_row(model, "all", mine, gone["targets"].sum()))
        rows.append(_row(model, "common", common[common["model"] == model], 0))
        for dest in destinations:
            rows.append(
                _row(
                    model,
                    dest,
                    mine[mine["destination"] == dest],
                    gone.loc[gone["destination"] == dest, "targets"].sum(),
                )
            )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def summarise_by_origin(
    scores: pd.DataFrame,
    *,
    destinations: Sequence[str] = HEADLINE_DESTINATIONS,
    models: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Mean CRPS, absolute error and 80% coverage per model, origin and destination.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``origin``, ``destination``, ``n``, ``crps``, ``abs_error``,
        ``cover80`` for the given destinations.
    """
    models = list(models) if models is not None else list(dict.fromkeys(scores["model"]))
    part = scores[scores["destination"].isin(list(destinations))]
    rows = []
    for model in models:
        for (origin, dest), g in part[part["model"] == model].groupby(
            ["origin", "destination"], sort=True
        ):
            rows.append(
                {
                    "model": model,
                    "origin": origin,
                    "destination": dest,
                    "n": len(g),
                    "crps": float(g["crps"].mean()),
                    "abs_error": float(g["abs_error"].mean()),
                    "cover80": float(g["in80"].astype(float).mean()),
                }
            )
    return pd.DataFrame(
        rows, columns=["model", "origin", "destination", "n", "crps", "abs_error", "cover80"]
    )


def _fmt(value: object, column: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            return "–"
        if column.startswith("cover"):
            return f"{value:.2f}"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}"
    return str(value)


def markdown_table(frame: pd.DataFrame) -> str:
    """Render a DataFrame as a GitHub-flavoured Markdown table (no extra dependency)."""
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_fmt(v, c) for v, c in zip(row, cols, strict=True)) + " |")
    return "\n".join(lines)


__all__ = [
    "HEADLINE_DESTINATIONS",
    "SUMMARY_COLUMNS",
    "common_targets",
    "markdown_table",
    "summarise",
    "summarise_by_origin",
]
