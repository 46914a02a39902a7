"""End to end: ``riskmodel report`` cold (no saved posterior, empty compile cache) and warm.

Usage::

    python benchmarks/bench_end_to_end.py            # 1 cold + 2 warm runs, default settings
    python benchmarks/bench_end_to_end.py --smoke    # tiny settings (CI)

Cold: a fresh output directory (no cached posterior) and a fresh PyTensor compile
directory (``PYTENSOR_FLAGS=base_compiledir=...``), so compile and sampling are paid.
Warm: the same output directory again, data and priors unchanged, so the cached
posterior is reused. Each run is a separate process, timed from outside.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--warm-runs", type=int, default=2)
    parser.add_argument("--out", help="append the Markdown table to this file")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="rm-e2e-"))
    env = dict(os.environ)
    env["PYTENSOR_FLAGS"] = f"base_compiledir={work / 'pytensor'}"
    cmd = [sys.executable, "-m", "riskmodel", "report", "--out", str(work / "report")]
    if args.smoke:
        cmd += ["--scenario", "baseline", "--paths", "100", "--horizon", "6",
                "--draws", "50", "--tune", "50", "--chains", "2"]  # fmt: skip
    try:
        cold = _run(cmd, env)
        warm = [_run(cmd, env) for _ in range(args.warm_runs)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = statistics.median(warm)
    table = (
        f"End to end, `python benchmarks/bench_end_to_end.py{' --smoke' if args.smoke else ''}`, "
        f"{dt.date.today()}, {platform.machine()} {os.cpu_count()} cores; command "
        f"`{' '.join(cmd[1:3])} ...`.\n\n"
        "| run | seconds | ratio to cold |\n|---|---|---|\n"
        f"| cold (no posterior, empty compile cache) | {cold:.1f} | 1.00 |\n"
        f"| warm (median of {len(warm)}) | {med:.1f} | {med / cold:.2f} |\n"
    )
    print(table)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as f:
            f.write(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
