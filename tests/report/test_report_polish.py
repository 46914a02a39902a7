"""What a reader sees: labels, risk colours, the past-forecast warning, compact figures."""

from __future__ import annotations

import logging
import struct
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from riskmodel.report import render_report
from riskmodel.report.figures import _cell_numbers, _mark_events, _number_span, stockout_figure
from riskmodel.report.html import STYLE
from riskmodel.report.render import RISK_BANDS, _prob_class
from riskmodel.report.tables import industry_label, pair_label, product_events


def _png_height(path):
    return struct.unpack(">II", path.read_bytes()[16:24])[1]


def test_industry_labels_come_from_the_propagation_priors():
    from riskmodel.propagation.params import load_params

    params = load_params()
    for name, label in zip(params.industries, params.labels, strict=True):
        assert industry_label(name) == label
    assert pair_label("India", "e_bikes") == "India · E-bikes, e-scooters, e-2W/3W"
    assert industry_label("not_an_industry") == "not an industry"


def test_risk_colours_call_no_risk_safe():
    assert _prob_class(0.18) == "mid"
    assert _prob_class(0.10) == "mid"
    assert _prob_class(0.5) == "high"
    assert _prob_class(0.09) == "low"
    assert [bound for bound, _name in RISK_BANDS] == [0.5, 0.1]
    low = STYLE.split(".prob.low", 1)[1].split("}", 1)[0]
    assert "green" not in low and "#2e7d32" not in low  # below 10%: grey, not "safe" green


@pytest.mark.parametrize(
    ("now", "warned"),
    [
        (datetime(2026, 12, 4, tzinfo=UTC), True),  # forecast from Jan 2026: 11 months back
        (datetime(2026, 2, 20, tzinfo=UTC), False),  # a fresh report
    ],
)
def test_forecast_window_before_the_report_date_is_a_warning(make_inputs, tmp_path, now, warned):
    run = make_inputs(scenarios=("baseline",))
    html = render_report(run, tmp_path / "out", now=now).read_text(encoding="utf-8")
    assert ('id="forecast-past"' in html) is warned
    if warned:
        assert "The forecast starts Jan 2026, 11 months before this report (Dec 2026)" in html
        assert "The windows of the next 3, 6 months lie wholly in the past." in html


def test_first_report_warns_about_no_missing_summary(make_inputs, tmp_path, caplog):
    run = make_inputs(scenarios=("baseline",))
    with caplog.at_level(logging.WARNING):
        render_report(run, tmp_path / "fresh")
    assert not [r for r in caplog.records if "not a report summary" in r.getMessage()]


def test_event_labels_of_nearby_events_are_one_label():
    from riskmodel.customs import load_bundled_events

    events = product_events(load_bundled_events(), "magnets")
    fig = Figure()
    ax = fig.subplots()
    _mark_events(ax, events, pd.Timestamp("2024-10-01"), pd.Timestamp("2025-12-31"))
    labels = [t.get_text() for t in ax.texts]
    june = events[(events["date"] >= "2025-06-01") & (events["date"] < "2025-07-01")]
    assert len(june) >= 5
    span = f"{june['number'].min()}–{june['number'].max()}"
    assert span in labels  # one label for the June cluster
    assert not any(str(n) in labels for n in june["number"])
    numbers = [n for t in labels for n in _expand(t)]
    inside = events[events["date"] <= "2025-12-31"]
    assert sorted(numbers) == sorted(inside["number"])  # every event numbered once


def _expand(label: str) -> list[int]:
    out: list[int] = []
    for part in label.split(","):
        lo, _, hi = part.partition("–")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def test_number_span():
    assert _number_span([4, 5, 6, 7]) == "4–7"
    assert _number_span([1, 2]) == "1,2"
    assert _number_span([3, 8, 9, 10, 12]) == "3,8–10,12"


def test_cell_numbers_are_one_collection_per_value():
    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    grid = np.array([[0.05, 0.7], [np.nan, 0.049]])
    _cell_numbers(ax, grid)
    colls = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(colls) == 2  # "5" twice (0.05 and 0.049 round alike), "70" once
    by_count = sorted(colls, key=lambda c: len(c.get_offsets()))
    assert by_count[0].get_offsets().tolist() == [[1, 0]]  # 70% at column 1, row 0
    assert by_count[1].get_offsets().tolist() == [[0, 0], [1, 1]]
    assert tuple(by_count[0].get_facecolor()[0][:3]) == (1.0, 1.0, 1.0)  # white on dark red


def test_stockout_figure_is_compact_with_many_scenarios(make_inputs, tmp_path):
    import synthetic_report

    run = make_inputs(
        scenarios=("unconditional", "baseline", "suspension_lapse", "us_embargo"),
        regions=synthetic_report.FULL_REGIONS,
    )
    path = stockout_figure(run.scenarios, tmp_path / "stockout.png", max_rows=14)
    assert path is not None
    # 14 rows: one line each, whatever the number of scenarios (was ~14 in for 4 scenarios).
    assert _png_height(path) <= 100 * (1.5 + 0.27 * 14) + 1


def test_stockout_figure_texts_do_not_overlap(make_inputs, tmp_path, monkeypatch):
    """Titles, the figure title, tick labels and the legend each keep their own space."""
    import synthetic_report

    from riskmodel.report import figures

    drawn = []
    real_save = figures._save

    def keep(fig, path, **kwargs):
        drawn.append(fig)
        return real_save(fig, path, **kwargs)

    monkeypatch.setattr(figures, "_save", keep)
    run = make_inputs(
        scenarios=(
            "unconditional",
            "suspension_lapse",
            "baseline",
            "escalation",
            "relief",
            "us_embargo",
        ),
        regions=synthetic_report.FULL_REGIONS,
    )
    assert stockout_figure(run.scenarios, tmp_path / "stockout.png") is not None
    (fig,) = drawn
    renderer = fig.canvas.get_renderer()
    boxes = [("suptitle", fig._suptitle.get_window_extent(renderer))]
    boxes += [(f"legend {i}", leg.get_window_extent(renderer)) for i, leg in enumerate(fig.legends)]
    for k, ax in enumerate(fig.axes):
        title = ax.title
        if title.get_text():
            boxes.append((f"title {title.get_text()!r}", title.get_window_extent(renderer)))
        labels = [t for t in ax.get_xticklabels() if t.get_text() and t.get_visible()]
        extents = [t.get_window_extent(renderer) for t in labels]
        for a in range(len(extents) - 1):
            assert not extents[a].overlaps(extents[a + 1]), (k, labels[a].get_text())
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            assert not boxes[a][1].overlaps(boxes[b][1]), (boxes[a][0], boxes[b][0])


def test_every_empty_episode_row_says_why(rendered):
    from riskmodel.shocks.learn import read_shock_shape
    from riskmodel.shocks.table import episode_table

    table_ = episode_table(read_shock_shape())
    shown = table_[table_["status"].isin(("fitted", "not_pooled"))]
    empty = shown[shown["depth_q50"].isna()]
    assert len(empty), "the bundled shock shape has episodes without a depth (tungsten)"
    html = (rendered / "index.html").read_text(encoding="utf-8")
    notes = html.split("Empty rows and cells:", 1)[1].split("</ul>", 1)[0]
    for r in empty.itertuples(index=False):
        name = f"{str(r.product).replace('_', ' ')} ({r.destination}, {r.effective})"
        assert name in notes, name
    assert "only multi-month totals" in notes  # the reason, not just the name
