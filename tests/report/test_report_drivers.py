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


def test_scheduled_run_writes_drivers_reproducible_by_the_command(
    tmp_path, fake_pipeline, monkeypatch
):
    import xarray as xr

    from riskmodel.cli import main
    from riskmodel.report import ReportOptions, scheduled_report

    _calls, install = fake_pipeline
    mod = install()
    forecast = mod.forecast
    kept = {}

    def keep_forecast(fitted, *, scenario, horizon, n_paths, seed, events=None):
        kept[scenario.name] = forecast(
            fitted, scenario=scenario, horizon=horizon, n_paths=n_paths, seed=seed, events=events
        )
        return kept[scenario.name]

    mod.forecast = keep_forecast
    out = tmp_path / "site"
    options = ReportOptions(out=out, scenarios=["baseline"], n_paths=100, horizon=8, seed=4)
    scheduled_report(options)
    assert '<section id="drivers">' in (out / "index.html").read_text(encoding="utf-8")
    in_report = pd.read_csv(out / "scenarios" / "baseline" / DRIVERS_FILE)
    assert len(in_report)
    # the command (with the real pipeline) reproduces every share from the same paths and seed
    monkeypatch.undo()
    fc = tmp_path / "fc"
    fc.mkdir()
    paths = kept["baseline"]
    assert isinstance(paths, xr.Dataset)
    paths.to_netcdf(fc / "paths.nc")
    args = ["drivers", "--forecast", str(fc), "--seed", "4", "--paths", "400"]
    assert main([*args, "--out", str(tmp_path / "cmd")]) == 0
    pd.testing.assert_frame_equal(in_report, pd.read_csv(tmp_path / "cmd" / DRIVERS_FILE))


def test_drivers_without_a_risk_to_split_say_so(make_inputs):
    from riskmodel.propagation.drivers import DRIVER_COLUMNS
    from riskmodel.report.drivers import drivers_section

    run = make_inputs(scenarios=("baseline",))
    run.scenarios[0].drivers = pd.DataFrame(columns=list(DRIVER_COLUMNS))
    html = drivers_section(run, {})
    assert '<section id="drivers">' in html and "baseline: in no month" in html
