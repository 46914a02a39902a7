"""``riskmodel report``: run the whole pipeline unattended and publish an HTML report atomically.

One command for cron, a systemd timer or an Airflow task::

    riskmodel report --out /srv/reports/magnets

It loads the customs data (bundled by default), fits the model or reuses the
cached posterior when data and priors are unchanged, forecasts and propagates
every scenario (all bundled scenarios by default, ``baseline`` first, so the
report compares them side by side; the fit, the expensive part, is shared),
renders the report and swaps it into place (see
:mod:`riskmodel.report.schedule`: a lock, a fresh directory, an atomic symlink
swap). It says what changed since the previous report on stderr and in the
report.

Every scenario uses the same seeds (common random numbers), so differences
between scenarios are not sampling noise. The forecast and the shortage stage
get different seeds derived from ``--seed``, so their random streams are
independent.

Settings come from the flags, else from ``--config FILE`` (YAML with the same
keys: ``data``, ``events``, ``product``, ``scenario``, ``out``, ``cache``,
``wait``, ``paths``, ``horizon``, ``seed``, ``strict``; relative paths are
taken relative to the config file), else from the defaults.

Exit codes: 0 report published; 1 report published but the fit failed its
convergence checks and ``--strict`` was given, or the run failed unexpectedly
(the previous report is unchanged); 2 bad input or configuration (the previous
report is unchanged); 75 another run holds the lock (``EX_TEMPFAIL``: try
later, or use ``--wait``); 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import logging
import shutil
import sys
import tempfile
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riskmodel.commands._common import positive_int

__all__ = [
    "DEFAULT_HORIZON",
    "DEFAULT_PATHS",
    "EXIT_LOCKED",
    "ReportOptions",
    "ReportResult",
    "add_parser",
    "load_config",
    "run",
    "scheduled_report",
]

log = logging.getLogger("riskmodel.report")

#: Exit code when another run holds the lock (sysexits.h EX_TEMPFAIL).
EXIT_LOCKED = 75
EXIT_FAILED = 1
DEFAULT_HORIZON = 18
DEFAULT_PATHS = 1000
DEFAULT_OUT = "report"
#: Scenarios listed first when all bundled scenarios are run.
_FIRST = ("baseline", "suspension_lapse")
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


@dataclass
class ReportOptions:
    """Settings of one scheduled report run (the flags of ``riskmodel report``).

    Parameters
    ----------
    out : Path
        The report path readers open (a symlink managed by
        :func:`riskmodel.report.run_report`).
    data : list of str
        Customs series files; empty for the bundled data.
    events : str, optional
        Policy events file; default the bundled one.
    product : str, optional
        Product to model; default the pipeline's (``magnets``).
    scenarios : list of str
        Scenario names or YAML paths; empty for every bundled scenario
        (``baseline`` and ``suspension_lapse`` first). The first is the headline's.
    cache : Path, optional
        Posterior cache; default ``<out>.d/cache``.
    wait : bool
        Wait for a running report instead of exiting at once.
    n_paths : int
        Forecast paths per scenario.
    horizon : int
        Forecast months.
    seed : int
        Seed of the forecast and shortage stages.
    strict : bool
        Exit 1 when the fit fails its convergence checks (the report is still published).
    """

    out: Path = field(default_factory=lambda: Path(DEFAULT_OUT))
    data: list[str] = field(default_factory=list)
    events: str | None = None
    product: str | None = None
    scenarios: list[str] = field(default_factory=list)
    cache: Path | None = None
    wait: bool = False
    n_paths: int = DEFAULT_PATHS
    horizon: int = DEFAULT_HORIZON
    seed: int = 0
    strict: bool = False
    draws: int | None = None
    tune: int | None = None
    chains: int | None = None
    backend: str | None = None

    def sampler(self) -> Any:
        """Return the NUTS settings of the fit (``riskmodel fit`` defaults where not given)."""
        from riskmodel.sampling import SamplerConfig, default_backend

        d = SamplerConfig()
        return SamplerConfig(
            backend=self.backend or default_backend(),
            draws=self.draws or d.draws,
            tune=self.tune or d.tune,
            chains=self.chains or d.chains,
            seed=self.seed,
        )

    @property
    def cache_dir(self) -> Path:
        """Where the posterior cache lives."""
        if self.cache is not None:
            return Path(self.cache)
        from riskmodel.report.schedule import report_paths

        return report_paths(self.out).store / "cache"

    def validate(self) -> None:
        """Raise :class:`~riskmodel.exceptions.RiskModelError` listing every bad setting."""
        from riskmodel.exceptions import RiskModelError

        problems = []
        if self.n_paths < 1:
            problems.append(f"paths must be at least 1, got {self.n_paths}")
        if self.horizon < 1:
            problems.append(f"horizon must be at least 1 month, got {self.horizon}")
        if self.seed < 0:
            problems.append(f"seed must be 0 or more, got {self.seed}")
        for path in self.data:
            if not Path(path).is_file():
                problems.append(f"data file not found: {path}")
        if self.events is not None and not Path(self.events).is_file():
            problems.append(f"events file not found: {self.events}")
        if problems:
            raise RiskModelError("; ".join(problems))


@dataclass
class ReportResult:
    """What a scheduled run produced.

    Attributes
    ----------
    out : Path
        The report path (the symlink).
    index : Path
        ``out/index.html``.
    fit_passed : bool
        Whether the fit passed its convergence checks.
    posterior_reused : bool
        Whether the cached posterior was reused.
    scenarios : list of str
        The scenarios in the report, headline first.
    """

    out: Path
    index: Path
    fit_passed: bool
    posterior_reused: bool
    scenarios: list[str]


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
        Listing every problem: unreadable file, not a mapping, unknown keys,
        wrong types.
    """
    import yaml

    from riskmodel.exceptions import RiskModelError

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RiskModelError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RiskModelError(f"{path}: cannot read the config file: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise RiskModelError(f"{path}: not valid YAML{where}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise RiskModelError(f"{path}: expected a mapping of settings, got {type(raw).__name__}")
    base = path.resolve().parent
    problems: list[str] = []
    out: dict[str, Any] = {}

    def as_path(value: Any) -> str:
        p = Path(str(value)).expanduser()
        return str(p if p.is_absolute() else base / p)

    def str_list(key: str, value: Any) -> list[str] | None:
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        problems.append(f"{key} must be a string or a list of strings")
        return None

    for key, value in raw.items():
        if key not in _CONFIG_KEYS:
            problems.append(f"unknown key {key!r} (allowed: {', '.join(_CONFIG_KEYS)})")
        elif key == "data":
            items = str_list(key, value)
            if items is not None:
                out["data"] = [as_path(v) for v in items]
        elif key in ("scenario", "scenarios"):
            items = str_list(key, value)
            if items is not None:
                out["scenarios"] = [
                    as_path(v) if v.endswith((".yaml", ".yml")) or "/" in v else v for v in items
                ]
        elif key in ("events", "out", "cache"):
            if not isinstance(value, str):
                problems.append(f"{key} must be a path (a string)")
            else:
                out[key] = as_path(value)
        elif key in ("product", "backend"):
            if not isinstance(value, str):
                problems.append(f"{key} must be a string")
            else:
                out[key] = value
        elif key in ("wait", "strict"):
            if not isinstance(value, bool):
                problems.append(f"{key} must be true or false")
            else:
                out[key] = value
        else:  # paths, horizon, seed, draws, tune, chains
            if isinstance(value, bool) or not isinstance(value, int):
                problems.append(f"{key} must be a whole number")
            else:
                out["n_paths" if key == "paths" else key] = value
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


def _resolve_scenarios(names: Sequence[str]) -> list[tuple[str, str, str]]:
    """Load every scenario up front (a typo fails before the fit): (label, spec, description)."""
    from riskmodel.config.scenario import list_scenarios, load_scenario
    from riskmodel.exceptions import RiskModelError

    if not names:
        bundled = list_scenarios()
        names = [n for n in _FIRST if n in bundled] + [n for n in bundled if n not in _FIRST]
        if not names:
            raise RiskModelError("no bundled scenarios found; give --scenario")
    out = []
    for spec in names:
        scenario = load_scenario(spec)
        out.append((scenario.name, str(spec), scenario.description))
    labels = [label for label, _spec, _desc in out]
    repeated = sorted({x for x in labels if labels.count(x) > 1})
    if repeated:
        raise RiskModelError(f"scenario {repeated[0]!r} is given twice")
    return out


def _stage_seeds(seed: int) -> tuple[int, int]:
    """Independent seeds for the forecast and the shortage stage, derived from one seed."""
    import numpy as np

    children = np.random.SeedSequence(seed).spawn(2)
    return tuple(int(c.generate_state(1, dtype=np.uint32)[0]) for c in children)  # type: ignore[return-value]


def _file_state(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


# --------------------------------------------------------------------------- #
# The run
# --------------------------------------------------------------------------- #


def scheduled_report(
    options: ReportOptions,
    *,
    progress: Any = None,
) -> ReportResult:
    """Run the pipeline and publish the report: what ``riskmodel report`` does, as a function.

    Call it from an Airflow or Prefect task; it raises instead of returning an
    exit code.

    Parameters
    ----------
    options : ReportOptions
        The settings (see the class).
    progress : riskmodel.report.progress.Progress, optional
        Stage progress; default: plain log lines (a bar in a terminal).

    Returns
    -------
    ReportResult

    Raises
    ------
    LockedError
        If another run is writing the same report (and ``options.wait`` is false).
    RiskModelError
        For bad data, priors, scenarios or settings; the previous report is kept.
    """
    from riskmodel.report import ReportInputs, ScenarioResult, render_report, run_report
    from riskmodel.report.progress import Progress
    from riskmodel.report.schedule import report_paths

    options.validate()
    scenarios = _resolve_scenarios(options.scenarios)
    own_progress = progress is None
    if progress is None:
        progress = Progress(total=3 + 2 * len(scenarios), desc="riskmodel report")
    forecast_seed, shortage_seed = _stage_seeds(options.seed)
    state: dict[str, Any] = {}

    def build(directory: Path) -> None:
        from riskmodel.customs import (
            load_bundled_customs,
            load_bundled_events,
            read_customs,
            read_policy_events,
        )
        from riskmodel.customs.read import bundled_customs_paths
        from riskmodel.resources import bundled_data_file

        pipeline = importlib.import_module("riskmodel.pipeline")
        with progress.stage("load data"):
            inputs = pipeline.load_inputs(
                data=list(options.data) or None, events=options.events, product=options.product
            )
            customs = read_customs(options.data) if options.data else load_bundled_customs()
            events = read_policy_events(options.events) if options.events else load_bundled_events()
            data_files = list(options.data) or bundled_customs_paths()
            data_files.append(options.events or str(bundled_data_file("policy_events.csv")))
        cache = options.cache_dir
        with progress.stage("fit (or reuse the cached posterior)"):
            before = _file_state(cache / "posterior.nc")
            fitted = pipeline.fit_cached(cache, inputs, sampler=options.sampler())
            reused = before is not None and before == _file_state(cache / "posterior.nc")
            progress.note(
                "reused the cached posterior"
                if reused
                else f"fitted the model; posterior cached in {cache}"
            )
        # Regime changes known at the forecast origin travel with the inputs, when the
        # pipeline's forecast takes them.
        takes_inputs = "inputs" in inspect.signature(pipeline.forecast).parameters
        extra_forecast = {"inputs": inputs} if takes_inputs else {}
        work = Path(tempfile.mkdtemp(prefix=".work-", dir=report_paths(options.out).store))
        try:
            results = []
            for label, spec, description in scenarios:
                where = work / label
                with progress.stage(f"forecast {label}"):
                    paths_ds = pipeline.forecast(
                        fitted,
                        scenario=spec,
                        horizon=options.horizon,
                        n_paths=options.n_paths,
                        seed=forecast_seed,
                        **extra_forecast,
                    )
                    pipeline.write_forecast(paths_ds, where)
                with progress.stage(f"shortage {label}"):
                    short = pipeline.shortage(
                        paths_ds, scenario=spec, n_paths=None, seed=shortage_seed
                    )
                    pipeline.write_shortage(short, where)
                results.append(ScenarioResult.from_dirs(label, where, description=description))
            with progress.stage("render report"):
                diagnostics = fitted.diagnostics_dict()
                run_inputs = ReportInputs(
                    approval=fitted.approval_summary(),
                    diagnostics=diagnostics,
                    scenarios=results,
                    customs=customs,
                    events=events,
                    attrs=dict(fitted.attrs),
                    settings={
                        "scenarios": [label for label, _s, _d in scenarios],
                        "n_paths": options.n_paths,
                        "horizon": options.horizon,
                        "seed": options.seed,
                        "forecast_seed": forecast_seed,
                        "shortage_seed": shortage_seed,
                        "posterior_cache": str(cache),
                        "posterior_reused": reused,
                    },
                    data_files=data_files,
                )
                render_report(run_inputs, directory)
            state.update(passed=bool(diagnostics.get("passed", False)), reused=reused)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    try:
        out = run_report(options.out, build, wait=options.wait)
    finally:
        if own_progress:
            progress.close()
    return ReportResult(
        out=out,
        index=out / "index.html",
        fit_passed=bool(state.get("passed", False)),
        posterior_reused=bool(state.get("reused", False)),
        scenarios=[label for label, _s, _d in scenarios],
    )


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
        "(default: every bundled scenario, baseline first)",
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
        type=int,
        metavar="N",
        help=f"forecast paths per scenario (default {DEFAULT_PATHS})",
    )
    parser.add_argument(
        "--horizon", type=int, metavar="H", help=f"forecast months (default {DEFAULT_HORIZON})"
    )
    parser.add_argument("--seed", type=int, metavar="S", help="random seed (default 0)")
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
    g.add_argument("--draws", type=positive_int, metavar="N", help="draws per chain (2000)")
    g.add_argument("--tune", type=positive_int, metavar="N", help="warm-up per chain (1000)")
    g.add_argument("--chains", type=positive_int, metavar="N", help="chains (4)")
    g.add_argument("--backend", choices=("nutpie", "pymc", "numpyro"), help="NUTS backend")
    parser.set_defaults(handler=run, wait=False, strict=False)


def run(args: argparse.Namespace) -> int:
    """Run ``riskmodel report``; see the module docstring for the exit codes."""
    from riskmodel.exceptions import LockedError, RiskModelError

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
