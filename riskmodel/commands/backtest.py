"""``riskmodel backtest``: point-in-time forecasts from several origins, scored on history."""

from __future__ import annotations

import argparse
import sys
import time

from riskmodel.commands._common import (
    add_data_arguments,
    add_sampler_arguments,
    bounded_int,
    month_arg,
    sampler_from_args,
)

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


def _origins_arg(text: str) -> tuple[str, ...]:
    """Argparse type for a comma-separated list of ``YYYY-MM`` months."""
    months = [m.strip() for m in text.split(",") if m.strip()]
    if not months:
        raise argparse.ArgumentTypeError("expected at least one origin month YYYY-MM")
    return tuple(month_arg(m) for m in months)


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
        default=_ORIGINS,
        metavar="YYYY-MM,...",
        help=f"origin months, each run as --as-of (default {','.join(_ORIGINS)})",
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


def run(args: argparse.Namespace) -> int:
    """Run the backtest, write the outputs and print the summary."""
    from riskmodel.backtest import run_backtest
    from riskmodel.backtest.summary import markdown_table

    sampler = sampler_from_args(args) if "bayes" in args.models else None
    clock = time.perf_counter()

    def progress(res: object) -> None:
        for r in getattr(res, "runs", []):
            print(
                f"  {r['origin']} {r['model']:<8} {r['scored']:>3} scored, "
                f"{r['unavailable']:>3} unavailable ({r['seconds']:.1f} s)",
                file=sys.stderr,
            )

    result = run_backtest(
        args.origins,
        data=args.data,
        events=args.events,
        licences=args.licences,
        product=args.product,
        priors=args.priors,
        models=args.models,
        horizon=args.horizon,
        n_paths=args.paths,
        seed=args.seed,
        sampler=sampler,
        scheduler=args.scheduler,
        progress=progress,
    )
    out = result.write(args.out)
    seconds = time.perf_counter() - clock
    print(
        f"backtest of {', '.join(result.models)} from {', '.join(result.settings['origins'])}, "
        f"horizon {args.horizon}, {args.paths} paths: {len(result.scores)} scores in "
        f"{seconds:.0f} s; wrote {out}/scores.csv, summary.csv, summary.md"
    )
    print(markdown_table(result.summary()))
    if len(result.unavailable):
        n = int(result.unavailable["targets"].sum())
        print(f"{n} model-target pairs unavailable (see {out}/unavailable.csv)")
    for r in result.runs.itertuples():
        if r.model != "bayes" or r.converged not in (False,):
            continue
        print(
            f"riskmodel: warning: bayes fit from {r.origin} failed its convergence checks: "
            f"{r.notes}",
            file=sys.stderr,
        )
    return 0
