"""``riskmodel fit``: fit the joint approval/volume model with NUTS and save the posterior."""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from pathlib import Path

from riskmodel.commands._common import (
    add_data_arguments,
    add_sampler_arguments,
    inputs_from_args,
    sampler_from_args,
)

log = logging.getLogger("riskmodel")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``fit`` subcommand."""
    parser = subparsers.add_parser(
        "fit",
        help="fit the Bayesian model (PyMC, NUTS) and save posterior and diagnostics",
        description=(
            "Fit the joint model of licence approval rates and export volumes to customs "
            "series, check convergence (R-hat, ESS, divergences, BFMI), and write "
            "DIR/posterior.nc, DIR/diagnostics.json and DIR/approval.csv. The first fit in "
            "a fresh environment compiles the model (tens of seconds); later fits reuse "
            "the compiled code from the on-disk caches."
        ),
    )
    add_data_arguments(parser)
    add_sampler_arguments(parser)
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 if the fit fails its convergence checks"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Fit and save."""
    from riskmodel.exceptions import ConvergenceWarning
    from riskmodel.models.export_model import load_model_priors
    from riskmodel.models.fit import check_fit_folder
    from riskmodel.pipeline import fit

    check_fit_folder(args.out)  # before the data are read or anything compiled
    priors = load_model_priors(args.priors)  # a bad file fails before the "fitting" line
    inputs = inputs_from_args(args)
    sampler = sampler_from_args(args, progress=sys.stderr.isatty())
    print(
        f"fitting '{inputs.product}': {len(inputs.destinations)} destinations x "
        f"{inputs.n_months} months ({inputs.months[0]}..{inputs.months[-1]}), "
        f"{len(inputs.obs_quantity)} observations, {inputs.regimes.n_regimes} regimes; "
        f"{sampler.backend}, {sampler.chains} chains x ({sampler.tune} + {sampler.draws})",
        file=sys.stderr,
    )
    for note in inputs.dropped:
        log.info("not modelled: %s", note)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # reported below instead
        fitted = fit(inputs, priors=priors, sampler=sampler, seed=args.seed)
    out = fitted.save(Path(args.out))
    d = fitted.diagnostics
    status = "passed" if d.passed else "FAILED: " + "; ".join(d.failures)
    print(
        f"max R-hat {d.max_rhat:.3f}, min bulk ESS {d.min_ess_bulk:.0f}, min tail ESS "
        f"{d.min_ess_tail:.0f}, divergences {d.divergences}, min BFMI {d.min_bfmi:.2f}: {status}"
    )
    print(
        f"compile {fitted.timings['compile_seconds']:.1f} s, sampling "
        f"{fitted.timings['seconds']:.1f} s; wrote {out}/posterior.nc, diagnostics.json, "
        "approval.csv"
    )
    if not d.passed:
        print(f"riskmodel: warning: convergence checks failed: {status}", file=sys.stderr)
        if args.strict:
            return 1
    return 0
