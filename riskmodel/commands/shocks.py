"""``riskmodel shocks``: the shape of an export-control shock, learned from past episodes.

``riskmodel shocks learn`` fits the approval-rate model to every past control episode
in the customs data, pools them in a hierarchical model of the shape of a new
control, checks it leave-one-out and writes ``priors/shock_shape.yaml`` atomically.
``riskmodel shocks table`` prints the episode table (median and 90% interval of each
quantity) from that file, and draws the comparison figure with ``--figure``.
Heavy imports (PyMC) happen only in ``learn``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from riskmodel.commands._common import bounded_int

__all__ = ["add_parser", "run_learn", "run_table"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``shocks`` subcommand group."""
    parser = subparsers.add_parser(
        "shocks",
        help="learn the shape of a control shock from past episodes",
        description=(
            "Past export-control episodes (gallium, germanium, graphite, bismuth, tungsten, "
            "magnets, rare earths to Japan in 2010): measure each shock's depth, timing and "
            "recovery, and learn the prior of a new control (priors/shock_shape.yaml)."
        ),
    )
    sub = parser.add_subparsers(dest="shocks_command", metavar="ACTION")
    sub.required = True
    learn = sub.add_parser(
        "learn",
        help="fit the episodes, pool them and write priors/shock_shape.yaml",
        description=(
            "Fit the approval-rate model to each episode (NUTS), pool the episodes in a "
            "hierarchical model of control_multiplier's shape, check it leave-one-out, and "
            "write the learned prior atomically (a failed run leaves the old file). Takes "
            "about twenty minutes on 2 cores."
        ),
    )
    learn.add_argument(
        "--out",
        metavar="PATH",
        help="where to write the learned shape (default: priors/shock_shape.yaml)",
    )
    learn.add_argument("--data", nargs="+", metavar="PATH", help="customs CSV files (bundled)")
    learn.add_argument("--events", metavar="PATH", help="policy events CSV (bundled)")
    learn.add_argument(
        "--draws",
        type=bounded_int("draws"),
        default=1000,
        help="draws per chain, episode fits (1000)",
    )
    learn.add_argument(
        "--tune",
        type=bounded_int("tune"),
        default=1000,
        help="warm-up per chain, episode fits (1000)",
    )
    learn.add_argument(
        "--chains", type=bounded_int("chains"), default=2, help="chains, episode fits (2)"
    )
    learn.add_argument("--seed", type=int, default=0, help="random seed (0)")
    learn.add_argument(
        "--no-loo", action="store_true", help="skip the leave-one-out check (faster)"
    )
    learn.set_defaults(handler=run_learn)

    table = sub.add_parser(
        "table",
        help="print the episode table (and draw the figure)",
        description=(
            "Print one row per control episode: depth (lowest approval), months to the low, "
            "months to 80%% of normal, long-run level, mean approval after the effect, the "
            "pre-control rush and the effect day; median and 90%% interval. Read from the "
            "learned-shape file (no sampling)."
        ),
    )
    table.add_argument(
        "--shape",
        metavar="PATH",
        help="learned-shape file to read (default: priors/shock_shape.yaml)",
    )
    table.add_argument("--figure", metavar="PATH", help="also write the comparison figure (PNG)")
    table.add_argument("--csv", metavar="PATH", help="also write the table as CSV")
    table.set_defaults(handler=run_table)


def run_learn(args: argparse.Namespace) -> int:
    """Learn the shape and write it."""
    from riskmodel.sampling import SamplerConfig, default_backend
    from riskmodel.shocks import (
        episode_table,
        format_episode_table,
        learn_shock_shape,
        write_shock_shape,
    )

    sampler = SamplerConfig(
        backend=default_backend(),
        chains=args.chains,
        tune=args.tune,
        draws=args.draws,
        seed=args.seed,
    )
    result = learn_shock_shape(
        args.data,
        args.events,
        episode_sampler=sampler,
        seed=args.seed,
        loo=not args.no_loo,
        progress=lambda msg: print(f"riskmodel: {msg}", file=sys.stderr),
    )
    path = write_shock_shape(result, args.out)
    print(format_episode_table(episode_table(result)))
    print()
    for key, spec in result.specs.items():
        (lo, hi), mid = spec.interval(0.9), spec.quantile(0.5)
        print(f"{key:<26} {spec.describe()}  median {mid:.2f} (90% {lo:.2f}-{hi:.2f})")
    if result.loo is not None:
        print(
            f"leave-one-out: {result.loo.coverage(0.9):.0%} of {len(result.loo.table)} held-out "
            f"months inside the 90% intervals, {result.loo.coverage(0.5):.0%} inside the 50% ones"
        )
    print(f"wrote {path}")
    return 0


def run_table(args: argparse.Namespace) -> int:
    """Print the table from the learned-shape file."""
    from riskmodel.atomic import atomic_write
    from riskmodel.shocks import episode_table, format_episode_table, read_shock_shape

    doc = read_shock_shape(args.shape)
    table = episode_table(doc)
    print(format_episode_table(table))
    loo = doc.get("leave_one_out")
    if loo:
        print(
            f"\nleave-one-out: {loo['coverage_90']:.0%} of {loo['windows']} held-out months "
            f"inside the 90% intervals, {loo['coverage_50']:.0%} inside the 50% ones"
        )
    if args.csv:
        atomic_write(Path(args.csv), lambda p: table.to_csv(p, index=False, float_format="%.6g"))
        print(f"wrote {args.csv}")
    if args.figure:
        from riskmodel.shocks import shock_figure

        shock_figure(table, doc, args.figure, shape_file=args.shape)
        print(f"wrote {args.figure}")
    return 0
