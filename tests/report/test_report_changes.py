"""What changed since the previous report."""

from __future__ import annotations

import json
import logging

from riskmodel.report import compare_summaries, describe_changes, render_report, run_report


def _summary(**over):
    base = {
        "schema": 1,
        "generated_at": "2026-02-01T06:00:00Z",
        "data_hash": "aaa",
        "priors_hash": "ppp",
        "riskmodel_version": "0.1.0",
        "run": {"seed": 0},
        "last_data_month": "2025-12",
        "last_data_month_by_series": {"World": "2025-12", "Japan": "2025-11"},
        "forecast_start": "2026-01",
        "scenarios": ["baseline"],
        "diagnostics": {"passed": True, "failures": []},
        "max_p_short": {
            "baseline": {
                "US/wind": {"3": 0.10, "6": 0.20, "12": 0.30},
                "EU/wind": {"3": 0.05, "6": 0.05, "12": 0.06},
            }
        },
    }
    base.update(over)
    return base


def test_first_report():
    changes = compare_summaries(None, _summary())
    assert changes == {"first_report": True}
    assert describe_changes(changes) == ["First report in this directory: nothing to compare with."]


def test_nothing_changed():
    changes = compare_summaries(_summary(), _summary())
    assert not changes["data_hash"]["changed"]
    assert changes["moved"] == [] and changes["series"] == []
    lines = describe_changes(changes)
    assert lines[0] == "Nothing material changed since the previous report."


def test_new_data_month_and_moved_probabilities():
    new = _summary(
        data_hash="bbb",
        last_data_month="2026-01",
        last_data_month_by_series={"World": "2026-01", "Japan": "2025-11", "India": "2025-12"},
        forecast_start="2026-02",
        max_p_short={
            "baseline": {
                "US/wind": {"3": 0.22, "6": 0.21, "12": 0.20},
                "EU/wind": {"3": 0.05, "6": 0.05, "12": 0.06},
            }
        },
    )
    changes = compare_summaries(_summary(), new)
    assert changes["data_hash"] == {"old": "aaa", "new": "bbb", "changed": True}
    assert not changes["priors_hash"]["changed"]
    assert changes["last_data_month"]["new"] == "2026-01"
    assert changes["series"] == [
        {"destination": "India", "old": None, "new": "2025-12"},
        {"destination": "World", "old": "2025-12", "new": "2026-01"},
    ]
    moved = [(m["region"], m["industry"], m["window"], m["delta"]) for m in changes["moved"]]
    assert moved == [("US", "wind", 3, 0.12), ("US", "wind", 12, -0.1)]  # 6 months: 1 point
    text = "\n".join(describe_changes(changes))
    assert "Data changed (hash aaa → bbb)" in text
    assert "Latest customs month moved from 2025-12 to 2026-01" in text
    assert "World: data now to 2026-01 (was 2025-12)" in text
    assert "New series India" in text
    assert (
        "US · Permanent-magnet wind turbine generators, next 3 months: "
        "P(short) 10% → 22% (up 12 points)" in text
    )
    assert "down 10 points" in text


def test_diagnostics_and_priors_change():
    new = _summary(priors_hash="qqq", diagnostics={"passed": False, "failures": ["x"]})
    text = "\n".join(describe_changes(compare_summaries(_summary(), new)))
    assert "Priors changed" in text
    assert "passed → FAILED" in text


def test_run_report_says_what_changed_after_a_data_hash_change(tmp_path, make_inputs, caplog):
    out = tmp_path / "magnets"
    first = make_inputs(scenarios=("baseline",), data_hash="hash-one")
    run_report(out, lambda d: render_report(first, d))
    second = make_inputs(scenarios=("baseline",), data_hash="hash-two", shift=0.08)
    with caplog.at_level(logging.INFO, logger="riskmodel"):
        run_report(out, lambda d: render_report(second, d))
    summary = json.loads((out / "summary.json").read_text())
    changes = summary["changes"]
    assert changes["first_report"] is False
    assert changes["data_hash"] == {"old": "hash-one", "new": "hash-two", "changed": True}
    assert changes["priors_hash"]["changed"] is False
    assert changes["moved"] and all(abs(m["delta"] - 0.08) < 1e-3 for m in changes["moved"])
    previous = json.loads((out / "previous_summary.json").read_text())
    assert previous["data_hash"] == "hash-one"
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "Data changed (hash hash-one → hash-two)" in html
    assert "Headline probabilities that moved" in html
    assert "what changed: Data changed (hash hash-one → hash-two)." in caplog.text


def test_rendering_in_place_compares_with_the_report_it_replaces(tmp_path, make_inputs):
    out = tmp_path / "plain"
    for k, data_hash in enumerate(("one", "two", "three")):
        render_report(make_inputs(scenarios=("baseline",), data_hash=data_hash), out)
        changes = json.loads((out / "summary.json").read_text())["changes"]
        if k == 0:
            assert changes == {"first_report": True}
        else:
            expected = ("one", "two", "three")[k - 1]
            assert changes["data_hash"] == {"old": expected, "new": data_hash, "changed": True}
