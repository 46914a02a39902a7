"""Unattended runs: atomic publication, a killed run, a failing build, the lock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from riskmodel.exceptions import LockedError, RiskModelError
from riskmodel.report import report_paths, run_report

HERE = Path(__file__).parent
WORKER = HERE / "report_worker.py"


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _start_worker(out: Path, mode: str, marker: Path, hold: float = 60.0) -> subprocess.Popen:
    log = marker.with_suffix(".log")
    with open(log, "wb") as handle:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), str(out), mode, str(marker), str(hold)],
            stdout=subprocess.DEVNULL,
            stderr=handle,
        )
    deadline = time.monotonic() + 60
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"worker exited early: {log.read_text()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("worker never reached its pause")
        time.sleep(0.05)
    return proc


def test_first_run_publishes_a_symlink(tmp_path, copy_report, rendered):
    out = tmp_path / "reports" / "magnets"
    owners = []

    def build(d: Path) -> None:
        owners.append(json.loads((out.parent / "magnets.d" / ".riskmodel.lock.owner").read_text()))
        copy_report(d)

    result = run_report(out, build)
    assert result == out
    assert out.is_symlink()
    assert not os.path.isabs(os.readlink(out))  # relative: the folder can be moved
    target = out.resolve()
    assert target.parent == tmp_path / "reports" / "magnets.d"
    assert _tree(out) == _tree(rendered)
    assert (out.parent / "magnets.d" / ".riskmodel.lock").exists()
    assert owners[0]["pid"] == os.getpid()
    assert not (out.parent / "magnets.d" / ".riskmodel.lock.owner").exists()


def test_second_run_keeps_one_previous_and_passes_the_summary(tmp_path, copy_report):
    out = tmp_path / "magnets"
    run_report(out, copy_report)
    first = out.resolve()
    seen = {}

    def build(d: Path) -> None:
        seen["previous"] = json.loads((d / "previous_summary.json").read_text())
        (d / "index.html").write_text("second")
        (d / "summary.json").write_text(json.dumps({"schema": 1}))

    run_report(out, build)
    second = out.resolve()
    assert second != first
    assert seen["previous"]["primary_scenario"] == "baseline"
    assert (out / "index.html").read_text() == "second"
    assert first.is_dir()  # kept one run longer for readers in the middle of it
    run_report(out, build)
    assert not first.exists()
    assert second.is_dir()
    reports = [p for p in (tmp_path / "magnets.d").iterdir() if not p.name.startswith(".")]
    assert len(reports) == 2


def test_failing_build_keeps_the_old_report(tmp_path, copy_report, rendered):
    out = tmp_path / "magnets"
    run_report(out, copy_report)
    before = _tree(out)

    def broken(d: Path) -> None:
        (d / "index.html").write_text("half")
        raise RuntimeError("model exploded")

    with pytest.raises(RuntimeError, match="model exploded"):
        run_report(out, broken)
    assert _tree(out) == before
    assert not [p for p in (tmp_path / "magnets.d").iterdir() if p.name.endswith(".partial")]
    with pytest.raises(RiskModelError, match="wrote nothing"):
        run_report(out, lambda d: None)
    assert _tree(out) == before


@pytest.mark.parametrize("mode", ["build", "rename", "swap", "replace"])
def test_killed_run_leaves_the_previous_report(tmp_path, copy_report, mode):
    out = tmp_path / "magnets"
    run_report(out, copy_report)
    old_target = out.resolve()
    before = _tree(out)
    marker = tmp_path / "marker"
    proc = _start_worker(out, mode, marker)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # Still the complete old report at the same path, nothing half-written there.
    assert out.is_symlink()
    assert out.resolve() == old_target
    assert _tree(out) == before
    assert "half written" not in (out / "index.html").read_text()
    # The next run succeeds at once (the kernel released the lock) and cleans the debris.
    start = time.monotonic()
    run_report(out, lambda d: (d / "index.html").write_text("next"))
    assert time.monotonic() - start < 10
    assert (out / "index.html").read_text() == "next"
    store = tmp_path / "magnets.d"
    leftovers = [
        p.name
        for p in store.iterdir()
        if p.name.endswith((".partial", ".deleting")) or p.name.startswith(".work-")
    ]
    assert leftovers == []
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".magnets.swap-")]
    reports = [p for p in store.iterdir() if not p.name.startswith(".")]
    assert sorted(reports) == sorted([old_target, out.resolve()])  # orphans pruned


def test_killed_after_the_swap_shows_the_new_report(tmp_path, copy_report):
    out = tmp_path / "magnets"
    run_report(out, copy_report)
    proc = _start_worker(out, "prune", tmp_path / "marker")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert (out / "index.html").read_text() == "<html><body>new report</body></html>"


def test_second_run_is_refused_at_once_while_locked(tmp_path, copy_report):
    out = tmp_path / "magnets"
    run_report(out, copy_report)
    proc = _start_worker(out, "build", tmp_path / "marker", hold=60)
    try:
        start = time.monotonic()
        with pytest.raises(LockedError, match="locked") as info:
            run_report(out, copy_report)
        assert time.monotonic() - start < 2
        assert f"pid {proc.pid}" in str(info.value)
        assert "--wait" in str(info.value)
        # The command line exits 75 at once with a one-line message.
        cli = subprocess.run(
            [sys.executable, "-m", "riskmodel", "report", "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert cli.returncode == 75, cli.stderr
        assert "locked" in cli.stderr
        assert "Traceback" not in cli.stderr
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_wait_runs_after_the_first_finishes(tmp_path, copy_report):
    out = tmp_path / "magnets"
    run_report(out, copy_report)
    proc = _start_worker(out, "build", tmp_path / "marker", hold=2.0)
    try:
        start = time.monotonic()
        run_report(out, lambda d: (d / "index.html").write_text("waited"), wait=True)
        assert time.monotonic() - start > 0.5
        assert proc.wait(timeout=60) == 0
        assert (out / "index.html").read_text() == "waited"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_wait_timeout(tmp_path, copy_report):
    out = tmp_path / "magnets"
    run_report(out, copy_report)
    proc = _start_worker(out, "build", tmp_path / "marker", hold=60)
    try:
        with pytest.raises(LockedError, match="still locked"):
            run_report(out, copy_report, wait=True, wait_timeout=0.3)
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_plain_directory_is_swapped_for_the_symlink(tmp_path, copy_report):
    out = tmp_path / "magnets"
    out.mkdir()
    (out / "index.html").write_text("hand-made")
    (out / "summary.json").write_text(json.dumps({"schema": 1, "tag": "old"}))
    seen = {}

    def build(d: Path) -> None:
        seen["prev"] = json.loads((d / "previous_summary.json").read_text())
        (d / "index.html").write_text("managed")

    run_report(out, build)
    assert out.is_symlink()
    assert (out / "index.html").read_text() == "managed"
    assert seen["prev"]["tag"] == "old"
    legacy = [p for p in (tmp_path / "magnets.d").iterdir() if p.name.endswith("-legacy")]
    assert len(legacy) == 1 and (legacy[0] / "index.html").read_text() == "hand-made"


def test_out_must_not_be_a_file(tmp_path):
    out = tmp_path / "magnets"
    out.write_text("x")
    with pytest.raises(RiskModelError, match="not a directory"):
        run_report(out, lambda d: None)


def test_a_folder_that_is_not_a_report_is_refused_and_left_alone(tmp_path):
    out = tmp_path / "Documents"  # a typo for the report folder, say
    (out / "taxes").mkdir(parents=True)
    (out / "taxes" / "2025.pdf").write_bytes(b"mine")
    (out / "notes.txt").write_text("mine")
    before = _tree(out)
    built = []
    with pytest.raises(RiskModelError, match="not a riskmodel report"):
        run_report(out, built.append)
    assert not built  # refused before any work
    assert _tree(out) == before and not out.is_symlink()
    assert not (tmp_path / "Documents.d").exists()


def test_a_symlink_elsewhere_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine")
    out = tmp_path / "magnets"
    out.symlink_to(elsewhere)
    with pytest.raises(RiskModelError, match="not to a report in"):
        run_report(out, lambda d: None)
    assert os.readlink(out) == str(elsewhere) and (elsewhere / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize(
    "damaged",
    [
        b"{truncated",
        json.dumps({"schema": 1, "max_p_short": {"baseline": [1, 2]}}).encode(),
        json.dumps({"schema": 1, "scenarios": [{"a": 1}]}).encode(),
        json.dumps([1, 2, 3]).encode(),
    ],
)
def test_a_damaged_previous_summary_heals(tmp_path, copy_report, damaged):
    from riskmodel.report.changes import compare_summaries, read_summary

    out = tmp_path / "magnets"
    run_report(out, copy_report)
    (out / "summary.json").write_bytes(damaged)
    assert read_summary(out / "summary.json") is None
    assert compare_summaries(read_summary(out / "summary.json"), {}) == {"first_report": True}
    run_report(out, copy_report)  # the next run publishes; only "what changed" is lost
    assert json.loads((out / "summary.json").read_text())["schema"]


def test_report_paths():
    paths = report_paths("/srv/reports/magnets")
    assert paths.out == Path("/srv/reports/magnets")
    assert paths.store == Path("/srv/reports/magnets.d")
    assert paths.lock == Path("/srv/reports/magnets.d/.riskmodel.lock")


def test_progress_plain_lines_and_bar(caplog):
    import io
    import logging

    from riskmodel.report.progress import Progress

    with caplog.at_level(logging.INFO, logger="riskmodel"):
        plain = Progress(2, stream=io.StringIO())
        with plain.stage("fit"):
            pass
        plain.note("reused the cached posterior")
        plain.close()
    assert "[1/2] fit ..." in caplog.text
    assert "[1/2] fit: done in" in caplog.text
    assert "reused the cached posterior" in caplog.text

    stream = io.StringIO()
    bar = Progress(2, desc="riskmodel report", stream=stream, bar=True)
    with bar.stage("fit"):
        pass
    with bar.stage("render"):
        pass
    bar.close()
    assert "2/2" in stream.getvalue()


def test_progress_bar_keeps_log_lines_off_the_bar_and_redraws(monkeypatch):
    import io
    import logging
    import time

    from riskmodel.report import progress as progress_mod

    monkeypatch.setattr(progress_mod, "REFRESH_SECONDS", 0.02)
    stream = io.StringIO()
    root = logging.getLogger()
    terminal = logging.StreamHandler(stream)
    root.addHandler(terminal)
    logger = logging.getLogger("riskmodel.sampling")
    old_level = logging.getLogger("riskmodel").level
    logging.getLogger("riskmodel").setLevel(logging.INFO)
    try:
        bar = progress_mod.Progress(2, desc="riskmodel report", stream=stream, bar=True)
        with bar.stage("fit"):
            logger.info("compiling the model")
            before = stream.getvalue().count("\r")
            time.sleep(0.3)
            ticking = stream.getvalue().count("\r") - before
            logger.info("drawing 4 chains", extra={"external_progress": True})
            paused_at = len(stream.getvalue())
            time.sleep(0.2)
            paused = stream.getvalue()[paused_at:]
        with bar.stage("render"):
            pass
        bar.close()
        logger.info("after the bar")
    finally:
        root.removeHandler(terminal)
        logging.getLogger("riskmodel").setLevel(old_level)
    text = stream.getvalue()
    # each log line once, on a line of its own (not through the root handler too)
    assert text.count("riskmodel: compiling the model\n") == 1
    assert text.count("compiling the model\n") == 1
    assert "fit (compiling the model)" in text  # the latest line shown in the bar
    assert ticking >= 3  # the bar redraws within a stage
    assert paused == ""  # while the sampler draws its own bars, the bar keeps quiet
    assert "2/2" in text
    assert not terminal.filters  # logging is given back as it was
    assert text.endswith("after the bar\n")
