"""``riskmodel shortage``: forecast export paths → shortage probabilities by region × industry.

Reads ``DIR/paths.nc`` (the forecast stage's output), runs the Monte Carlo
propagation (:func:`riskmodel.pipeline.shortage`) under the scenario the paths carry,
writes ``shortage.csv``, ``stockout.csv`` and ``shortage.nc`` to ``--out``
(atomically), then prints the top risks.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from riskmodel.commands._common import bounded_int

#: Rows of the printed summary.
TOP_N = 8


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``shortage`` subcommand."""
    parser = subparsers.add_parser(
        "shortage",
        help="Monte Carlo propagation: export paths -> shortage probabilities by region x industry",
        description=(
            "Propagate forecast export paths (DIR/paths.nc from `riskmodel forecast`) to "
            "magnet shortages by importing region, industry and month: P(shortfall > x), "
            "expected shortfall, quantiles and CVaR of unmet demand, the month of the first "
            "stock-out and output lost in units. Writes shortage.csv, stockout.csv and "
            "shortage.nc to --out. The allocation rule is the `propagation:` block of the "
            "scenario the paths carry. The same --seed gives the same numbers whatever "
            "--chunk-size and --scheduler, and the same as 'riskmodel report --seed'."
        ),
    )
    parser.add_argument(
        "--forecast", required=True, metavar="DIR", help="forecast folder holding paths.nc"
    )
    parser.add_argument(
        "--scenario",
        metavar="NAME|PATH",
        help=(
            "only for paths that carry no scenario (baseline-model or older paths): the "
            "scenario whose `propagation:` block sets the allocation rule. Paths from "
            "`riskmodel forecast` carry theirs, and a different one here is an error"
        ),
    )
    parser.add_argument(
        "--paths",
        type=bounded_int("paths"),
        metavar="N",
        help="Monte Carlo paths (default: one per forecast path; otherwise forecast paths "
        "are resampled with replacement)",
    )
    parser.add_argument(
        "--seed",
        type=bounded_int("seed"),
        default=0,
        metavar="S",
        help="the run's seed (default 0)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS|local",
        help="run chunks on Dask: 'local' starts a local cluster, or give a scheduler address "
        "(default: in process)",
    )
    parser.add_argument(
        "--chunk-size",
        type=bounded_int("chunk_size"),
        metavar="N",
        help="paths per chunk (bounds memory; does not change results; default 8192)",
    )
    parser.add_argument(
        "--params",
        metavar="PATH",
        help="propagation parameters YAML (default: the bundled priors/propagation.yaml)",
    )
    parser.add_argument(
        "--kernel",
        choices=("auto", "numba", "numpy"),
        default="auto",
        help="kernel implementation (default auto: numba when installed)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.set_defaults(handler=run)


class _Progress:
    """A tqdm bar over chunks when stderr is a terminal, a few plain lines otherwise."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.tty = sys.stderr.isatty()
        self.next_report = 0

    def __call__(self, done: int, total: int, paths: int) -> None:
        if self.tty:
            if self.bar is None:
                from tqdm import tqdm

                self.bar = tqdm(total=total, unit="chunk", desc="shortage", file=sys.stderr)
            self.bar.update(done - self.bar.n)
            self.bar.set_postfix_str(f"{paths:,} paths", refresh=False)
            if done == total:
                self.bar.close()
            return
        step = max(1, math.ceil(total / 10))
        if done >= self.next_report or done == total:
            print(f"riskmodel: shortage: chunk {done}/{total} ({paths:,} paths)", file=sys.stderr)
            self.next_report = done + step


def _summary(ds: Any, top: int = TOP_N) -> list[str]:
    """Lines naming the region × industry pairs most at risk."""
    import numpy as np

    p = ds["p_stockout_within_horizon"]
    share = ds["expected_shortfall_share"]
    peak = share.max("month")
    peak_month = share.idxmax("month")
    median = ds["first_stockout_month"].sel(stockout_quantile=0.5)
    rows = []
    for r in ds["region"].values:
        for i in ds["industry"].values:
            rows.append(
                (
                    float(p.sel(region=r, industry=i)),
                    float(peak.sel(region=r, industry=i)),
                    str(r),
                    str(i),
                    str(median.sel(region=r, industry=i).values) or "-",
                    str(peak_month.sel(region=r, industry=i).values),
                )
            )
    rows.sort(key=lambda row: (-row[0], -row[1]))
    lines = [
        f"  {'region':<7} {'industry':<21} {'P(stock-out)':>12}  {'median first':<12}  "
        f"{'peak E[shortfall share]':<24}"
    ]
    for prob, pk, r, i, med, pm in rows[:top]:
        if not np.isfinite(pk):
            pk = 0.0
        lines.append(f"  {r:<7} {i:<21} {prob:>12.3f}  {med:<12}  {pk:>6.3f} ({pm})")
    return lines


def run(args: argparse.Namespace) -> int:
    """Run the subcommand."""
    from riskmodel.pipeline import shortage
    from riskmodel.propagation import DEFAULT_CHUNK_SIZE, read_paths, write_shortage_outputs

    ds = shortage(
        read_paths(args.forecast),
        scenario=args.scenario,
        params=args.params,
        n_paths=args.paths,
        seed=args.seed,
        chunk_size=args.chunk_size or DEFAULT_CHUNK_SIZE,
        scheduler=args.scheduler,
        kernel=args.kernel,
        progress=_Progress(),
    )
    files = write_shortage_outputs(ds, args.out)
    attrs = ds.attrs
    resampled = ", resampled" if attrs["resampled_forecast_paths"] else ""
    print(
        f"riskmodel shortage: {attrs['n_paths']:,} paths ({attrs['n_forecast_paths']:,} forecast "
        f"paths{resampled}), scenario {attrs['scenario'] or '-'}, allocation "
        f"{attrs['allocation']}, seed {attrs['run_seed']}, {ds.sizes['month']} months "
        f"{ds['month'].values[0]}..{ds['month'].values[-1]}"
    )
    if attrs.get("regions_without_data"):
        print(f"  regions without data in the paths: {attrs['regions_without_data']}")
    print("Top risks (P(stock-out within the horizon), median month of the first stock-out):")
    for line in _summary(ds):
        print(line)
    print("wrote " + ", ".join(str(p) for p in files.values()))
    return 0
