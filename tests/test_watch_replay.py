"""Replay of the April 2025 collapse: point in time, through the real command line.

Default run: one tiny fit (the real-data slice of ``tests/conftest.py``, World and the
US since 2022; the sampler settings of ``tests/test_cli_end_to_end.py``) as of
2025-03, the last run before the 4 April 2025 controls were announced, forecast
three months; the release that first showed the collapse (the April figures, the
data through 2025-04) is then placed in that forecast with ``riskmodel watch``.

Slow (``--run-slow``): the replay script on the bundled data, light settings.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from riskmodel.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--draws", "60", "--tune", "120", "--chains", "2", "--seed", "3"]


def _rows_through(src: Path, month: str, out: Path) -> Path:
    """The customs rows of ``src`` dated up to ``month`` (the release of that month)."""
    with src.open(newline="") as fin, out.open("w", newline="") as fout:
        reader = csv.DictReader(fin)
        writer = csv.DictWriter(fout, fieldnames=reader.fieldnames)
        writer.writeheader()
        for row in reader:
            if row["month"] <= month:
                writer.writerow(row)
    return out


def test_the_april_2025_collapse_is_flagged_at_the_first_release_that_showed_it(
    tmp_path, magnet_slice_csv, capsys
):
    fc = tmp_path / "as_of_2025-03"
    code = main(["forecast", "--data", str(magnet_slice_csv), "--as-of", "2025-03",
                 "--horizon", "3", "--paths", "1000", *TINY, "--out", str(fc)])  # fmt: skip
    assert code == 0
    capsys.readouterr()
    release = _rows_through(magnet_slice_csv, "2025-04", tmp_path / "release_2025-04.csv")
    out = tmp_path / "alerts.json"
    code = main(["watch", "--previous", str(fc), "--data", str(release), "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    payload = json.loads(out.read_text())
    flagged = {(a["destination"], a["month"]): a for a in payload["alerts"]}
    for dest in ("World", "United States"):
        alert = flagged[(dest, "2025-04")]
        assert alert["alert"] == "low" and alert["horizon"] == 2
        assert f"{dest} exports in 2025-04 were below" in text
    assert "approval may have dropped again" in text
    # March, the month before, was an ordinary month: no alert
    march = [c for c in payload["checks"] if c["month"] == "2025-03" and c["status"] == "scored"]
    assert march and all(c["alert"] is None for c in march)


@pytest.mark.slow
def test_replay_script_flags_the_collapse_month_by_month(tmp_path):
    cmd = [sys.executable, str(ROOT / "benchmarks" / "replay_alerts_2025.py"),
           "--first", "2025-03", "--last", "2025-05", "--work", str(tmp_path),
           "--json", str(tmp_path / "replay.json"), "--no-refit"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=3600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    records = {r["release"]: r for r in json.loads((tmp_path / "replay.json").read_text())}
    april = records["2025-04"]
    # against the forecast made before the controls were announced (as of 2025-03)
    earlier = {c["destination"]: c for c in april["earlier"]["checks"] if c["month"] == "2025-04"}
    assert earlier["World"]["alert"] == "low"
    assert earlier["United States"]["alert"] == "low"
    # March was ordinary
    march = [c for c in records["2025-03"]["checks"] if c["month"] == "2025-03"]
    assert all(c["alert"] is None for c in march if c["status"] == "scored")
    assert "## Release of 2025-04" in proc.stdout
