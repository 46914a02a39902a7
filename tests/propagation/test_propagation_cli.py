from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
import xarray as xr

from riskmodel.cli import main


@pytest.fixture
def forecast_dir(tmp_path, make_paths):
    folder = tmp_path / "forecast"
    folder.mkdir()
    make_paths(n_paths=30, n_months=12, seed=5).to_netcdf(folder / "paths.nc", engine="h5netcdf")
    return folder


def test_cli_end_to_end(forecast_dir, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        [
            "shortage",
            "--forecast",
            str(forecast_dir),
            "--paths",
            "200",
            "--seed",
            "3",
            "--chunk-size",
            "64",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr()
    assert "Top risks" in printed.out and "200 paths" in printed.out
    assert "chunk" in printed.err  # plain progress lines: stderr is not a terminal here
    shortage = pd.read_csv(out / "shortage.csv")
    assert list(shortage.columns) == [
        "region",
        "industry",
        "month",
        "p_short",
        "p_short_10",
        "p_short_25",
        "p_short_50",
        "expected_shortfall_t",
        "expected_shortfall_share",
    ]
    assert len(shortage) == 6 * 11 * 12
    stockout = pd.read_csv(out / "stockout.csv", keep_default_na=False)
    assert list(stockout.columns) == [
        "region",
        "industry",
        "p_stockout_within_horizon",
        "median_first_stockout_month",
        "q10_first_stockout_month",
        "q90_first_stockout_month",
    ]
    months = set(shortage["month"]) | {""}
    assert set(stockout["median_first_stockout_month"]) <= months
    ds = xr.open_dataset(out / "shortage.nc")
    try:
        assert ds.attrs["n_paths"] == 200 and ds.attrs["allocation"] == "proportional"
        assert ds.attrs["allocation_scenario"] == "baseline"
        assert ds.sizes["region"] == 6
    finally:
        ds.close()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]  # atomic writes


def test_cli_scenario_file_sets_allocation(forecast_dir, tmp_path, capsys):
    scenario = tmp_path / "deny.yaml"
    scenario.write_text(
        "name: deny\ndescription: test\nregimes:\n  - start: first\n    kind: current\n"
        "propagation:\n  allocation: end_use\n  denied_end_uses: [defense]\n"
    )
    out = tmp_path / "out"
    assert (
        main(
            [
                "shortage",
                "--forecast",
                str(forecast_dir),
                "--scenario",
                str(scenario),
                "--paths",
                "64",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    with xr.open_dataset(out / "shortage.nc") as ds:
        assert ds.attrs["allocation"] == "end_use" and ds.attrs["denied_end_uses"] == "defense"


def test_cli_missing_forecast_is_one_line_exit_2(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "riskmodel",
            "shortage",
            "--forecast",
            str(tmp_path / "nowhere"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "no such forecast folder" in lines[0]


def test_cli_empty_folder_and_bad_scenario(tmp_path, forecast_dir, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["shortage", "--forecast", str(empty), "--out", str(tmp_path / "o")]) == 2
    assert "no paths.nc" in capsys.readouterr().err
    assert (
        main(
            [
                "shortage",
                "--forecast",
                str(forecast_dir),
                "--scenario",
                "no_such_scenario",
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
