"""``riskmodel backtest`` end to end with baselines only (no sampling)."""

import pandas as pd
import pytest

from riskmodel.backtest import SCORE_COLUMNS, SUMMARY_COLUMNS
from riskmodel.cli import main


def test_cli_backtest_baselines(tmp_path, capsys):
    out = tmp_path / "bt"
    code = main(
        [
            "backtest", "--models", "snaive,ets,sarimax", "--origins", "2025-05,2025-10",
            "--horizon", "4", "--paths", "200", "--seed", "3", "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    for name in ("scores.csv", "summary.csv", "summary.md", "unavailable.csv", "runs.csv"):
        assert (out / name).is_file()
    scores = pd.read_csv(out / "scores.csv")
    assert tuple(scores.columns) == SCORE_COLUMNS
    assert set(scores["origin"]) == {"2025-05", "2025-10"}
    assert scores["horizon"].max() <= 4
    summary = pd.read_csv(out / "summary.csv")
    assert tuple(summary.columns) == SUMMARY_COLUMNS
    assert set(summary["model"]) == {"snaive", "ets", "sarimax"}
    assert {"all", "common", "World", "United States"} <= set(summary["destination"])
    printed = capsys.readouterr().out
    assert "| model | destination | n | crps |" in printed
    md = (out / "summary.md").read_text()
    assert "## Unavailable" in md and "snaive" in md


def test_cli_bad_origin_exits_2(tmp_path, capsys):
    code = main(["backtest", "--models", "ets", "--origins", "2026-06", "--out", str(tmp_path)])
    assert code == 2
    assert "no observed month" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["--models", "ets,prophet"], ["--origins", "2025-13"], ["--origins", ","]],
)
def test_cli_bad_arguments_exit_2(tmp_path, argv):
    assert main(["backtest", *argv, "--out", str(tmp_path)]) == 2
