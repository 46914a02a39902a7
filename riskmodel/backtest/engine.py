"""Backtests: point-in-time forecasts from several origins, scored against what happened.

For each origin month ``o`` (the ``--as-of`` month) and each model:

1. the inputs are loaded exactly as ``riskmodel forecast --as-of o`` loads them,
   ``load_inputs(data, events, licences, as_of=o)``: customs months before ``o`` and
   policy events dated up to the end of ``o`` only;
2. the model forecasts ``horizon`` months from ``o``: ``bayes`` is fitted
   (:func:`riskmodel.pipeline.fit`) and forecast under the default, unconditional
   scenario (:data:`DEFAULT_SCENARIO`: policy events at rates learned from the events
   dated before the origin; the fit records the regime changes dated after the last
   data month but known at the origin, so they enter); the statsmodels
   baselines use :func:`riskmodel.forecast.baseline_paths.baseline_paths`;
3. every observation of the *full* data (``load_inputs(data, as_of=None)``) that lies
   wholly in ``o .. o + horizon - 1`` is a target (see
   :mod:`riskmodel.backtest.targets`) and is scored from the paths with
   :func:`riskmodel.backtest.scoring.score_samples`.

A destination a model cannot forecast at an origin (a baseline's series too short,
or a destination with too few observations before the origin to be modelled) is
recorded in ``unavailable`` with the reason, never dropped silently.

Seeds: origin ``o`` uses the seed ``origin_seed(seed, o)``, the first 32-bit word of
``numpy.random.SeedSequence(seed, spawn_key=(o.ordinal,))`` (``o.ordinal`` = months
since 1970-01), i.e. the child of ``SeedSequence(seed)`` keyed by the origin month
rather than by its position in the list, so an origin gives the same numbers whether
it is run alone or among others. That seed is the origin's run seed: the NUTS
sampler, the forecast paths and the baseline simulations get their stage seeds from
it (:func:`riskmodel.seeds.stage_seeds`), as ``riskmodel fit``/``forecast --as-of o
--seed origin_seed(seed, o)`` would. Origins run in parallel on Dask
(``scheduler``) or one after another in process; the results are identical.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from riskmodel.backtest.calibration import PIT_BINS, best_baseline, diebold_mariano, pit_histogram
from riskmodel.backtest.scoring import score_samples
from riskmodel.backtest.summary import (
    HEADLINE_DESTINATIONS,
    markdown_table,
    summarise,
    summarise_by_origin,
)
from riskmodel.backtest.targets import Target, target_samples, targets_for_origin
from riskmodel.exceptions import ConvergenceWarning, DataValidationError, RiskModelError
from riskmodel.models.inputs import ModelInputs
from riskmodel.parallel import map_tasks
from riskmodel.sampling import SamplerConfig
from riskmodel.seeds import stage_seeds

log = logging.getLogger(__name__)

#: Models a backtest can run: the joint Bayesian model and the statsmodels baselines.
MODELS: Final[tuple[str, ...]] = ("bayes", "snaive", "ets", "sarimax")
#: Default origins: before the April 2025 controls, just after them, during the
#: recovery, and at the October 2025 expansion.
DEFAULT_ORIGINS: Final[tuple[str, ...]] = ("2025-03", "2025-05", "2025-07", "2025-10")
#: Default horizon in months.
DEFAULT_HORIZON: Final[int] = 6
#: Scenario of the ``bayes`` forecasts: the unconditional default forecast.
DEFAULT_SCENARIO: Final[str] = "unconditional"
#: Default number of forecast paths per model and origin.
DEFAULT_PATHS: Final[int] = 1000
#: Columns of ``scores.csv``, in order.
SCORE_COLUMNS: Final[tuple[str, ...]] = (
    "model",
    "origin",
    "destination",
    "month",
    "horizon",
    "actual",
    "crps",
    "wis",
    "abs_error",
    "pit",
    "in50",
    "in80",
    "in95",
)
#: Columns of ``unavailable.csv``.
UNAVAILABLE_COLUMNS: Final[tuple[str, ...]] = (
    "model",
    "origin",
    "destination",
    "targets",
    "reason",
)
#: Columns of ``runs.csv`` (one row per model and origin).
RUN_COLUMNS: Final[tuple[str, ...]] = (
    "model",
    "origin",
    "seed",
    "seconds",
    "compile_seconds",
    "sampling_seconds",
    "structure",
    "scored",
    "unavailable",
    "max_rhat",
    "min_ess_bulk",
    "divergences",
    "converged",
    "notes",
)


@dataclass(frozen=True)
class BacktestSpec:
    """What every origin of a backtest shares (plain, picklable data).

    Attributes
    ----------
    data : tuple of str, optional
        Customs CSV files; default the bundled series.
    events, licences : str, optional
        Policy events and licence counts CSV files; default the bundled ones.
    product : str, optional
        The product when the data hold several.
    priors : str, optional
        Priors YAML of the Bayesian model; default the bundled file.
    models : tuple of str
        Models to run, from :data:`MODELS`.
    horizon : int
        Months forecast from each origin.
    n_paths : int
        Forecast paths per model and origin.
    seed : int
        Root seed (see the module notes).
    sampler : SamplerConfig, optional
        NUTS settings for ``bayes`` (its seed is replaced by the origin's seed);
        default: ``SamplerConfig`` with the default backend.
    scenario : str
        Scenario (bundled name or YAML path) of the ``bayes`` forecasts.
    """

    data: tuple[str, ...] | None = None
    events: str | None = None
    licences: str | None = None
    product: str | None = None
    priors: str | None = None
    models: tuple[str, ...] = MODELS
    horizon: int = DEFAULT_HORIZON
    n_paths: int = DEFAULT_PATHS
    seed: int = 0
    sampler: SamplerConfig | None = None
    scenario: str = DEFAULT_SCENARIO

    def load(self, as_of: str | None = None) -> ModelInputs:
        """Load the inputs (point in time at ``as_of``)."""
        from riskmodel.pipeline import load_inputs

        return load_inputs(
            list(self.data) if self.data is not None else None,
            self.events,
            self.licences,
            product=self.product,
            as_of=as_of,
        )


@dataclass(frozen=True)
class OriginTask:
    """One origin to run: the shared spec, the origin, its seed, inputs and targets.

    ``inputs`` are the point-in-time inputs ``spec.load(as_of=origin)``; ``targets``
    the observations of the full data inside the horizon.
    """

    spec: BacktestSpec
    origin: str
    seed: int
    inputs: ModelInputs
    targets: tuple[Target, ...]


@dataclass
class OriginResult:
    """What one origin produced: rows of scores, unavailable targets and runs."""

    origin: str
    scores: list[dict[str, Any]] = field(default_factory=list)
    unavailable: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)


def origin_seed(seed: int, origin: str | pd.Period) -> int:
    """Return the seed of one origin, derived from the root seed and the origin month.

    It is the first 32-bit word of ``SeedSequence(seed, spawn_key=(origin.ordinal,))``.

    Parameters
    ----------
    seed : int
        The backtest's root seed (>= 0).
    origin : str or Period
        The origin month.

    Returns
    -------
    int
        A seed in ``[0, 2**32)``.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    ordinal = int(pd.Period(origin, freq="M").ordinal)
    child = np.random.SeedSequence(int(seed), spawn_key=(ordinal,))
    return int(child.generate_state(1, dtype=np.uint32)[0])


def _warning_note(caught: list[warnings.WarningMessage]) -> str:
    messages = sorted({str(w.message).splitlines()[0] for w in caught})
    return "; ".join(messages)


def _structure_label(inputs: ModelInputs) -> str:
    """Short label of the padded model structure the fit compiles (shared = no recompile)."""
    from riskmodel.models.export_model import model_structure

    st = model_structure(inputs)
    return "/".join(str(v) for v in dataclasses.astuple(st))


def _bayes_paths(inputs: ModelInputs, spec: BacktestSpec, seed: int) -> tuple[Any, dict[str, Any]]:
    from riskmodel import pipeline
    from riskmodel.sampling import default_backend

    sampler = spec.sampler or SamplerConfig(backend=default_backend())
    sampler = dataclasses.replace(sampler, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = pipeline.fit(inputs, priors=spec.priors, sampler=sampler, seed=seed)
    paths = pipeline.forecast(
        fitted, scenario=spec.scenario, horizon=spec.horizon, n_paths=spec.n_paths, seed=seed
    )
    diag = fitted.diagnostics
    info = {
        "max_rhat": float(diag.max_rhat),
        "min_ess_bulk": float(diag.min_ess_bulk),
        "divergences": int(diag.divergences),
        "converged": bool(diag.passed),
        "notes": "; ".join(diag.failures),
        # 0 when the compiled model of this structure was reused (only the data swapped).
        "compile_seconds": fitted.timings.get("compile_seconds"),
        "sampling_seconds": fitted.timings.get("seconds"),
        "structure": _structure_label(inputs),
    }
    return paths, info


def _baseline_paths(
    inputs: ModelInputs, spec: BacktestSpec, method: str, seed: int
) -> tuple[Any, dict[str, Any]]:
    from riskmodel.forecast.baseline_paths import baseline_paths

    # Left-out destinations are recorded as unavailable; their log warnings are noise here.
    quiet = logging.getLogger("riskmodel.forecast.baseline_paths")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            paths = baseline_paths(
                inputs,
                method=method,
                horizon=spec.horizon,
                n_paths=spec.n_paths,
                rng=stage_seeds(seed).forecast,
            )
    finally:
        quiet.setLevel(level)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return paths, {"converged": converged, "notes": _warning_note(caught)}


def _model_paths(
    model: str, inputs: ModelInputs, spec: BacktestSpec, seed: int
) -> tuple[Any, dict[str, Any]]:
    """Forecast paths of one model from point-in-time inputs, and run notes."""
    if model == "bayes":
        return _bayes_paths(inputs, spec, seed)
    return _baseline_paths(inputs, spec, model, seed)


def _segment(message: str, dest: str, names: Sequence[str]) -> str | None:
    """Return the part of a 'dest: reason; other: reason' message about ``dest``."""
    key = f"{dest}: "
    i = message.find(key)
    if i < 0:
        return None
    start = i + len(key)
    ends = [e for e in (message.find(f"; {n}: ", start) for n in names) if e >= 0]
    return message[start : min(ends) if ends else len(message)]


def _why_missing(dest: str, inputs: ModelInputs, paths: Any | None, error: str | None) -> str:
    if error is not None:
        return _segment(error, dest, inputs.destinations) or error
    if dest not in inputs.destinations:
        for entry in inputs.dropped:
            if f"'{dest}'" in entry:
                return f"not modelled at this origin: {entry}"
        return "no observations before the origin"
    skipped = str(paths.attrs.get("skipped", "")) if paths is not None else ""
    for entry in skipped.split(" | "):
        if entry.startswith(f"{dest}: "):
            return entry[len(dest) + 2 :]
    return "not in the forecast"


def run_origin(task: OriginTask) -> OriginResult:
    """Fit and forecast every model from one origin and score its targets.

    Parameters
    ----------
    task : OriginTask
        The spec, origin, seed and targets.

    Returns
    -------
    OriginResult
        Score rows (:data:`SCORE_COLUMNS`), unavailable rows
        (:data:`UNAVAILABLE_COLUMNS`) and one run row per model (:data:`RUN_COLUMNS`).
    """
    spec, origin, inputs = task.spec, task.origin, task.inputs
    if inputs.months[-1] >= pd.Period(origin, freq="M"):
        raise RiskModelError(f"origin {origin}: the inputs reach {inputs.months[-1]}")
    by_dest: dict[str, list[Target]] = {}
    for t in task.targets:
        by_dest.setdefault(t.destination, []).append(t)
    result = OriginResult(origin)
    for model in spec.models:
        clock = time.perf_counter()
        paths, error = None, None
        info: dict[str, Any] = {}
        try:
            paths, info = _model_paths(model, inputs, spec, task.seed)
        except DataValidationError as err:
            error = str(err)
            info = {"notes": error}
        if paths is not None and str(paths["month"].values[0]) != origin:  # pragma: no cover
            raise RiskModelError(
                f"{model} forecast from {origin} starts at {paths['month'].values[0]}"
            )
        available = set() if paths is None else {str(d) for d in paths["destination"].values}
        scored = missing = 0
        for dest, targets in by_dest.items():
            if dest not in available:
                result.unavailable.append(
                    {
                        "model": model,
                        "origin": origin,
                        "destination": dest,
                        "targets": len(targets),
                        "reason": _why_missing(dest, inputs, paths, error),
                    }
                )
                missing += len(targets)
                continue
            for t in targets:
                row: dict[str, Any] = {
                    "model": model,
                    "origin": origin,
                    "destination": dest,
                    "month": t.month,
                    "horizon": t.horizon(origin),
                    "actual": t.actual,
                }
                row.update(score_samples(target_samples(paths, t), t.actual))
                result.scores.append(row)
                scored += 1
        run = dict.fromkeys(RUN_COLUMNS)
        run.update(
            {
                "model": model,
                "origin": origin,
                "seed": task.seed,
                "seconds": round(time.perf_counter() - clock, 2),
                "scored": scored,
                "unavailable": missing,
                "notes": "",
            }
        )
        run.update(info)
        result.runs.append(run)
        log.debug("backtest %s from %s: %d scored, %d unavailable", model, origin, scored, missing)
    return result


def _unavailable_digest(unavailable: pd.DataFrame) -> pd.DataFrame:
    """Unavailable targets per model and destination: origins, count, first reason."""
    rows = []
    for (model, dest), g in unavailable.groupby(["model", "destination"], sort=False):
        rows.append(
            {
                "model": model,
                "destination": dest,
                "origins": ", ".join(g["origin"]),
                "targets": int(g["targets"].sum()),
                "reason (first origin)": str(g["reason"].iloc[0]),
            }
        )
    return pd.DataFrame(rows)


@dataclass
class BacktestResult:
    """Scores of a backtest and how they were produced.

    Attributes
    ----------
    scores : pandas.DataFrame
        One row per model, origin and scored target; columns :data:`SCORE_COLUMNS`.
    unavailable : pandas.DataFrame
        Targets a model could not forecast, per model, origin and destination, with
        the reason; columns :data:`UNAVAILABLE_COLUMNS`.
    runs : pandas.DataFrame
        One row per model and origin: seed, wall seconds, counts, and for ``bayes``
        the convergence diagnostics; columns :data:`RUN_COLUMNS`.
    settings : dict
        Origins, models, horizon, paths, seed, sampler settings, scheduler.
    """

    scores: pd.DataFrame
    unavailable: pd.DataFrame
    runs: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def models(self) -> list[str]:
        """The models run, in order."""
        return list(self.settings.get("models", dict.fromkeys(self.runs["model"])))

    def summary(self, destinations: Sequence[str] = HEADLINE_DESTINATIONS) -> pd.DataFrame:
        """Per model: mean CRPS, WIS and absolute error, coverage, n (see :func:`summarise`)."""
        return summarise(
            self.scores, self.unavailable, destinations=destinations, models=self.models
        )

    def summary_markdown(self, destinations: Sequence[str] = HEADLINE_DESTINATIONS) -> str:
        """Render the summary, the per-origin table and the unavailable targets as Markdown."""
        s = self.settings
        lines = [
            "# Backtest summary",
            "",
            f"Origins {', '.join(s.get('origins', []))}; horizon {s.get('horizon')} months; "
            f"{s.get('n_paths')} paths; seed {s.get('seed')}; models "
            f"{', '.join(self.models)}.",
        ]
        if "sampler" in s and "bayes" in self.models:
            lines.append(f"Sampler: {s['sampler']}.")
        if "scenario" in s and "bayes" in self.models:
            lines.append(f"Scenario of the bayes forecasts: {s['scenario']}.")
        lines += [
            "",
            "Mean scores in tonnes (lower is better); coverage = share of actuals inside the "
            "central 50/80/95% interval. `common` = the targets every model scored.",
            "",
            markdown_table(self.summary(destinations)),
            "",
            "## By origin",
            "",
            markdown_table(
                summarise_by_origin(self.scores, destinations=destinations, models=self.models)
            ),
            "",
            "## Unavailable",
            "",
        ]
        if len(self.unavailable):
            lines += [
                "Targets a model could not forecast, per destination (the reason at each "
                "origin is in `unavailable.csv`):",
                "",
                markdown_table(_unavailable_digest(self.unavailable)),
            ]
        else:
            lines.append("Every model forecast every target.")
        lines += ["", *self.calibration_markdown(destinations)]
        if len(self.runs):
            runs = self.runs.copy()
            runs["notes"] = runs["notes"].fillna("").astype(str).str.slice(0, 90)
            lines += ["", "## Runs", "", markdown_table(runs)]
        return "\n".join(lines) + "\n"

    def pit(self, destinations: Sequence[str] = HEADLINE_DESTINATIONS) -> pd.DataFrame:
        """PIT histogram and uniformity test per model and scope (see :func:`pit_histogram`)."""
        return pit_histogram(self.scores, destinations=destinations, models=self.models)

    def diebold_mariano(self, destinations: Sequence[str] = HEADLINE_DESTINATIONS) -> pd.DataFrame:
        """``bayes`` against the best baseline on ``common``, per scope (Diebold-Mariano)."""
        reference = best_baseline(self.summary(destinations))
        if "bayes" not in self.models or reference is None:
            return pd.DataFrame()
        horizon = int(self.settings.get("horizon") or 1)
        return pd.DataFrame(
            [
                diebold_mariano(self.scores, "bayes", reference, destination=d, horizon=horizon)
                for d in ("all", *destinations)
            ]
        )

    def calibration_markdown(
        self, destinations: Sequence[str] = HEADLINE_DESTINATIONS
    ) -> list[str]:
        """Render the PIT histograms and the Diebold-Mariano tests as Markdown lines."""
        lines = [
            "## Calibration",
            "",
            f"PIT of each actual under its forecast, counts in {PIT_BINS} equal bins (a "
            "calibrated forecast is flat; a U shape means intervals too narrow); p_uniform "
            "from a chi-square test that takes the targets as independent; they are not "
            "(overlapping origins), so it rejects even calibrated forecasts often: a "
            "screen.",
            "",
            markdown_table(self.pit(destinations)),
        ]
        dm = self.diebold_mariano(destinations)
        if len(dm):
            lines += [
                "",
                "Diebold-Mariano test of mean CRPS against the best baseline on the common "
                "targets (per-origin mean differences, Newey-West window horizon - 1, "
                "Harvey-Leybourne-Newbold correction; dm < 0 favours bayes):",
                "",
                markdown_table(dm),
            ]
        return lines

    def write(self, out_dir: str | Path) -> Path:
        """Write ``scores.csv``, ``summary.csv``, ``summary.md``, ``unavailable.csv``, ``runs.csv``.

        Also ``pit.csv`` (PIT histograms) and ``diebold_mariano.csv`` (when ``bayes`` ran
        beside a baseline).

        Each file is written atomically.
        """
        from riskmodel.atomic import atomic_write, write_text

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        summary = self.summary()
        md = self.summary_markdown()
        frames = {
            "scores.csv": self.scores,
            "summary.csv": summary,
            "unavailable.csv": self.unavailable,
            "runs.csv": self.runs,
            "pit.csv": self.pit(),
            "diebold_mariano.csv": self.diebold_mariano(),
        }
        for name, frame in frames.items():
            atomic_write(
                out / name,
                lambda p, f=frame: f.to_csv(p, index=False, float_format="%.6g"),
            )
        write_text(out / "summary.md", md)
        return out


def run_backtest(
    origins: Sequence[str] = DEFAULT_ORIGINS,
    *,
    data: str | Path | Sequence[str | Path] | None = None,
    events: str | Path | None = None,
    licences: str | Path | None = None,
    product: str | None = None,
    priors: str | Path | None = None,
    models: Sequence[str] = MODELS,
    horizon: int = DEFAULT_HORIZON,
    n_paths: int = DEFAULT_PATHS,
    seed: int = 0,
    sampler: SamplerConfig | None = None,
    scenario: str = DEFAULT_SCENARIO,
    scheduler: str | None = None,
    progress: Callable[[OriginResult], None] | None = None,
) -> BacktestResult:
    """Run point-in-time forecasts from each origin and score them against the full data.

    Parameters
    ----------
    origins : sequence of str
        Origin months ``YYYY-MM`` (each as ``--as-of``); default
        :data:`DEFAULT_ORIGINS`.
    data, events, licences, product : optional
        As for :func:`riskmodel.pipeline.load_inputs`; default the bundled files.
    priors : str or Path, optional
        Priors YAML of the Bayesian model.
    models : sequence of str
        From :data:`MODELS`.
    horizon : int
        Months forecast from each origin (default 6).
    n_paths : int
        Paths per model and origin.
    seed : int
        Root seed; origin ``o`` uses :func:`origin_seed` ``(seed, o)``.
    sampler : SamplerConfig, optional
        NUTS settings of ``bayes``.
    scenario : str
        Scenario of the ``bayes`` forecasts (default :data:`DEFAULT_SCENARIO`;
        ``"baseline"`` holds today's regime over the horizon).
    scheduler : str, optional
        ``None``: origins one after another in this process; ``"local"``: a
        ``distributed.LocalCluster`` of 2 single-threaded worker processes; otherwise
        the address of a running Dask scheduler. Results do not depend on it.
    progress : callable, optional
        Called with each :class:`OriginResult` as it completes.

    Returns
    -------
    BacktestResult

    Raises
    ------
    DataValidationError
        For an origin with no observed month at or after it, or no observation in
        its horizon, or no data before it.
    ValueError
        For an unknown model, an empty origin list, or a bad horizon or path count.
    """
    models = tuple(dict.fromkeys(models))
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise ValueError(f"unknown model(s) {unknown}; choose from {', '.join(MODELS)}")
    if horizon < 1 or n_paths < 1:
        raise ValueError("horizon and n_paths must be at least 1")
    periods = sorted({pd.Period(o, freq="M") for o in origins})
    if not periods:
        raise ValueError("no origins given")
    if isinstance(data, str | Path):
        data = [data]
    spec = BacktestSpec(
        data=tuple(str(p) for p in data) if data is not None else None,
        events=str(events) if events is not None else None,
        licences=str(licences) if licences is not None else None,
        product=product,
        priors=str(priors) if priors is not None else None,
        models=models,
        horizon=int(horizon),
        n_paths=int(n_paths),
        seed=int(seed),
        sampler=sampler,
        scenario=str(scenario),
    )
    full = spec.load(as_of=None)
    tasks = [
        OriginTask(
            spec,
            str(p),
            origin_seed(seed, p),
            spec.load(as_of=str(p)),
            tuple(targets_for_origin(full, p, horizon)),
        )
        for p in periods
    ]
    results = map_tasks(run_origin, tasks, scheduler=scheduler, progress=progress)

    order = {m: i for i, m in enumerate(models)}

    def frame(rows: list[dict[str, Any]], columns: Sequence[str], keys: list[str]) -> pd.DataFrame:
        df = pd.DataFrame(rows, columns=list(columns))
        if df.empty:
            return df
        df = df.sort_values(
            ["model", *keys], key=lambda s: s.map(order) if s.name == "model" else s
        )
        return df.reset_index(drop=True)

    scores = frame(
        [r for res in results for r in res.scores],
        SCORE_COLUMNS,
        ["origin", "destination", "month"],
    )
    if not scores.empty:
        scores = scores.astype({"in50": bool, "in80": bool, "in95": bool, "horizon": int})
    unavailable = frame(
        [r for res in results for r in res.unavailable],
        UNAVAILABLE_COLUMNS,
        ["origin", "destination"],
    )
    runs = frame([r for res in results for r in res.runs], RUN_COLUMNS, ["origin"])
    cfg = sampler
    settings: dict[str, Any] = {
        "origins": [str(p) for p in periods],
        "models": list(models),
        "horizon": int(horizon),
        "n_paths": int(n_paths),
        "seed": int(seed),
        "scenario": str(scenario),
        "scheduler": scheduler,
    }
    if cfg is not None:
        settings["sampler"] = (
            f"{cfg.backend}, {cfg.chains} chains x ({cfg.tune} tune + {cfg.draws} draws), "
            f"target_accept {cfg.target_accept}"
        )
    return BacktestResult(scores, unavailable, runs, settings)


__all__ = [
    "DEFAULT_HORIZON",
    "DEFAULT_ORIGINS",
    "DEFAULT_PATHS",
    "DEFAULT_SCENARIO",
    "MODELS",
    "RUN_COLUMNS",
    "SCORE_COLUMNS",
    "UNAVAILABLE_COLUMNS",
    "BacktestResult",
    "BacktestSpec",
    "OriginResult",
    "OriginTask",
    "origin_seed",
    "run_backtest",
    "run_origin",
]
