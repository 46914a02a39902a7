"""The scheduled report as a library function: data -> fit -> forecast -> shortage -> report.

:func:`scheduled_report` is what ``riskmodel report`` runs, for an Airflow or Prefect
task::

    from riskmodel.report import ReportOptions, scheduled_report

    result = scheduled_report(ReportOptions(out=Path("/srv/reports/magnets"), wait=True))

It reads the customs data and events once, fits the model or reuses the cached
posterior when data and priors are unchanged, forecasts and propagates every scenario
(all bundled scenarios by default, ``unconditional`` first; the fit, the expensive part, is
shared), renders the report and swaps it into place (see
:mod:`riskmodel.report.schedule`: a lock, a fresh directory, an atomic symlink swap).

Seeds: the run's seed gives each stage its own (:func:`riskmodel.seeds.stage_seeds`),
exactly as the stage commands do, so ``riskmodel fit``, ``forecast`` and ``shortage``
with ``--seed S`` reproduce the report's numbers. Every scenario uses the same seeds
(common random numbers), so differences between scenarios are not sampling noise.

The pipeline (which imports PyMC) is imported only when the run starts, so importing
:mod:`riskmodel.report` stays light.
"""

from __future__ import annotations

import importlib
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskmodel.exceptions import RiskModelError
from riskmodel.seeds import stage_seeds

if TYPE_CHECKING:  # the stages load on use, so `riskmodel report --help` stays fast
    from riskmodel.config.scenario import Scenario

DEFAULT_HORIZON = 18
DEFAULT_PATHS = 1000
DEFAULT_OUT = "report"
#: Scenarios listed first when all bundled scenarios are run.
_FIRST = ("unconditional", "suspension_lapse", "baseline")


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
        (``unconditional``, ``suspension_lapse`` and ``baseline`` first). The first is the
        headline's.
    cache : Path, optional
        Posterior cache; default ``<out>.d/cache``.
    wait : bool
        Wait for a running report instead of exiting at once.
    n_paths : int
        Forecast paths per scenario.
    horizon : int
        Forecast months.
    seed : int
        The run's seed; each stage derives its own from it.
    strict : bool
        Exit 1 when the fit fails its convergence checks (the report is still published).
    draws, tune, chains : int, optional
        NUTS settings of a fit; ``riskmodel fit``'s defaults where not given.
    backend : str, optional
        NUTS backend; default nutpie when installed.
    reuse : bool
        Reuse the previous run's forecast, shortage and figure outputs when nothing
        that made them changed (:mod:`riskmodel.report.reuse`); False recomputes all.
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
    reuse: bool = True

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
            progress=sys.stderr.isatty(),  # the sampler's own bars, in a terminal only
        )

    @property
    def cache_dir(self) -> Path:
        """Where the posterior cache lives."""
        from riskmodel.report.schedule import report_paths

        if self.cache is not None:
            return Path(self.cache)
        return report_paths(self.out).store / "cache"

    def validate(self) -> None:
        """Raise :class:`~riskmodel.exceptions.RiskModelError` listing every bad setting."""
        from riskmodel.config.limits import check_setting

        problems = []
        settings = {"paths": self.n_paths, "horizon": self.horizon, "seed": self.seed}
        settings.update({k: getattr(self, k) for k in ("draws", "tune", "chains")})
        for name, value in settings.items():
            try:
                if value is not None:
                    check_setting(name, value)
            except RiskModelError as err:
                problems.append(str(err))
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


def resolve_scenarios(names: Sequence[str]) -> list[Scenario]:
    """Load every scenario up front, so a typo fails before the fit.

    Parameters
    ----------
    names : sequence of str
        Scenario names or YAML paths; empty for every bundled scenario
        (``unconditional``, ``suspension_lapse`` and ``baseline`` first).

    Returns
    -------
    list of Scenario

    Raises
    ------
    RiskModelError
        For an unknown or invalid scenario, or one given twice.
    """
    from riskmodel.config.scenario import list_scenarios, load_scenario

    if not names:
        bundled = list_scenarios()
        names = [n for n in _FIRST if n in bundled] + [n for n in bundled if n not in _FIRST]
        if not names:
            raise RiskModelError("no bundled scenarios found; give --scenario")
    out = [load_scenario(spec) for spec in names]
    labels = [s.name for s in out]
    repeated = sorted({x for x in labels if labels.count(x) > 1})
    if repeated:
        raise RiskModelError(f"scenario {repeated[0]!r} is given twice")
    return out


def _file_state(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _fit_identity(fitted: Any, cache: Path) -> str | None:
    """SHA-256 of the cached posterior the forecasts are drawn from (None if absent).

    A fit saved or loaded by :mod:`riskmodel.models.fit` knows it (checked when loaded).
    """
    from riskmodel.report.reuse import file_digest

    known = getattr(fitted, "files_sha256", {}).get("posterior.nc")
    if known:
        return str(known)
    try:
        return file_digest(cache / "posterior.nc")
    except OSError:
        return None


def _input_files(sources: Any) -> list[Path]:
    """Every file the forecast and shortage stages may read: the run's and the bundled."""
    from riskmodel.resources import data_dir, priors_dir

    files = {Path(f).resolve() for f in getattr(sources, "files", ())}
    for folder in (data_dir(), priors_dir()):
        files.update(p.resolve() for p in folder.rglob("*") if p.is_file())
    return sorted(files)


def scenario_key(
    fit_key: str, scenario: Scenario, sources: Any, options: ReportOptions
) -> str | None:
    """Key of one scenario's forecast, shortage and drivers outputs.

    The SHA-256 of everything that made them: the posterior's bytes (``fit_key``), the
    scenario's content, the bytes of every data and priors file the stages may read
    (the run's and the bundled ones), the run's settings and seed, and the code
    (:func:`riskmodel.report.reuse.digest`). None when one of those files cannot be
    read: then nothing is reused or stored.
    """
    from riskmodel.report.buffer import report_buffer_paths
    from riskmodel.report.drivers import DRIVER_PATHS_FACTOR
    from riskmodel.report.reuse import digest, file_digest

    try:
        files = {str(p): file_digest(p) for p in _input_files(sources)}
    except OSError:
        return None
    settings = {
        "n_paths": options.n_paths,
        "horizon": options.horizon,
        "seed": options.seed,
        "product": options.product,
        "drivers_paths_factor": DRIVER_PATHS_FACTOR,
        "buffer_paths": report_buffer_paths(options.n_paths),
    }
    return digest("scenario-stages", fit_key, scenario.to_dict(), scenario.name, files, settings)


def scheduled_report(options: ReportOptions, *, progress: Any = None) -> ReportResult:
    """Run the pipeline and publish the report: what ``riskmodel report`` does.

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
    from riskmodel.report.alerts import write_release_alerts
    from riskmodel.report.buffer import attach_buffer, report_buffer_paths, write_buffer
    from riskmodel.report.drivers import DRIVER_PATHS_FACTOR, write_drivers
    from riskmodel.report.inputs import ReportInputs, ScenarioResult
    from riskmodel.report.progress import Progress
    from riskmodel.report.render import render_report
    from riskmodel.report.reuse import ReuseStore
    from riskmodel.report.schedule import report_paths, run_report

    options.validate()
    scenarios = resolve_scenarios(options.scenarios)
    own_progress = progress is None
    if progress is None:
        progress = Progress(total=3 + 2 * len(scenarios), desc="riskmodel report")
    seeds = stage_seeds(options.seed)
    state: dict[str, Any] = {}

    def build(directory: Path) -> None:
        # Looked up at run time, so a test (or a caller) may stand in another pipeline.
        pipeline = importlib.import_module("riskmodel.pipeline")
        with progress.stage("load data"):
            sources = pipeline.read_sources(list(options.data) or None, options.events)
            inputs = pipeline.load_inputs(sources, product=options.product)
        cache = options.cache_dir
        with progress.stage("fit (or reuse the cached posterior)"):
            before = _file_state(cache / "posterior.nc")
            fitted = pipeline.fit_cached(
                cache, inputs, sampler=options.sampler(), seed=options.seed
            )
            reused = before is not None and before == _file_state(cache / "posterior.nc")
            progress.note(
                "reused the cached posterior"
                if reused
                else f"fitted the model; posterior cached in {cache}"
            )
        store = report_paths(options.out).store
        work = Path(tempfile.mkdtemp(prefix=".work-", dir=store))
        reuse = ReuseStore(store / "reuse", enabled=options.reuse)
        fit_key = _fit_identity(fitted, cache)
        try:
            results = []
            for scenario in scenarios:
                key = None
                if fit_key is not None:
                    key = scenario_key(fit_key, scenario, sources, options)
                stored = reuse.get("scenario", key) if key is not None else None
                if stored is not None:
                    # Nothing that made them changed: the stored outputs are what a
                    # recomputation would write (the key says so), verified by their hashes.
                    with progress.stage(f"forecast {scenario.name} (stored paths reused)"):
                        result = attach_buffer(
                            ScenarioResult.from_dirs(
                                scenario.name, stored, description=scenario.description
                            ),
                            stored,
                        )
                    with progress.stage(f"shortage {scenario.name} (stored results reused)"):
                        results.append(result)
                    continue
                where = work / scenario.name
                with progress.stage(f"forecast {scenario.name}"):
                    paths_ds = pipeline.forecast(
                        fitted,
                        scenario=scenario,
                        horizon=options.horizon,
                        n_paths=options.n_paths,
                        seed=options.seed,
                        events=sources.events,
                    )
                    pipeline.write_forecast(paths_ds, where)
                with progress.stage(f"shortage {scenario.name}"):
                    short = pipeline.shortage(paths_ds, n_paths=None, seed=options.seed)
                    pipeline.write_shortage(short, where)
                    write_drivers(
                        paths_ds,
                        where,
                        scenario=scenario,
                        seed=options.seed,
                        n_paths=DRIVER_PATHS_FACTOR * options.n_paths,
                    )
                    write_buffer(
                        paths_ds,
                        where,
                        scenario=scenario,
                        seed=options.seed,
                        n_paths=report_buffer_paths(options.n_paths),
                    )
                if key is not None:
                    where = reuse.put("scenario", key, sorted(where.iterdir())) or where
                results.append(
                    attach_buffer(
                        ScenarioResult.from_dirs(
                            scenario.name, where, description=scenario.description
                        ),
                        where,
                    )
                )
            write_release_alerts(  # alerts.json: this release against the previous forecast
                directory,
                previous_dir=report_paths(options.out).current(),
                headline_paths=results[0].paths,
                fitted=fitted,
                customs=sources.customs,
                product=inputs.product,
            )
            with progress.stage("render report"):
                diagnostics = fitted.diagnostics_dict()
                run_inputs = ReportInputs(
                    approval=fitted.approval_summary(),
                    diagnostics=diagnostics,
                    scenarios=results,
                    customs=sources.customs,
                    events=sources.events,
                    attrs=dict(fitted.attrs),
                    settings={
                        "scenarios": [s.name for s in scenarios],
                        "n_paths": options.n_paths,
                        "horizon": options.horizon,
                        "seed": options.seed,
                        "sampler_seed": seeds.sampler,
                        "forecast_seed": seeds.forecast,
                        "shortage_seed": seeds.shortage,
                        "posterior_cache": str(cache),
                        "posterior_reused": reused,
                    },
                    data_files=list(sources.files),
                )
                render_report(run_inputs, directory, figure_cache=reuse)
            reuse.prune()
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
        scenarios=[s.name for s in scenarios],
    )


__all__ = [
    "DEFAULT_HORIZON",
    "DEFAULT_OUT",
    "DEFAULT_PATHS",
    "ReportOptions",
    "ReportResult",
    "resolve_scenarios",
    "scheduled_report",
]
