"""Cold and warm ``riskmodel report`` side by side: the README command, timed end to end.

Usage::

    python benchmarks/bench_warm_report.py                 # cold once, then 3 warm runs
    python benchmarks/bench_warm_report.py --warm 5 -- --draws 300 --tune 300   # lighter fit

Each run is ``python -m riskmodel report --out <tmp>/report`` in its own process, from
this checkout. The cold run starts from an empty output folder (so it fits the model;
PyTensor's and numba's compile caches are left as they are, and the load average is
printed); the warm runs repeat the same command with nothing changed. Wall time and the
process's CPU time (user + system) are reported; warm figures are medians.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _timed(cmd: list[str]) -> tuple[float, float]:
    """Run ``cmd`` from the checkout; return (wall seconds, CPU seconds of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):  # 1: a published report whose fit failed --strict
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    """Run the cold and warm reports and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=3, help="warm runs (default 3)")
    parser.add_argument("extra", nargs="*", help="more 'riskmodel report' flags (after --)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_warm_") as tmp:
        cmd = [sys.executable, "-m", "riskmodel", "report", "--out", str(Path(tmp) / "report")]
        cmd += args.extra
        load = os.getloadavg()
        cold = _timed(cmd)
        warm = [_timed(cmd) for _ in range(max(1, args.warm))]
        load_after = os.getloadavg()
    wall = statistics.median(w for w, _ in warm)
    cpu = statistics.median(c for _, c in warm)
    shown = "riskmodel report --out report" + "".join(f" {a}" for a in args.extra)
    print(f"`{shown}` (each run its own process), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"Load average before: {load[0]:.2f}; after: {load_after[0]:.2f}")
    print()
    print("| run | wall s | CPU s |")
    print("|---|---|---|")
    print(
        "| cold (empty output folder: fit, forecasts, shortages, figures) "
        f"| {cold[0]:.1f} | {cold[1]:.1f} |"
    )
    print(f"| warm, median of {len(warm)} (nothing changed) | {wall:.1f} | {cpu:.1f} |")
    print(f"| warm / cold | {wall / cold[0]:.3f} | {cpu / cold[1]:.3f} |")
    print()
    print("warm runs (wall s / CPU s): " + ", ".join(f"{w:.1f}/{c:.1f}" for w, c in warm))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
