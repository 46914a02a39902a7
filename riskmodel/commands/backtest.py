"""``riskmodel backtest``: point-in-time forecasts from several origins, scored on history."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskmodel.commands._common import (
    add_data_arguments,
    add_sampler_arguments,
    bounded_int,
    month_arg,
    sampler_from_args,
)

if TYPE_CHECKING:
    import pandas as pd

_MODELS = ("bayes", "snaive", "ets", "sarimax")
_ORIGINS = ("2025-03", "2025-05", "2025-07", "2025-10")


def _models_arg(text: str) -> tuple[str, ...]:
    """Argparse type for a comma-separated list of models."""
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    bad = [n for n in names if n not in _MODELS]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"unknown model(s) {', '.join(bad) or '(none)'}; choose from {','.join(_MODELS)}"
        )
    return names


#: Most origins one --origins value may expand to (20 years of monthly origins).
_MAX_ORIGINS = 240


def _origins_arg(text: str) -> tuple[str, ...]:
    """Argparse type for origins: ``YYYY-MM`` months and ``YYYY-MM:YYYY-MM`` monthly ranges.

    Items are separated by commas; a range is inclusive, e.g. ``2023-01:2025-09`` is
    the 33 months from January 2023 to September 2025.
    """
    import pandas as pd

    items = [m.strip() for m in text.split(",") if m.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected at least one origin month YYYY-MM")
    months: list[str] = []
    for item in items:
        start, sep, stop = item.partition(":")
        if not sep:
            months.append(month_arg(start.strip()))
            continue
        a, b = month_arg(start.strip()), month_arg(stop.strip())
        if pd.Period(b, freq="M") < pd.Period(a, freq="M"):
            raise argparse.ArgumentTypeError(f"origin range {item!r} ends before it starts")
        months += [str(p) for p in pd.period_range(a, b, freq="M")]
        if len(months) > _MAX_ORIGINS:
            break
    out = tuple(dict.fromkeys(months))
    if len(out) > _MAX_ORIGINS:
        raise argparse.ArgumentTypeError(f"more than {_MAX_ORIGINS} origins in {text!r:.60}")
    return out


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``backtest`` subcommand."""
    parser = subparsers.add_parser(
        "backtest",
        help="score point-in-time forecasts from several origins against what happened",
        description=(
            "For each origin month, forecast exactly as 'riskmodel forecast --as-of ORIGIN' "
            "(only customs months before the origin and events up to its end; the Bayesian "
            "model is fitted per origin and forecast unconditionally, with policy events at "
            "learned rates), then score every later observation of the full data that lies "
            "wholly inside the horizon (a sum over several months is scored as the sum of "
            "the paths): CRPS, weighted interval score, absolute error of the median, PIT, "
            "and whether the 50/80/95% intervals held the actual. Writes DIR/scores.csv, "
            "DIR/summary.csv, DIR/summary.md, DIR/unavailable.csv (targets a model could not "
            "forecast, with the reason), DIR/runs.csv (timings, convergence), DIR/pit.csv "
            "and DIR/diebold_mariano.csv. See docs/backtest.md."
        ),
    )
    add_data_arguments(parser, as_of=False)
    parser.add_argument(
        "--models",
        type=_models_arg,
        default=_MODELS,
        metavar="LIST",
        help=f"comma-separated models ({','.join(_MODELS)}; default all)",
    )
    parser.add_argument(
        "--origins",
        type=_origins_arg,
        default=None,
        metavar="YYYY-MM,...",
        help="origin months, each run as --as-of; YYYY-MM:YYYY-MM is every month of a range "
        f"(default {','.join(_ORIGINS)}; with --wide, the magnet origins of the plan, "
        "2023-01:2025-09)",
    )
    parser.add_argument(
        "--wide",
        action="store_true",
        help="the wide backtest: the magnet series from monthly origins 2023-01:2025-09 and "
        "every other bundled product from origins around its control episodes, scored by "
        "scope (all, World, United States, calm, policy, after_control); outputs per product "
        "in DIR/PRODUCT and pooled in DIR (see docs/backtest.md)",
    )
    parser.add_argument(
        "--parts",
        metavar="LIST",
        help="with --wide: comma-separated products of the plan to run (default all)",
    )
    parser.add_argument(
        "--horizon", type=bounded_int("horizon"), default=6, help="months ahead (6)"
    )
    parser.add_argument(
        "--paths",
        type=bounded_int("paths"),
        default=1000,
        help="paths per model and origin (1000)",
    )
    add_sampler_arguments(parser)
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS|local",
        help="run origins in parallel on Dask: 'local' starts a 2-process local cluster, or "
        "give a scheduler address (default: one after another in this process; the "
        "results are the same)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.set_defaults(handler=run)


def _progress(res: object) -> None:
    """Print one line per model of a finished origin on stderr."""
    for r in getattr(res, "runs", []):
        print(
            f"  {r['origin']} {r['model']:<8} {r['scored']:>3} scored, "
            f"{r['unavailable']:>3} unavailable ({r['seconds']:.1f} s)",
            file=sys.stderr,
            flush=True,
        )


def _wide_plan(args: argparse.Namespace) -> tuple:
    """Return the plan of ``--wide``: WIDE_PLAN, cut by --parts, magnets by --origins."""
    import dataclasses

    from riskmodel.backtest.wide import WIDE_PLAN
    from riskmodel.exceptions import DataValidationError

    if args.data is not None or args.product is not None:
        raise DataValidationError(
            "--wide runs the bundled products of its plan; drop --data and --product"
        )
    plan = list(WIDE_PLAN)
    if args.parts is not None:
        names = [n.strip() for n in args.parts.split(",") if n.strip()]
        known = [p.product for p in plan]
        bad = [n for n in names if n not in known]
        if bad or not names:
            raise DataValidationError(
                f"--parts: unknown product(s) {', '.join(bad) or '(none)'}; "
                f"choose from {','.join(known)}"
            )
        plan = [p for p in plan if p.product in names]
    if args.origins is not None:
        plan = [
            dataclasses.replace(p, origins=args.origins, why="origins from --origins")
            if p.product == "magnets"
            else p
            for p in plan
        ]
    return tuple(plan)


def _run_settings(args: argparse.Namespace, sampler: Any) -> dict[str, Any]:
    """Return the arguments that :func:`run_backtest` and :func:`run_wide_backtest` share."""
    return {
        "events": args.events,
        "licences": args.licences,
        "priors": args.priors,
        "models": args.models,
        "horizon": args.horizon,
        "n_paths": args.paths,
        "seed": args.seed,
        "sampler": sampler,
        "scheduler": args.scheduler,
        "progress": _progress,
    }


def _print_unavailable(unavailable: pd.DataFrame, out: Path) -> None:
    """Say how many model-target pairs could not be scored, if any."""
    if len(unavailable):
        n = int(unavailable["targets"].sum())
        print(f"{n} model-target pairs unavailable (see {out}/unavailable.csv)")


def _run_wide(args: argparse.Namespace, sampler: object, clock: float) -> int:
    """Run ``--wide``, write DIR and print the pooled summary."""
    from riskmodel.backtest.summary import markdown_table
    from riskmodel.backtest.wide import run_wide_backtest

    plan = _wide_plan(args)
    result = run_wide_backtest(plan, **_run_settings(args, sampler))
    out = result.write(args.out)
    seconds = time.perf_counter() - clock
    print(
        f"wide backtest of {', '.join(result.models)} over {len(plan)} products, horizon "
        f"{args.horizon}, {args.paths} paths: {len(result.scores)} scores in {seconds:.0f} s; "
        f"wrote {out}/summary.md and one directory per product"
    )
    summary = result.summary()
    print(markdown_table(summary[summary["product"] == "all"]))
    _print_unavailable(result.unavailable, out)
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the backtest, write the outputs and print the summary."""
    from riskmodel.backtest import run_backtest
    from riskmodel.backtest.summary import markdown_table

    sampler = sampler_from_args(args) if "bayes" in args.models else None
    clock = time.perf_counter()
    if args.wide or args.parts is not None:
        return _run_wide(args, sampler, clock)
    if args.origins is None:
        args.origins = _ORIGINS

    result = run_backtest(
        args.origins, data=args.data, product=args.product, **_run_settings(args, sampler)
    )
    out = result.write(args.out)
    seconds = time.perf_counter() - clock
    print(
        f"backtest of {', '.join(result.models)} from {', '.join(result.settings['origins'])}, "
        f"horizon {args.horizon}, {args.paths} paths: {len(result.scores)} scores in "
        f"{seconds:.0f} s; wrote {out}/scores.csv, summary.csv, summary.md"
    )
    print(markdown_table(result.summary()))
    _print_unavailable(result.unavailable, out)
    for r in result.runs.itertuples():
        if r.model != "bayes" or r.converged not in (False,):
            continue
        print(
            f"riskmodel: warning: bayes fit from {r.origin} failed its convergence checks: "
            f"{r.notes}",
            file=sys.stderr,
        )
    return 0
