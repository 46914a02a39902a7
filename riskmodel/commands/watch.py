"""``riskmodel watch``: place a new customs release in the previous forecast and flag surprises."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from riskmodel.commands._common import write_json


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``watch`` subcommand."""
    parser = subparsers.add_parser(
        "watch",
        help="flag new customs figures outside the previous forecast's central 90%%",
        description=(
            "Early warning at a customs release. Each observation of the new data (one "
            "destination's figure for a month, or a total over several months) is placed "
            "in the previous forecast's distribution of the reported figure (customs noise "
            "included): its PIT and tail probability. A figure outside the central 90% "
            "raises an alert with a plain sentence. Figures the forecast cannot judge "
            "(months before its first month, after its last, a destination it did not "
            "forecast) are listed as such. DIR is a forecast folder (paths.nc, from "
            "'riskmodel forecast') or a report folder (its headline scenario's "
            "scenarios/<name>/predictive.nc). No model is fitted."
        ),
    )
    parser.add_argument(
        "--previous",
        required=True,
        metavar="DIR",
        help="the previous forecast folder (paths.nc) or report folder",
    )
    parser.add_argument(
        "--data",
        required=True,
        nargs="+",
        metavar="PATH",
        help="customs CSV file(s) in the input format holding the new release",
    )
    parser.add_argument(
        "--scenario",
        metavar="NAME",
        help="with a report folder: the scenario whose forecast to use (default: the "
        "headline's, normally unconditional)",
    )
    parser.add_argument("--out", metavar="FILE", help="also write the checks as JSON here")
    parser.add_argument(
        "--all",
        action="store_true",
        help="list every figure already observed when the forecast was made (default: count them)",
    )
    parser.add_argument(
        "--fail-on-alert", action="store_true", help="exit 1 when any figure raised an alert"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Read the forecast and the new data, place the figures, print the alerts."""
    from riskmodel.exceptions import RiskModelError
    from riskmodel.forecast.alerts import find_forecast, load_forecast, new_observations, watch

    for path in args.data:
        if not Path(path).is_file():
            raise RiskModelError(f"data file not found: {path}")
    if args.out and Path(args.out).is_dir():
        raise RiskModelError(f"--out {args.out}: is a folder; give a file name")
    where = find_forecast(args.previous, scenario=args.scenario)
    paths = load_forecast(where)
    product = str(paths.attrs.get("product", "")) or None
    observations = new_observations(args.data, product)
    result = watch(paths, observations, source=str(where))
    scenario = result.scenario or "unknown"
    print(
        f"previous forecast: {where} (scenario '{scenario}', {result.n_paths} paths, "
        f"{result.forecast_months[0]}..{result.forecast_months[-1]})"
    )
    if scenario != "unconditional":
        print(
            f"note: the forecast is conditional on scenario '{scenario}'; the unconditional "
            "forecast is the one to judge surprises against"
        )
    print(
        f"{len(result.scored)} new figure(s) scored, {len(result.alerts)} outside the central 90%:"
    )
    for line in result.lines(before_origin=args.all):
        print(f"  {line}")
    if args.out:
        write_json(Path(args.out), result.to_dict())
        print(f"wrote {args.out}", file=sys.stderr)
    return 1 if args.fail_on_alert and result.alerts else 0
