"""``riskmodel drivers``: what drives the headline shortage risks of a forecast.

Reads ``DIR/paths.nc``, splits the uncertainty of the largest P(short) by region x
industry x month into input groups (:func:`riskmodel.propagation.drivers.shortage_drivers`)
and writes ``drivers.csv`` to ``--out``; with ``--judgement`` also ``judgement.csv``
(each judgement parameter at its 5th and 95th percentile) and ``parameters.csv``
(every parameter, sourced or judgement). ``--seed S`` is the run's seed, as in
``riskmodel report --seed S``, so the shares are the report's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from riskmodel.commands._common import bounded_int


def _positive(text: str) -> int:
    """Argparse type for a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r:.40}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``drivers`` subcommand."""
    parser = subparsers.add_parser(
        "drivers",
        help="what drives the headline shortage risks: variance shares by input group",
        description=(
            "Split the uncertainty of the largest shortage risks of a forecast (DIR/paths.nc) "
            "into input groups (China's exports, demand, inventories, ...) by first-order and "
            "total Sobol shares (pick-freeze), and write drivers.csv to --out. The same --seed "
            "and --paths give the same shares as 'riskmodel report --seed'."
        ),
    )
    parser.add_argument(
        "--forecast", required=True, metavar="DIR", help="forecast folder holding paths.nc"
    )
    parser.add_argument(
        "--scenario",
        metavar="NAME|PATH",
        help="only for paths that carry no scenario: the scenario whose allocation rule applies",
    )
    parser.add_argument(
        "--params", metavar="PATH", help="propagation parameters YAML (default: the bundled one)"
    )
    parser.add_argument(
        "--paths",
        type=bounded_int("paths"),
        metavar="N",
        help="Monte Carlo paths per sample; the run simulates 14 x N (default 4000, as the report)",
    )
    parser.add_argument(
        "--seed", type=bounded_int("seed"), default=0, metavar="S", help="the run's seed (0)"
    )
    parser.add_argument(
        "--top",
        type=_positive,
        metavar="K",
        help="headline risks to decompose: the region x industry pairs with the largest "
        "P(short), each at its peak month (default 5)",
    )
    parser.add_argument(
        "--judgement",
        action="store_true",
        help="also hold each judgement parameter at its 5th and 95th percentile "
        "(judgement.csv) and list every parameter's provenance (parameters.csv)",
    )
    parser.add_argument(
        "--kernel", choices=("auto", "numba", "numpy"), default="auto", help="kernel (auto)"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the subcommand."""
    import pandas as pd

    from riskmodel.atomic import atomic_write
    from riskmodel.pipeline import shortage_scenario
    from riskmodel.propagation import load_params, read_paths
    from riskmodel.propagation.drivers import (
        DEFAULT_DRIVER_PATHS,
        DEFAULT_TOP,
        judgement_sweep,
        shortage_drivers,
    )
    from riskmodel.seeds import stage_seeds

    paths = read_paths(args.forecast)
    params = load_params(args.params)
    scenario = shortage_scenario(paths, args.scenario)
    seed = stage_seeds(args.seed).shortage
    n_paths = args.paths or DEFAULT_DRIVER_PATHS
    opts = {"scenario": scenario, "n_paths": n_paths, "seed": seed, "top": args.top or DEFAULT_TOP}
    frames = {"drivers.csv": shortage_drivers(paths, params, kernel=args.kernel, **opts)}
    if args.judgement:
        frames["judgement.csv"] = judgement_sweep(paths, params, kernel=args.kernel, **opts)
        frames["parameters.csv"] = pd.DataFrame(params.summary())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        atomic_write(out / name, lambda p, f=frame: f.to_csv(p, index=False, float_format="%.6g"))
    drivers = frames["drivers.csv"]
    print(
        f"riskmodel drivers: scenario {paths.attrs.get('scenario') or '-'}, "
        f"{n_paths:,} paths x {drivers['group'].nunique() + 2} samples, run seed {args.seed}"
    )
    for (region, industry, month), cell in drivers.groupby(
        ["region", "industry", "month"], sort=False
    ):
        top = ", ".join(
            f"{r.group} {r.first_order:.2f} (total {r.total:.2f})"
            for r in cell.head(3).itertuples(index=False)
        )
        print(
            f"  {region:<6} {industry:<21} {month}  P(short) {cell['p_short'].iloc[0]:.3f}: {top}"
        )
    print("wrote " + ", ".join(str(out / name) for name in frames))
    return 0
