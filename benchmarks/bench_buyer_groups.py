"""What the buyer groups cost: ``propagate`` with the bundled buyer block against one group.

Usage::

    python benchmarks/bench_buyer_groups.py                 # 8,192 paths x 36 months, 5 repeats
    python benchmarks/bench_buyer_groups.py --paths 2048 --repeats 3 --out benchmarks/RESULTS.md

With a ``buyers`` block the engine runs the propagation kernel once per buyer group on
paths with a licensing month (:mod:`riskmodel.propagation.buyers`); with one group the
result is the representative buyer's, bit for bit, at the cost of one pass. Both
settings run on the same synthetic forecast paths (``bench_propagation.synthetic_paths``:
approval below 1 in every month, so every month from 2026 is a licensing month), in
process, numba kernel, interleaved repeat by repeat so that both see the same machine
load; one warm-up run of each compiles the kernel first. Shown: median wall seconds
per run and their ratio.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import time
from datetime import UTC, datetime

from _shared import emit_table
from bench_propagation import MONTHS, synthetic_paths

from riskmodel.config.yamlio import read_yaml
from riskmodel.propagation import parse_params, propagate
from riskmodel.propagation.params import default_params_path


def _params(groups: int):
    raw = copy.deepcopy(read_yaml(default_params_path()))
    raw["buyers"]["groups"] = groups
    return parse_params(raw, source=f"bundled, buyers.groups = {groups}")


def main(argv: list[str] | None = None) -> int:
    """Time both settings and print (or append) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=8192)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", help="append the Markdown table to this file")
    args = parser.parse_args(argv)

    bundled = read_yaml(default_params_path())["buyers"]["groups"]
    settings = {
        "one group (representative buyer)": _params(1),
        f"{bundled} groups": _params(bundled),
    }
    paths = synthetic_paths(n_paths=args.paths, n_months=MONTHS)
    times: dict[str, list[float]] = {name: [] for name in settings}
    for params in settings.values():  # warm-up: compile the kernel
        propagate(paths, params, seed=0)
    for _ in range(args.repeats):
        for name, params in settings.items():
            start = time.perf_counter()
            propagate(paths, params, seed=0)
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["one group (representative buyer)"])
    rows = [
        "| setting | median s | runs (s) | ratio to one group |",
        "|---|---|---|---|",
    ]
    for name, runs in times.items():
        med = statistics.median(runs)
        listed = ", ".join(f"{t:.2f}" for t in runs)
        rows.append(f"| {name} | {med:.2f} | {listed} | {med / base:.2f} |")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    header = (
        f"\n### Buyer groups: `propagate` cost ({stamp})\n\n"
        f"`python benchmarks/bench_buyer_groups.py --paths {args.paths} --repeats "
        f"{args.repeats}`: {args.paths:,} paths x {MONTHS} months, in process, numba kernel; "
        f"{platform.machine()}, {os.cpu_count()} CPUs, load average {load}.\n"
    )
    emit_table(header + "\n" + "\n".join(rows) + "\n", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
