"""``riskmodel forecast``: export paths by destination under a scenario."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

from riskmodel.commands._common import (
    add_data_arguments,
    add_sampler_arguments,
    bounded_int,
    inputs_from_args,
    sampler_from_args,
)

MODELS = ("bayes", "snaive", "ets", "sarimax")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``forecast`` subcommand."""
    parser = subparsers.add_parser(
        "forecast",
        help="forecast monthly exports by destination under a scenario",
        description=(
            "Draw posterior predictive export paths (path x destination x month) under a "
            "scenario and write DIR/forecast.csv (quantiles) and DIR/paths.nc (all paths, "
            "carrying the whole scenario for 'riskmodel shortage'). With --fit DIR the "
            "saved fit is reused alone: it records its data's regime schedule, as-of and "
            "settings, so no data are read. Without it the model is fitted first with the "
            "defaults of 'riskmodel fit'. The forecast starts the month after the last data "
            "month, or at --as-of. The same --seed as 'riskmodel fit' and 'riskmodel report' "
            "gives the same numbers."
        ),
    )
    parser.add_argument("--fit", metavar="DIR", help="a directory written by 'riskmodel fit'")
    add_data_arguments(parser)
    parser.add_argument(
        "--scenario",
        metavar="NAME|PATH",
        help="bundled scenario name or a scenario YAML file. Default: unconditional (new "
        "controls, tightening, deals and relief can happen inside the horizon, at rates "
        "learned from the policy events); baseline, escalation, relief, us_embargo and "
        "suspension_lapse are conditional forecasts ('given that this happens'). The "
        "statsmodels baselines know no regimes and take baseline only",
    )
    parser.add_argument(
        "--horizon", type=bounded_int("horizon"), default=12, help="months ahead (12)"
    )
    parser.add_argument(
        "--paths", type=bounded_int("paths"), default=2000, help="number of paths (2000)"
    )
    parser.add_argument(
        "--model", choices=MODELS, default="bayes", help="bayes (default) or a baseline"
    )
    add_sampler_arguments(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.set_defaults(handler=run)


#: Options that choose or shape a fit; ``--fit DIR`` forecasts from the saved fit alone.
_FIT_OPTIONS = ("data", "events", "licences", "product", "as_of", "priors")


def run(args: argparse.Namespace) -> int:
    """Forecast and write the outputs."""
    from riskmodel.exceptions import ConvergenceWarning, RiskModelError
    from riskmodel.pipeline import (
        DEFAULT_SCENARIO,
        carry_scenario,
        fit,
        forecast,
        resolve_scenario,
        write_forecast,
    )
    from riskmodel.seeds import stage_seeds

    default = DEFAULT_SCENARIO if args.model == "bayes" else "baseline"
    scenario = resolve_scenario(args.scenario or default)
    if args.fit:
        given = [f"--{k.replace('_', '-')}" for k in _FIT_OPTIONS if getattr(args, k) is not None]
        if given or args.model != "bayes":
            what = ", ".join(given) if given else f"--model {args.model}"
            raise RiskModelError(
                f"--fit forecasts from the saved fit alone, which records its data, as-of "
                f"and priors: drop {what} (or refit with 'riskmodel fit')"
            )
        from riskmodel.models.fit import load_fit

        fitted = load_fit(args.fit)
    elif args.model != "bayes":
        from riskmodel.forecast.baseline_paths import baseline_paths

        if scenario.name != "baseline":
            raise RiskModelError(
                f"--model {args.model} cannot apply scenario '{scenario.name}': baselines "
                "know no licensing regimes (use --model bayes)"
            )
        paths = baseline_paths(
            inputs_from_args(args),
            method=args.model,
            horizon=args.horizon,
            n_paths=args.paths,
            rng=stage_seeds(args.seed).forecast,
        )
        carry_scenario(paths, scenario)
    else:
        from riskmodel.models.fit import check_fit_folder

        check_fit_folder(Path(args.out) / "fit")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted = fit(
                inputs_from_args(args),
                priors=args.priors,
                sampler=sampler_from_args(args, progress=sys.stderr.isatty()),
                seed=args.seed,
            )
        fitted.save(Path(args.out) / "fit")
        if not fitted.diagnostics.passed:
            print(
                "riskmodel: warning: convergence checks failed: "
                + "; ".join(fitted.diagnostics.failures),
                file=sys.stderr,
            )
    if args.model == "bayes":
        events = None
        if getattr(args, "events", None) and not args.fit:
            from riskmodel.customs import read_policy_events

            events = read_policy_events(args.events)  # the unconditional forecast's rates
        paths = forecast(
            fitted,
            scenario=scenario,
            horizon=args.horizon,
            n_paths=args.paths,
            seed=args.seed,
            events=events,
        )
    out = write_forecast(paths, args.out)
    months = paths["month"].values
    print(
        f"{args.model} forecast, scenario '{scenario.name}', {args.paths} paths, "
        f"{months[0]}..{months[-1]}: wrote {out}/forecast.csv and paths.nc"
    )
    last = paths["exports"].isel(month=-1)
    for dest in paths["destination"].values[:6]:
        v = last.sel(destination=dest).values
        q = [float(x) for x in np.quantile(v, [0.05, 0.5, 0.95])]
        print(f"  {dest:<16} {months[-1]}: median {q[1]:,.0f} t (90% {q[0]:,.0f}-{q[2]:,.0f})")
    return 0
