"""Warm report rendering: seconds to draw the figures and write a report, no model fit.

Usage::

    python benchmarks/bench_report.py            # a real run's size (6 regions x 11 industries)
    python benchmarks/bench_report.py --smoke    # the small test fixture, one repeat

The stage outputs are synthetic (``tests/report/synthetic_report.py``: the bundled
customs history and events, made-up forecasts and shortages shaped like the real
ones), written before any timing. The full size matches a default
``riskmodel report``: 6 regions x 11 industries, 18 forecast months, 4 scenarios,
1,000 paths. Each repeat renders a fresh report directory with
:func:`riskmodel.report.render_report`; the time of each figure kind (summed over
scenarios) is measured by wrapping the figure functions render.py calls. Times are
wall-clock and per CPU-second of the process (on a shared machine wall time
grows with the load, CPU time less); the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "report")]  # this checkout's riskmodel

import synthetic_report  # noqa: E402

from riskmodel.report import render, render_report  # noqa: E402

FIGURES = ("approval_figure", "fan_figure", "heatmap_figure", "stockout_figure", "_shock_figure")
SCENARIOS = ("unconditional", "baseline", "suspension_lapse", "us_embargo")


def _timed(totals: dict[str, list[float]]) -> None:
    """Wrap the figure functions render.py calls so each call adds to ``totals``."""
    for name in FIGURES:
        original = getattr(render, name)

        def wrapper(*args, _f=original, _n=name, **kwargs):
            start = time.perf_counter()
            try:
                return _f(*args, **kwargs)
            finally:
                totals[_n][-1] += time.perf_counter() - start

        setattr(render, name, wrapper)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small fixture, one repeat")
    parser.add_argument("--repeats", type=int, default=3, help="renders timed (default 3)")
    args = parser.parse_args(argv)
    repeats = 1 if args.smoke else max(1, args.repeats)
    totals: dict[str, list[float]] = defaultdict(list)
    walls: list[float] = []
    cpus: list[float] = []
    _timed(totals)
    with tempfile.TemporaryDirectory(prefix="bench_report_") as tmp:
        kwargs = (
            {"scenarios": SCENARIOS[1:]}
            if args.smoke
            else {
                "scenarios": SCENARIOS,
                "regions": synthetic_report.FULL_REGIONS,
                "n_paths": 1000,
            }
        )
        run = synthetic_report.make_inputs(Path(tmp) / "stages", **kwargs)
        for name in FIGURES:
            totals[name].append(0.0)
        render_report(run, Path(tmp) / "warmup")  # imports, font cache
        for name in FIGURES:
            totals[name].clear()
        load_before = os.getloadavg()
        for k in range(repeats):
            for name in FIGURES:
                totals[name].append(0.0)
            c0, w0 = time.process_time(), time.perf_counter()
            render_report(run, Path(tmp) / f"report{k}")
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
        load_after = os.getloadavg()
    size = "small fixture" if args.smoke else "6 regions x 11 industries, 4 scenarios"
    print(f"Report rendering, {size}, {repeats} repeat(s); median shown.")
    print(
        "Load average before: "
        + " ".join(f"{v:.2f}" for v in load_before)
        + "; after: "
        + " ".join(f"{v:.2f}" for v in load_after)
    )
    print()
    print("| part | wall s | CPU s |")
    print("|---|---|---|")

    def median(values: list[float]) -> float:
        ordered = sorted(values)
        return ordered[len(ordered) // 2]

    print(f"| render_report (total) | {median(walls):.2f} | {median(cpus):.2f} |")
    for name in FIGURES:
        if totals[name]:
            print(f"| {name} | {median(totals[name]):.2f} | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
