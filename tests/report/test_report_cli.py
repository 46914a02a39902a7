"""``riskmodel report``: the pipeline wiring (with a fake pipeline), config, exit codes."""

from __future__ import annotations

import json

import pytest

from riskmodel.cli import main
from riskmodel.seeds import stage_seeds


def test_runs_the_pipeline_and_reuses_the_posterior(tmp_path, fake_pipeline, capsys):
    calls, _install = fake_pipeline
    out = tmp_path / "reports" / "magnets"
    args = [
        "report",
        "--out",
        str(out),
        "--scenario",
        "baseline",
        "us_embargo",
        "--paths",
        "40",
        "--horizon",
        "12",
        "--seed",
        "7",
    ]
    assert main(args) == 0
    printed = capsys.readouterr()
    assert printed.out.strip() == str(out / "index.html")
    assert out.is_symlink() and (out / "index.html").is_file()
    kinds = [c[0] for c in calls]
    assert kinds == [
        "read_sources",  # the customs data and events are read once
        "load_inputs",  # from the sources read
        "fit_cached",
        "forecast",
        "shortage",
        "forecast",
        "shortage",
    ]
    assert calls[1][1] is True  # the inputs come from the sources read, not the files again
    fit_call = calls[2]
    assert fit_call[1] == str(tmp_path / "reports" / "magnets.d" / "cache") and fit_call[2] is False
    forecasts = [c for c in calls if c[0] == "forecast"]
    assert [c[1] for c in forecasts] == ["baseline", "us_embargo"]
    assert {c[2:4] for c in forecasts} == {(12, 40)}
    shortages = [c for c in calls if c[0] == "shortage"]
    assert [c[1] for c in shortages] == ["baseline", "us_embargo"]  # the paths' scenario
    assert {c[2] for c in shortages} == {None}
    # Every stage gets the run's seed and derives its own from it, as the stage commands do.
    assert fit_call[3] == 7
    assert {c[4] for c in forecasts} == {7} and {c[3] for c in shortages} == {7}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenarios"] == ["baseline", "us_embargo"]
    assert summary["run"]["posterior_reused"] is False
    seeds = stage_seeds(7)
    assert summary["run"]["seed"] == 7
    assert summary["run"]["forecast_seed"] == seeds.forecast
    assert summary["run"]["shortage_seed"] == seeds.shortage
    assert not list((tmp_path / "reports" / "magnets.d").glob(".work-*"))

    calls.clear()
    assert main(args) == 0
    assert calls[2] == ("fit_cached", fit_call[1], True, 7)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["run"]["posterior_reused"] is True
    assert summary["changes"]["first_report"] is False


def test_default_scenarios_are_all_bundled_unconditional_first(tmp_path, fake_pipeline):
    from riskmodel.config.scenario import list_scenarios
    from riskmodel.report.run import resolve_scenarios

    labels = [s.name for s in resolve_scenarios([])]
    assert labels[:3] == ["unconditional", "suspension_lapse", "baseline"]
    assert sorted(labels) == sorted(list_scenarios())


def test_config_file(tmp_path, fake_pipeline):
    calls, _install = fake_pipeline
    config = tmp_path / "report.yaml"
    config.write_text("out: site/magnets\nscenario: baseline\npaths: 30\nhorizon: 6\nseed: 3\n")
    assert main(["report", "--config", str(config), "--paths", "25"]) == 0
    out = tmp_path / "site" / "magnets"  # relative to the config file
    assert (out / "index.html").is_file()
    forecast = next(c for c in calls if c[0] == "forecast")
    assert forecast[1:4] == ("baseline", 6, 25)  # the flag wins over the file


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("outt: x\n", "unknown key 'outt'"),
        ("paths: many\n", "line 1, column 1: paths: must be a number"),
        ("- a\n- b\n", "must be a mapping"),
        ("out: [\n", "YAML syntax error"),
    ],
)
def test_bad_config_exits_2(tmp_path, fake_pipeline, capsys, text, message):
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    assert main(["report", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_flags_exit_2(tmp_path, fake_pipeline, capsys):
    assert main(["report", "--out", str(tmp_path / "r"), "--paths", "0"]) == 2
    assert "paths must lie in [1, 1000000], got 0" in capsys.readouterr().err
    assert main(["report", "--out", str(tmp_path / "r"), "--scenario", "no_such"]) == 2
    assert "no bundled scenario named 'no_such'" in capsys.readouterr().err
    assert main(["report", "--out", str(tmp_path / "r"), "--data", str(tmp_path / "nope.csv")]) == 2
    assert "data file not found" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_failing_fit_strict_exits_1_but_publishes(tmp_path, fake_pipeline, capsys):
    _calls, install = fake_pipeline
    install(passed=False)
    out = tmp_path / "magnets"
    assert main(["report", "--out", str(out), "--scenario", "baseline", "--paths", "20"]) == 0
    assert "failed its convergence checks" in capsys.readouterr().err
    assert (
        main(["report", "--out", str(out), "--scenario", "baseline", "--paths", "20", "--strict"])
        == 1
    )
    assert "FIT CHECKS FAILED" in (out / "index.html").read_text(encoding="utf-8")


def test_pipeline_error_keeps_previous_report(tmp_path, fake_pipeline, capsys):
    _calls, install = fake_pipeline
    out = tmp_path / "magnets"
    assert main(["report", "--out", str(out), "--scenario", "baseline", "--paths", "20"]) == 0
    before = (out / "index.html").read_bytes()
    mod = install()

    def boom(*args, **kwargs):
        raise ValueError("sampler blew up")

    mod.fit_cached = boom
    assert main(["report", "--out", str(out), "--scenario", "baseline", "--paths", "20"]) == 1
    err = capsys.readouterr().err
    assert "the report run failed (ValueError: sampler blew up)" in err
    assert "previous report" in err
    assert (out / "index.html").read_bytes() == before

    from riskmodel.exceptions import DataValidationError

    def bad_data(*args, **kwargs):
        raise DataValidationError("quantity is negative", file="x.csv", line=3, column="quantity")

    mod.read_sources = bad_data
    assert main(["report", "--out", str(out), "--scenario", "baseline"]) == 2
    assert "x.csv, line 3, column 'quantity': quantity is negative" in capsys.readouterr().err
    assert (out / "index.html").read_bytes() == before


def test_help_explains(capsys):
    assert main(["report", "--help"]) == 0
    text = capsys.readouterr().out
    for flag in (
        "--data",
        "--scenario",
        "--config",
        "--out",
        "--wait",
        "--paths",
        "--horizon",
        "--seed",
        "--cache",
        "--strict",
        "75",
    ):
        assert flag in text
