"""The report's buffer section: written by the scheduled run, reproduced by the command."""

from __future__ import annotations

import pandas as pd


def test_scheduled_run_shows_buffers_reproducible_by_the_command(
    tmp_path, fake_pipeline, monkeypatch
):
    import xarray as xr

    from riskmodel.cli import main
    from riskmodel.report import ReportOptions, scheduled_report
    from riskmodel.report.buffer import REPORT_BUFFER_PATHS, report_buffer_paths

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
    html = (out / "index.html").read_text(encoding="utf-8")
    assert '<section id="buffer">' in html
    in_report = pd.read_csv(out / "scenarios" / "baseline" / "buffer.csv")
    assert set(in_report["horizon_months"]) == {8}  # the forecast is shorter than 12 months
    assert (out / "scenarios" / "baseline" / "buffer_curve.csv").is_file()
    # the command (with the real pipeline) reproduces the table from the same paths and seed
    monkeypatch.undo()
    fc = tmp_path / "fc"
    fc.mkdir()
    paths = kept["baseline"]
    assert isinstance(paths, xr.Dataset)
    paths.to_netcdf(fc / "paths.nc")
    args = ["buffer", "--forecast", str(fc), "--seed", "4", "--horizon", "8"]
    n_paths = report_buffer_paths(options.n_paths)  # fewer than the most, at 100 paths
    assert set(in_report["n_paths"]) == {n_paths} and n_paths < REPORT_BUFFER_PATHS
    assert main([*args, "--paths", str(n_paths), "--out", str(tmp_path / "cmd")]) == 0
    pd.testing.assert_frame_equal(in_report, pd.read_csv(tmp_path / "cmd" / "buffer.csv"))


def test_report_buffer_paths_scale_with_the_forecast_up_to_the_most():
    from riskmodel.report.buffer import REPORT_BUFFER_PATHS, report_buffer_paths
    from riskmodel.report.run import DEFAULT_PATHS

    assert report_buffer_paths(40) == 400
    assert report_buffer_paths(DEFAULT_PATHS) == REPORT_BUFFER_PATHS == 10_000
    assert report_buffer_paths(1_000_000) == REPORT_BUFFER_PATHS  # within the paths limit
