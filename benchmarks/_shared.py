"""Helpers shared by the benchmark scripts (run as files: this directory is on sys.path)."""

from __future__ import annotations

import subprocess
import sys
import time


def run_checked(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Run ``cmd`` in its own process; return (wall seconds, stdout) or exit on failure."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}")
    return seconds, proc.stdout


def emit_table(text: str, out: str | None) -> None:
    """Print a Markdown table and, when ``out`` is given, append it to that file."""
    print(text)
    if out:
        with open(out, "a", encoding="utf-8") as f:
            f.write(text + "\n")
