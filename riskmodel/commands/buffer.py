"""``riskmodel buffer``: the extra stock that keeps P(stock-out within H months) below a target.

Reads ``DIR/paths.nc`` of one or more forecasts (one scenario each), sizes the buffer
for every region and industry (:func:`riskmodel.propagation.buffer.buffer`) and
writes ``buffer.csv``, ``buffer_curve.csv`` and ``buffer.json`` to ``--out``
(atomically; with several forecasts, one row block per scenario), then prints the
largest covers. Every scenario uses the same seed (common random numbers).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from riskmodel.commands._common import bounded_int

#: Defaults of :func:`riskmodel.propagation.buffer.buffer` (kept here so that
#: ``riskmodel --help`` does not import the propagation; a test checks they agree).
DEFAULT_HORIZON = 12
DEFAULT_PATHS = 10_000


def _probability(text: str) -> float:
    """Argparse type for a target probability in (0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a probability, got {text!r:.40}") from None
    if not 0.0 < value < 1.0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"a target lies strictly between 0 and 1, got {text}")
    return value


def _price(text: str) -> float:
    """Argparse type for a price in USD per kg (> 0)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a price in USD/kg, got {text!r:.40}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"a price is a positive number, got {text}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``buffer`` subcommand."""
    parser = subparsers.add_parser(
        "buffer",
        help="buffer sizing: extra weeks of cover for P(stock-out within H months) <= target",
        description=(
            "For every region and industry of a forecast (DIR/paths.nc from `riskmodel "
            "forecast`): the extra cover, in weeks of the industry's China-sourced demand, "
            "held on top of the usual stock, that keeps P(stock-out within --horizon "
            "months) at or below each --target; the tonnes it holds, their value when a "
            "price range is given (the bundled data hold no magnet price), and the unmet "
            "demand it avoids. The same paths and random numbers serve every cover, so "
            "the risk-versus-cover curve (buffer_curve.csv) is monotone. Writes "
            "buffer.csv, buffer_curve.csv and buffer.json to --out; --seed S gives the "
            "Monte Carlo of 'riskmodel shortage --seed S'."
        ),
    )
    parser.add_argument(
        "--forecast",
        required=True,
        nargs="+",
        metavar="DIR",
        help="forecast folder(s) holding paths.nc (one scenario each)",
    )
    parser.add_argument(
        "--scenario",
        metavar="NAME|PATH",
        help="only for paths that carry no scenario: the scenario whose allocation rule "
        "applies (as in `riskmodel shortage`)",
    )
    parser.add_argument(
        "--target",
        type=_probability,
        action="append",
        metavar="P",
        help="target P(stock-out within the horizon); repeat for several (default 0.05 and 0.01)",
    )
    parser.add_argument(
        "--horizon",
        type=bounded_int("horizon"),
        default=DEFAULT_HORIZON,
        metavar="MONTHS",
        help=f"stock-out horizon in months from the forecast's first month "
        f"(default {DEFAULT_HORIZON}; at most the forecast's length)",
    )
    parser.add_argument(
        "--paths",
        type=bounded_int("paths"),
        default=DEFAULT_PATHS,
        metavar="N",
        help=f"Monte Carlo paths, forecast paths resampled with replacement (default "
        f"{DEFAULT_PATHS:,}: the 1%% tail needs many)",
    )
    parser.add_argument(
        "--seed", type=bounded_int("seed"), default=0, metavar="S", help="the run's seed (0)"
    )
    parser.add_argument(
        "--price-usd-per-kg",
        nargs=2,
        type=_price,
        metavar=("LOW", "HIGH"),
        help="a sourced price range of the magnets (USD per kg), drawn uniformly per path, "
        "to value the stock held; without it the output is in tonnes only",
    )
    parser.add_argument(
        "--params", metavar="PATH", help="propagation parameters YAML (default: the bundled one)"
    )
    parser.add_argument(
        "--kernel", choices=("auto", "numba", "numpy"), default="auto", help="kernel (auto)"
    )
    parser.add_argument(
        "--figure", action="store_true", help="also draw buffer.png (risk against cover)"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.set_defaults(handler=run)


def _summary(table: object, top: int = 8) -> list[str]:
    """Lines with the largest covers of each scenario."""
    import pandas as pd

    assert isinstance(table, pd.DataFrame)
    lines = []
    targets = sorted(table["target"].unique(), reverse=True)
    for scenario, rows in table.groupby("scenario", sort=False):
        wide = rows.pivot_table(
            index=["region", "industry"], columns="target", values="cover_weeks", sort=False
        )
        p0 = rows.groupby(["region", "industry"], sort=False)["p_stockout_no_buffer"].first()
        tonnes = rows.pivot_table(
            index=["region", "industry"], columns="target", values="buffer_t_mean", sort=False
        )
        order = wide[targets[0]].sort_values(ascending=False).index[:top]
        head = "  ".join(f"cover@{t:g} (t)".rjust(18) for t in targets)
        lines.append(f"{scenario or '-'}:")
        lines.append(f"  {'region':<7} {'industry':<21} {'P(no buffer)':>12}  {head}")
        for key in order:
            cells = "  ".join(
                f"{wide.loc[key, t]:7.1f} wk ({tonnes.loc[key, t]:,.0f})".rjust(18) for t in targets
            )
            lines.append(f"  {key[0]:<7} {key[1]:<21} {p0.loc[key]:>12.3f}  {cells}")
    return lines


def run(args: argparse.Namespace) -> int:
    """Run the subcommand."""
    import pandas as pd

    from riskmodel.pipeline import shortage_scenario
    from riskmodel.propagation import load_params, read_paths
    from riskmodel.propagation.buffer import (
        DEFAULT_TARGETS,
        BufferInputError,
        BufferResult,
        _check_targets,
        buffer,
        write_buffer_outputs,
    )

    targets = _check_targets(args.target or DEFAULT_TARGETS)
    # read and check every input before the Monte Carlo
    forecasts = []
    for folder in args.forecast:
        paths = read_paths(folder)
        scenario = shortage_scenario(paths, args.scenario)
        n_months = paths.sizes["month"]
        if args.horizon > n_months:
            raise BufferInputError(
                f"--horizon {args.horizon} is longer than the forecast in {folder} "
                f"({n_months} months)"
            )
        forecasts.append((paths, scenario))
    names = [getattr(s, "name", None) or str(p.attrs.get("scenario", "")) for p, s in forecasts]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise BufferInputError(f"scenario {repeated[0]!r} is given twice in --forecast")
    params = load_params(args.params)

    results: list[BufferResult] = []
    for paths, scenario in forecasts:
        results.append(
            buffer(
                paths,
                params,
                scenario=scenario,
                targets=targets,
                horizon=args.horizon,
                n_paths=args.paths,
                seed=args.seed,
                price_usd_per_kg=args.price_usd_per_kg,
                kernel=args.kernel,
            )
        )
    files = write_buffer_outputs(results, args.out)
    table = pd.concat([r.table for r in results], ignore_index=True)
    if args.figure:
        from riskmodel.report.buffer import buffer_figure

        curve = pd.concat([r.curve for r in results], ignore_index=True)
        figure = buffer_figure(table, curve, Path(args.out) / "buffer.png")
        if figure is not None:
            files["buffer.png"] = figure
    first = results[0].attrs
    print(
        f"riskmodel buffer: {first['n_paths']:,} paths per scenario, horizon "
        f"{first['horizon_months']} months ({first['first_month']}.."
        f"{first['last_month_in_horizon']}), targets "
        f"{', '.join(f'{t:g}' for t in targets)}, seed {args.seed}; cover in extra weeks of "
        "China-sourced demand"
    )
    if args.price_usd_per_kg is None:
        print("  no sourced magnet price in the bundled data: tonnes only (see --price-usd-per-kg)")
    for line in _summary(table):
        print(line)
    violations = sum(r.attrs["monotonicity_violations"] for r in results)
    if violations:
        print(f"  warning: {violations} path(s) broke monotonicity; see docs/buffer.md")
    print("wrote " + ", ".join(str(p) for p in files.values()))
    return 0
