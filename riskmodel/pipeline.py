"""The whole pipeline as library calls: the one module that imports every stage.

Typical use::

    import riskmodel as rm

    inputs = rm.load_inputs()                      # bundled magnet data and events
    fitted = rm.fit(inputs)                        # NUTS (nutpie), diagnostics checked
    paths = rm.forecast(fitted, scenario="baseline", horizon=12, n_paths=2000, seed=1)
    shortages = rm.shortage(paths, seed=1)         # Monte Carlo by region x industry

Every random entry point takes a seed; the same inputs and seed give the same numbers.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from riskmodel.config.priors import PriorSet
from riskmodel.config.scenario import Scenario, load_scenario
from riskmodel.customs import (
    events_for_product,
    load_bundled_events,
    load_bundled_licence_counts,
    read_customs,
    read_licence_counts,
    read_policy_events,
    reconcile,
)
from riskmodel.customs.read import bundled_customs_paths
from riskmodel.exceptions import ArtifactMismatchError, DataValidationError, RiskModelError
from riskmodel.models.export_model import load_model_priors
from riskmodel.models.fit import POSTERIOR_FILE, FittedModel, fit_model, load_fit
from riskmodel.models.inputs import ModelInputs, prepare_inputs
from riskmodel.models.regimes import regime_schedule
from riskmodel.sampling import SamplerConfig, default_backend

log = logging.getLogger(__name__)

DEFAULT_PRODUCT = "magnets"
PathLike = str | Path


def _as_list(paths: PathLike | Sequence[PathLike] | None) -> list[PathLike] | None:
    if paths is None:
        return None
    if isinstance(paths, str | Path):
        return [paths]
    return list(paths)


def load_inputs(
    data: PathLike | Sequence[PathLike] | None = None,
    events: PathLike | None = None,
    licences: PathLike | None = None,
    *,
    product: str | None = None,
    as_of: str | pd.Period | None = None,
    history_months: int = 84,
) -> ModelInputs:
    """Read, validate and reconcile customs data and events into model inputs.

    Parameters
    ----------
    data : path or list of paths, optional
        Customs CSV files in the input format; default: the bundled series.
    events : path, optional
        Policy events CSV; default: the bundled events. Only events whose commodity
        list names the product (or ``all``) are used.
    licences : path, optional
        Licence counts CSV; default: the bundled counts (only rows of the product).
    product : str, optional
        Which product to model; default: the only product in ``data``, or ``magnets``.
    as_of : str or Period, optional
        Point in time ``YYYY-MM``: only customs months before it (a month's figures are
        published the month after) and events dated up to its end are used; the
        forecast then starts at that month.
    history_months : int
        Length of the modelling window in months.

    Returns
    -------
    ModelInputs
    """
    files = _as_list(data)
    frame = read_customs(files if files is not None else bundled_customs_paths())
    products = sorted(frame["product"].unique())
    if product is None:
        if len(products) == 1:
            product = products[0]
        elif DEFAULT_PRODUCT in products:
            product = DEFAULT_PRODUCT
        else:
            raise DataValidationError(
                f"the data hold several products ({', '.join(products)}); choose one with --product"
            )
    if product not in products:
        raise DataValidationError(
            f"no rows of product '{product}' in the data (products: {', '.join(products)})"
        )
    frame = frame[frame["product"] == product]
    ev = read_policy_events(events) if events is not None else load_bundled_events()
    lic = read_licence_counts(licences) if licences is not None else load_bundled_licence_counts()
    ev = events_for_product(ev, product)
    end = None
    future_starts: list[pd.Period] = []
    if as_of is not None:
        cutoff = pd.Period(as_of, freq="M")
        frame = frame[frame["month"] < cutoff]
        if frame.empty:
            raise DataValidationError(f"no customs rows of '{product}' before --as-of {cutoff}")
        ev = ev[ev["month"] <= cutoff]
        lic = lic[[pd.Period(e, freq="M") < cutoff for e in lic["end"]]] if len(lic) else lic
        end = cutoff - 1
    observations = reconcile(frame).observations
    inputs = prepare_inputs(
        observations,
        product=product,
        events=ev,
        licence_counts=lic,
        end=end,
        history_months=history_months,
    )
    if as_of is not None:
        # Regime changes dated after the last data month but known at the origin.
        horizon_months = pd.period_range(inputs.months[0], pd.Period(as_of, freq="M"), freq="M")
        sched = regime_schedule(ev, horizon_months)
        future_starts = [s for s in sched.starts if s > inputs.months[-1]]
    elif inputs.regimes.control_start is None and len(ev):
        # No control in the window yet, but the events date one after the last data
        # month: the forecast (which starts the month after) must meet it.
        last_event = max(pd.Period(d, freq="M") for d in ev["date"]) + 1
        span = pd.period_range(inputs.months[0], max(last_event, inputs.months[-1]), freq="M")
        sched = regime_schedule(ev, span)
        future_starts = [s for s in sched.starts if s > inputs.months[-1]]
    return dataclasses.replace(inputs, future_regime_starts=tuple(future_starts))


def fit(
    inputs: ModelInputs | None = None,
    *,
    priors: PriorSet | PathLike | None = None,
    sampler: SamplerConfig | None = None,
) -> FittedModel:
    """Fit the joint model (default: bundled data, bundled priors, nutpie).

    See :func:`riskmodel.models.fit.fit_model`.
    """
    inputs = inputs or load_inputs()
    prior_set = priors if isinstance(priors, PriorSet) else load_model_priors(priors)
    return fit_model(inputs, prior_set, sampler or SamplerConfig(backend=default_backend()))


def fit_cached(
    cache_dir: PathLike,
    inputs: ModelInputs,
    *,
    priors: PriorSet | PathLike | None = None,
    sampler: SamplerConfig | None = None,
) -> FittedModel:
    """Reuse the posterior in ``cache_dir`` when data and priors are unchanged, else fit.

    A cached posterior is reused only when its data hash and priors hash equal those
    of ``inputs`` and ``priors`` and it was sampled with the same backend, draws, tune,
    chains and seed; otherwise the model is refitted and the cache replaced (each file
    atomically).
    """
    prior_set = priors if isinstance(priors, PriorSet) else load_model_priors(priors)
    sampler = sampler or SamplerConfig(backend=default_backend())
    cache = Path(cache_dir)
    if (cache / POSTERIOR_FILE).is_file():
        try:
            fitted = load_fit(cache, inputs=inputs, priors=prior_set)
            wanted = {
                "backend": sampler.backend,
                "draws": sampler.draws,
                "tune": sampler.tune,
                "chains": sampler.chains,
                "seed": sampler.seed,
            }
            differs = {k: v for k, v in wanted.items() if fitted.attrs.get(k) != v}
            if not differs:
                log.info("reusing the cached posterior in %s", cache)
                return fitted
            log.info("cached posterior made with other sampler settings %s; refitting", differs)
        except ArtifactMismatchError as err:
            log.info("cached posterior not reusable (%s); refitting", err)
    fitted = fit(inputs, priors=prior_set, sampler=sampler)
    fitted.save(cache)
    return fitted


def resolve_scenario(scenario: str | PathLike | Scenario) -> Scenario:
    """Return a :class:`Scenario` from a bundled name, a YAML path, or a Scenario."""
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def forecast(
    fitted: FittedModel,
    *,
    scenario: str | PathLike | Scenario = "baseline",
    horizon: int = 12,
    n_paths: int = 1000,
    seed: int = 0,
    inputs: ModelInputs | None = None,
) -> Any:
    """Export paths (path x destination x month) from a fitted model under a scenario.

    Returns
    -------
    xarray.Dataset
        See :func:`riskmodel.forecast.forecast_paths`.
    """
    from riskmodel.forecast import forecast_paths

    attrs = fitted.attrs
    if "student_t_nu" in attrs and "share_knot_months" in attrs:
        nu, knots = float(attrs["student_t_nu"]), int(attrs["share_knot_months"])
    else:  # a posterior saved before these attrs existed: the bundled priors' settings
        defaults = load_model_priors()
        nu = float(defaults.setting("student_t_nu"))
        knots = int(defaults.setting("share_knot_months"))
    future = list(inputs.future_regime_starts) if inputs is not None else []
    paths = forecast_paths(
        fitted.idata.posterior,
        resolve_scenario(scenario),
        horizon=horizon,
        n_paths=n_paths,
        rng=seed,
        future_regime_starts=future,
        student_t_nu=nu,
        share_knot_months=knots,
    )
    paths.attrs["seed"] = int(seed)
    return paths


def write_forecast(paths: Any, out_dir: PathLike) -> Path:
    """Write ``forecast.csv`` and ``paths.nc``; see :func:`riskmodel.forecast.write_forecast`."""
    from riskmodel.forecast import write_forecast as _write

    return _write(paths, out_dir)


def shortage(
    paths: Any,
    *,
    scenario: str | PathLike | Scenario | None = None,
    n_paths: int | None = None,
    seed: int = 0,
    scheduler: str | None = None,
) -> Any:
    """Monte Carlo shortage distributions from export paths.

    See :func:`riskmodel.propagation.propagate`.
    """
    from riskmodel.propagation import propagate

    scen = resolve_scenario(scenario or str(paths.attrs.get("scenario", "baseline")))
    return propagate(
        paths,
        scenario=scen,
        n_paths=n_paths,
        seed=seed,
        scheduler=scheduler,
    )


def write_shortage(ds: Any, out_dir: PathLike) -> Path:
    """Write ``shortage.csv``, ``stockout.csv`` and ``shortage.nc`` into ``out_dir``."""
    from riskmodel.propagation import write_shortage_outputs

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_shortage_outputs(ds, out)
    return out


__all__ = [
    "RiskModelError",
    "fit",
    "fit_cached",
    "forecast",
    "load_inputs",
    "resolve_scenario",
    "shortage",
    "write_forecast",
    "write_shortage",
]
