"""``riskmodel report``: run the whole pipeline unattended and publish an HTML report atomically.

One command for cron, a systemd timer or an Airflow task::

    riskmodel report --out /srv/reports/magnets

A thin shell over :func:`riskmodel.report.scheduled_report` (see
:mod:`riskmodel.report.run` for what a run does). Settings come from the flags,
else from ``--config FILE`` (YAML with the same keys: ``data``, ``events``,
``product``, ``scenario``, ``out``, ``cache``, ``wait``, ``paths``, ``horizon``,
``seed``, ``strict``; relative paths are taken relative to the config file), else
from the defaults.

Exit codes: 0 report published; 1 report published but the fit failed its
convergence checks and ``--strict`` was given, or the run failed unexpectedly
(the previous report is unchanged); 2 bad input or configuration (the previous
report is unchanged); 75 another run holds the lock (``EX_TEMPFAIL``: try
later, or use ``--wait``); 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import Any

from riskmodel.commands._common import bounded_int
from riskmodel.report.run import DEFAULT_HORIZON, DEFAULT_OUT, DEFAULT_PATHS, ReportOptions

__all__ = ["EXIT_LOCKED", "add_parser", "load_config", "options_from_args", "run"]

#: Exit code when another run holds the lock (sysexits.h EX_TEMPFAIL).
EXIT_LOCKED = 75
EXIT_FAILED = 1
_CONFIG_KEYS = (
    "data",
    "events",
    "product",
    "scenario",
    "scenarios",
    "out",
    "cache",
    "wait",
    "paths",
    "horizon",
    "seed",
    "strict",
    "draws",
    "tune",
    "chains",
    "backend",
)


# --------------------------------------------------------------------------- #
# Configuration
# --------------------------------------------------------------------------- #


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a ``--config`` YAML file.

    Parameters
    ----------
    path : str or Path
        YAML mapping with keys among ``data``, ``events``, ``product``,
        ``scenario`` (or ``scenarios``), ``out``, ``cache``, ``wait``, ``paths``,
        ``horizon``, ``seed``, ``strict``. ``data`` and ``scenario`` take a string
        or a list. Relative paths are resolved against the file's folder.

    Returns
    -------
    dict
        Keys as in :class:`ReportOptions` (``scenarios``, ``n_paths``, ...).

    Raises
    ------
    RiskModelError
        Listing every problem, each with its line and column: unreadable file
        (read by :func:`riskmodel.config.yamlio.read_yaml`: duplicate keys, aliases
        and oversized files refused), not a mapping, unknown keys, wrong types,
        numbers out of range (:data:`riskmodel.config.limits.LIMITS`).
    """
    from riskmodel.config.limits import LIMITS
    from riskmodel.config.scenario import list_scenarios
    from riskmodel.config.yamlio import Problems, clip, read_yaml
    from riskmodel.exceptions import PriorsError, RiskModelError

    path = Path(path)
    try:
        raw = read_yaml(path)
    except PriorsError as err:
        raise RiskModelError(str(err)) from None
    if raw is None:
        return {}
    problems = Problems(raw)
    if not problems.mapping(raw, "", "settings"):
        raise RiskModelError(f"{path}: {'; '.join(problems)}")
    base = path.resolve().parent
    out: dict[str, Any] = {}

    def as_path(value: str) -> str:
        p = Path(value).expanduser()
        return str(p if p.is_absolute() else base / p)

    problems.keys(raw, _CONFIG_KEYS, "")
    for key, value in raw.items():
        if key not in _CONFIG_KEYS:
            continue
        if key in ("data", "scenario", "scenarios"):
            items = problems.names(value, key, single=True)
            if items is None:
                continue
            if key == "data":
                out["data"] = [as_path(v) for v in items]
                for i, file in enumerate(out["data"]):
                    if not Path(file).is_file():
                        problems.add(f"data[{i}]", f"no such file {clip(file)}")
            else:
                out["scenarios"] = [
                    as_path(v) if v.endswith((".yaml", ".yml")) or "/" in v else v for v in items
                ]
                bundled = list_scenarios()
                for i, name in enumerate(items):
                    if name == out["scenarios"][i] and name not in bundled:
                        problems.add(
                            f"{key}[{i}]",
                            f"no bundled scenario named {clip(name)} (available: "
                            f"{', '.join(bundled)}); give a path to use your own file",
                        )
        elif key in ("events", "out", "cache", "product", "backend"):
            if not isinstance(value, str) or not value.strip():
                problems.add(key, f"must be a non-empty text, got {clip(value)}")
            else:
                out[key] = as_path(value) if key in ("events", "out", "cache") else value
        elif key in ("wait", "strict"):
            out[key] = problems.flag(value, key)
        else:  # paths, horizon, seed, draws, tune, chains
            low, high = LIMITS[key]
            number = problems.number(value, key, low=low, high=high, integer=True)
            if number is not None and not isinstance(value, float):
                out["n_paths" if key == "paths" else key] = int(number)
            elif number is not None:
                problems.add(key, f"must be a whole number, got {clip(value)}")
    if problems:
        raise RiskModelError(f"{path}: {'; '.join(problems)}")
    return out


def options_from_args(args: argparse.Namespace) -> ReportOptions:
    """Merge defaults, ``--config`` and flags (flags win) into :class:`ReportOptions`."""
    values: dict[str, Any] = {}
    if getattr(args, "config", None):
        values.update(load_config(args.config))
    flags = {
        "data": args.data,
        "events": args.events,
        "product": args.product,
        "scenarios": args.scenario,
        "out": args.out,
        "cache": args.cache,
        "n_paths": args.paths,
        "horizon": args.horizon,
        "seed": args.seed,
        "draws": getattr(args, "draws", None),
        "tune": getattr(args, "tune", None),
        "chains": getattr(args, "chains", None),
        "backend": getattr(args, "backend", None),
    }
    values.update({k: v for k, v in flags.items() if v is not None})
    if args.wait:
        values["wait"] = True
    if args.strict:
        values["strict"] = True
    opts = ReportOptions(
        out=Path(values.get("out", DEFAULT_OUT)),
        data=[str(p) for p in values.get("data", [])],
        events=values.get("events"),
        product=values.get("product"),
        scenarios=list(values.get("scenarios", [])),
        cache=Path(values["cache"]) if values.get("cache") else None,
        wait=bool(values.get("wait", False)),
        n_paths=int(values.get("n_paths", DEFAULT_PATHS)),
        horizon=int(values.get("horizon", DEFAULT_HORIZON)),
        seed=int(values.get("seed", 0)),
        strict=bool(values.get("strict", False)),
        draws=values.get("draws"),
        tune=values.get("tune"),
        chains=values.get("chains"),
        backend=values.get("backend"),
    )
    opts.validate()
    return opts


# --------------------------------------------------------------------------- #
# Command line
# --------------------------------------------------------------------------- #


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="run the pipeline and publish an HTML report (for cron / systemd / Airflow)",
        description=(
            "Run the whole pipeline (data, fit, forecast, shortage) and publish an HTML report "
            "with figures, CSVs and summary.json. The cached posterior is reused when data and "
            "priors are unchanged. The report is built in a fresh directory and swapped into "
            "place atomically (OUT becomes a symlink into OUT.d/), so a failed or killed run "
            "leaves the previous report intact; a lock stops two runs at once. Exit codes: "
            "0 published, 1 failed (or fit failed with --strict), 2 bad input, "
            "75 locked by another run, 130 interrupted."
        ),
    )
    parser.add_argument(
        "--data",
        nargs="+",
        action="extend",
        metavar="PATH",
        help="customs series CSV files (default: the bundled data)",
    )
    parser.add_argument(
        "--events", metavar="PATH", help="policy events CSV (default: the bundled events)"
    )
    parser.add_argument("--product", metavar="NAME", help="product to model (default: magnets)")
    parser.add_argument(
        "--scenario",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="scenario names or YAML files; the first is the headline's "
        "(default: every bundled scenario, the unconditional forecast first)",
    )
    parser.add_argument(
        "--config", metavar="FILE", help="YAML file with the same keys as these flags (flags win)"
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help=f"report path, a symlink into DIR.d/ (default: ./{DEFAULT_OUT})",
    )
    parser.add_argument(
        "--wait",
        action="store_true",
        help="if another run is writing the report, wait for it instead of exiting with code 75",
    )
    parser.add_argument(
        "--paths",
        type=bounded_int("paths"),
        metavar="N",
        help=f"forecast paths per scenario (default {DEFAULT_PATHS})",
    )
    parser.add_argument(
        "--horizon",
        type=bounded_int("horizon"),
        metavar="H",
        help=f"forecast months (default {DEFAULT_HORIZON})",
    )
    parser.add_argument(
        "--seed",
        type=bounded_int("seed"),
        metavar="S",
        help="the run's seed (default 0); 'riskmodel fit', 'forecast' and 'shortage' with "
        "the same --seed give the same numbers",
    )
    parser.add_argument(
        "--cache", metavar="DIR", help="posterior cache (default: DIR.d/cache next to the report)"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 if the fit fails its convergence checks (the report, "
        "with the failure in a red box, is still published)",
    )
    g = parser.add_argument_group("sampler (used when the posterior is not cached)")
    g.add_argument("--draws", type=bounded_int("draws"), metavar="N", help="draws per chain (2000)")
    g.add_argument("--tune", type=bounded_int("tune"), metavar="N", help="warm-up per chain (1000)")
    g.add_argument("--chains", type=bounded_int("chains"), metavar="N", help="chains (4)")
    g.add_argument("--backend", choices=("nutpie", "pymc", "numpyro"), help="NUTS backend")
    parser.set_defaults(handler=run, wait=False, strict=False)


def run(args: argparse.Namespace) -> int:
    """Run ``riskmodel report``; see the module docstring for the exit codes."""
    from riskmodel.exceptions import LockedError, RiskModelError
    from riskmodel.report import scheduled_report

    opts = options_from_args(args)
    try:
        result = scheduled_report(opts)
    except LockedError as err:
        print(f"riskmodel: error: {err}", file=sys.stderr)
        return EXIT_LOCKED
    except (RiskModelError, KeyboardInterrupt):
        raise
    except Exception as exc:  # an unattended run must say what broke and exit non-zero
        traceback.print_exc(file=sys.stderr)
        print(
            f"riskmodel: error: the report run failed ({type(exc).__name__}: {exc}); "
            f"the previous report at {opts.out} is unchanged",
            file=sys.stderr,
        )
        return EXIT_FAILED
    print(result.index)
    if not result.fit_passed:
        print(
            "riskmodel: warning: the fit failed its convergence checks (shown in a red box in "
            "the report)" + ("; exiting 1 (--strict)" if opts.strict else ""),
            file=sys.stderr,
        )
        return EXIT_FAILED if opts.strict else 0
    return 0
