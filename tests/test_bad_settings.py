"""Numeric run settings out of range, and bad report config files: exit 2, one line, nothing made.

Each case runs the real command line in process (a usage error from argparse, or a
RiskModelError), before any data is read or any model compiled.
"""

from __future__ import annotations

import textwrap

import pytest

from riskmodel.cli import main
from riskmodel.config.limits import LIMITS, check_setting
from riskmodel.exceptions import RiskModelError

FLAGS = [
    ("forecast", "--horizon", "0"),
    ("forecast", "--horizon", "100000"),
    ("forecast", "--paths", "1e12"),
    ("forecast", "--paths", "0"),
    ("forecast", "--seed", "-1"),
    ("forecast", "--seed", str(2**70)),
    ("fit", "--draws", "-5"),
    ("fit", "--chains", "1000"),
    ("fit", "--tune", "x"),
    ("report", "--horizon", "10000"),
    ("report", "--paths", "-3"),
    ("report", "--seed", str(2**70)),
    ("shortage", "--paths", "0"),
    ("shortage", "--chunk-size", "0"),
    ("backtest", "--horizon", "500"),
]


def _run(argv, capsys):
    return main(argv), capsys.readouterr().err


@pytest.mark.parametrize("command, flag, value", FLAGS)
def test_a_flag_out_of_range_exits_2_with_one_line(tmp_path, capsys, command, flag, value):
    out = tmp_path / "out"
    argv = [command, flag, value]
    if command == "shortage":
        argv = [command, str(tmp_path / "no_forecast"), flag, value]
    code, err = _run([*argv, "--out", str(out)], capsys)
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("usage")]
    assert len(lines) == 1, err
    assert flag.lstrip("-") in lines[0] or "whole number" in lines[0]
    assert "Traceback" not in err
    assert not out.exists()


CONFIGS = {
    "negative draws": ("draws: -5\n", "line 1, column 1: draws: must lie in [1, 100000], got -5"),
    "zero draws": ("draws: 0\n", "draws: must lie in [1, 100000], got 0"),
    "huge seed": (f"seed: {2**70}\n", "seed: must be at most 2**53 in size"),
    "seed too large": (f"seed: {2**40}\n", "seed: must lie in [0, 4294967295]"),
    "float paths": ("paths: 2.5\n", "paths: must be a whole number"),
    "duplicate": ("horizon: 6\nhorizon: 12\n", "line 2, column 1: duplicate key 'horizon'"),
    "unknown key": ("horizn: 6\n", "horizn: unknown key 'horizn' (did you mean 'horizon'?)"),
    "bad flag": ("wait: maybe\n", "wait: must be true or false"),
    "not a mapping": ("- a\n- b\n", "must be a mapping"),
    "alias bomb": ("a: &a [1, 2]\nb: [*a, *a]\n", "anchors and aliases"),
    "bad data list": ("data: [1, 2]\n", "data[0]: must be a non-empty name"),
    "horizon too far": ("horizon: 10000\n", "horizon: must lie in [1, 120], got 10000"),
}


@pytest.mark.parametrize("case", sorted(CONFIGS))
def test_a_bad_report_config_exits_2_naming_file_line_and_field(tmp_path, capsys, case):
    text, fragment = CONFIGS[case]
    config = tmp_path / "report.yaml"
    config.write_text(textwrap.dedent(text))
    out = tmp_path / "report"
    code, err = _run(["report", "--config", str(config), "--out", str(out)], capsys)
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert str(config) in lines[0] and fragment in lines[0], lines[0]
    assert not out.exists() and not (tmp_path / "report.d").exists()


def test_check_setting_names_the_setting_and_range():
    for name, (low, high) in LIMITS.items():
        assert check_setting(name, low) == low and check_setting(name, high) == high
        with pytest.raises(RiskModelError, match=f"{name} must lie in"):
            check_setting(name, high + 1)
    with pytest.raises(RiskModelError, match="whole number"):
        check_setting("horizon", 1.5)
