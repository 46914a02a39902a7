"""The one atomic-write module: a file or a folder is replaced whole, or left as it was."""

import os
import subprocess
import sys

import pytest

import riskmodel.atomic as atomic


def test_a_failed_file_write_leaves_the_old_file(tmp_path):
    target = atomic.write_text(tmp_path / "a.txt", "old")

    def half(p):
        p.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic.atomic_write(target, half)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two renames"])
def test_a_folder_is_swapped_in_whole(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(atomic, "exchange", lambda a, b: False)
    out = tmp_path / "out"
    with atomic.atomic_folder(out, replaces=("a", "b")) as tmp:
        (tmp / "a").write_text("1")
        (tmp / "b").write_text("1")
    with atomic.atomic_folder(out, replaces=("a", "b")) as tmp:
        (tmp / "a").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == ["a"]
    assert (out / "a").read_text() == "2"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_debris_of_a_killed_run_is_removed_and_a_live_runs_kept(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    killed = tmp_path / f".out.{dead_pid}.x1.partial"
    running = tmp_path / f".out.{os.getpid()}.x2.partial"
    for folder in (killed, running):
        folder.mkdir()
        (folder / "a").write_text("half")
    with atomic.atomic_folder(tmp_path / "out", replaces=("a",)) as tmp:
        (tmp / "a").write_text("whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == [running.name, "out"]


def test_a_symlinked_folder_keeps_its_link(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    with atomic.atomic_folder(tmp_path / "link", replaces=("a",)) as tmp:
        (tmp / "a").write_text("new")
    assert (tmp_path / "link").is_symlink()
    assert (real / "a").read_text() == "new"
