"""End to end: ``riskmodel fit`` and ``riskmodel report``, cold and warm, each its own process.

Usage::

    python benchmarks/bench_end_to_end.py            # fit and report: 1 cold + 2 warm runs each
    python benchmarks/bench_end_to_end.py --smoke    # tiny settings (CI)

Cold: a fresh PyTensor compile directory (``PYTENSOR_FLAGS=base_compiledir=...``; it
also holds PyTensor's numba cache) and a fresh output directory, so compile and sampling
are both paid. Warm ``fit``: the same compile directory, a fresh output directory every
time (``riskmodel fit`` never reuses a posterior), so only the compile caches help.
Warm ``report``: the same output directory again with data and priors unchanged, so the
cached posterior is reused. Times are taken from outside the process; the fit rows also
show the compile and sampling seconds the fit recorded in ``diagnostics.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from _shared import emit_table, run_checked

SMOKE_SAMPLER = ["--draws", "50", "--tune", "50", "--chains", "2"]


def _run(cmd: list[str], env: dict[str, str]) -> float:
    return run_checked(cmd, env)[0]


def _fit_rows(work: Path, warm_runs: int, smoke: bool) -> list[tuple[str, float, str]]:
    env = dict(os.environ, PYTENSOR_FLAGS=f"base_compiledir={work / 'pytensor-fit'}")
    rows = []
    for k in range(1 + warm_runs):
        out = work / f"fit-{k}"
        cmd = [sys.executable, "-m", "riskmodel", "fit", "--out", str(out)]
        seconds = _run(cmd + (SMOKE_SAMPLER if smoke else []), env)
        diag = json.loads((out / "diagnostics.json").read_text(encoding="utf-8"))
        detail = f"compile {diag['compile_seconds']:.1f} s, sampling {diag['seconds']:.1f} s"
        rows.append(("cold" if k == 0 else "warm", seconds, detail))
    return rows


def _report_rows(work: Path, warm_runs: int, smoke: bool) -> list[tuple[str, float, str]]:
    env = dict(os.environ, PYTENSOR_FLAGS=f"base_compiledir={work / 'pytensor-report'}")
    cmd = [sys.executable, "-m", "riskmodel", "report", "--out", str(work / "report")]
    if smoke:
        cmd += ["--scenario", "baseline", "--paths", "100", "--horizon", "6", *SMOKE_SAMPLER]
    rows = [("cold", _run(cmd, env), "fits, then forecasts and propagates")]
    rows += [("warm", _run(cmd, env), "cached posterior reused") for _ in range(warm_runs)]
    return rows


def _table(name: str, rows: list[tuple[str, float, str]]) -> str:
    cold = rows[0][1]
    warm = [s for kind, s, _ in rows if kind == "warm"]
    lines = [f"| `riskmodel {name}` cold | {cold:.1f} | 1.00 | {rows[0][2]} |"]
    for i, (_, seconds, detail) in enumerate(rows[1:], start=1):
        lines.append(
            f"| `riskmodel {name}` warm {i} | {seconds:.1f} | {seconds / cold:.2f} | {detail} |"
        )
    if warm:
        med = statistics.median(warm)
        lines.append(
            f"| `riskmodel {name}` warm, median of {len(warm)} | {med:.1f} | {med / cold:.2f} | |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--warm-runs", type=int, default=2)
    parser.add_argument("--commands", default="fit,report", help="comma list of fit, report")
    parser.add_argument("--out", help="append the Markdown table to this file")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="rm-e2e-"))
    body = ""
    try:
        for name in args.commands.split(","):
            rows_of = {"fit": _fit_rows, "report": _report_rows}.get(name)
            if rows_of is None:
                raise SystemExit(f"unknown command '{name}': choose fit and/or report")
            body += _table(name, rows_of(work, args.warm_runs, args.smoke))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table = (
        f"End to end, `python benchmarks/bench_end_to_end.py{' --smoke' if args.smoke else ''}`, "
        f"{dt.date.today()}, {platform.machine()} {os.cpu_count()} cores; default settings "
        "unless smoke.\n\n| run | seconds | ratio to cold | detail |\n|---|---|---|---|\n" + body
    )
    emit_table(table, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
