"""The whole pipeline as library calls: the one module that imports every stage.

Typical use::

    import riskmodel as rm

    inputs = rm.load_inputs()                      # bundled magnet data and events
    fitted = rm.fit(inputs)                        # NUTS (nutpie), diagnostics checked
    paths = rm.forecast(fitted, scenario="baseline", horizon=12, n_paths=2000, seed=1)
    shortages = rm.shortage(paths, seed=1)         # Monte Carlo by region x industry

Every random entry point takes the run's seed (an int or a ``numpy.random.Generator``)
and derives its stage's own seed from it (:func:`riskmodel.seeds.stage_seeds`), so the
same inputs and seed give the same numbers whether the stages run one by one or in
:func:`riskmodel.report.scheduled_report`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from riskmodel.config.limits import check_setting
from riskmodel.config.priors import PriorSet
from riskmodel.config.scenario import Scenario, load_scenario, parse_scenario
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
from riskmodel.exceptions import (
    ArtifactMismatchError,
    DataValidationError,
    RiskModelError,
    ScenarioError,
)
from riskmodel.models.inputs import ModelInputs, prepare_inputs
from riskmodel.models.regimes import regime_starts
from riskmodel.resources import bundled_data_file
from riskmodel.sampling import SamplerConfig, default_backend
from riskmodel.seeds import SeedLike, seed_label, stage_seeds

if TYPE_CHECKING:  # the fit stage imports PyMC: only the functions that fit load it
    from riskmodel.models.fit import FittedModel

log = logging.getLogger(__name__)

DEFAULT_PRODUCT = "magnets"
#: The default forecast: policy can change inside the horizon (priors/scenarios/unconditional.yaml).
DEFAULT_SCENARIO = "unconditional"
PathLike = str | Path


@dataclass(frozen=True)
class Sources:
    """Customs rows, policy events and licence counts as read, and the files they came from.

    ``customs``, ``events`` and ``licences`` are the frames of
    :func:`riskmodel.customs.read_customs`, :func:`~riskmodel.customs.read_policy_events`
    and :func:`~riskmodel.customs.read_licence_counts`; ``files`` names the customs
    files, then the events file.
    """

    customs: pd.DataFrame
    events: pd.DataFrame
    licences: pd.DataFrame
    files: tuple[str, ...]


def read_sources(
    data: PathLike | Sequence[PathLike] | None = None,
    events: PathLike | None = None,
    licences: PathLike | None = None,
) -> Sources:
    """Read and validate customs series, policy events and licence counts (default: bundled).

    Returns
    -------
    Sources
    """
    if isinstance(data, str | Path):
        data = [data]
    files = [str(f) for f in data or bundled_customs_paths()]
    return Sources(
        customs=read_customs(files),
        events=read_policy_events(events) if events is not None else load_bundled_events(),
        licences=(
            read_licence_counts(licences) if licences is not None else load_bundled_licence_counts()
        ),
        files=(*files, str(events or bundled_data_file("policy_events.csv"))),
    )


def load_inputs(
    data: PathLike | Sequence[PathLike] | Sources | None = None,
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
    data : path, list of paths or Sources, optional
        Customs CSV files in the input format (default: the bundled series), or
        what :func:`read_sources` returned (then ``events`` and ``licences`` are not
        given), so a caller that needs the frames too reads the files once.
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
        With ``future_regime_starts``: the regimes that the events known at the
        origin open after the last data month (an event late in the origin month
        counts from the month after it; see :mod:`riskmodel.models.regimes`).
    """
    if isinstance(data, Sources):
        if events is not None or licences is not None:
            raise ValueError("give events and licences to read_sources, not with Sources")
        sources = data
    else:
        sources = read_sources(data, events, licences)
    frame = sources.customs
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
    ev = events_for_product(sources.events, product)
    lic = sources.licences
    end = None
    cutoff = None
    if as_of is not None:
        cutoff = pd.Period(as_of, freq="M")
        frame = frame[frame["month"] < cutoff]
        if frame.empty:
            raise DataValidationError(f"no customs rows of '{product}' before --as-of {cutoff}")
        ev = ev[ev["month"] <= cutoff]
        lic = lic[[pd.Period(e, freq="M") < cutoff for e in lic["end"]]] if len(lic) else lic
        end = cutoff - 1
    inputs = prepare_inputs(
        reconcile(frame).observations,
        product=product,
        events=ev,
        licence_counts=lic,
        end=end,
        history_months=history_months,
    )
    # Regimes that the known events open after the last data month: the forecast meets them.
    future = [(s, name) for s, name in regime_starts(ev) if s > inputs.months[-1]]
    return dataclasses.replace(
        inputs,
        future_regime_starts=tuple(s for s, _ in future),
        future_regime_names=tuple(name for _, name in future),
        as_of=cutoff,
    )


def _seeded(
    sampler: SamplerConfig | None, seed: SeedLike | None
) -> tuple[SamplerConfig, SeedLike | None]:
    """Return the sampler settings, with the sampler's seed derived from the run's, and that.

    The run's seed is ``seed``; else none (the sampler's seed is used as given); else 0.
    """
    if seed is None and sampler is None:
        seed = 0
    sampler = sampler or SamplerConfig(backend=default_backend())
    if seed is None:
        return sampler, None
    return dataclasses.replace(sampler, seed=stage_seeds(seed).sampler), seed


def fit(
    inputs: ModelInputs | None = None,
    *,
    priors: PriorSet | PathLike | None = None,
    sampler: SamplerConfig | None = None,
    seed: SeedLike | None = None,
) -> FittedModel:
    """Fit the joint model (default: bundled data, bundled priors, nutpie).

    Parameters
    ----------
    inputs : ModelInputs, optional
        Default: :func:`load_inputs` of the bundled data.
    priors : PriorSet or path, optional
        Default: the bundled ``priors/export_model.yaml``.
    sampler : SamplerConfig, optional
        Backend and settings; default nutpie (PyMC's NUTS when nutpie is missing).
    seed : int or numpy.random.Generator, optional
        The run's seed: the sampler gets ``stage_seeds(seed).sampler`` (see
        :mod:`riskmodel.seeds`), so ``fit``, :func:`forecast` and :func:`shortage` with
        one seed reproduce ``riskmodel report`` with it. When omitted, the seed of
        ``sampler`` is used as given, or the run seed 0 when ``sampler`` is omitted too.

    Returns
    -------
    FittedModel
        Its attrs record the run seed (``run_seed``, when there is one) beside the
        sampler's (``seed``); see :func:`riskmodel.models.fit.fit_model`.
    """
    from riskmodel.models.export_model import load_model_priors
    from riskmodel.models.fit import fit_model

    inputs = inputs or load_inputs()
    prior_set = priors if isinstance(priors, PriorSet) else load_model_priors(priors)
    sampler, run_seed = _seeded(sampler, seed)
    fitted = fit_model(inputs, prior_set, sampler)
    if run_seed is not None:
        fitted.idata.posterior.attrs["run_seed"] = seed_label(run_seed)
    return fitted


#: Sampler settings a cached posterior must share with the run that would reuse it.
_CACHE_SAMPLER_SETTINGS = ("backend", "draws", "tune", "chains", "target_accept", "seed")


def fit_cached(
    cache_dir: PathLike,
    inputs: ModelInputs,
    *,
    priors: PriorSet | PathLike | None = None,
    sampler: SamplerConfig | None = None,
    seed: SeedLike | None = None,
) -> FittedModel:
    """Reuse the posterior in ``cache_dir`` when data and priors are unchanged, else fit.

    A cached posterior is reused only when its data hash and priors hash equal those
    of ``inputs`` and ``priors``, it was sampled by today's model code
    (:func:`riskmodel.models.fit.model_code_hash`) and with the same backend, draws,
    tune, chains, target acceptance and sampler seed (``seed`` as in :func:`fit`);
    otherwise the model is refitted and the cache replaced whole. An unreadable cache
    (truncated, corrupt) is rebuilt with a warning, never a permanent failure.
    """
    from riskmodel.models.export_model import load_model_priors
    from riskmodel.models.fit import (
        MODEL_CODE_KEY,
        POSTERIOR_FILE,
        check_fit_folder,
        load_fit,
        model_code_hash,
    )

    prior_set = priors if isinstance(priors, PriorSet) else load_model_priors(priors)
    derived, _ = _seeded(sampler, seed)
    cache = Path(cache_dir)
    check_fit_folder(cache)  # a file, or a folder of other things, is refused before fitting
    if (cache / POSTERIOR_FILE).is_file():
        try:
            fitted = load_fit(cache, inputs=inputs, priors=prior_set)
            wanted = {k: getattr(derived, k) for k in _CACHE_SAMPLER_SETTINGS}
            differs = {k: v for k, v in wanted.items() if fitted.attrs.get(k) != v}
            if fitted.attrs.get(MODEL_CODE_KEY) != model_code_hash():
                log.info("cached posterior sampled by other model code; refitting")
            elif not differs:
                log.info("reusing the cached posterior in %s", cache)
                return fitted
            else:
                log.info("cached posterior made with other sampler settings %s; refitting", differs)
        except ArtifactMismatchError as err:
            log.info("cached posterior not reusable (%s); refitting", err)
        except (OSError, ValueError, KeyError, RuntimeError) as err:
            # A truncated or corrupt cache (a killed run, a full disk) must not fail every
            # later run: it is rebuilt, and the rebuild replaces it whole.
            log.warning("cached posterior in %s is unreadable (%s); refitting", cache, err)
    fitted = fit(inputs, priors=prior_set, sampler=sampler, seed=seed)
    fitted.save(cache)
    return fitted


def resolve_scenario(scenario: str | PathLike | Scenario) -> Scenario:
    """Return a :class:`Scenario` from a bundled name, a YAML path, or a Scenario."""
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


#: Fit attrs the forecast needs: what the fit was fitted on, and its settings.
FIT_CONTEXT_ATTRS = ("as_of", "future_regime_starts", "student_t_nu", "share_knot_months")
#: Attr of ``paths.nc`` holding the whole scenario (its canonical mapping, as JSON).
SCENARIO_ATTR = "scenario_json"


def fit_context(fitted: FittedModel) -> dict[str, Any]:
    """Return what a saved fit records about what it was fitted on, for the forecast.

    Returns
    -------
    dict
        ``as_of`` (Period or None), ``future_regime_starts`` (list of Period: regimes
        the known events open after the last fitted month), ``student_t_nu`` (float),
        ``share_knot_months`` (int).

    Raises
    ------
    ArtifactMismatchError
        If the posterior does not record them (saved by an older riskmodel).
    """
    attrs = fitted.attrs
    missing = [k for k in FIT_CONTEXT_ATTRS if k not in attrs]
    if missing:
        raise ArtifactMismatchError(
            f"the posterior does not record {', '.join(missing)} (saved by an older "
            "riskmodel); refit with 'riskmodel fit'"
        )
    starts = str(attrs["future_regime_starts"])
    return {
        "as_of": pd.Period(str(attrs["as_of"]), freq="M") if str(attrs["as_of"]) else None,
        "future_regime_starts": [pd.Period(m, freq="M") for m in starts.split("|") if m],
        "student_t_nu": float(attrs["student_t_nu"]),
        "share_knot_months": int(attrs["share_knot_months"]),
    }


def carry_scenario(paths: Any, scenario: Scenario) -> Any:
    """Record the whole scenario in the paths' attrs (``scenario_json``) and return them."""
    paths.attrs["scenario"] = scenario.name
    paths.attrs["scenario_digest"] = scenario.digest()
    paths.attrs[SCENARIO_ATTR] = json.dumps(scenario.to_dict(), sort_keys=True)
    return paths


def paths_scenario(paths: Any) -> Scenario | None:
    """Return the scenario that forecast paths carry, or None if they carry none.

    Raises
    ------
    ScenarioError
        If the carried scenario does not validate.
    """
    text = paths.attrs.get(SCENARIO_ATTR)
    if not text:
        return None
    where = f"<scenario '{paths.attrs.get('scenario', '')}' carried by the forecast paths>"
    return parse_scenario(str(text), path=where)


def forecast(
    fitted: FittedModel,
    *,
    scenario: str | PathLike | Scenario = DEFAULT_SCENARIO,
    horizon: int = 12,
    n_paths: int = 1000,
    seed: SeedLike = 0,
    events: pd.DataFrame | None = None,
) -> Any:
    """Export paths (path x destination x month) from a fitted model under a scenario.

    The forecast needs nothing but the fit: the regime changes dated after the last
    fitted month and the model settings are read from its attrs (:func:`fit_context`).

    Parameters
    ----------
    fitted : FittedModel
        From :func:`fit` or :func:`~riskmodel.models.fit.load_fit`.
    scenario : str, path or Scenario
        A bundled name, a scenario YAML file, or a Scenario. The default,
        ``unconditional``, lets new controls, tightening, deals and relief happen
        inside the horizon at rates learned from the policy events; the other bundled
        scenarios are conditional forecasts ("given that this happens").
    horizon, n_paths : int
        Months ahead and number of paths.
    seed : int or numpy.random.Generator
        The run's seed; the paths use ``stage_seeds(seed).forecast``.
    events : pandas.DataFrame, optional
        Every product's policy events (``Sources.events``) for the event rates of the
        unconditional forecast; default: the bundled events.

    Returns
    -------
    xarray.Dataset
        See :func:`riskmodel.forecast.forecast_paths`; attrs also carry the whole
        scenario (``scenario_json``), the run seed (``seed``) and the stage's seed
        (``forecast_seed``).
    """
    from riskmodel.forecast import forecast_paths

    horizon, n_paths = check_setting("horizon", horizon), check_setting("paths", n_paths)
    context = fit_context(fitted)
    scen = resolve_scenario(scenario)
    stage_seed = stage_seeds(seed).forecast
    paths = forecast_paths(
        fitted.idata.posterior,
        scen,
        horizon=horizon,
        n_paths=n_paths,
        rng=stage_seed,
        future_regime_starts=context["future_regime_starts"],
        student_t_nu=context["student_t_nu"],
        share_knot_months=context["share_knot_months"],
        events=events,
    )
    paths.attrs.update(seed=seed_label(seed), forecast_seed=stage_seed)
    return carry_scenario(paths, scen)


def write_forecast(paths: Any, out_dir: PathLike) -> Path:
    """Write ``forecast.csv`` and ``paths.nc``; see :func:`riskmodel.forecast.write_forecast`."""
    from riskmodel.forecast import write_forecast as _write

    return _write(paths, out_dir)


def shortage_scenario(
    paths: Any, scenario: str | PathLike | Scenario | None = None
) -> Scenario | None:
    """Return the scenario whose ``propagation:`` block the shortage stage uses.

    It is the scenario the paths carry (``scenario_json``). Paths that only name
    theirs (written by an older riskmodel, or built by hand) get the bundled scenario
    of that name, which must match the digest they record. A ``scenario`` given as
    well must be that same scenario (same canonical content); it is needed only for
    paths that neither carry nor name one.

    Returns
    -------
    Scenario or None
        None when neither the paths nor the caller name a scenario (proportional
        allocation).

    Raises
    ------
    ScenarioError
        If ``scenario``, or the bundled scenario of the recorded name, differs from
        the one the paths were made under.
    """
    carried = paths_scenario(paths)
    recorded = str(paths.attrs.get("scenario", "") or "")
    digest = str(
        carried.digest() if carried is not None else paths.attrs.get("scenario_digest", "")
    )
    if scenario is None and carried is not None:
        return carried
    if scenario is None and not recorded:
        return None
    given = resolve_scenario(recorded if scenario is None else scenario)
    if digest and given.digest() != digest:
        raise ScenarioError(
            str(given.path or given.name),
            [
                f"differs from the scenario '{recorded}' the forecast paths were made under "
                f"(digest {given.digest()} != {digest}); "
                + (
                    "drop --scenario to use theirs, or forecast again under this one"
                    if scenario is not None
                    else "they do not carry it (an older riskmodel wrote them): forecast again"
                )
            ],
        )
    return given


def shortage(
    paths: Any,
    *,
    scenario: str | PathLike | Scenario | None = None,
    params: Any = None,
    n_paths: int | None = None,
    seed: SeedLike = 0,
    **options: Any,
) -> Any:
    """Monte Carlo shortage distributions from export paths.

    Parameters
    ----------
    paths : xarray.Dataset
        Forecast paths (:func:`forecast`, or ``read_paths`` of a ``paths.nc``).
    scenario : str, path or Scenario, optional
        Only for paths that carry no scenario; otherwise it must equal the one they
        carry (see :func:`shortage_scenario`).
    params : PropagationParams or path, optional
        Propagation parameters; default the bundled ``priors/propagation.yaml``.
    n_paths : int, optional
        Monte Carlo paths; default one per forecast path.
    seed : int or numpy.random.Generator
        The run's seed; the propagation uses ``stage_seeds(seed).shortage``.
    **options
        Passed to :func:`riskmodel.propagation.propagate` (``chunk_size``,
        ``scheduler``, ``kernel``, ``progress``, ...).

    Returns
    -------
    xarray.Dataset
        See :func:`riskmodel.propagation.propagate`; attrs also record the run seed
        (``run_seed``) and the scenario whose allocation was used.
    """
    from riskmodel.propagation import propagate

    scen = shortage_scenario(paths, scenario)
    ds = propagate(
        paths,
        params,
        scenario=scen,
        n_paths=n_paths,
        seed=stage_seeds(seed).shortage,
        **options,
    )
    ds.attrs["run_seed"] = seed_label(seed)
    ds.attrs["allocation_scenario"] = "" if scen is None else scen.name
    return ds


def write_shortage(ds: Any, out_dir: PathLike) -> Path:
    """Write ``shortage.csv``, ``stockout.csv`` and ``shortage.nc`` into ``out_dir``."""
    from riskmodel.propagation import write_shortage_outputs

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_shortage_outputs(ds, out)
    return out


__all__ = [
    "FIT_CONTEXT_ATTRS",
    "SCENARIO_ATTR",
    "RiskModelError",
    "Sources",
    "carry_scenario",
    "fit",
    "fit_cached",
    "fit_context",
    "forecast",
    "load_inputs",
    "paths_scenario",
    "read_sources",
    "resolve_scenario",
    "shortage",
    "shortage_scenario",
    "write_forecast",
    "write_shortage",
]
