"""The rendered report: every section, offline-safe HTML, figures, CSV copies, summary.json."""

from __future__ import annotations

import json
import re
import struct

import pandas as pd
import pytest

from riskmodel.exceptions import RiskModelError
from riskmodel.report import ReportInputs, ScenarioResult, render_report
from riskmodel.report.tables import WINDOWS, top_risks

SECTIONS = (
    "headline",
    "changes",
    "scenarios",
    "heatmaps",
    "stockout",
    "exports",
    "approval",
    "episodes",
    "data",
    "diagnostics",
    "provenance",
)


def _png_size(path):
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", head[16:24])


def test_index_has_every_section(rendered):
    html = (rendered / "index.html").read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f'id="{section}"' in html, section
    for text in (
        "Headline: the largest shortage risks",
        "Next 3 months",
        "Next 6 months",
        "Next 12 months",
        "Scenarios side by side",
        "First report in this directory",
        "Data freshness and sources",
        "The fit passed its convergence checks",
        "Data hash",
        "Priors hash",
        "d0a7a5e1c2b3",
        "9f1e2d3c4b5a",
        "suspension_lapse",
        "us_embargo",
        "Policy events",
    ):
        assert text in html, text
    assert "FAILED" not in html


def test_html_opens_offline(rendered):
    html = (rendered / "index.html").read_text(encoding="utf-8")
    assert "<script" not in html
    assert "@import" not in html and "url(" not in html
    # Every resource the page loads (img src, link href) is a relative file beside it.
    for src in re.findall(r'<img[^>]+src="([^"]+)"', html):
        assert not src.startswith(("http:", "https:", "//", "/")), src
        assert (rendered / src).is_file(), src
    assert "<link" not in html
    # Hyperlinks to the sources are allowed; local links point at files in the report.
    for href in re.findall(r'href="([^"]+)"', html):
        if href.startswith(("http://", "https://", "#")):
            continue
        assert (rendered / href).is_file(), href


def test_figures_are_real_pngs(rendered):
    names = sorted(p.name for p in (rendered / "figures").glob("*.png"))
    assert names == sorted(
        ["approval.png", "stockout.png", "episodes.png"]
        + [
            f"{kind}_{s}.png"
            for kind in ("fan", "heatmap")
            for s in ("baseline", "suspension_lapse", "us_embargo")
        ]
    )
    for png in (rendered / "figures").glob("*.png"):
        width, height = _png_size(png)
        assert width > 400 and height > 200, png
        assert png.stat().st_size > 10_000, png
    assert not list(rendered.rglob("*.tmp"))


def test_stage_files_are_copied(rendered):
    stages = rendered.parent / "stages"
    for name in ("baseline", "suspension_lapse", "us_embargo"):
        for csv in ("forecast.csv", "shortage.csv", "stockout.csv"):
            copied = rendered / "scenarios" / name / csv
            assert copied.is_file()
            assert copied.read_bytes() == (stages / name / csv).read_bytes()
    diag = json.loads((rendered / "fit" / "diagnostics.json").read_text())
    assert diag["passed"] is True
    assert (rendered / "fit" / "approval.csv").is_file()


def test_summary_headline_numbers(rendered):
    summary = json.loads((rendered / "summary.json").read_text())
    shortage = pd.read_csv(rendered / "scenarios" / "baseline" / "shortage.csv")
    months = sorted(shortage["month"].unique())
    assert summary["schema"] == 1
    assert summary["primary_scenario"] == "baseline"
    assert summary["scenarios"] == ["baseline", "suspension_lapse", "us_embargo"]
    assert summary["forecast_start"] == months[0]
    assert summary["data_hash"] == "d0a7a5e1c2b3"
    assert summary["priors_hash"] == "9f1e2d3c4b5a"
    assert summary["diagnostics"] == {"passed": True, "failures": []}
    assert summary["changes"] == {"first_report": True}
    assert summary["last_data_month"] == summary["last_data_month_by_series"]["World"]
    for w in WINDOWS:
        head = summary["headline"][str(w)]
        assert 1 <= len(head) <= 3
        window = shortage[shortage["month"].isin(months[:w])]  # months are consecutive
        assert head[0]["p_short"] == pytest.approx(window["p_short"].max(), abs=1e-4)
        assert head[0]["month"] in months[:w]
        assert [h["p_short"] for h in head] == sorted((h["p_short"] for h in head), reverse=True)
        pairs = {(h["region"], h["industry"]) for h in head}
        assert len(pairs) == len(head)  # each region/industry once, at its worst month
    table = {row["name"]: row for row in summary["scenario_table"]}
    assert table["us_embargo"]["top"]["12"]["p_short"] >= table["baseline"]["top"]["12"]["p_short"]
    assert 0 < table["baseline"]["world_share_of_counterfactual"] < 1
    key = "US/defense"
    assert (
        summary["max_p_short"]["baseline"][key]["3"]
        <= summary["max_p_short"]["baseline"][key]["12"]
    )


def test_headline_in_words_matches_summary(rendered):
    summary = json.loads((rendered / "summary.json").read_text())
    html = (rendered / "index.html").read_text(encoding="utf-8")
    top = summary["headline"]["3"][0]
    month_words = pd.Period(top["month"], freq="M").strftime("%b %Y")
    assert f"short of magnets in {month_words}" in html
    assert f"{top['p_short']:.0%}" in html
    assert "In the next 3 months the largest risk is" in html


def test_failing_fit_is_a_red_box(make_inputs, tmp_path):
    run = make_inputs(passed=False, scenarios=("baseline",))
    index = render_report(run, tmp_path / "out")
    html = index.read_text(encoding="utf-8")
    assert 'class="box fail" id="fit-failed"' in html
    assert "The model fit FAILED its convergence checks" in html
    assert "14 divergent transitions" in html
    assert "FIT CHECKS FAILED" in html
    assert '<td class="fail">' in html
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["diagnostics"]["passed"] is False
    assert len(summary["diagnostics"]["failures"]) == 3


def test_top_risks_one_row_per_pair():
    frame = pd.DataFrame(
        {
            "region": ["US", "US", "EU", "EU"],
            "industry": ["a", "a", "b", "b"],
            "month": ["2026-01", "2026-02", "2026-01", "2026-04"],
            "p_short": [0.2, 0.5, 0.4, 0.9],
            "expected_shortfall_t": [1, 2, 3, 4],
            "expected_shortfall_share": [0.1, 0.2, 0.3, 0.4],
        }
    )
    top = top_risks(frame, 3)
    assert list(zip(top["region"], top["month"], top["p_short"], strict=True)) == [
        ("US", "2026-02", 0.5),
        ("EU", "2026-01", 0.4),
    ]
    assert top_risks(frame, 12).iloc[0]["month"] == "2026-04"


def test_missing_column_names_the_file(tmp_path):
    import synthetic_report

    fit, dirs = synthetic_report.write_stage_outputs(tmp_path, scenarios=("baseline",))
    shortage = pd.read_csv(dirs["baseline"] / "shortage.csv").drop(columns="p_short")
    shortage.to_csv(dirs["baseline"] / "shortage.csv", index=False)
    with pytest.raises(RiskModelError, match=r"shortage\.csv: missing column\(s\) p_short"):
        ReportInputs.from_dirs(fit, dirs)


def test_needs_a_scenario(make_inputs):
    run = make_inputs(scenarios=("baseline",))
    with pytest.raises(RiskModelError, match="at least one scenario"):
        ReportInputs(approval=run.approval, diagnostics=run.diagnostics, scenarios=[])
    assert isinstance(run.scenarios[0], ScenarioResult)


def test_no_history_still_renders(make_inputs, tmp_path):
    run = make_inputs(scenarios=("baseline",))
    run.customs = None
    run.events = None
    html = render_report(run, tmp_path / "bare").read_text(encoding="utf-8")
    assert "No customs history was given" in html
    assert "No policy events for this product" in html


def test_report_package_does_not_import_pymc():
    import subprocess
    import sys

    code = (
        "import sys, riskmodel.report, riskmodel.commands.report; "
        "bad = [m for m in ('pymc', 'pytensor', 'arviz') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_heatmap_with_many_rows_is_one_panel_per_region(tmp_path):
    from riskmodel.report.figures import heatmap_figure

    rows = []
    for r, region in enumerate(("US", "EU", "Japan")):
        for i in range(10):
            for t, month in enumerate(pd.period_range("2026-01", periods=12, freq="M")):
                rows.append(
                    {
                        "region": region,
                        "industry": f"industry_{i}",
                        "month": str(month),
                        "p_short": min(0.05 * t + 0.02 * i + 0.1 * r, 1.0),
                    }
                )
    rows.append({"region": "Korea", "industry": "quiet", "month": "2026-01", "p_short": 0.0})
    frame = pd.DataFrame(rows)
    single = heatmap_figure(frame[frame["region"] == "US"], tmp_path / "one.png")
    panels = heatmap_figure(frame, tmp_path / "panels.png", title="test")
    w1, _h1 = _png_size(single)
    w2, h2 = _png_size(panels)
    assert w2 > w1  # two panels side by side
    assert h2 < 30 * 0.3 * 100  # far shorter than 30 rows in one column
