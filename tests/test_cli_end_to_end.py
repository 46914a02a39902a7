"""The real command line end to end with tiny settings, on a slice of the real data.

The fit uses the same data slice and priors as tests/models/test_fit_real.py, so in
one pytest session the compiled model is reused (in-process cache) and the compile
cost is paid once.
"""

import json
import subprocess
import sys

import pandas as pd
import pytest
import xarray as xr

from riskmodel.cli import main
from riskmodel.resources import bundled_data_file

SAMPLER = ["--draws", "60", "--tune", "120", "--chains", "2"]
TINY = [*SAMPLER, "--seed", "3"]


@pytest.fixture(scope="module")
def fit_dir(tmp_path_factory, magnet_slice_csv):
    out = tmp_path_factory.mktemp("cli") / "fit"
    code = main(["fit", "--data", str(magnet_slice_csv), *TINY, "--out", str(out)])
    assert code == 0
    return out


def test_fit_writes_its_outputs(fit_dir):
    diag = json.loads((fit_dir / "diagnostics.json").read_text())
    for key in (
        "max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "backend", "seconds",
        "compile_seconds",
    ):  # fmt: skip
        assert key in diag
    approval = pd.read_csv(fit_dir / "approval.csv")
    assert list(approval.columns) == ["month", "destination", "mean", "q05", "q50", "q95"]
    assert set(approval["destination"]) == {"World", "United States"}
    assert approval["month"].str.match(r"^\d{4}-\d{2}$").all()


def test_strict_fails_a_fit_that_does_not_converge(tmp_path, magnet_slice_csv):
    code = main(
        ["fit", "--data", str(magnet_slice_csv), *TINY, "--strict", "--out", str(tmp_path / "f")]
    )
    assert code == 1  # 60 draws cannot reach min ESS 400


def test_fit_records_what_it_was_fitted_on(tmp_path, fit_dir, magnet_slice_csv):
    attrs = xr.open_dataset(fit_dir / "posterior.nc", group="posterior").attrs
    assert attrs["as_of"] == "" and attrs["future_regime_starts"] == ""
    assert attrs["student_t_nu"] == 4.0 and attrs["share_knot_months"] == 6
    assert attrs["run_seed"] == 3
    # A deal late in the origin month (the data end in 2025-12) opens a regime in the
    # month after the origin; the fit records it for the forecast. (The window is the
    # one of fit_dir, so nothing is compiled again.)
    events = tmp_path / "events.csv"
    text = bundled_data_file("policy_events.csv").read_text(encoding="utf-8")
    events.write_text(text.rstrip("\n") + "\n2026-01-20,magnets,deal,a late deal,https://x.org\n")
    out = tmp_path / "asof"
    args = ["fit", "--data", str(magnet_slice_csv), "--events", str(events), "--as-of", "2026-01",
            *TINY, "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    attrs = xr.open_dataset(out / "posterior.nc", group="posterior").attrs
    assert attrs["as_of"] == "2026-01" and attrs["future_regime_starts"] == "2026-02"


def test_forecast_from_saved_fit_each_scenario(tmp_path, fit_dir, monkeypatch):
    import riskmodel.customs.read

    def no_reading(*args, **kwargs):
        raise AssertionError("forecast --fit read customs data")

    monkeypatch.setattr(riskmodel.customs.read, "read_customs", no_reading)
    for scenario in ("baseline", "escalation", "relief", "us_embargo", "suspension_lapse"):
        out = tmp_path / scenario
        code = main(
            [
                "forecast", "--fit", str(fit_dir), "--scenario", scenario, "--horizon", "12",
                "--paths", "200", "--out", str(out),
            ]
        )  # fmt: skip
        assert code == 0
        table = pd.read_csv(out / "forecast.csv")
        assert len(table) == 12 * 2 and (table["scenario"] == scenario).all()
        assert table["month"].iloc[0] == "2026-01"


@pytest.mark.parametrize("model", ["snaive", "ets", "sarimax"])
def test_forecast_baselines(tmp_path, model):
    code = main(["forecast", "--model", model, "--horizon", "6", "--paths", "100",
                 "--out", str(tmp_path / model)])  # fmt: skip
    assert code == 0
    table = pd.read_csv(tmp_path / model / "forecast.csv")
    assert "World" in set(table["destination"])


def test_forecast_from_a_fit_takes_no_data_options(tmp_path, fit_dir, magnet_slice_csv, capsys):
    code = main(["forecast", "--fit", str(fit_dir), "--data", str(magnet_slice_csv),
                 "--as-of", "2025-06", "--out", str(tmp_path / "x")])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "drop --data, --as-of" in err and len(err.strip().splitlines()) == 1


def test_bad_data_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("month,destination,quantity\n2025-13,World,5\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "riskmodel",
            "fit",
            "--data",
            str(bad),
            "--out",
            str(tmp_path / "fit"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "bad.csv" in proc.stderr and "line 2" in proc.stderr
    assert not (tmp_path / "fit").exists()


def test_unknown_scenario_is_a_clean_error(tmp_path, fit_dir, capsys):
    code = main(["forecast", "--fit", str(fit_dir), "--scenario", "nope",
                 "--out", str(tmp_path / "x")])  # fmt: skip
    assert code == 2
    assert "nope" in capsys.readouterr().err


def test_shortage_from_a_real_forecast(tmp_path, fit_dir):
    fc = tmp_path / "fc"
    args = ["forecast", "--fit", str(fit_dir), "--scenario", "suspension_lapse",
            "--paths", "200", "--out", str(fc)]  # fmt: skip
    assert main(args) == 0
    out = tmp_path / "short"
    assert main(["shortage", "--forecast", str(fc), "--paths", "2000", "--seed", "1",
                 "--out", str(out)]) == 0  # fmt: skip
    short = pd.read_csv(out / "shortage.csv")
    assert list(short.columns[:3]) == ["region", "industry", "month"]
    assert short["p_short"].between(0, 1).all()
    assert (short["p_short_50"] <= short["p_short_10"] + 1e-12).all()
    stock = pd.read_csv(out / "stockout.csv")
    assert stock["p_stockout_within_horizon"].between(0, 1).all()
    assert (out / "shortage.nc").is_file()


def test_report_runs_the_real_pipeline_with_tiny_settings(tmp_path, magnet_slice_csv, monkeypatch):
    import riskmodel.pipeline

    reads = []
    real_read = riskmodel.pipeline.read_customs

    def counting_read(*args, **kwargs):
        reads.append(args)
        return real_read(*args, **kwargs)

    monkeypatch.setattr(riskmodel.pipeline, "read_customs", counting_read)
    out = tmp_path / "report"
    args = ["report", "--data", str(magnet_slice_csv), "--scenario", "baseline",
            "suspension_lapse", "--paths", "100", "--horizon", "6", *TINY,
            "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    assert len(reads) == 1  # the customs data are read once
    summary = json.loads((out / "summary.json").read_text())
    assert summary
    html = (out / "index.html").read_text()
    assert "suspension_lapse" in html and "<img" in html
    # a second run with data and priors unchanged reuses the cached posterior
    assert main(args) == 0


def test_shortage_uses_a_users_scenario_file_the_paths_carry(tmp_path, fit_dir, capsys):
    mine = tmp_path / "baseline.yaml"  # a user file that even shares a bundled name
    mine.write_text(
        "name: baseline\ndescription: defense and medical served first\nregimes:\n"
        "  - start: first\n    kind: current\n"
        "propagation:\n  allocation: priority\n  priority: [defense, medical]\n"
    )
    fc, out = tmp_path / "fc", tmp_path / "short"
    assert main(["forecast", "--fit", str(fit_dir), "--scenario", str(mine), "--horizon", "6",
                 "--paths", "100", "--out", str(fc)]) == 0  # fmt: skip
    assert main(["shortage", "--forecast", str(fc), "--out", str(out)]) == 0
    with xr.open_dataset(out / "shortage.nc") as ds:
        assert ds.attrs["allocation"] == "priority"
        assert ds.attrs["priority"] == "defense,medical"
    capsys.readouterr()
    # the bundled scenario of the same name is another scenario: an error, not a warning
    code = main(["shortage", "--forecast", str(fc), "--scenario", "baseline",
                 "--out", str(tmp_path / "other")])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "differs from the scenario 'baseline'" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "other").exists()


def test_stage_commands_reproduce_report_with_the_same_seed(tmp_path, fit_dir, magnet_slice_csv):
    """riskmodel fit, forecast and shortage with --seed 0 give report --seed 0's numbers.

    ``fit_dir`` first: the model is compiled before either fit runs (see README on
    fits in the process that compiled the model).
    """
    data = ["--data", str(magnet_slice_csv)]
    run = ["--horizon", "6", "--paths", "100", "--seed", "0"]
    assert main(["fit", *data, *SAMPLER, "--seed", "0", "--out", str(tmp_path / "fit")]) == 0
    assert main(["forecast", "--fit", str(tmp_path / "fit"), "--scenario", "suspension_lapse",
                 *run, "--out", str(tmp_path / "fc")]) == 0  # fmt: skip
    assert main(["shortage", "--forecast", str(tmp_path / "fc"), "--seed", "0",
                 "--out", str(tmp_path / "short")]) == 0  # fmt: skip
    report = tmp_path / "report"
    assert main(["report", *data, "--scenario", "suspension_lapse", *run, *SAMPLER,
                 "--out", str(report)]) == 0  # fmt: skip
    stage = report / "scenarios" / "suspension_lapse"
    pairs = [
        (tmp_path / "fit" / "approval.csv", report / "fit" / "approval.csv"),
        (tmp_path / "fc" / "forecast.csv", stage / "forecast.csv"),
        (tmp_path / "short" / "shortage.csv", stage / "shortage.csv"),
        (tmp_path / "short" / "stockout.csv", stage / "stockout.csv"),
    ]
    for ours, theirs in pairs:
        pd.testing.assert_frame_equal(pd.read_csv(ours), pd.read_csv(theirs), obj=ours.name)
