"""Render a report: ``index.html`` with PNG figures, ``summary.json`` and copies of the stage files.

Layout of a report directory::

    index.html               the report (opens offline; no scripts, no external files)
    summary.json             headline numbers, provenance and what changed (machine-readable)
    previous_summary.json    the summary this report was compared with (when there was one)
    figures/*.png            approval history, fan charts, heat maps, first stock-out month
    fit/diagnostics.json     convergence diagnostics of the fit
    fit/approval.csv         approval rate per month and destination (5/50/95 % quantiles)
    scenarios/<name>/forecast.csv, shortage.csv, stockout.csv

The sections, in reading order: the headline (largest risks in the next 3, 6
and 12 months), what changed since the previous report, the scenarios side by
side, the shortage heat maps, the first stock-out month, the export fan
charts, the approval-rate history with the policy events, data freshness and
sources, model diagnostics (a failing fit in a red box, also at the top of the
page) and provenance (version, seeds, data and priors hashes).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from riskmodel import __version__
from riskmodel.atomic import atomic_write, write_text
from riskmodel.report.alerts import alerts_section
from riskmodel.report.buffer import BUFFER_FILES, buffer_section, draw_buffer_figure
from riskmodel.report.changes import (
    SUMMARY_SCHEMA,
    compare_summaries,
    describe_changes,
    read_summary,
)
from riskmodel.report.drivers import drivers_figure, drivers_section
from riskmodel.report.figures import (
    HEATMAP_MIN_P,
    approval_figure,
    fan_figure,
    heatmap_figure,
    scenario_colours,
    stockout_figure,
)
from riskmodel.report.html import esc, link, page, table
from riskmodel.report.inputs import ReportInputs
from riskmodel.report.reuse import ReuseStore, digest
from riskmodel.report.tables import (
    WINDOWS,
    fmt_month,
    fmt_prob,
    fmt_tonnes,
    freshness,
    history_observations,
    max_by_pair,
    pair_label,
    product_events,
    scenario_summary,
    source_table,
    top_risks,
    window_months,
)

__all__ = ["PREVIOUS_SUMMARY", "SUMMARY_FILE", "build_summary", "render_report"]

SUMMARY_FILE = "summary.json"
PREVIOUS_SUMMARY = "previous_summary.json"
#: Name of a figure inside its cache entry.
FIGURE_FILE = "figure.png"
#: Pass marks shown when ``diagnostics.json`` carries none (same as the fit stage's).
DEFAULT_THRESHOLDS = {
    "max_rhat": 1.01,
    "min_ess_bulk": 400.0,
    "min_ess_tail": 400.0,
    "max_divergences": 0,
    "min_bfmi": 0.3,
}
#: A series whose last month ended more than this many days ago is marked stale
#: (China publishes a month's customs figures about three weeks after it ends).
STALE_DAYS = 60
_PRODUCT_TITLES = {"magnets": "rare-earth permanent magnets"}


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "scenario"


def _clean(value: Any) -> Any:
    """Make a value JSON-safe: NaN/inf -> None, NumPy/pandas scalars -> Python."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            value = value.item()
        except (AttributeError, ValueError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _risk_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "region": str(r.region),
            "industry": str(r.industry),
            "month": str(r.month),
            "p_short": round(float(r.p_short), 4),
            "expected_shortfall_share": round(float(r.expected_shortfall_share), 4),
            "expected_shortfall_t": round(float(r.expected_shortfall_t), 3),
        }
        for r in frame.itertuples(index=False)
    ]


def build_summary(
    run: ReportInputs,
    *,
    generated_at: datetime,
    fresh: pd.DataFrame,
    scenarios: list[dict[str, Any]],
) -> dict[str, Any]:
    """Assemble ``summary.json`` (without ``changes``).

    Parameters
    ----------
    run : ReportInputs
        What the report shows.
    generated_at : datetime
        Report time (UTC).
    fresh : pandas.DataFrame
        From :func:`riskmodel.report.tables.freshness`.
    scenarios : list of dict
        From :func:`riskmodel.report.tables.scenario_summary`, in order.

    Returns
    -------
    dict
        Keys: ``schema``, ``generated_at``, ``product``, ``riskmodel_version``
        (of the fit; ``report_version`` is the renderer's), ``data_hash``,
        ``priors_hash``, ``provenance``, ``run``, ``last_data_month``,
        ``last_data_month_by_series``, ``forecast_start``, ``forecast_end``,
        ``primary_scenario``, ``scenarios``, ``diagnostics`` (``passed``,
        ``failures``), ``headline`` (window -> up to 3 risks of the primary
        scenario: ``region``, ``industry``, ``month``, ``p_short``, ...),
        ``scenario_table`` and ``max_p_short`` (scenario -> ``region/industry``
        -> window -> largest P(short)).
    """
    prov = run.provenance()
    primary = run.primary
    diag = run.diagnostics
    by_series = {str(r.destination): str(r.last) for r in fresh.itertuples(index=False)}
    months = primary.months
    return _clean(
        {
            "schema": SUMMARY_SCHEMA,
            "generated_at": generated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "product": run.product,
            "riskmodel_version": prov["riskmodel_version"] or __version__,
            "report_version": __version__,
            "data_hash": prov["data_hash"],
            "priors_hash": prov["priors_hash"],
            "provenance": prov,
            "run": dict(run.settings),
            "last_data_month": max(by_series.values()) if by_series else None,
            "last_data_month_by_series": by_series,
            "forecast_start": months[0] if months else None,
            "forecast_end": months[-1] if months else None,
            "primary_scenario": primary.name,
            "scenarios": [s.name for s in run.scenarios],
            "diagnostics": {
                "passed": bool(diag.get("passed", False)),
                "failures": [str(f) for f in diag.get("failures", [])],
            },
            "headline": {
                str(w): _risk_records(top_risks(primary.shortage, w, n=3)) for w in WINDOWS
            },
            "scenario_table": scenarios,
            "max_p_short": {s.name: max_by_pair(s.shortage) for s in run.scenarios},
        }
    )


def _previous_summary(previous: dict[str, Any] | str | Path | None, out: Path) -> Any:
    if isinstance(previous, dict):
        return previous
    if previous is not None:
        return read_summary(previous)
    # A summary.json already here belongs to the report being replaced (rendering in place);
    # in a fresh directory run_report has put the previous one in previous_summary.json.
    for candidate in (out / SUMMARY_FILE, out / PREVIOUS_SUMMARY):
        if not candidate.is_file():
            continue  # a first report: nothing to compare, nothing to warn about
        found = read_summary(candidate)
        if found is not None:
            return found
    return None


def render_report(
    run: ReportInputs,
    out_dir: str | os.PathLike[str],
    *,
    previous: dict[str, Any] | str | os.PathLike[str] | None = None,
    now: datetime | None = None,
    figure_cache: ReuseStore | None = None,
) -> Path:
    """Write a complete report into ``out_dir``.

    Parameters
    ----------
    run : ReportInputs
        The stage outputs and history to show.
    out_dir : str or PathLike
        The report directory (created if needed). Unattended runs call this
        inside :func:`riskmodel.report.schedule.run_report`, which gives it a
        fresh directory and swaps it into place atomically.
    previous : dict or path, optional
        The previous report's ``summary.json`` (a dict or a path) for "what
        changed". Default: the ``summary.json`` already in ``out_dir`` (when
        rendering over an old report in place), else
        ``out_dir/previous_summary.json`` (put there by
        :func:`~riskmodel.report.schedule.run_report`). It is kept in the new
        report as ``previous_summary.json``.
    now : datetime, optional
        The report time; default ``run.generated_at`` or the current UTC time.
    figure_cache : ReuseStore, optional
        Where figures are kept under the hash of what they show
        (:mod:`riskmodel.report.reuse`): a figure whose inputs and code are unchanged
        is copied from there instead of drawn again.

    Returns
    -------
    Path
        The ``index.html`` written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    generated = now or run.generated_at or datetime.now(UTC)
    if generated.tzinfo is None:
        generated = generated.replace(tzinfo=UTC)
    prev = _previous_summary(previous, out)
    if prev is not None:
        write_text(out / PREVIOUS_SUMMARY, json.dumps(prev, indent=2) + "\n")

    product = run.product
    events = product_events(run.events, product)
    history = history_observations(run.customs, product)
    fresh = freshness(run.customs, product, generated.date())
    sources = source_table(run.customs, product)
    scen_rows = [scenario_summary(s) for s in run.scenarios]
    summary = build_summary(run, generated_at=generated, fresh=fresh, scenarios=scen_rows)
    changes = _clean(compare_summaries(prev, summary))
    summary["changes"] = changes

    figs = _draw_figures(run, out, events=events, history=history, cache=figure_cache)
    files = _copy_stage_files(run, out)

    body = "\n".join(
        [
            _fit_alarm(run),
            _past_forecast_warning(run, generated),
            _headline_section(run, scen_rows),
            _changes_section(changes, prev),
            alerts_section(out, changes),
            _scenarios_section(run, scen_rows),
            _heatmap_section(run, figs),
            _stockout_section(run, figs),
            drivers_section(run, figs),
            buffer_section(run, figs),
            _fan_section(run, figs),
            _approval_section(run, figs, events),
            _episodes_section(figs),
            _freshness_section(run, fresh, sources, generated),
            _diagnostics_section(run),
            _provenance_section(run, summary, files),
        ]
    )
    title = f"Shortage risk from China's export licensing: {_PRODUCT_TITLES.get(product, product)}"
    html_text = page(title, _header(run, title, fresh, generated), body, _footer(run, generated))
    write_text(out / SUMMARY_FILE, json.dumps(summary, indent=2, allow_nan=False) + "\n")
    index = out / "index.html"
    write_text(index, html_text)
    return index


# --------------------------------------------------------------------------- #
# Files
# --------------------------------------------------------------------------- #


class _NothingDrawn(Exception):
    """A figure function had nothing to draw (and wrote no file)."""


def _draw_figures(
    run: ReportInputs,
    out: Path,
    *,
    events: pd.DataFrame,
    history: pd.DataFrame,
    cache: ReuseStore | None = None,
) -> dict[str, str]:
    """Draw every figure; return figure key -> path relative to the report.

    A figure drawn with ``inputs`` (everything it shows) is looked up in ``cache``
    under the hash of those inputs, its name and the code, and drawn only when absent.
    """
    fig_dir = out / "figures"
    figs: dict[str, str] = {}

    def draw(
        key: str, name: str, make: Callable[[Path], Path | None], *, inputs: Any = None
    ) -> None:
        fig_dir.mkdir(parents=True, exist_ok=True)
        target = fig_dir / name
        stored_key = None
        if cache is not None and inputs is not None:
            try:
                stored_key = digest("figure", name, inputs)
            except TypeError:  # inputs of a kind the key cannot hold: draw, do not store
                stored_key = None
        if stored_key is not None:
            stored = cache.get("figure", stored_key)
            if stored is not None:
                png = stored / FIGURE_FILE
                if png.is_file():
                    atomic_write(target, lambda p: shutil.copyfile(png, p))
                    figs[key] = f"figures/{name}"
                return  # an entry without a PNG: the figure had nothing to draw

        def write(tmp: Path) -> None:
            if make(tmp) is None:
                raise _NothingDrawn

        try:
            atomic_write(target, write)
        except _NothingDrawn:
            target.unlink(missing_ok=True)
            if stored_key is not None:
                cache.put("figure", stored_key, [])
            return
        figs[key] = f"figures/{name}"
        if stored_key is not None:
            _store_figure(cache, stored_key, target)

    starts = [s for s in str(run.attrs.get("regime_starts", "")).split("|") if s]
    if len(run.approval):
        draw(
            "approval",
            "approval.png",
            lambda p: approval_figure(run.approval, events, p, regime_starts=starts),
            inputs=(run.approval, events, starts),
        )
    for s in run.scenarios:
        safe = _safe_name(s.name)
        draw(
            f"fan:{s.name}",
            f"fan_{safe}.png",
            lambda p, s=s: fan_figure(s, history, events, p),
            inputs=(s, history, events),
        )
        if len(s.shortage):
            title = f"P(short) by month: {s.name}"
            draw(
                f"heat:{s.name}",
                f"heatmap_{safe}.png",
                lambda p, s=s, t=title: heatmap_figure(s.shortage, p, title=t),
                inputs=(s.shortage, title),
            )
    draw(
        "stockout",
        "stockout.png",
        lambda p: stockout_figure(run.scenarios, p),
        inputs=(run.scenarios,),
    )
    for s in run.scenarios:
        if s.drivers is not None:
            title = f"What drives the headline risks: {s.name}"
            draw(
                f"drivers:{s.name}",
                f"drivers_{_safe_name(s.name)}.png",
                lambda p, s=s, t=title: drivers_figure(s.drivers, p, title=t),
                inputs=(s.drivers, title),
            )
    draw_buffer_figure(run, draw)
    episodes = _episode_inputs()
    if episodes is not None:
        table_, doc = episodes
        draw(
            "episodes",
            "episodes.png",
            lambda p: _shock_figure(table_, doc, p),
            inputs=(table_, doc),
        )
    return figs


def _store_figure(cache: ReuseStore, key: str, png: Path) -> None:
    """Keep a drawn figure in the cache under ``key`` (as ``figure.png``)."""
    with tempfile.TemporaryDirectory(dir=png.parent, prefix=".store-") as tmp:
        named = Path(tmp) / FIGURE_FILE
        shutil.copyfile(png, named)
        cache.put("figure", key, [named])


def _episode_inputs() -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """Return the past control episodes of the learned shock shape, if the file is there."""
    from riskmodel.exceptions import RiskModelError
    from riskmodel.shocks.learn import read_shock_shape
    from riskmodel.shocks.table import episode_table

    try:
        doc = read_shock_shape()
    except (RiskModelError, OSError):
        return None
    return episode_table(doc), doc


def _shock_figure(table_: pd.DataFrame, doc: dict[str, Any], path: Path) -> Path:
    from riskmodel.shocks.figure import shock_figure

    return shock_figure(table_, doc, path)


def _copy_stage_files(run: ReportInputs, out: Path) -> list[str]:
    """Copy (or write) the fit and per-scenario CSVs; return their relative paths."""
    written: list[str] = []

    def put(rel: str, source: Path | None, fallback: Callable[[Path], None]) -> None:
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source is not None and Path(source).is_file():
            atomic_write(target, lambda p: shutil.copyfile(source, p))
        else:
            atomic_write(target, fallback)
        written.append(rel)

    put(
        "fit/diagnostics.json",
        run.fit_files.get("diagnostics.json"),
        lambda p: p.write_text(json.dumps(_clean(run.diagnostics), indent=2) + "\n"),
    )
    put(
        "fit/approval.csv",
        run.fit_files.get("approval.csv"),
        lambda p: run.approval.to_csv(p, index=False, float_format="%.6g"),
    )
    for s in run.scenarios:
        base = f"scenarios/{_safe_name(s.name)}"
        frames = {
            "forecast.csv": s.forecast,
            "shortage.csv": s.shortage,
            "stockout.csv": s.stockout,
        }
        if s.drivers is not None:
            frames["drivers.csv"] = s.drivers
        for name, frame in frames.items():
            put(
                f"{base}/{name}",
                s.files.get(name),
                lambda p, f=frame: f.to_csv(p, index=False, float_format="%.6g"),
            )
        for name in BUFFER_FILES:
            if name in s.files:
                put(f"{base}/{name}", s.files[name], lambda p: None)
    return written


# --------------------------------------------------------------------------- #
# Sections
# --------------------------------------------------------------------------- #


def _img(figs: dict[str, str], key: str, alt: str) -> str:
    if key not in figs:
        return '<p class="note">(no figure: nothing to show)</p>'
    return f'<img class="fig" src="{esc(figs[key])}" alt="{esc(alt)}">'


#: Colour bands of a headline probability, lower bounds: red from 50 % (a shortage is
#: more likely than not), orange from 10 % (a risk to plan for). Below 10 % the number
#: is grey, not green: a risk colour never calls a chance of shortage safe.
RISK_BANDS = ((0.5, "high"), (0.1, "mid"))


def _prob_class(p: float) -> str:
    return next((name for bound, name in RISK_BANDS if p >= bound), "low")


def _world_freshness(fresh: pd.DataFrame) -> tuple[str | None, int | None]:
    if fresh.empty:
        return None, None
    world = fresh[fresh["destination"] == "World"]
    row = world.iloc[0] if len(world) else fresh.sort_values("last").iloc[-1]
    return str(row["last"]), int(row["days_since"])


def _header(run: ReportInputs, title: str, fresh: pd.DataFrame, generated: datetime) -> str:
    months = run.primary.months
    last, days = _world_freshness(fresh)
    bits = [f"Report of {generated.astimezone(UTC).strftime('%Y-%m-%d %H:%M')} UTC"]
    if last:
        bits.append(f"customs data to {fmt_month(last)} ({days} days ago)")
    if months:
        bits.append(f"forecast {fmt_month(months[0])} – {fmt_month(months[-1])}")
    bits.append(f"{len(run.scenarios)} scenario{'s' if len(run.scenarios) != 1 else ''}")
    passed = bool(run.diagnostics.get("passed", False))
    bits.append("fit checks passed" if passed else "FIT CHECKS FAILED")
    nav = "".join(
        f'<a href="#{a}">{esc(t)}</a>'
        for a, t in (
            ("headline", "Headline"),
            ("changes", "What changed"),
            ("scenarios", "Scenarios"),
            ("heatmaps", "Heat maps"),
            ("stockout", "Stock-outs"),
            ("exports", "Exports"),
            ("approval", "Approval rate"),
            ("data", "Data"),
            ("diagnostics", "Diagnostics"),
            ("provenance", "Provenance"),
        )
    )
    return f"<h1>{esc(title)}</h1><p>{esc(' · '.join(bits))}</p><nav>{nav}</nav>"


def _past_forecast_warning(run: ReportInputs, generated: datetime) -> str:
    """Return a warning box when the forecast window starts well before the report date.

    The windows count from the month after the last customs month of the fit;
    with customs figures out about three weeks after a month ends, a fresh
    report's forecast starts at most a month or two back. When the first
    forecast month ended more than :data:`STALE_DAYS` days before the report,
    "the next 3 months" are partly or wholly in the past.
    """
    months = run.primary.months
    if not months:
        return ""
    first = pd.Period(months[0], freq="M")
    report_day = generated.astimezone(UTC).date()
    if (report_day - first.end_time.date()).days <= STALE_DAYS:
        return ""
    now = pd.Period(report_day, freq="M")
    past = [w for w in WINDOWS if (now - first).n >= w]
    if pd.Period(months[-1], freq="M") < now:
        where = "The whole forecast window lies before the report date."
    elif past:
        where = (
            f"The windows of the next {', '.join(map(str, past))} months lie wholly in the past."
        )
    else:
        where = f"The first {(now - first).n} forecast months lie in the past."
    return (
        '<div class="box warn" id="forecast-past"><strong>The forecast starts '
        f"{esc(fmt_month(str(first)))}, {(now - first).n} months before this report "
        f"({esc(fmt_month(str(now)))}).</strong> {esc(where)} The windows count from the month "
        "after the last customs month; add newer customs figures and run the report again for "
        'a forecast from today (see <a href="#data">data freshness</a>).</div>'
    )


def _fit_alarm(run: ReportInputs) -> str:
    if run.diagnostics.get("passed", False):
        return ""
    failures = [str(f) for f in run.diagnostics.get("failures", [])] or ["(no details given)"]
    items = "".join(f"<li>{esc(f)}</li>" for f in failures)
    return (
        '<div class="box fail" id="fit-failed"><strong>The model fit FAILED its convergence '
        "checks.</strong> The probabilities in this report come from a posterior that did not "
        "converge and may be wrong; treat them with caution until a fit passes. "
        f'<ul>{items}</ul><a href="#diagnostics">Diagnostics</a></div>'
    )


def _window_span(months: list[str], w: int) -> str:
    sel = window_months(months, w)
    if not sel:
        return ""
    note = "" if len(sel) == w else f"; only {len(sel)} forecast months"
    return f"{fmt_month(sel[0])} – {fmt_month(sel[-1])}{note}"


def _headline_section(run: ReportInputs, scen_rows: list[dict[str, Any]]) -> str:
    primary = run.primary
    months = primary.months
    desc = f": {esc(primary.description.rstrip('.'))}" if primary.description else ""
    cards = []
    for w in WINDOWS:
        risks = top_risks(primary.shortage, w, n=3)
        span = esc(_window_span(months, w))
        head = f'<div class="window">Next {w} months <small>({span})</small></div>'
        if risks.empty:
            cards.append(f'<div class="card">{head}<div class="what">No forecast.</div></div>')
            continue
        top = risks.iloc[0]
        p = float(top["p_short"])
        what = (
            f"{esc(pair_label(top['region'], top['industry']))} short of magnets in "
            f"{esc(fmt_month(top['month']))}"
        )
        depth = (
            f"Expected shortfall that month: {float(top['expected_shortfall_share']):.0%} of "
            f"demand ({esc(fmt_tonnes(float(top['expected_shortfall_t'])))})."
        )
        rest = [
            f"{esc(pair_label(r.region, r.industry))} {esc(fmt_prob(float(r.p_short)))} "
            f"({esc(fmt_month(r.month))})"
            for r in risks.iloc[1:].itertuples(index=False)
        ]
        more = f'<div class="more">Next: {"; ".join(rest)}.</div>' if rest else ""
        cards.append(
            f'<div class="card">{head}<div class="prob {_prob_class(p)}">{esc(fmt_prob(p))}</div>'
            f'<div class="what">{what}</div><div class="small">{depth}</div>{more}</div>'
        )
    sentences = []
    for w in WINDOWS:
        risks = top_risks(primary.shortage, w, n=1)
        if len(risks):
            r = risks.iloc[0]
            sentences.append(
                f"In the next {w} months the largest risk is "
                f"{pair_label(r['region'], r['industry'])} "
                f"running short in {fmt_month(r['month'])}, with probability "
                f"{fmt_prob(float(r['p_short']))}."
            )
    worst = None
    for row in scen_rows:
        top12 = row["top"].get(str(max(WINDOWS)))
        if top12 and (worst is None or top12["p_short"] > worst[1]["p_short"]):
            worst = (row["name"], top12)
    across = ""
    if worst is not None and len(run.scenarios) > 1:
        name, r = worst
        across = (
            f"<p>Across all {len(run.scenarios)} scenarios, the largest 12-month risk is under "
            f"<b>{esc(name)}</b>: {esc(pair_label(r['region'], r['industry']))} in "
            f"{esc(fmt_month(r['month']))}, probability <b>{esc(fmt_prob(r['p_short']))}</b>.</p>"
        )
    return (
        '<section id="headline"><h2>Headline: the largest shortage risks</h2>'
        f"<p>Scenario <b>{esc(primary.name)}</b>{desc}. P(short) is the probability that the "
        "industry in that region gets less magnet supply than it needs in that month "
        "(after inventories and non-Chinese supply).</p>"
        f'<div class="cards">{"".join(cards)}</div>'
        f'<p class="note">{esc(" ".join(sentences))} Colours: red from 50%, orange from 10%, '
        f"grey below.</p>{across}</section>"
    )


def _changes_section(changes: dict[str, Any], prev: dict[str, Any] | None) -> str:
    lines = describe_changes(changes)
    when = ""
    if prev is not None and prev.get("generated_at"):
        when = f" (report of {esc(prev['generated_at'])})"
    items = "".join(f"<li>{esc(line)}</li>" for line in lines)
    moved = changes.get("moved") or []
    detail = ""
    if moved:
        rows = [
            [
                esc(m["scenario"]),
                esc(pair_label(m["region"], m["industry"])),
                f"next {m['window']} months",
                esc(fmt_prob(m["old"])),
                esc(fmt_prob(m["new"])),
                f"{m['delta'] * 100:+.0f} pts",
            ]
            for m in moved[:25]
        ]
        more = (
            (f'<p class="note">{len(moved) - 25} smaller moves not shown (see summary.json).</p>')
            if len(moved) > 25
            else ""
        )
        detail = (
            "<details><summary>Headline probabilities that moved</summary>"
            + table(
                ["Scenario", "Region · industry", "Window", "Before", "Now", "Change"],
                rows,
                numeric=(3, 4, 5),
                raw=True,
            )
            + more
            + "</details>"
        )
    return (
        f'<section id="changes"><h2>What changed since the previous report{when}</h2>'
        f'<ul class="changes">{items}</ul>{detail}</section>'
    )


def _risk_cell(r: dict[str, Any] | None) -> str:
    if not r:
        return "–"
    return (
        f"<b>{esc(fmt_prob(r['p_short']))}</b><br>"
        f"<small>{esc(pair_label(r['region'], r['industry']))}"
        f", {esc(fmt_month(r['month']))}</small>"
    )


def _scenarios_section(run: ReportInputs, scen_rows: list[dict[str, Any]]) -> str:
    colours = scenario_colours([s.name for s in run.scenarios])
    rows = []
    for row in scen_rows:
        so = row["worst_stockout"]
        if so and so["p"] >= 0.005:
            stock = (
                f"<b>{esc(fmt_prob(so['p']))}</b><br>"
                f"<small>{esc(pair_label(so['region'], so['industry']))}"
                f"; median {esc(fmt_month(so['median_month']))}</small>"
            )
        else:
            stock = "none"
        exports = (
            esc(fmt_tonnes(row["world_exports_t"])) if row["world_exports_t"] is not None else "–"
        )
        if row["world_share_of_counterfactual"] is not None:
            exports += (
                f"<br><small>{row['world_share_of_counterfactual']:.0%} of demand "
                "without licensing</small>"
            )
        swatch = (
            f'<span style="display:inline-block;width:10px;height:10px;'
            f'background:{colours[row["name"]]};margin-right:6px"></span>'
        )
        rows.append(
            [
                f"{swatch}<b>{esc(row['name'])}</b><br><small>{esc(row['description'])}</small>",
                *(_risk_cell(row["top"].get(str(w))) for w in WINDOWS),
                f"{row['pairs_over_half']} of {row['pairs']}",
                stock,
                esc(fmt_tonnes(row["expected_shortfall_t"])),
                exports,
            ]
        )
    header = [
        "Scenario",
        *(f"Largest P(short), next {w} months" for w in WINDOWS),
        "Region·industry pairs with P(short) > 50% (12 months)",
        "Most likely stock-out within the horizon",
        "Expected shortfall, 12 months",
        "Expected World exports, 12 months",
    ]
    return (
        '<section id="scenarios"><h2>Scenarios side by side</h2>'
        "<p>Every scenario starts from the same fitted model and the same random numbers, so "
        "differences between columns come from the scenario, not from noise.</p>"
        + table(header, rows, numeric=(4, 6, 7), raw=True)
        + "</section>"
    )


def _per_scenario(run: ReportInputs, figs: dict[str, str], prefix: str, alt: str) -> str:
    parts = []
    for k, s in enumerate(run.scenarios):
        img = _img(figs, f"{prefix}:{s.name}", f"{alt}: {s.name}")
        if k == 0:
            parts.append(f"<h3>{esc(s.name)}</h3>{img}")
        else:
            parts.append(f"<details><summary>{esc(s.name)}</summary>{img}</details>")
    return "".join(parts)


def _heatmap_section(run: ReportInputs, figs: dict[str, str]) -> str:
    peak = run.primary.shortage.groupby(["region", "industry"])["p_short"].max()
    hidden = int((~(peak >= HEATMAP_MIN_P)).sum())
    note = (
        f" {hidden} region/industry pairs whose P(short) stays below "
        f"{HEATMAP_MIN_P:.0%} in every month are left out (they are in shortage.csv)."
        if hidden and hidden < len(peak)
        else ""
    )
    return (
        '<section id="heatmaps"><h2>Shortage probability by region, industry and month</h2>'
        "<p>Each cell is P(short) in percent: the chance that the industry in that region "
        "gets less magnet supply than it needs in that month. Other scenarios are folded below "
        f"the first.{note}</p>"
        + _per_scenario(run, figs, "heat", "Heat map of P(short)")
        + "</section>"
    )


def _stockout_range(q10: str | None, q90: str | None) -> str:
    """Return ``Jan 2027 – Jun 2027``, ``Jan 2027 – beyond``, or ``beyond the horizon``."""
    if not q10:
        return "beyond the horizon"
    return f"{fmt_month(q10)} – {fmt_month(q90) if q90 else 'beyond'}"


def _stockout_section(run: ReportInputs, figs: dict[str, str]) -> str:
    primary = run.primary
    stock = primary.stockout.sort_values("p_stockout_within_horizon", ascending=False)
    stock = stock[stock["p_stockout_within_horizon"] >= 0.005].head(8)
    rows = [
        [
            pair_label(r.region, r.industry),
            fmt_prob(float(r.p_stockout_within_horizon)),
            fmt_month(r.median_first_stockout_month),
            _stockout_range(r.q10_first_stockout_month, r.q90_first_stockout_month),
        ]
        for r in stock.itertuples(index=False)
    ]
    detail = (
        f"<h3>{esc(primary.name)}: most likely stock-outs</h3>"
        + table(
            [
                "Region · industry",
                "P(stock-out within horizon)",
                "Median first month",
                "10–90% range",
            ],
            rows,
            numeric=(1,),
        )
        if rows
        else f'<p class="note">No stock-out within the horizon under {esc(primary.name)}.</p>'
    )
    fig = (
        _img(figs, "stockout", "First stock-out month by scenario")
        if "stockout" in figs
        else '<p class="note">No scenario has a stock-out probability of 1% or more within '
        "the horizon.</p>"
    )
    return (
        '<section id="stockout"><h2>When the first stock-out comes</h2>'
        "<p>A stock-out is a month in which inventories are used up and supply falls short. "
        "The median month is shown only where a stock-out is more likely than not; an arrow "
        "means the late end of the range lies beyond the forecast horizon.</p>"
        + fig
        + detail
        + "</section>"
    )


def _fan_section(run: ReportInputs, figs: dict[str, str]) -> str:
    return (
        '<section id="exports"><h2>Export forecasts by destination</h2>'
        "<p>China's monthly magnet exports: customs figures (dots; hollow dots are months known "
        "only as part of a multi-month total, e.g. the combined January–February release, "
        "shown as the average) and the forecast median with 50% and 90% intervals. The vertical "
        "grey line is the start of the forecast; numbered dashed lines are policy events "
        '(listed under <a href="#approval">approval rate</a>).</p>'
        + _per_scenario(run, figs, "fan", "Export fan chart")
        + "</section>"
    )


def _approval_section(run: ReportInputs, figs: dict[str, str], events: pd.DataFrame) -> str:
    regimes = [r for r in str(run.attrs.get("regimes", "")).split("|") if r]
    regime_text = (
        f'<p class="note">Licensing regimes of the fit: {esc("; ".join(regimes))}.</p>'
        if regimes
        else ""
    )
    if events.empty:
        ev = '<p class="note">No policy events for this product.</p>'
    else:
        rows = [
            [
                str(e.number),
                f'<span class="nw">{esc(e.label)}</span>',
                esc(str(e.event_type).replace("_", " ")),
                esc(e.description),
                link(str(e.source), "link") if e.source else "",
            ]
            for e in events.itertuples(index=False)
        ]
        ev = "<h3>Policy events</h3>" + table(
            ["#", "Date", "Type", "What happened", "Source"], rows, numeric=(0,), raw=True
        )
    return (
        '<section id="approval"><h2>Approval-rate history</h2>'
        "<p>The estimated share of counterfactual demand that China's licensing let through, per "
        "destination: posterior median and 90% interval (5–95%), with the policy events that "
        "define the regimes.</p>"
        + _img(figs, "approval", "Approval rate history")
        + regime_text
        + ev
        + "</section>"
    )


def _episodes_section(figs: dict[str, str]) -> str:
    episodes = _episode_inputs()
    if episodes is None:
        return ""
    table_, _doc = episodes
    fitted = table_[table_["status"] == "fitted"]

    def cell(row: Any, q: str, fmt: str) -> str:
        mid, lo, hi = (getattr(row, f"{q}_{k}", float("nan")) for k in ("q50", "q05", "q95"))
        if not pd.notna(mid):
            return "–"
        if mid == float("inf"):
            return "not reached"
        return f"{mid:{fmt}} ({lo:{fmt}}–{hi:{fmt}})"

    rows = [
        [
            esc(str(r.product).replace("_", " ")),
            esc(str(r.destination)),
            esc(str(r.effective)),
            cell(r, "depth", ".2f"),
            cell(r, "months_to_low", ".0f"),
            cell(r, "months_to_80", ".0f"),
        ]
        for r in fitted.itertuples(index=False)
    ]
    return (
        '<section id="episodes"><h2>Past control episodes: the shape of a shock</h2>'
        "<p>China's earlier export controls, each fitted with the approval model: the depth of "
        "the collapse (approval at the low), months from the effect to the low, and months to "
        "80% of the counterfactual; median (90% interval). Pooled across episodes, they are "
        "the prior for a new control with no data yet (<code>priors/shock_shape.yaml</code>, "
        "regenerated by <code>riskmodel shocks learn</code>; see docs/shocks.md).</p>"
        + _img(figs, "episodes", "Past control episodes compared")
        + table(
            ["Product", "Destination", "Effective", "Depth", "Months to low", "Months to 80%"],
            rows,
            raw=True,
        )
        + _episode_notes(table_)
        + "</section>"
    )


_SHAPE_QUANTITIES = {
    "depth": "depth",
    "months_to_low": "months to low",
    "months_to_80": "months to 80%",
}


def _episode_notes(table_: pd.DataFrame) -> str:
    """Say why an episode's row in the figure or the table is empty (or partly so)."""
    notes = []
    shown = table_[table_["status"].isin(("fitted", "not_pooled"))]
    for r in shown.itertuples(index=False):
        empty = [q for q in _SHAPE_QUANTITIES if not pd.notna(getattr(r, f"{q}_q50", None))]
        if not empty:
            continue
        why: list[str] = []
        for part in str(getattr(r, "unidentified", "") or "").split("; "):
            key, _, text = part.partition(": ")
            if key in empty and text and text not in why:
                why.append(text)
        if r.status != "fitted" and r.reason:
            why.append(f"not pooled: {r.reason}")
        elif r.contribution:
            why.append(f"it enters the pooled prior only as {r.contribution}")
        name = f"{str(r.product).replace('_', ' ')} ({r.destination}, {r.effective})"
        what = " or ".join(_SHAPE_QUANTITIES[q] for q in empty)
        notes.append(
            f"<li><b>{esc(name)}</b>: no estimate of {esc(what)}: "
            f"{esc('; '.join(why) or 'nothing recorded')}.</li>"
        )
    if not notes:
        return ""
    return '<p class="note">Empty rows and cells:</p><ul class="note">' + "".join(notes) + "</ul>"


def _freshness_section(
    run: ReportInputs, fresh: pd.DataFrame, sources: pd.DataFrame, generated: datetime
) -> str:
    if fresh.empty:
        body = '<p class="note">No customs history was given to the report.</p>'
    else:
        rows = [
            [
                r.destination,
                r.first,
                r.last,
                str(r.months_observed),
                str(r.months_missing),
                str(r.months_only_in_sums),
                f"{r.days_since}",
            ]
            for r in fresh.itertuples(index=False)
        ]
        classes = ["stale" if r.days_since > STALE_DAYS else "" for r in fresh.itertuples()]
        body = table(
            [
                "Series (destination)",
                "First month",
                "Last month",
                "Months with a figure",
                "Months missing",
                "Months only in totals",
                "Days since last month ended",
            ],
            rows,
            numeric=(3, 4, 5, 6),
            row_classes=classes,
        )
        body += (
            f'<p class="note">Days are counted from the end of the last month to '
            f"{generated.date().isoformat()}. Rows in amber are more than {STALE_DAYS} days old "
            "(China's customs figures for a month come out about three weeks after it ends); "
            "many bundled country series are historical and end years ago on purpose.</p>"
        )
    if not sources.empty:
        top = sources.head(12)
        rows = [
            [link(str(r.source)), str(r.rows), f"{r.first} – {r.last}", esc(r.files)]
            for r in top.itertuples(index=False)
        ]
        body += "<h3>Sources</h3>" + table(
            ["Source", "Rows", "Months", "File"], rows, numeric=(1,), raw=True
        )
        if len(sources) > len(top):
            body += (
                f'<p class="note">{len(sources) - len(top)} more sources are listed row by '
                "row in the data files (see data/SOURCES.md).</p>"
            )
    if run.data_files:
        files = "".join(f"<li><code>{esc(f)}</code></li>" for f in run.data_files)
        body += f"<h3>Files read</h3><ul>{files}</ul>"
    return f'<section id="data"><h2>Data freshness and sources</h2>{body}</section>'


def _fmt_num(v: Any, decimals: int = 2) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    if isinstance(v, int | bool):
        return str(v)
    x = float(v)
    if x.is_integer() or abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{decimals}f}"


def _diagnostics_section(run: ReportInputs) -> str:
    d = run.diagnostics
    passed = bool(d.get("passed", False))
    thr = {**DEFAULT_THRESHOLDS, **(d.get("thresholds") or {})}
    checks = [
        ("Largest R-hat", "max_rhat", "≤", thr["max_rhat"], 3),
        ("Smallest bulk ESS", "min_ess_bulk", "≥", thr["min_ess_bulk"], 0),
        ("Smallest tail ESS", "min_ess_tail", "≥", thr["min_ess_tail"], 0),
        ("Divergent transitions", "divergences", "≤", thr["max_divergences"], 0),
        ("Smallest BFMI", "min_bfmi", "≥", thr["min_bfmi"], 2),
    ]
    rows = []
    for label, key, op, t, decimals in checks:
        v = d.get(key)
        good = None
        if isinstance(v, int | float) and math.isfinite(float(v)):
            good = float(v) <= float(t) if op == "≤" else float(v) >= float(t)
        verdict = "pass" if good else ("fail" if good is False else "n/a")
        rows.append(
            [
                esc(label),
                esc(_fmt_num(v, decimals)),
                esc(f"{op} {float(t):g}"),
                f'<span class="{verdict}">{verdict}</span>',
            ]
        )
    rows_html = table(["Check", "Value", "Pass mark", "Result"], rows, numeric=(1,), raw=True)
    rows_html = rows_html.replace('<td><span class="pass">', '<td class="pass"><span>').replace(
        '<td><span class="fail">', '<td class="fail"><span>'
    )
    if passed:
        box = (
            '<div class="box ok"><strong>The fit passed its convergence checks.</strong> '
            "R-hat, effective sample sizes, divergences and BFMI are within their pass "
            "marks.</div>"
        )
    else:
        failures = (
            "".join(f"<li>{esc(f)}</li>" for f in d.get("failures", [])) or "<li>(none given)</li>"
        )
        box = (
            '<div class="box fail"><strong>The fit FAILED its convergence checks.</strong> '
            f"<ul>{failures}</ul>Refit with more draws or check the model before relying on "
            "these probabilities.</div>"
        )
    extra = []
    for key, label in (
        ("backend", "Sampler backend"),
        ("seconds", "Sampling time (s)"),
        ("compile_seconds", "Compile time (s)"),
        ("chains", "Chains"),
        ("draws", "Draws per chain"),
        ("worst_rhat_variable", "Worst R-hat in"),
        ("worst_ess_variable", "Smallest ESS in"),
    ):
        if d.get(key) not in (None, ""):
            extra.append([label, _fmt_num(d[key], 1) if not isinstance(d[key], str) else d[key]])
    more = table(None, extra) if extra else ""
    return f'<section id="diagnostics"><h2>Model diagnostics</h2>{box}{rows_html}{more}</section>'


def _provenance_section(run: ReportInputs, summary: dict[str, Any], files: list[str]) -> str:
    prov = summary["provenance"]
    settings = summary.get("run") or {}
    rows = [
        ["riskmodel version (fit)", prov.get("riskmodel_version") or "n/a"],
        ["riskmodel version (report)", summary.get("report_version")],
        ["Model type", prov.get("model_type") or "n/a"],
        ["Product", prov.get("product")],
        ["Data hash", f'<span class="hash">{esc(prov.get("data_hash") or "n/a")}</span>'],
        ["Priors hash", f'<span class="hash">{esc(prov.get("priors_hash") or "n/a")}</span>'],
        ["Fit seed", prov.get("fit_seed")],
        ["Sampler backend", prov.get("backend") or "n/a"],
    ]
    for key, value in settings.items():
        rows.append(
            [f"Run: {key}", value if not isinstance(value, list) else ", ".join(map(str, value))]
        )
    rows_html = [
        [
            esc(k),
            v
            if isinstance(v, str) and v.startswith("<span")
            else esc(v if v is not None else "n/a"),
        ]
        for k, v in rows
    ]
    listed = "".join(f'<li><a href="{esc(f)}"><code>{esc(f)}</code></a></li>' for f in files)
    return (
        '<section id="provenance"><h2>Provenance</h2>'
        "<p>Everything needed to reproduce these numbers: the same data (data hash), priors "
        "(priors hash), seeds and version give the same report.</p>"
        + table(None, rows_html, raw=True)
        + "<h3>Files in this report</h3><ul>"
        '<li><a href="summary.json"><code>summary.json</code></a> (headline numbers, '
        "machine-readable)</li>" + listed + "</ul></section>"
    )


def _footer(run: ReportInputs, generated: datetime) -> str:
    return (
        f"riskmodel {esc(__version__)} · generated {esc(generated.astimezone(UTC).isoformat())} · "
        "probabilities are model outputs from public customs statistics, not official figures."
    )
