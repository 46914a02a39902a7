"""Report figures as PNG files (matplotlib, drawn off-screen with the Agg canvas).

Figures are built on :class:`matplotlib.figure.Figure` directly, never through
``pyplot``, so rendering a report changes no global matplotlib state (no
backend switch, no open figure left behind) and works on a headless machine.
Every function writes one PNG and returns its path.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.path import Path as Path_
from matplotlib.textpath import TextPath
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import Affine2D, IdentityTransform

from riskmodel.report.inputs import ScenarioResult
from riskmodel.report.tables import industry_label, pair_label

__all__ = [
    "EVENT_COLOURS",
    "HEATMAP_MIN_P",
    "MAJOR_EVENTS",
    "approval_figure",
    "fan_figure",
    "heatmap_figure",
    "scenario_colours",
    "stockout_figure",
]

DPI = 100
#: Colour of each policy event type in the charts.
EVENT_COLOURS = {
    "control_announced": "#e08a00",
    "control_effective": "#c62828",
    "ban": "#6a1b9a",
    "licences_approved": "#2e7d32",
    "deal": "#00838f",
    "suspension": "#1565c0",
}
_BAND = "#3b6ea8"
#: Heat-map rows whose P(short) never reaches this are left out.
HEATMAP_MIN_P = 0.01
_WORLD = "World"


def scenario_colours(names: Sequence[str]) -> dict[str, str]:
    """One colour per scenario, stable for a given order."""
    cmap = colormaps["tab10"]
    return {name: _hex(cmap(i % 10)) for i, name in enumerate(names)}


def _hex(rgba: tuple[float, ...]) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgba[:3])


def _mid(months: Sequence[str] | pd.Series) -> pd.DatetimeIndex:
    """Middle of each month (for points and lines)."""
    idx = pd.PeriodIndex([str(m) for m in months], freq="M").to_timestamp()
    return idx + pd.Timedelta(14, unit="D")


def _save(fig: Figure, path: Path, *, late: Callable[[], None] | None = None) -> Path:
    """Lay the figure out once, add ``late`` artists, and write the PNG.

    ``savefig`` with a layout engine draws the whole figure twice (a layout pass,
    then the real one). Running constrained layout here, before ``late`` adds the
    artists that take no part in the layout (cell numbers, event labels), and
    then switching the engine off, leaves one draw.
    """
    FigureCanvasAgg(fig)
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
        fig.set_layout_engine(None)  # "none" would keep a placeholder that still pre-draws
    if late is not None:
        late()
    path.parent.mkdir(parents=True, exist_ok=True)
    # zlib level 3: half the encoding time of the default 6 for ~2% larger files
    fig.savefig(path, dpi=DPI, facecolor="white", format="png", pil_kwargs={"compress_level": 3})
    return path


def _tonnes(x: float, _pos: int) -> str:
    if abs(x) >= 1000:
        return f"{x / 1000:g}k"
    return f"{x:g}"


def _sort_destinations(names: Sequence[str]) -> list[str]:
    unique = list(dict.fromkeys(str(n) for n in names))
    return sorted(unique, key=lambda d: (d != _WORLD, unique.index(d)))


def _grid(n: int, ncols: int = 3) -> tuple[int, int]:
    ncols = max(1, min(ncols, n))
    return math.ceil(n / ncols), ncols


def _date_axis(ax: Any, *, maxticks: int = 6) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=min(3, maxticks - 1), maxticks=maxticks)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


#: Event types marked on the export fan charts (the approval chart marks every event).
MAJOR_EVENTS = frozenset({"control_announced", "control_effective", "ban", "suspension"})


def _number_span(numbers: Sequence[int]) -> str:
    """``[4, 5, 6, 8]`` -> ``"4–6,8"``."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ",".join(f"{r[0]}–{r[-1]}" if len(r) > 2 else ",".join(map(str, r)) for r in runs)


def _mark_events(
    ax: Any,
    events: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    types: frozenset[str] | None = None,
) -> set[str]:
    """Draw a dashed vertical line per event between ``start`` and ``end``, with numbers.

    Events closer together than about 4.5 % of the panel's width (June 2025 has
    seven within three weeks) are one cluster with one label, ``4–10``, centred
    on the cluster; the numbers refer to the event table below the figure.
    Labels of neighbouring clusters alternate between two heights.
    """
    seen: set[str] = set()
    if events is None or events.empty:
        return seen
    inside = events[(events["date"] >= start) & (events["date"] <= end)]
    if types is not None:
        inside = inside[inside["event_type"].isin(types)]
    if inside.empty:
        return seen
    gap = pd.Timedelta(max((end - start).days, 1) * 0.045, unit="D")
    clusters: list[list[Any]] = []
    for when, group in inside.groupby("date", sort=True):
        kinds = list(dict.fromkeys(str(t) for t in group["event_type"]))
        colour = EVENT_COLOURS.get(kinds[0], "#555555")
        ax.axvline(when, color=colour, lw=0.9, ls="--", alpha=0.8, zorder=1)
        seen.update(kinds)
        if clusters and when - clusters[-1][-1][0] < gap:
            clusters[-1].append((when, group, colour))
        else:
            clusters.append([(when, group, colour)])
    last_label: pd.Timestamp | None = None
    level = 0
    for cluster in clusters:
        dates = [c[0] for c in cluster]
        centre = dates[0] + (dates[-1] - dates[0]) / 2
        numbers = [int(n) for _w, g, _c in cluster for n in g["number"]]
        colours = {c for _w, _g, c in cluster}
        level = 1 - level if last_label is not None and centre - last_label < 2 * gap else 0
        last_label = centre
        ax.text(
            centre,
            0.985 - 0.085 * level,
            _number_span(numbers),
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="top",
            fontsize=6.5,
            color=colours.pop() if len(colours) == 1 else "#333333",
            in_layout=False,
            zorder=5,
            bbox={"boxstyle": "round,pad=0.12", "fc": "white", "ec": "none", "alpha": 0.85},
        )
    return seen


def _save_with_legend(
    fig: Figure, handles: list[Line2D | Patch], types: set[str], path: Path
) -> Path:
    """Add the legend below the panels, the policy events' lines last, and save."""
    handles = [*handles, *_event_handles(types)]
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=min(4, len(handles)),
        fontsize=8,
        frameon=False,
    )
    return _save(fig, path)


def _event_handles(types: set[str]) -> list[Line2D]:
    return [
        Line2D(
            [],
            [],
            color=EVENT_COLOURS.get(t, "#555555"),
            ls="--",
            lw=1.0,
            label=t.replace("_", " "),
        )
        for t in EVENT_COLOURS
        if t in types
    ]


def approval_figure(
    approval: pd.DataFrame,
    events: pd.DataFrame,
    path: Path,
    *,
    regime_starts: Sequence[str] = (),
    months_back: int = 24,
    lead_months: int = 6,
) -> Path:
    """Approval (release) rate per destination: median and 90 % band, events marked.

    Parameters
    ----------
    approval : pandas.DataFrame
        ``approval.csv`` of the fit.
    events : pandas.DataFrame
        Numbered events of the product (:func:`riskmodel.report.tables.product_events`).
    path : Path
        Where to write the PNG.
    regime_starts : sequence of str, optional
        First month of each licensing regime (``YYYY-MM``); shaded alternately.
    months_back : int, default 24
        Most months of history shown, ending at the last fitted month.
    lead_months : int, default 6
        With ``regime_starts``, the chart starts this many months before the
        first regime (when that still shows at least 12 months).

    Returns
    -------
    Path
    """
    months = sorted({str(m) for m in approval["month"]})[-months_back:]
    if regime_starts:
        # Start shortly before licensing began: the flat years before it say little.
        first = min(pd.Period(s, freq="M") for s in regime_starts if s) - lead_months
        zoomed = [m for m in months if pd.Period(m, freq="M") >= first]
        if len(zoomed) >= 12:
            months = zoomed
    data = approval[approval["month"].astype(str).isin(months)]
    dests = _sort_destinations(data["destination"])
    nrows, ncols = _grid(len(dests))
    fig = Figure(figsize=(4.3 * ncols, 2.5 * nrows + 0.7), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    start = pd.Period(months[0], freq="M").to_timestamp()
    end = pd.Period(months[-1], freq="M").to_timestamp(how="end")
    types: set[str] = set()
    starts = [pd.Period(s, freq="M").to_timestamp() for s in regime_starts if s]
    for k, ax in enumerate(axes.flat):
        if k >= len(dests):
            ax.set_visible(False)
            continue
        d = data[data["destination"] == dests[k]].sort_values("month")
        x = _mid(d["month"])
        for i, s in enumerate(starts):
            stop = starts[i + 1] if i + 1 < len(starts) else end
            if stop > start and i % 2 == 0:
                ax.axvspan(max(s, start), stop, color="#eeeeee", zorder=0, lw=0)
        ax.fill_between(x, d["q05"], d["q95"], color=_BAND, alpha=0.25, lw=0, zorder=2)
        ax.plot(x, d["q50"], color=_BAND, lw=1.6, zorder=3)
        types |= _mark_events(ax, events, start, end)
        ax.set_title(dests[k], fontsize=10, loc="left")
        ax.set_ylim(0, 1.05)
        ax.set_xlim(start, end)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.0%}"))
        ax.grid(axis="y", color="#dddddd", lw=0.6)
        _date_axis(ax)
    handles: list[Line2D | Patch] = [
        Line2D([], [], color=_BAND, lw=1.6, label="median approval rate"),
        Patch(color=_BAND, alpha=0.25, label="90% interval (q05–q95)"),
    ]
    if starts:
        handles.append(Patch(color="#eeeeee", label="licensing regimes (alternate shading)"))
    return _save_with_legend(fig, handles, types, path)


def fan_figure(
    scenario: ScenarioResult,
    history: pd.DataFrame,
    events: pd.DataFrame,
    path: Path,
    *,
    history_months: int = 36,
) -> Path:
    """Export fan chart per destination: customs history points and forecast bands.

    Parameters
    ----------
    scenario : ScenarioResult
        Forecast (and optionally paths, for the counterfactual line).
    history : pandas.DataFrame
        From :func:`riskmodel.report.tables.history_observations`.
    events : pandas.DataFrame
        Numbered events of the product.
    path : Path
        Where to write the PNG.
    history_months : int, default 36
        Months of history before the forecast start.

    Returns
    -------
    Path
    """
    fc = scenario.forecast.copy()
    fc["month"] = fc["month"].astype(str)
    dests = _sort_destinations(fc["destination"])
    months = sorted(set(fc["month"]))
    first = pd.Period(months[0], freq="M")
    hist_start = first - history_months
    start = hist_start.to_timestamp()
    end = pd.Period(months[-1], freq="M").to_timestamp(how="end")
    counter = None
    ds = scenario.paths
    if ds is not None and "counterfactual" in ds:
        counter = ds["counterfactual"].median("path")
    nrows, ncols = _grid(len(dests))
    fig = Figure(figsize=(4.3 * ncols, 2.6 * nrows + 0.7), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    types: set[str] = set()
    has_sum = has_counter = False
    inner = ("q25", "q75") if {"q25", "q75"} <= set(fc.columns) else None
    for k, ax in enumerate(axes.flat):
        if k >= len(dests):
            ax.set_visible(False)
            continue
        dest = dests[k]
        f = fc[fc["destination"] == dest].sort_values("month")
        x = _mid(f["month"])
        ax.fill_between(x, f["q05"], f["q95"], color=_BAND, alpha=0.18, lw=0, zorder=2)
        if inner:
            ax.fill_between(x, f[inner[0]], f[inner[1]], color=_BAND, alpha=0.32, lw=0, zorder=2)
        ax.plot(x, f["q50"], color=_BAND, lw=1.6, zorder=3)
        if counter is not None and dest in [str(v) for v in counter["destination"].values]:
            c = counter.sel(destination=dest)
            cx = _mid([str(m) for m in c["month"].values])
            ax.plot(cx, c.values, color="#777777", lw=1.0, ls=":", zorder=3)
            has_counter = True
        if not history.empty:
            h = history[history["destination"] == dest]
            h = h[h["month"].map(lambda m: hist_start <= pd.Period(m, freq="M") < first)]
            mon = h[h["kind"] == "month"]
            ax.plot(_mid(mon["month"]), mon["quantity_t"], "o", ms=3.2, color="#222222", zorder=4)
            sums = h[h["kind"] == "sum"]
            if len(sums):
                has_sum = True
                ax.plot(
                    _mid(sums["month"]),
                    sums["quantity_t"],
                    "o",
                    ms=3.6,
                    mfc="white",
                    mec="#222222",
                    mew=0.9,
                    zorder=4,
                )
        ax.axvline(first.to_timestamp(), color="#999999", lw=0.8, zorder=1)
        types |= _mark_events(ax, events, start, end, types=MAJOR_EVENTS)
        ax.set_title(dest, fontsize=10, loc="left")
        ax.set_xlim(start, end)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(FuncFormatter(_tonnes))
        ax.grid(axis="y", color="#dddddd", lw=0.6)
        _date_axis(ax)
    fig.supylabel("tonnes per month", fontsize=9)
    handles: list[Line2D | Patch] = [
        Line2D([], [], marker="o", ls="", ms=3.2, color="#222222", label="customs, monthly"),
    ]
    if has_sum:
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                ms=3.6,
                mfc="white",
                mec="#222222",
                label="customs, multi-month total ÷ months",
            )
        )
    handles += [
        Line2D([], [], color=_BAND, lw=1.6, label="forecast median"),
        Patch(color=_BAND, alpha=0.18, label="90% interval"),
    ]
    if inner:
        handles.append(Patch(color=_BAND, alpha=0.45, label="50% interval"))
    if has_counter:
        handles.append(Line2D([], [], color="#777777", ls=":", label="demand without licensing"))
    return _save_with_legend(fig, handles, types, path)


def _heat_grid(data: pd.DataFrame, rows: list[tuple[str, str]], months: list[str]) -> np.ndarray:
    table = data.pivot_table(
        index=["region", "industry"], columns="month", values="p_short", aggfunc="max"
    )
    out = np.full((len(rows), len(months)), np.nan)
    for i, key in enumerate(rows):
        if key in table.index:
            for j, m in enumerate(months):
                if m in table.columns:
                    out[i, j] = table.at[key, m]
    return out


@functools.cache
def _number_path(text: str, size: float) -> Path_:
    """Glyph outline of ``text`` in pixels at :data:`DPI`, centred on the origin."""
    path = TextPath((0, 0), text, size=size * DPI / 72.0)
    (x0, y0), (x1, y1) = path.get_extents().get_points()
    return path.transformed(Affine2D().translate(-(x0 + x1) / 2, -(y0 + y1) / 2))


def _cell_numbers(ax: Any, grid: np.ndarray, *, size: float = 6.5) -> None:
    """Write each cell's P(short) in percent on a heat map.

    A heat map of a real run has over a thousand cells; a Text artist per cell
    costs about a millisecond each to lay out and draw. Instead every distinct
    number is one glyph outline, stamped at all its cells by a single
    :class:`~matplotlib.collections.PathCollection` (white on dark cells).
    """
    finite = np.isfinite(grid)
    values = np.rint(np.where(finite, grid, 0) * 100).astype(int)
    for v in np.unique(values[finite]):
        rows, cols = np.nonzero(finite & (values == v))
        ax.add_collection(
            PathCollection(
                [_number_path(str(v), size)],
                offsets=np.column_stack([cols, rows]),
                offset_transform=ax.transData,
                transform=IdentityTransform(),
                facecolors="white" if v > 60 else "#333333",
                edgecolors="none",
                linewidths=0,
                antialiased=True,
                zorder=3,
            ),
            autolim=False,
        )


def _heat_panel(
    ax: Any, grid: np.ndarray, labels: list[str], months: list[str], *, step: int
) -> Any:
    cmap = colormaps["YlOrRd"].with_extremes(bad="#f4f4f4")
    im = ax.imshow(
        np.ma.masked_invalid(grid),
        cmap=cmap,
        vmin=0,
        vmax=1,
        aspect="auto",
        interpolation="nearest",
    )
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ticks = list(range(0, len(months), step))
    ax.set_xticks(
        ticks, [pd.Period(months[j], freq="M").strftime("%b\n%Y") for j in ticks], fontsize=7
    )
    ax.tick_params(length=0)
    return im


def heatmap_figure(
    shortage: pd.DataFrame,
    path: Path,
    *,
    title: str = "",
    min_p: float = HEATMAP_MIN_P,
    max_single_rows: int = 24,
) -> Path:
    """Heat map of P(short) by region, industry and month.

    Up to ``max_single_rows`` region/industry rows are drawn as one map (rows
    ``region · industry``, columns months); more are drawn as one panel per
    region (rows industries), two panels a row, sharing one colour scale.
    Rows whose P(short) stays below ``min_p`` in every month (or is missing)
    are left out, so the map shows where the risk is; the report says how many.

    Parameters
    ----------
    shortage : pandas.DataFrame
        ``shortage.csv`` of one scenario.
    path : Path
        Where to write the PNG.
    title : str, optional
        Figure title.
    min_p : float, default :data:`HEATMAP_MIN_P`
        Rows never reaching this probability are not drawn.
    max_single_rows : int, default 24
        Most rows drawn as a single map.

    Returns
    -------
    Path
    """
    data = shortage.copy()
    data["month"] = data["month"].astype(str)
    data["region"] = data["region"].astype(str)
    data["industry"] = data["industry"].astype(str)
    peak = data.groupby(["region", "industry"])["p_short"].transform("max")
    if (peak >= min_p).any():
        data = data[peak >= min_p]
    months = sorted(set(data["month"]))
    regions = list(dict.fromkeys(data["region"]))
    by_region = {r: sorted(set(data.loc[data["region"] == r, "industry"])) for r in regions}
    n_rows = sum(len(v) for v in by_region.values())
    cell_w = 0.42 if len(months) <= 24 else 0.26
    numbered: list[tuple[Any, np.ndarray]] = []  # panels whose cells get their numbers
    if n_rows <= max_single_rows or len(regions) == 1:
        rows = [(r, i) for r in regions for i in by_region[r]]
        grid = _heat_grid(data, rows, months)
        label_w = 0.3 + 0.06 * max((len(pair_label(r, i)) for r, i in rows), default=10)
        fig = Figure(
            figsize=(label_w + cell_w * len(months) + 1.0, 1.3 + 0.3 * len(rows)),
            layout="constrained",
        )
        ax = fig.subplots()
        im = _heat_panel(
            ax,
            grid,
            [pair_label(r, i) for r, i in rows],
            months,
            step=1 if len(months) <= 24 else 3,
        )
        if grid.size <= 900:
            numbered.append((ax, grid))
        for k in range(1, len(rows)):
            if rows[k][0] != rows[k - 1][0]:
                ax.axhline(k - 0.5, color="#333333", lw=1.0)
        if title:
            ax.set_title(title, fontsize=10, loc="left")
        axes_list = [ax]
    else:
        ncols = 2
        nrows = math.ceil(len(regions) / ncols)
        most = max(len(v) for v in by_region.values())
        # Industry labels are long ("Automotive auxiliary motors, EPS, ..."): when every
        # region has the same rows, only the left column of panels carries them.
        shared = all(v == by_region[regions[0]] for v in by_region.values())
        label_w = 0.3 + 0.06 * max(len(industry_label(i)) for v in by_region.values() for i in v)
        cells_w = 0.24 * len(months)
        fig = Figure(
            figsize=(
                label_w * (1 if shared else ncols) + cells_w * ncols + 1.0,
                0.9 + nrows * (0.75 + 0.24 * most),
            ),
            layout="constrained",
        )
        axes = fig.subplots(nrows, ncols, squeeze=False)
        axes_list = []
        im = None
        for k, ax in enumerate(axes.flat):
            if k >= len(regions):
                ax.set_visible(False)
                continue
            region = regions[k]
            rows = [(region, i) for i in by_region[region]]
            grid = _heat_grid(data, rows, months)
            im = _heat_panel(
                ax,
                grid,
                [industry_label(i) for _r, i in rows],
                months,
                step=2 if len(months) <= 24 else 4,
            )
            if len(months) <= 24:
                numbered.append((ax, grid))
            if shared and k % ncols:
                ax.tick_params(axis="y", labelleft=False)
            ax.set_title(region, fontsize=10, loc="left", fontweight="bold")
            axes_list.append(ax)
        if title:
            fig.suptitle(title, fontsize=10, x=0.01, ha="left")
    cbar = fig.colorbar(im, ax=axes_list, fraction=0.03, pad=0.01, shrink=0.8)
    cbar.set_label("P(short), %", fontsize=8)
    cbar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v * 100:.0f}"))

    def numbers() -> None:
        for ax_, grid_ in numbered:
            _cell_numbers(ax_, grid_)

    return _save(fig, path, late=numbers)


def stockout_figure(
    scenarios: Sequence[ScenarioResult], path: Path, *, max_rows: int = 14
) -> Path | None:
    """First stock-out month by region and industry: small multiples, one row per pair.

    Left: the probability of a stock-out within the horizon, one dot per
    scenario on the pair's row. Right: one small panel per scenario (shared
    month axis) with the 10–90 % range of the first stock-out month (a line; an
    arrow where the 90 % point lies beyond the horizon) and its median (a dot).
    Every panel shares the rows, so the figure is as tall as the list of pairs
    whatever the number of scenarios; the scenario legend is on top.

    Parameters
    ----------
    scenarios : sequence of ScenarioResult
        The first one orders the rows (most likely stock-out first).
    path : Path
        Where to write the PNG.
    max_rows : int, default 14
        At most this many region/industry rows.

    Returns
    -------
    Path or None
        None when no scenario has a stock-out probability of at least 1 % (no
        figure is written).
    """
    frames = []
    for s in scenarios:
        f = s.stockout.copy()
        f["scenario"] = s.name
        frames.append(f)
    allrows = pd.concat(frames, ignore_index=True)
    peak = allrows.groupby(["region", "industry"])["p_stockout_within_horizon"].max()
    peak = peak[peak >= 0.01]
    if peak.empty:
        return None
    primary = scenarios[0].stockout.set_index(["region", "industry"])["p_stockout_within_horizon"]
    order = sorted(peak.index, key=lambda k: (-float(primary.get(k, 0.0)), -float(peak[k]), k))
    order = order[:max_rows]
    row_of = {key: i for i, key in enumerate(order)}
    names = [s.name for s in scenarios]
    colours = scenario_colours(names)
    months = sorted({m for s in scenarios for m in s.months})
    h_start = pd.Period(months[0], freq="M").to_timestamp()
    h_end = pd.Period(months[-1], freq="M").to_timestamp(how="end")
    n = len(names)
    fig = Figure(figsize=(11.5, 1.5 + 0.27 * len(order)), layout="constrained")
    axes = fig.subplots(1, n + 1, sharey=True, width_ratios=[1.5] + [1.0] * n)
    ax_p, timing = axes[0], list(axes[1:])
    for ax in timing[1:]:
        ax.sharex(timing[0])
    p_by_row: dict[int, list[float]] = {}
    for j, name in enumerate(names):
        sub = allrows[allrows["scenario"] == name]
        ax_m = timing[j]
        for row in sub.itertuples(index=False):
            i = row_of.get((row.region, row.industry))
            if i is None:
                continue
            p = float(row.p_stockout_within_horizon)
            p_by_row.setdefault(i, []).append(p)
            # Scenarios a little apart within the row, so equal probabilities stay visible.
            y = i + 0.5 * (j - (n - 1) / 2) / max(n, 2)
            ax_p.plot([p], [y], "o", color=colours[name], ms=5, mec="white", mew=0.5, zorder=3)
            q10, med, q90 = (
                row.q10_first_stockout_month,
                row.median_first_stockout_month,
                row.q90_first_stockout_month,
            )
            if q10 is None:
                continue
            x0 = _mid([q10])[0]
            x1 = _mid([q90])[0] if q90 is not None else h_end
            ax_m.plot([x0, x1], [i, i], color=colours[name], lw=2.0, solid_capstyle="butt")
            if q90 is None:
                ax_m.plot([h_end], [i], marker=">", color=colours[name], ms=4.5, clip_on=False)
            if med is not None:
                ax_m.plot([_mid([med])[0]], [i], "o", color=colours[name], mec="white", ms=5)
    for i, ps in p_by_row.items():
        ax_p.plot([min(ps), max(ps)], [i, i], color="#bbbbbb", lw=1.0, zorder=2)
    ax_p.set_yticks(range(len(order)), [pair_label(r, i) for r, i in order], fontsize=8)
    ax_p.set_ylim(len(order) - 0.5, -0.5)
    ax_p.set_xlim(0, 1.02)
    ax_p.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.0%}"))
    ax_p.set_title("P(stock-out within\nthe horizon)", fontsize=8)
    for j, ax_m in enumerate(timing):
        # Scenario names wrap at underscores: the panels are narrow.
        ax_m.set_title(names[j].replace("_", "_\n"), fontsize=8, color=colours[names[j]])
        ax_m.tick_params(axis="y", length=0)
        _date_axis(ax_m, maxticks=4)
        ax_m.tick_params(axis="x", labelsize=7)
        if not ax_m.lines:
            ax_m.text(
                0.5,
                0.5,
                "no pair with\nP(stock-out)\n≥ 10%:\nno range",
                transform=ax_m.transAxes,
                ha="center",
                va="center",
                fontsize=7,
                color="#777777",
            )
    timing[0].set_xlim(h_start, h_end)
    for ax in axes:
        ax.grid(axis="x", color="#e4e4e4", lw=0.6)
        for i in range(1, len(order)):
            ax.axhline(i - 0.5, color="#f0f0f0", lw=0.6, zorder=0)
    fig.suptitle(
        "Right: first stock-out month, 10–90% range (line; arrow: beyond the horizon)"
        " and median (dot), for pairs with P(stock-out) ≥ 10%",
        fontsize=9,
    )
    handles = [
        Line2D([], [], marker="o", ls="", color=colours[nm], ms=5.5, label=nm) for nm in names
    ]
    # The legend below the panels: on top it would share the title's band.
    fig.legend(
        handles=handles, loc="outside lower center", ncols=min(6, n), fontsize=8, frameon=False
    )
    return _save(fig, path)
