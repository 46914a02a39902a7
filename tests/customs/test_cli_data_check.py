"""``riskmodel data check`` end to end."""

from __future__ import annotations

import subprocess
import sys

from riskmodel.cli import main


def test_check_bundled_data(capsys):
    assert main(["data", "check"]) == 0
    out = capsys.readouterr().out
    for name in (
        "magnet_exports.csv",
        "rare_earth_exports.csv",
        "other_controls.csv",
        "policy_events.csv",
        "licence_counts.csv",
    ):
        assert f"{name}: " in out
    assert "product" in out and "in sums only" in out
    assert "magnets" in out and "rare_earths" in out
    assert "cross-checks agreed" in out


def test_check_given_files_by_header(capsys, files):
    code = main(
        [
            "data",
            "check",
            str(files / "customs_small.csv"),
            str(files / "events_small.csv"),
            str(files / "licences_small.csv"),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "customs_small.csv: 10 customs rows" in out
    assert "events_small.csv: 3 policy events" in out
    assert "licences_small.csv: 2 licence counts" in out
    assert "1 cross-checks agreed" in out
    lines = [line.split() for line in out.splitlines()]
    assert ["magnets", "World", "2024-01", "2024-07", "3", "0", "4"] in lines


def test_check_bad_file_exits_2_with_one_line(capsys, write):
    path = write("month,destination,quantity\n2025-01,World,12\n2025-02,World,-3\n")
    assert main(["data", "check", str(path)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1
    assert f"{path}, line 3, column 'quantity'" in err
    assert "negative" in err


def test_check_contradiction_exits_2(capsys, files):
    assert main(["data", "check", str(files / "contradiction.csv")]) == 2
    err = capsys.readouterr().err
    assert "line 4, column 'quantity'" in err


def test_check_missing_file_exits_2(capsys, tmp_path):
    assert main(["data", "check", str(tmp_path / "absent.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_check_subprocess_exit_code_and_no_traceback(write):
    path = write(b"month,destination,quantity\n2025-01,World,\x00\n")
    proc = subprocess.run(
        [sys.executable, "-m", "riskmodel", "data", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "binary" in proc.stderr and str(path) in proc.stderr
    assert proc.stdout == ""


def test_check_does_not_import_pymc():
    code = (
        "import sys\nfrom riskmodel.cli import main\nrc = main(['data', 'check'])\n"
        "assert 'pymc' not in sys.modules and 'pytensor' not in sys.modules\nsys.exit(rc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
