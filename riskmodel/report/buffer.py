"""The report's "buffer stocks" section: risk against extra cover, and the cover for each target.

The numbers come from ``buffer.csv`` and ``buffer_curve.csv``
(:func:`riskmodel.propagation.buffer.buffer`), which :func:`write_buffer` writes next to
each scenario's ``shortage.csv`` during a scheduled run and :func:`attach_buffer`
registers in the scenario's files. Rendering reads those files; the propagation is
imported only when :func:`write_buffer` runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from riskmodel.report.figures import scenario_colours
from riskmodel.report.html import esc, table
from riskmodel.report.tables import fmt_prob, fmt_tonnes, pair_label

if TYPE_CHECKING:
    from riskmodel.report.inputs import ReportInputs, ScenarioResult

__all__ = [
    "BUFFER_FILES",
    "attach_buffer",
    "buffer_figure",
    "buffer_frames",
    "buffer_section",
    "write_buffer",
]

#: The files of a scenario's buffer sizing (in its stage folder and in the report).
BUFFER_FILES = ("buffer.csv", "buffer_curve.csv")
#: Region x industry pairs drawn in the figure (all are in the CSV).
FIGURE_CELLS = 4
#: Rows of each scenario's table in the report.
TABLE_ROWS = 12
#: Monte Carlo paths of the report's buffer sizing per forecast path, up to
#: :data:`REPORT_BUFFER_PATHS`: a run with tiny settings sizes buffers with few paths.
BUFFER_PATHS_FACTOR = 10
#: The most Monte Carlo paths of the report's buffer sizing (reached at the report's
#: default 1,000 forecast paths; the 1% target is a tail, 100 paths beyond it).
REPORT_BUFFER_PATHS = 10_000


def report_buffer_paths(forecast_paths: int) -> int:
    """Monte Carlo paths the report sizes buffers with, given its forecast paths."""
    return min(BUFFER_PATHS_FACTOR * int(forecast_paths), REPORT_BUFFER_PATHS)


def write_buffer(
    paths: Any,
    out_dir: str | os.PathLike[str],
    *,
    scenario: Any,
    seed: int,
    n_paths: int,
) -> dict[str, Path]:
    """Size a scenario's buffers and write ``buffer.csv`` and ``buffer_curve.csv``.

    Parameters
    ----------
    paths : xarray.Dataset
        The scenario's forecast paths.
    out_dir : str or PathLike
        The scenario's stage folder.
    scenario : Scenario or None
        Its allocation rule.
    seed : int
        The run's seed (as ``riskmodel buffer --seed``).
    n_paths : int
        Monte Carlo paths (the report passes :func:`report_buffer_paths` of its
        forecast paths).

    Returns
    -------
    dict of str to Path
        The files written.
    """
    from riskmodel.propagation.buffer import DEFAULT_HORIZON, buffer, write_buffer_outputs

    horizon = min(DEFAULT_HORIZON, int(paths.sizes["month"]))
    result = buffer(paths, scenario=scenario, horizon=horizon, n_paths=n_paths, seed=seed)
    return write_buffer_outputs(result, out_dir)


def attach_buffer(result: ScenarioResult, folder: str | os.PathLike[str]) -> ScenarioResult:
    """Register the buffer files of ``folder`` in a scenario's stage files (when present)."""
    for name in BUFFER_FILES:
        path = Path(folder) / name
        if path.is_file():
            result.files[name] = path
    return result


def buffer_frames(s: ScenarioResult) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Return a scenario's ``buffer.csv`` and ``buffer_curve.csv``, or None without them."""
    files = [s.files.get(name) for name in BUFFER_FILES]
    if any(f is None or not Path(f).is_file() for f in files):
        return None
    table_, curve = (pd.read_csv(f, keep_default_na=True) for f in files)  # type: ignore[arg-type]
    return table_, curve


def _frames(run: ReportInputs) -> list[tuple[str, pd.DataFrame, pd.DataFrame]]:
    out = []
    for s in run.scenarios:
        frames = buffer_frames(s)
        if frames is not None:
            out.append((s.name, *frames))
    return out


def _cells(table_: pd.DataFrame, n: int) -> list[tuple[str, str]]:
    """One pair per region: its industry with the largest cover at the loosest target.

    The ``n`` regions with the largest such cover, over scenarios (pairs needing no
    buffer are left out).
    """
    loose = table_[table_["target"] == table_["target"].max()]
    cover = loose.replace([np.inf], 1e9).groupby(["region", "industry"], sort=False)
    ranked = cover["cover_weeks"].max().sort_values(ascending=False, kind="stable")
    ranked = ranked[ranked > 0]
    best = ranked[~ranked.index.get_level_values("region").duplicated()]
    return [(str(r), str(i)) for r, i in best.index[:n]]


def buffer_figure(
    table_: pd.DataFrame,
    curve: pd.DataFrame,
    path: Path,
    *,
    title: str = "",
    cells: list[tuple[str, str]] | None = None,
) -> Path | None:
    """P(stock-out within the horizon) against the extra cover: one line per scenario.

    One panel per region and industry (by default the :data:`FIGURE_CELLS` pairs with
    the largest cover), the targets as dashed lines.

    Parameters
    ----------
    table_ : pandas.DataFrame
        ``buffer.csv`` rows of one or more scenarios.
    curve : pandas.DataFrame
        ``buffer_curve.csv`` rows of the same scenarios.
    path : Path
        Where to write the PNG.
    title : str
        Figure title.
    cells : list of (region, industry), optional
        The panels.

    Returns
    -------
    Path or None
        None when no pair needs a buffer (no file written).
    """
    cells = cells if cells is not None else _cells(table_, FIGURE_CELLS)
    if not cells:
        return None
    scenarios = list(dict.fromkeys(str(s) for s in table_["scenario"].fillna("")))
    colours = scenario_colours(scenarios)
    targets = sorted(table_["target"].unique())
    horizon = int(table_["horizon_months"].iloc[0])
    fig = Figure(figsize=(3.3 * len(cells) + 0.6, 3.3), layout="constrained")
    axes = fig.subplots(1, len(cells), squeeze=False)[0]
    for ax, (region, industry) in zip(axes, cells, strict=True):
        for name in scenarios:
            c = curve[
                (curve["scenario"].fillna("").astype(str) == name)
                & (curve["region"] == region)
                & (curve["industry"] == industry)
            ]
            if len(c):
                ax.plot(c["cover_weeks"], c["p_stockout"], color=colours[name], lw=1.6, label=name)
        for t in targets:
            ax.axhline(t, color="#888888", lw=0.8, ls="--")
        ax.set_ylim(0, None)
        ax.set_xlim(0, None)
        ax.grid(color="#eeeeee", lw=0.6)
        ax.set_title(pair_label(region, industry), fontsize=9, loc="left")
        ax.set_xlabel("extra cover (weeks of China-sourced demand)", fontsize=8)
        ax.tick_params(labelsize=8)
    axes[0].set_ylabel(f"P(stock-out within {horizon} months)", fontsize=8)
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10, x=0.01, ha="left")
    FigureCanvasAgg(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, facecolor="white", format="png")
    return path


def draw_buffer_figure(
    run: ReportInputs, draw: Callable[[str, str, Callable[[Path], Path | None]], None]
) -> None:
    """Draw the report's buffer figure with the report's ``draw(key, name, make)``."""
    frames = _frames(run)
    if not frames:
        return
    table_ = pd.concat([t for _, t, _ in frames], ignore_index=True)
    curve = pd.concat([c for _, _, c in frames], ignore_index=True)
    draw("buffer", "buffer.png", lambda p: buffer_figure(table_, curve, p))


def _weeks(x: float) -> str:
    if not np.isfinite(x):
        return "unreachable"
    return f"{x:.1f}"


def _scenario_table(table_: pd.DataFrame) -> str:
    targets = sorted(table_["target"].unique(), reverse=True)
    by = {t: table_[table_["target"] == t].set_index(["region", "industry"]) for t in targets}
    loose = by[targets[0]]
    order = loose["cover_weeks"].replace([np.inf], 1e9).sort_values(ascending=False)
    order = order[order > 0].index[:TABLE_ROWS]
    rows = []
    for key in order:
        row = [pair_label(*map(str, key)), fmt_prob(float(loose.loc[key, "p_stockout_no_buffer"]))]
        for t in targets:
            r = by[t].loc[key]
            row += [
                _weeks(float(r["cover_weeks"])),
                fmt_tonnes(float(r["buffer_t_mean"])),
                fmt_prob(float(r["p_stockout_at_cover"])),
            ]
        row.append(fmt_tonnes(float(by[targets[-1]].loc[key, "expected_shortfall_avoided_t"])))
        rows.append(row)
    if not rows:
        return '<p class="note">No region and industry needs a buffer for these targets.</p>'
    header = ["Region · industry", "P(stock-out), no buffer"]
    for t in targets:
        header += [f"Cover for {t:.0%} (weeks)", "Tonnes held", "P at that cover"]
    header.append(f"Unmet demand avoided at {targets[-1]:.0%}")
    return table(header, rows, numeric=range(1, len(header)))


def buffer_section(run: ReportInputs, figs: dict[str, str]) -> str:
    """HTML of the buffer section ("" when no scenario has ``buffer.csv``).

    Parameters
    ----------
    run : ReportInputs
        The report's inputs; scenarios without buffer files are skipped.
    figs : dict
        Figure key -> relative path; the figure is ``buffer``.

    Returns
    -------
    str
    """
    frames = _frames(run)
    if not frames:
        return ""
    parts = []
    for k, (name, table_, _) in enumerate(frames):
        body = _scenario_table(table_)
        if k == 0:
            parts.append(f"<h3>{esc(name)}</h3>{body}")
        else:
            parts.append(f"<details><summary>{esc(name)}</summary>{body}</details>")
    first = frames[0][1]
    horizon = int(first["horizon_months"].iloc[0])
    n_paths = int(first["n_paths"].iloc[0])
    seed = first["seed"].iloc[0]
    img = (
        f'<img class="fig" src="{esc(figs["buffer"])}" alt="P(stock-out) against extra cover">'
        if "buffer" in figs
        else ""
    )
    command = (
        f"riskmodel buffer --forecast DIR --seed {seed} --paths {n_paths} "
        f"--horizon {horizon} --out DIR"
    )
    return (
        '<section id="buffer"><h2>Buffer stocks: the cover for a target risk</h2>'
        f"<p>The extra stock, held on top of the usual cover, that keeps the probability of a "
        f"stock-out within {horizon} months at or below 5% and 1%, in weeks of the "
        "industry's China-sourced demand (the opening stock and the restocking ceiling both "
        "rise by it), with the tonnes it holds and the unmet demand it avoids over the "
        "horizon. The same Monte Carlo paths serve every cover, so each curve is monotone; "
        '"P at that cover" is simulated directly. The bundled data hold no sourced magnet '
        "price, so the buffer is given in tonnes, not money (a price range can be passed "
        "to the command). Full tables: <code>scenarios/&lt;name&gt;/buffer.csv</code>; "
        f"<code>{esc(command)}</code> reproduces them (docs/buffer.md).</p>"
        + img
        + "".join(parts)
        + "</section>"
    )
