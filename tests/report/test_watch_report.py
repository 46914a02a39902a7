"""The scheduled report's early warning: alerts.json and its section (fake pipeline, no fit)."""

from __future__ import annotations

import json
import types

import numpy as np
import pandas as pd
import synthetic_report

from riskmodel.cli import main
from riskmodel.customs import load_bundled_customs
from riskmodel.forecast.alerts import find_forecast, load_forecast
from riskmodel.report.alerts import ALERTS_FILE, alerts_section, write_release_alerts


def _paths(scenario="baseline", start="2026-01", n=400):
    months = pd.period_range(start, periods=6, freq="M")
    ds = synthetic_report._paths(scenario, months, n, 1)
    return ds.assign(approval=ds["exports"] / ds["counterfactual"])


def _customs_with(*rows):
    """The bundled customs rows plus monthly rows ``(destination, month, tonnes)``."""
    frame = load_bundled_customs()
    monthly = frame[(frame["product"] == "magnets") & (frame["months_covered"] == 1)]
    template = monthly[monthly["destination"] == "World"].iloc[-1]
    extra = []
    for i, (dest, month, tonnes) in enumerate(rows):
        row = template.copy()
        row["destination"], row["month"] = dest, pd.Period(month, freq="M")
        row["quantity_t"], row["line"], row["file"] = float(tonnes), 9000 + i, "release.csv"
        extra.append(row)
    return pd.concat([frame, pd.DataFrame(extra)], ignore_index=True)


class _Fit:
    """What the report reads of a fit: the approval summary (no posterior)."""

    def __init__(self, approval):
        self._approval = approval

    def approval_summary(self):
        rows = [
            {"month": m, "destination": d, "mean": a, "q05": a, "q50": a, "q95": a}
            for (d, m), a in self._approval.items()
        ]
        return pd.DataFrame(rows)


def test_first_report_keeps_its_forecast_and_says_there_is_no_comparison(tmp_path):
    paths = _paths()
    payload = write_release_alerts(
        tmp_path,
        previous_dir=None,
        headline_paths=paths,
        fitted=_Fit({}),
        customs=load_bundled_customs(),
        product="magnets",
    )
    assert payload["release"]["status"] == "no_previous"
    kept = load_forecast(tmp_path / "scenarios" / "baseline" / "predictive.nc")
    np.testing.assert_allclose(
        kept["exports"].values, paths["exports"].values.astype(np.float32), rtol=0
    )
    saved = json.loads((tmp_path / ALERTS_FILE).read_text())
    assert saved["expected_state"]["World"]["2026-01"]["demand_t"] > 0
    html = alerts_section(tmp_path, {})
    assert 'id="alerts"' in html and "No comparison: this is the first report" in html


def test_a_release_far_below_the_previous_forecast_is_flagged_and_explained(tmp_path):
    previous, now = tmp_path / "prev", tmp_path / "now"
    prev_paths = _paths()
    write_release_alerts(
        previous,
        previous_dir=None,
        headline_paths=prev_paths,
        fitted=_Fit({}),
        customs=load_bundled_customs(),
        product="magnets",
    )
    (previous / "summary.json").write_text(json.dumps({"primary_scenario": "baseline"}))
    us_mid = float(
        np.median(prev_paths["exports"].sel(destination="United States", month="2026-01"))
    )
    customs = _customs_with(("World", "2026-01", 40.0), ("United States", "2026-01", us_mid))
    payload = write_release_alerts(
        now,
        previous_dir=previous,
        headline_paths=_paths(start="2026-02"),
        fitted=_Fit({("World", "2026-01"): 0.05}),
        customs=customs,
        product="magnets",
    )
    release = payload["release"]
    assert release["status"] == "compared" and release["n_scored"] == 2
    (alert,) = release["alerts"]
    assert alert["destination"] == "World" and alert["alert"] == "low"
    assert alert["source"] == "release.csv:9000"
    (move,) = [m for m in release["state_moves"] if m["destination"] == "World"]
    assert move["now"]["approval"] == 0.05
    assert move["expected"]["approval"] > 0.5  # the synthetic forecast expected ~0.8
    changes = {
        "moved": [
            {
                "scenario": "baseline",
                "region": "US",
                "industry": "automotive_ev",
                "window": 6,
                "old": 0.1,
                "new": 0.4,
                "delta": 0.3,
            }
        ]
    }
    html = alerts_section(now, changes)
    assert "World exports in 2026-01 were below" in html
    assert "approval may have dropped again" in html
    assert "US · EV/HEV/PHEV traction motors, next 6 months: 10% → 40% (+30 pts)" in html
    assert "World 2026-01: approval" in html and "5% estimated now" in html


def test_scheduled_report_writes_alerts_json_and_compares_with_the_previous_run(
    tmp_path, fake_pipeline, monkeypatch
):
    _calls, install = fake_pipeline
    out = tmp_path / "reports" / "magnets"
    args = ["report", "--out", str(out), "--scenario", "baseline", "--paths", "60",
            "--horizon", "6", "--seed", "7"]  # fmt: skip
    assert main(args) == 0
    first = json.loads((out / ALERTS_FILE).read_text())
    assert first["release"]["status"] == "no_previous"
    assert find_forecast(out).name == "predictive.nc"  # `riskmodel watch --previous REPORT`
    # the next release brings a collapse in 2026-01
    mod = install(data_hash="h2")
    real = mod.read_sources

    def with_release(data=None, events=None, licences=None):
        sources = real(data, events, licences)
        return types.SimpleNamespace(
            customs=_customs_with(("World", "2026-01", 30.0)),
            events=sources.events,
            files=sources.files,
        )

    monkeypatch.setattr(mod, "read_sources", with_release)
    assert main(args) == 0  # alerts never change the exit code
    second = json.loads((out / ALERTS_FILE).read_text())
    assert second["release"]["status"] == "compared"
    assert [a["destination"] for a in second["release"]["alerts"]] == ["World"]
    html = (out / "index.html").read_text()
    assert 'id="alerts"' in html and "World exports in 2026-01 were below" in html
