"""Subprocess helper for the kill and lock tests: a report run that pauses where it is told.

    python report_worker.py OUT MODE MARKER [SECONDS]

MODE says where the run writes MARKER and then sleeps SECONDS (default 60)
before going on: ``build`` (halfway through writing the report), ``rename``
(after the build, before the .partial directory is renamed), ``swap`` (after
the rename, before the symlink is created), ``replace`` (the new symlink
exists under its temporary name, just before it is renamed over OUT),
``prune`` (after the swap, while old reports are deleted). The finished
report's index.html says "new report".
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    from riskmodel.report import run_report, schedule

    out, mode, marker = argv[1], argv[2], Path(argv[3])
    hold = float(argv[4]) if len(argv) > 4 else 60.0

    def pause() -> None:
        marker.write_text(f"{mode} {os.getpid()}")
        time.sleep(hold)

    def build(directory: Path) -> None:
        (directory / "index.html").write_text("<html><body>new report, half written")
        if mode == "build":
            pause()
        (directory / "index.html").write_text("<html><body>new report</body></html>")
        (directory / "summary.json").write_text('{"schema": 1, "tag": "new"}\n')

    if mode == "rename":
        real_sync = schedule.sync_tree

        def sync_then_pause(root: Path) -> None:
            real_sync(root)
            pause()

        schedule.sync_tree = sync_then_pause
    elif mode == "swap":
        real_publish = schedule._publish

        def pause_then_publish(paths, final):
            pause()
            return real_publish(paths, final)

        schedule._publish = pause_then_publish
    elif mode == "replace":
        real_replace = os.replace

        def pausing_replace(src, dst):
            if Path(src).name.startswith(f".{Path(out).name}.swap-"):
                pause()
            return real_replace(src, dst)

        os.replace = pausing_replace  # this process only runs the report
    elif mode == "prune":
        real_prune = schedule._prune

        def pause_then_prune(paths, keep):
            pause()
            return real_prune(paths, keep)

        schedule._prune = pause_then_prune
    elif mode != "build":
        raise SystemExit(f"unknown mode {mode}")
    run_report(out, build)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
