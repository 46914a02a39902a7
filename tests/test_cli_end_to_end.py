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

from riskmodel.cli import main

TINY = ["--draws", "60", "--tune", "120", "--chains", "2", "--seed", "3"]


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


def test_forecast_from_saved_fit_each_scenario(tmp_path, fit_dir, magnet_slice_csv):
    for scenario in ("baseline", "escalation", "relief", "us_embargo", "suspension_lapse"):
        out = tmp_path / scenario
        code = main(
            [
                "forecast", "--fit", str(fit_dir), "--data", str(magnet_slice_csv),
                "--scenario", scenario, "--horizon", "12", "--paths", "200", "--out", str(out),
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


def test_forecast_refuses_fit_made_on_other_data(tmp_path, fit_dir, capsys):
    code = main(["forecast", "--fit", str(fit_dir), "--out", str(tmp_path / "x")])
    assert code == 2
    assert "fitted on other data" in capsys.readouterr().err


def test_bad_data_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("month,destination,quantity\n2025-13,World,5\n")
    proc = subprocess.run(
        [sys.executable, "-m", "riskmodel", "fit", "--data", str(bad), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "bad.csv" in proc.stderr and "line 2" in proc.stderr


def test_unknown_scenario_is_a_clean_error(tmp_path, fit_dir, magnet_slice_csv, capsys):
    code = main(["forecast", "--fit", str(fit_dir), "--data", str(magnet_slice_csv),
                 "--scenario", "nope", "--out", str(tmp_path / "x")])  # fmt: skip
    assert code == 2
    assert "nope" in capsys.readouterr().err


def test_shortage_from_a_real_forecast(tmp_path, fit_dir, magnet_slice_csv):
    fc = tmp_path / "fc"
    args = ["forecast", "--fit", str(fit_dir), "--data", str(magnet_slice_csv),
            "--scenario", "suspension_lapse", "--paths", "200", "--out", str(fc)]  # fmt: skip
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


def test_report_runs_the_real_pipeline_with_tiny_settings(tmp_path, magnet_slice_csv):
    out = tmp_path / "report"
    args = ["report", "--data", str(magnet_slice_csv), "--scenario", "baseline",
            "suspension_lapse", "--paths", "100", "--horizon", "6", *TINY,
            "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary
    html = (out / "index.html").read_text()
    assert "suspension_lapse" in html and "<img" in html
    # a second run with data and priors unchanged reuses the cached posterior
    assert main(args) == 0
