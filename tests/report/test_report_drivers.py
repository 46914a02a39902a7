"""The report's drivers section: a table and a tornado chart from drivers.csv."""

from __future__ import annotations

import pandas as pd
import synthetic_report

from riskmodel.config.scenario import load_scenario
from riskmodel.report import ReportInputs, render_report
from riskmodel.report.drivers import DRIVERS_FILE, write_drivers


def test_report_renders_the_drivers_of_the_headline_risks(tmp_path):
    fit, dirs = synthetic_report.write_stage_outputs(
        tmp_path / "stages", scenarios=("baseline", "suspension_lapse"), n_paths=60
    )
    import xarray as xr

    for name, where in dirs.items():
        paths = xr.load_dataset(where / "paths.nc")
        write_drivers(paths, where, scenario=load_scenario(name), seed=0, n_paths=300)
    run = ReportInputs.from_dirs(
        fit, dirs, settings={"n_paths": 75, "seed": 0}, bundled_history=False
    )
    assert run.scenarios[0].drivers is not None
    index = render_report(run, tmp_path / "report")
    html = index.read_text(encoding="utf-8")
    assert '<section id="drivers">' in html
    assert "riskmodel drivers --forecast DIR --seed 0 --paths 300 --out DIR" in html
    report = index.parent
    assert (report / "figures" / "drivers_baseline.png").stat().st_size > 5000
    copied = pd.read_csv(report / "scenarios" / "baseline" / DRIVERS_FILE)
    original = pd.read_csv(dirs["baseline"] / DRIVERS_FILE)
    pd.testing.assert_frame_equal(copied, original)
    # the table names the largest first-order driver of the first headline risk
    first = original.iloc[0]
    assert f"{first['label']} {first['first_order']:.2f}" in html.replace("&#x27;", "'")


def test_report_without_drivers_has_no_drivers_section(rendered):
    html = (rendered / "index.html").read_text(encoding="utf-8")
    assert '<section id="drivers">' not in html
    assert not list((rendered / "figures").glob("drivers_*.png"))
