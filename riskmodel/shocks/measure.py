"""Fit the approval-rate model to one episode and measure the shape of its shock.

For an :class:`~riskmodel.shocks.episodes.Episode` this module

1. loads the episode's series with :func:`riskmodel.pipeline.load_inputs` (its own
   data file, the product's events from the announcement on, ``as_of`` at the end of
   the episode's window), keeps the episode's destination only and leaves out the
   rush months (front-loaded exports are not counterfactual demand);
2. fits the joint model with :func:`riskmodel.pipeline.fit`;
3. summarises the posterior of the shock's shape (every quantity per posterior draw,
   then its median and 90% interval):

   ``depth``
       the lowest approval rate over the post-control months that have their own
       monthly figure;
   ``months_to_low``
       months from the effect month (0) to that low;
   ``months_to_80``
       months from the effect month to the first month at or after the low with
       approval >= 0.8 (``inf`` when not reached inside the window; its probability of
       being reached is reported);
   ``long_run``
       mean approval over the last (up to) three monthly post-control months (not
       reported from a single post-control month);
   ``window_mean``
       demand-weighted mean approval over every post-control month of the window
       (the only identified quantity when the post-control data are year-to-date
       totals, as for tungsten);
   ``rush``
       exports in each rush month over the posterior counterfactual;
   ``partial_first_month``
       effect day over the days in the effect month (not random).

It also returns the *windows* the across-episode model is fitted to: for every
observation with post-control months, the months since the effect it covers and the
posterior mean and sd of the logit of its demand-weighted approval, floored at
:data:`APPROVAL_FLOOR` and capped at ``1 - APPROVAL_FLOOR``: a reported zero says
"less than a kilogram", and for a forecast of supply 1e-4 and 1e-8 of normal are the
same thing, nothing; likewise 0.995 and 0.9999 are both "back to normal". A window
whose posterior median sits at the floor is *censored* (approval at most the floor).
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.exceptions import ConvergenceWarning, RiskModelError
from riskmodel.models.inputs import ModelInputs
from riskmodel.shocks.episodes import Episode

__all__ = [
    "APPROVAL_FLOOR",
    "RECOVERED",
    "EpisodeFit",
    "ShockWindow",
    "episode_inputs",
    "fit_episode",
    "summarise_posterior",
]

#: Approval rates are floored (and capped at 1 - floor) before taking logits: below 1%
#: of normal a flow is nil for any supply question, and logits of 1e-4 vs 1e-8 would
#: only add spread that no forecast needs.
APPROVAL_FLOOR = 0.01
#: The approval rate that counts as recovered ("months to 80%").
RECOVERED = 0.8
#: Months at the end of the window averaged into ``long_run``.
LONG_RUN_MONTHS = 3
#: A window is uninformative when its posterior sd is at least this share of the prior sd ...
PRIOR_SD_RATIO = 0.8
#: ... and its posterior mean within this many prior sds of the prior mean.
PRIOR_SHIFT = 0.5
QUANTILES = (0.05, 0.5, 0.95)


@dataclass(frozen=True)
class ShockWindow:
    """One observation of an episode's post-control approval rate.

    Attributes
    ----------
    taus : tuple of int
        Months since the effect month that the observation covers (0 = effect month).
    logit_mean, logit_sd : float
        Posterior mean and sd of the logit of the demand-weighted approval over those
        months (floored at :data:`APPROVAL_FLOOR`).
    q05, q50, q95 : float
        Posterior quantiles of the approval rate itself.
    """

    taus: tuple[int, ...]
    logit_mean: float
    logit_sd: float
    q05: float
    q50: float
    q95: float
    prior_mean: float = float("nan")
    prior_sd: float = float("nan")

    @property
    def informative(self) -> bool:
        """Whether the data moved this window away from the export model's prior.

        A window whose posterior is about as wide as the prior (sd at least
        :data:`PRIOR_SD_RATIO` of the prior's) and centred near it (within
        :data:`PRIOR_SHIFT` prior sds) carries the prior, not the data; it is left out
        of the across-episode model so the prior is not counted as evidence.
        """
        if not np.isfinite(self.prior_sd) or self.prior_sd <= 0:
            return True
        wide = self.logit_sd >= PRIOR_SD_RATIO * self.prior_sd
        near = abs(self.logit_mean - self.prior_mean) <= PRIOR_SHIFT * self.prior_sd
        return not (wide and near)

    @property
    def censored(self) -> bool:
        """Whether the approval is at the floor (at most :data:`APPROVAL_FLOOR`)."""
        return self.q50 <= APPROVAL_FLOOR

    @property
    def monthly(self) -> bool:
        """Whether the observation is one month."""
        return len(self.taus) == 1

    def to_dict(self) -> dict[str, Any]:
        """Plain data for YAML."""
        return {
            "taus": list(self.taus),
            "logit_mean": round(self.logit_mean, 4),
            "logit_sd": round(self.logit_sd, 4),
            "q05": round(self.q05, 4),
            "q50": round(self.q50, 4),
            "q95": round(self.q95, 4),
            "prior_mean": round(self.prior_mean, 4),
            "prior_sd": round(self.prior_sd, 4),
            "informative": bool(self.informative),
            "censored": bool(self.censored),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ShockWindow:
        """Inverse of :meth:`to_dict`."""
        return cls(
            taus=tuple(int(t) for t in raw["taus"]),
            logit_mean=float(raw["logit_mean"]),
            logit_sd=float(raw["logit_sd"]),
            q05=float(raw["q05"]),
            q50=float(raw["q50"]),
            q95=float(raw["q95"]),
            prior_mean=float(raw.get("prior_mean", float("nan"))),
            prior_sd=float(raw.get("prior_sd", float("nan"))),
        )


@dataclass
class EpisodeFit:
    """What one episode's fit says about its shock.

    Attributes
    ----------
    episode : Episode
        The episode.
    summary : dict
        Quantity name -> ``{"q05", "q50", "q95", ...}`` (see the module notes); a
        quantity that the data cannot identify is absent, with the reason in
        ``unidentified``.
    windows : list of ShockWindow
        The post-control observations (input of the across-episode model).
    path : pandas.DataFrame
        Approval per month: ``month``, ``tau``, ``q05``, ``q50``, ``q95``, ``observed``
        (whether the month has its own monthly figure).
    unidentified : dict
        Quantity -> why it is not reported.
    diagnostics : dict
        Convergence diagnostics of the fit (max R-hat, min ESS, divergences, ...).
    n_pre, n_post : int
        Observations fitted before the effect month and from it on.
    """

    episode: Episode
    summary: dict[str, dict[str, float]]
    windows: list[ShockWindow]
    path: pd.DataFrame
    unidentified: dict[str, str] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)
    n_pre: int = 0
    n_post: int = 0


# --------------------------------------------------------------------------- inputs


def _filtered_events(episode: Episode, folder: Path) -> Path:
    """Write the product's events dated on or after ``episode.events_from``."""
    out = folder / "events.csv"
    with (
        open(episode.events_file, newline="", encoding="utf-8-sig") as fin,
        out.open("w", newline="", encoding="utf-8") as fout,
    ):
        reader = csv.DictReader(fin)
        fields = reader.fieldnames or []
        writer = csv.DictWriter(fout, fieldnames=fields)
        writer.writeheader()
        date_key = next(k for k in fields if k.strip().lower() == "date")
        start = episode.events_from
        for row in reader:
            text = row[date_key].strip()
            when = pd.Timestamp(text)
            day_known = len(text) > 7
            same_month = (when.year, when.month) == (start.year, start.month)
            if when >= start or (same_month and not day_known):
                writer.writerow(row)
    return out


def _restrict(
    inputs: ModelInputs, destination: str, drop_months: Sequence[pd.Period]
) -> ModelInputs:
    """Keep one destination and drop the observations that touch ``drop_months``."""
    if destination not in inputs.destinations:
        raise RiskModelError(
            f"'{inputs.product}': destination '{destination}' is not modelled "
            f"(modelled: {', '.join(inputs.destinations)})"
        )
    d = inputs.destinations.index(destination)
    drop = {(m - inputs.months[0]).n for m in drop_months}
    keep = np.array(
        [
            dest == d and not (set(ms[mk].tolist()) & drop)
            for dest, ms, mk in zip(
                inputs.obs_destination, inputs.obs_months, inputs.obs_mask, strict=True
            )
        ],
        dtype=bool,
    )
    dropped = list(inputs.dropped)
    n_rush = int(
        sum(
            dest == d and bool(set(ms[mk].tolist()) & drop)
            for dest, ms, mk in zip(
                inputs.obs_destination, inputs.obs_months, inputs.obs_mask, strict=True
            )
        )
    )
    if n_rush:
        dropped.append(f"{n_rush} observations in the announcement-to-effect (rush) months")
    others = [x for x in inputs.destinations if x != destination]
    if others:
        dropped.append(f"destinations {', '.join(others)}: the episode uses {destination} only")
    return dataclasses.replace(
        inputs,
        destinations=(destination,),
        obs_destination=np.zeros(int(keep.sum()), dtype=np.int64),
        obs_months=inputs.obs_months[keep],
        obs_mask=inputs.obs_mask[keep],
        obs_quantity=inputs.obs_quantity[keep],
        obs_label=tuple(lab for lab, k in zip(inputs.obs_label, keep, strict=True) if k),
        licences=None,
        dropped=tuple(dropped),
    )


def episode_inputs(episode: Episode, *, history_months: int = 84) -> ModelInputs:
    """Load the model inputs of one episode (through :func:`riskmodel.pipeline.load_inputs`).

    Parameters
    ----------
    episode : Episode
        From :func:`riskmodel.shocks.find_episodes`.
    history_months : int
        Longest modelling window.

    Returns
    -------
    ModelInputs
        One destination, rush months left out, regimes from the episode's events.

    Raises
    ------
    RiskModelError
        If the events do not put the control at the episode's effect month.
    """
    from riskmodel.pipeline import load_inputs

    with tempfile.TemporaryDirectory(prefix="riskmodel-shock-") as tmp:
        events = _filtered_events(episode, Path(tmp))
        inputs = load_inputs(
            episode.data_file,
            events=events,
            product=episode.product,
            as_of=str(episode.as_of),
            history_months=history_months,
        )
    inputs = _restrict(inputs, episode.destination, episode.rush_months)
    start = inputs.regimes.control_start
    if start is None or inputs.months[start] != episode.effective_month:
        raise RiskModelError(
            f"{episode.id}: the events put the control at "
            f"{None if start is None else inputs.months[start]}, not {episode.effective_month}"
        )
    return dataclasses.replace(inputs, future_regime_starts=(), future_regime_names=())


# --------------------------------------------------------------------------- summaries


def _quant(draws: np.ndarray) -> dict[str, float]:
    """Median and 90% interval (no interpolation, so ``inf`` survives)."""
    qs = np.quantile(draws, QUANTILES, method="inverted_cdf")
    out = {f"q{round(q * 100):02d}": float(v) for q, v in zip(QUANTILES, qs, strict=True)}
    finite = draws[np.isfinite(draws)]
    out["mean"] = float(finite.mean()) if finite.size else float("inf")
    return out


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, APPROVAL_FLOOR, 1 - APPROVAL_FLOOR)
    return np.log(p) - np.log1p(-p)


def summarise_posterior(
    inputs: ModelInputs,
    approval: np.ndarray,
    log_demand: np.ndarray,
    episode: Episode,
    rush_obs: Sequence[tuple[pd.Period, float]] = (),
    prior: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[dict[str, dict[str, float]], list[ShockWindow], pd.DataFrame, dict[str, str]]:
    """Summarise posterior draws of one episode's approval path.

    Parameters
    ----------
    inputs : ModelInputs
        What was fitted (one destination).
    approval, log_demand : numpy.ndarray
        Posterior draws, shape ``(sample, month)``, of the approval rate and the log
        counterfactual of the episode's destination.
    episode : Episode
        The episode.
    rush_obs : sequence of (Period, float)
        Monthly exports (tonnes) in the rush months.
    prior : (approval, log_demand), optional
        Prior predictive draws of the same model, shape ``(sample, month)``; they give
        each window's prior mean and sd (see :attr:`ShockWindow.informative`).

    Returns
    -------
    summary, windows, path, unidentified
        See :class:`EpisodeFit`.
    """
    t0 = inputs.regimes.control_start
    if t0 is None:
        raise RiskModelError(f"{episode.id}: no control in the fitted window")
    n_months = inputs.n_months
    mu = np.exp(log_demand)
    summary: dict[str, dict[str, float]] = {}
    unidentified: dict[str, str] = {}

    windows: list[ShockWindow] = []
    monthly: set[int] = set()
    for ms, mk in zip(inputs.obs_months, inputs.obs_mask, strict=True):
        months = sorted(int(t) for t in ms[mk] if t >= t0)
        if not months:
            continue
        if len(ms[mk]) == 1:
            monthly.add(months[0])
        w = (mu[:, months] * approval[:, months]).sum(axis=1) / mu[:, months].sum(axis=1)
        lg = _logit(w)
        q = np.quantile(w, QUANTILES)
        prior_mean = prior_sd = float("nan")
        if prior is not None:
            pa, pmu = prior[0][:, months], np.exp(prior[1][:, months])
            plg = _logit((pmu * pa).sum(axis=1) / pmu.sum(axis=1))
            prior_mean, prior_sd = float(plg.mean()), float(plg.std(ddof=1))
        windows.append(
            ShockWindow(
                taus=tuple(t - t0 for t in months),
                logit_mean=float(lg.mean()),
                logit_sd=float(lg.std(ddof=1)),
                q05=float(q[0]),
                q50=float(q[1]),
                q95=float(q[2]),
                prior_mean=prior_mean,
                prior_sd=prior_sd,
            )
        )
    windows.sort(key=lambda w: (w.taus[0], len(w.taus)))

    post = list(range(t0, n_months))
    w_all = (mu[:, post] * approval[:, post]).sum(axis=1) / mu[:, post].sum(axis=1)
    summary["window_mean"] = _quant(w_all)
    obs_months = sorted(monthly)
    if obs_months:
        a = approval[:, obs_months]  # (S, k)
        taus = np.array(obs_months) - t0
        low = np.argmin(a, axis=1)
        summary["depth"] = _quant(a[np.arange(a.shape[0]), low])
        summary["months_to_low"] = _quant(taus[low].astype(float))
        after = (np.arange(len(obs_months))[None, :] >= low[:, None]) & (a >= RECOVERED)
        reached = after.any(axis=1)
        first = np.where(reached, taus[np.argmax(after, axis=1)], np.inf).astype(float)
        summary["months_to_80"] = _quant(first)
        summary["months_to_80"]["p_reached"] = float(reached.mean())
        summary["months_to_80"]["censored_at"] = float(taus[-1])
        if len(obs_months) >= 2:
            last = obs_months[-LONG_RUN_MONTHS:]
            summary["long_run"] = _quant(approval[:, last].mean(axis=1))
            summary["long_run"]["months"] = float(len(last))
            summary["long_run"]["last_tau"] = float(last[-1] - t0)
        else:
            unidentified["long_run"] = (
                "one monthly post-control figure: it is the low, not a long run"
            )
    else:
        why = (
            "no monthly post-control figure (only multi-month totals): the shape is not identified"
        )
        for key in ("depth", "months_to_low", "months_to_80", "long_run"):
            unidentified[key] = why

    if episode.rush_months:
        ratios = []
        for month, qty in rush_obs:
            t = (month - inputs.months[0]).n
            if 0 <= t < n_months:
                ratios.append(qty / mu[:, t])
        if ratios:
            summary["rush"] = _quant(np.mean(ratios, axis=0))
            summary["rush"]["months"] = float(len(ratios))
        else:
            unidentified["rush"] = "no monthly figure in the announcement-to-effect months"
    else:
        unidentified["rush"] = "control took effect on announcement (no rush window)"
    summary["partial_first_month"] = {
        "q05": episode.partial_first_month,
        "q50": episode.partial_first_month,
        "q95": episode.partial_first_month,
        "mean": episode.partial_first_month,
    }

    q = np.quantile(approval, QUANTILES, axis=0)
    path = pd.DataFrame(
        {
            "month": [str(m) for m in inputs.months],
            "tau": np.arange(n_months) - t0,
            "q05": q[0],
            "q50": q[1],
            "q95": q[2],
            "observed": [t in monthly for t in range(n_months)],
        }
    )
    return summary, windows, path, unidentified


def _rush_observations(episode: Episode) -> list[tuple[pd.Period, float]]:
    """Monthly figures (tonnes) of the episode's series in its rush months."""
    from riskmodel.customs import read_customs

    if not episode.rush_months:
        return []
    frame = read_customs(episode.data_file)
    rows = frame[
        (frame["product"] == episode.product)
        & (frame["destination"] == episode.destination)
        & (frame["months_covered"] == 1)
        & frame["month"].isin(list(episode.rush_months))
    ]
    return [(m, float(q)) for m, q in zip(rows["month"], rows["quantity_t"], strict=True)]


def _prior_draws(
    inputs: ModelInputs, priors: Any | None, *, seed: int, draws: int = 2000
) -> tuple[np.ndarray, np.ndarray]:
    """Prior predictive draws of approval and log demand, shape ``(sample, month)``."""
    import pymc as pm

    from riskmodel.config.priors import PriorSet
    from riskmodel.models.export_model import build_model, load_model_priors

    prior_set = priors if isinstance(priors, PriorSet) else load_model_priors(priors)
    model = build_model(inputs, prior_set)
    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(logging.WARNING)  # not "Sampling: [...]" once per episode
    try:
        with model, warnings.catch_warnings():
            # the censored zeros enter as a Potential, which a prior draw rightly ignores
            warnings.filterwarnings("ignore", message="The effect of Potentials")
            idata = pm.sample_prior_predictive(
                draws=draws, var_names=["approval", "log_demand"], random_seed=seed
            )
    finally:
        logger.setLevel(level)
    out = []
    for name in ("approval", "log_demand"):
        da = idata.prior[name].isel(destination=0).stack(sample=("chain", "draw"))
        out.append(da.transpose("sample", "month").values)
    return out[0], out[1]


def fit_episode(
    episode: Episode,
    *,
    sampler: Any | None = None,
    priors: Any | None = None,
    history_months: int = 84,
) -> EpisodeFit:
    """Fit the approval-rate model to one episode and summarise its shock.

    Parameters
    ----------
    episode : Episode
        A fitted or not-pooled episode (``episode.fitted``).
    sampler : SamplerConfig, optional
        NUTS settings; default 2 chains x (1000 tune + 1000 draws), seed 0.
    priors : PriorSet or path, optional
        Export-model priors; default the bundled ones.
    history_months : int
        Longest modelling window.

    Returns
    -------
    EpisodeFit

    Raises
    ------
    RiskModelError
        For an episode that cannot be fitted (``episode.reason`` says why).
    """
    from riskmodel.pipeline import fit
    from riskmodel.sampling import SamplerConfig, default_backend

    if not episode.fitted:
        raise RiskModelError(f"{episode.id} cannot be fitted: {episode.reason}")
    inputs = episode_inputs(episode, history_months=history_months)
    sampler = sampler or SamplerConfig(backend=default_backend(), chains=2, tune=1000, draws=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = fit(inputs, priors=priors, sampler=sampler)
    post = fitted.idata.posterior
    d = episode.destination

    def draws(name: str) -> np.ndarray:
        da = post[name].sel(destination=d).stack(sample=("chain", "draw"))
        return da.transpose("sample", "month").values

    t0 = int(inputs.regimes.control_start or 0)
    summary, windows, path, unidentified = summarise_posterior(
        inputs,
        draws("approval"),
        draws("log_demand"),
        episode,
        _rush_observations(episode),
        prior=_prior_draws(inputs, priors, seed=int(sampler.seed)),
    )
    last = np.array(
        [max(ms[mk]) for ms, mk in zip(inputs.obs_months, inputs.obs_mask, strict=True)]
    )
    diag = fitted.diagnostics.to_dict()
    diag = {
        k: diag[k] for k in ("max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "passed")
    }
    return EpisodeFit(
        episode=episode,
        summary=summary,
        windows=windows,
        path=path,
        unidentified=unidentified,
        diagnostics=diag,
        n_pre=int((last < t0).sum()),
        n_post=int((last >= t0).sum()),
    )
