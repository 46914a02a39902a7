"""The report's "what drives each number" section: a table and a tornado chart per scenario.

The shares come from ``drivers.csv`` (:func:`riskmodel.propagation.drivers.shortage_drivers`),
which :func:`write_drivers` writes next to each scenario's ``shortage.csv`` during a
scheduled run. This module imports no PyMC; the propagation is imported only when
:func:`write_drivers` runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from riskmodel.atomic import atomic_write
from riskmodel.report.html import esc, table
from riskmodel.report.tables import fmt_month, fmt_prob, pair_label

if TYPE_CHECKING:
    from riskmodel.report.inputs import ReportInputs

__all__ = [
    "DRIVERS_FILE",
    "DRIVERS_NEEDED",
    "DRIVER_PATHS_FACTOR",
    "drivers_figure",
    "drivers_section",
    "write_drivers",
]

DRIVERS_FILE = "drivers.csv"
#: Columns the report reads from ``drivers.csv``.
DRIVERS_NEEDED = (
    "region",
    "industry",
    "month",
    "p_short",
    "group",
    "label",
    "first_order",
    "total",
)
#: Monte Carlo paths of each pick-freeze sample: this many times the report's ``--paths``.
DRIVER_PATHS_FACTOR = 4
#: Headline risks drawn in the tornado chart (all of them are in the table).
FIGURE_CELLS = 3
#: Groups whose total share is below this are left out of the chart (they are in the CSV).
MIN_TOTAL = 0.01
_FIRST = "#3b6ea8"
_TOTAL = "#b9cde5"


def write_drivers(
    paths: Any,
    out_dir: str | os.PathLike[str],
    *,
    scenario: Any,
    seed: int,
    n_paths: int,
) -> Path:
    """Decompose a scenario's headline risks and write ``drivers.csv`` into ``out_dir``.

    Parameters
    ----------
    paths : xarray.Dataset
        The scenario's forecast paths.
    out_dir : str or PathLike
        The scenario's stage folder.
    scenario : Scenario or None
        Its allocation rule.
    seed : int
        The run's seed; the decomposition uses the shortage stage's
        (:func:`riskmodel.seeds.stage_seeds`), as ``riskmodel drivers --seed`` does.
    n_paths : int
        Monte Carlo paths of each sample.

    Returns
    -------
    Path
        The file written.
    """
    from riskmodel.propagation.drivers import shortage_drivers
    from riskmodel.seeds import stage_seeds

    frame = shortage_drivers(
        paths, scenario=scenario, n_paths=n_paths, seed=stage_seeds(seed).shortage
    )
    target = Path(out_dir) / DRIVERS_FILE
    return atomic_write(target, lambda p: frame.to_csv(p, index=False, float_format="%.6g"))


def _cells(frame: pd.DataFrame) -> list[tuple[tuple[str, str, str], pd.DataFrame]]:
    """Headline cells in file order, each with its groups."""
    keys = ["region", "industry", "month"]
    return [(tuple(map(str, key)), cell) for key, cell in frame.groupby(keys, sort=False)]


def drivers_figure(frame: pd.DataFrame, path: Path, *, title: str = "") -> Path | None:
    """Tornado chart of the drivers of the first :data:`FIGURE_CELLS` headline risks.

    One panel per risk; one bar per input group, longest at the top: the total share
    (pale, interactions included) and the first-order share (dark, the group alone).

    Parameters
    ----------
    frame : pandas.DataFrame
        ``drivers.csv``.
    path : Path
        Where to write the PNG.
    title : str
        Figure title.

    Returns
    -------
    Path or None
        None when there is no risk with a share to show (no file written).
    """
    cells = [(k, c) for k, c in _cells(frame) if c["total"].notna().any()][:FIGURE_CELLS]
    if not cells:
        return None
    n_bars = max(int((c["total"] >= MIN_TOTAL).sum()) for _, c in cells)
    fig = Figure(
        figsize=(3.6 * len(cells) + 1.8, 1.3 + 0.32 * max(n_bars, 3)), layout="constrained"
    )
    axes = fig.subplots(1, len(cells), squeeze=False)[0]
    for ax, ((region, industry, month), cell) in zip(axes, cells, strict=True):
        shown = cell[cell["total"] >= MIN_TOTAL].sort_values("total")
        y = range(len(shown))
        ax.barh(y, shown["total"].clip(lower=0), color=_TOTAL, height=0.75)
        ax.barh(y, shown["first_order"].clip(lower=0), color=_FIRST, height=0.45)
        ax.set_yticks(list(y), [str(v) for v in shown["label"]], fontsize=8)
        ax.set_xlim(0, 1)
        ax.grid(axis="x", color="#dddddd", lw=0.6)
        p = float(cell["p_short"].iloc[0])
        ax.set_title(
            f"{pair_label(region, industry)}, {fmt_month(month)}\nP(short) {fmt_prob(p)}",
            fontsize=9,
            loc="left",
        )
        ax.set_xlabel("share of Var(short)", fontsize=8)
    handles = [
        Patch(color=_TOTAL, label="total (with interactions)"),
        Patch(color=_FIRST, label="first order (the group alone)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10, x=0.01, ha="left")
    FigureCanvasAgg(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, facecolor="white", format="png")
    return path


def _driver_text(cell: pd.DataFrame, n: int = 3) -> str:
    top = cell[cell["total"] >= MIN_TOTAL].sort_values("first_order", ascending=False).head(n)
    return "; ".join(
        f"{r.label} {r.first_order:.2f} ({r.total:.2f})" for r in top.itertuples(index=False)
    )


def _scenario_table(frame: pd.DataFrame) -> str:
    rows = []
    for (region, industry, month), cell in _cells(frame):
        explained = cell["first_order"].clip(lower=0).sum()
        rows.append(
            [
                pair_label(region, industry),
                fmt_month(month),
                fmt_prob(float(cell["p_short"].iloc[0])),
                _driver_text(cell) or "-",
                f"{max(0.0, 1.0 - explained):.2f}",
            ]
        )
    header = [
        "Region · industry",
        "Month",
        "P(short)",
        "Main drivers: first-order share (total)",
        "Interactions",
    ]
    return table(header, rows, numeric=(2, 4))


def drivers_section(run: ReportInputs, figs: dict[str, str]) -> str:
    """HTML of the drivers section ("" when no scenario has ``drivers.csv``).

    Parameters
    ----------
    run : ReportInputs
        The report's inputs; scenarios without drivers are skipped.
    figs : dict
        Figure key -> relative path; the tornado of scenario ``s`` is ``drivers:s``.

    Returns
    -------
    str
    """
    parts = []
    for s in run.scenarios:
        if s.drivers is None:
            continue
        if s.drivers.empty:
            parts.append(
                f'<p class="note">{esc(s.name)}: in no month does any shortage risk have '
                "enough paths short and enough not (MIN_EVENTS in docs/drivers.md) to split "
                "its uncertainty; more paths would give some.</p>"
            )
            continue
        key = f"drivers:{s.name}"
        img = (
            f'<img class="fig" src="{esc(figs[key])}" alt="Drivers of the headline risks: '
            f'{esc(s.name)}">'
            if key in figs
            else ""
        )
        body = img + _scenario_table(s.drivers)
        if not any(part.startswith("<h3>") for part in parts):
            parts.append(f"<h3>{esc(s.name)}</h3>{body}")
        else:
            parts.append(f"<details><summary>{esc(s.name)}</summary>{body}</details>")
    if not parts:
        return ""
    n_paths = run.settings.get("n_paths")
    seed = run.settings.get("seed", 0)
    command = (
        f"riskmodel drivers --forecast DIR --seed {seed} --paths "
        f"{DRIVER_PATHS_FACTOR * int(n_paths)} --out DIR"
        if n_paths
        else "riskmodel drivers --forecast DIR --seed S --out DIR"
    )
    return (
        '<section id="drivers"><h2>What drives the headline risks</h2>'
        "<p>For each of the largest shortage risks (a region and industry at the month its "
        "P(short) peaks), the share of its uncertainty that each group of inputs explains: "
        "the <em>first-order</em> share is what knowing that group alone would remove, the "
        "<em>total</em> share includes its interactions with the others. A group with a large "
        "share is the reason the probability is where it is; one near zero does not matter "
        "for that risk. Shares are Sobol indices estimated by pick-freeze (the propagation "
        "rerun with one group's draws resampled); their Monte Carlo error is about "
        "±0.03. The allocation rule is fixed by the scenario. The forecast folder of "
        "<code>riskmodel forecast --seed</code> with the same seed gives the same paths; "
        f"<code>{esc(command)}</code> reproduces the shares (see docs/drivers.md).</p>"
        + "".join(parts)
        + "</section>"
    )
