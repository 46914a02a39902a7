"""Posterior predictive export paths under a scenario.

Each path is one posterior draw carried forward month by month, jointly across
destinations and months (propagation needs whole paths, not marginal intervals), by
the export model's own equations (:func:`continue_model`; a test checks them draw by
draw against the PyMC model's deterministics):

- counterfactual demand: the common random walk with drift, each destination's share
  knot AR(1) and the seasonality carry on from the last fitted month;
- approval: the logit AR(1) of the last fitted regime carries on (``current``), and
  the scenario's regimes transform it (``new_control`` multiplies it by a collapse
  and recovery shape, ``lifted`` sets it to 1, ``set`` to a drawn level,
  ``policy_risk`` adds new controls, tightening, deals and relief at rates learned
  from the policy events dated before the origin, :mod:`riskmodel.forecast.policy`:
  the default, unconditional forecast); under ``policy_risk`` a fitted window that
  ends inside a control episode (a fitted regime opened by a control or tightening,
  no longer before the last fitted month than the learned episodes were observed)
  recovers as past episodes did: the regime mean closes its gap to the learned
  long-run level at the learned half-life, counted from the control's effect month
  (:func:`recovered_logit`); ``current`` itself is the held regime; a regime
  that policy events date after the last data month (a point-in-time run) enters as
  a new regime whose mean steps from the one before as the model's regimes step, in
  the direction its event types say (or, in a window without control, follows the
  learned shock shape);
- backlog: each month ships its approval times its demand plus the backlog kept from
  the month before (:func:`release_backlog`), the shipped flow ``exports_physical``;
- customs noise: the fitted Student-t observation error on the log scale, so paths
  look like customs figures, not like the latent flow.

All randomness comes from one ``numpy.random.Generator``: the same posterior, scenario
and seed give the same paths. Policy events are drawn from a child of it
(``Generator.spawn``), so a ``policy_risk`` regime with zero rates gives exactly the
paths of ``current`` unless the window ends inside a control episode; the recovery's
shape is drawn from a second child, so it moves no other draw.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from riskmodel import __version__
from riskmodel.atomic import atomic_write
from riskmodel.config.dists import Dist
from riskmodel.config.scenario import (
    KIND_PARAMETERS,
    RegimeSpec,
    Scenario,
    control_multiplier,
    learned_shape_path,
    load_learned_shape,
)
from riskmodel.config.yamlio import read_yaml
from riskmodel.exceptions import RiskModelWarning, ScenarioError
from riskmodel.forecast.policy import policy_history, rate_posteriors, simulate_policy
from riskmodel.models.export_model import ar1_matrix, knot_weights
from riskmodel.models.regimes import CONTROL_START_TYPES, regime_direction, regime_kinds

FORECAST_QUANTILES = (0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95)


def _draws(posterior: xr.Dataset, name: str) -> np.ndarray:
    """Stack chain and draw into one leading ``sample`` axis."""
    da = posterior[name]
    other = [d for d in da.dims if d not in ("chain", "draw")]
    return da.stack(sample=("chain", "draw")).transpose("sample", *other).values


def forecast_paths(
    posterior: xr.Dataset,
    scenario: Scenario,
    *,
    horizon: int = 12,
    n_paths: int = 1000,
    rng: np.random.Generator | int = 0,
    future_regime_starts: list[pd.Period] | None = None,
    student_t_nu: float = 4.0,
    share_knot_months: int = 6,
    new_control_shape: Mapping[str, Dist] | None = None,
    events: pd.DataFrame | None = None,
) -> xr.Dataset:
    """Draw export paths from a fitted posterior under a scenario.

    Parameters
    ----------
    posterior : xarray.Dataset
        The ``posterior`` group of a fit (``FittedModel.idata.posterior``).
    scenario : Scenario
        From :func:`riskmodel.config.load_scenario`.
    horizon : int
        Forecast months, starting the month after the last fitted month.
    n_paths : int
        Number of paths. Posterior draws are sampled with the generator (without
        replacement when there are enough draws).
    rng : numpy.random.Generator or int
        Random generator or seed.
    future_regime_starts : list of pandas.Period, optional
        Regime changes dated by policy events after the last fitted month (known at
        a point-in-time origin); each opens a regime whose mean steps from the one
        before (:func:`held_target`; the directions come from the fit's
        ``future_regimes`` attr). When
        no control was in force in the fitted window, the first of them is a new
        control whose path follows ``new_control_shape``, and the later ones are part
        of that shape's recovery (they add nothing).
    student_t_nu, share_knot_months : float, int
        The model settings the posterior was fitted with.
    new_control_shape : mapping of str to Dist, optional
        The ``new_control`` distributions (``depth``, ``months_to_low``,
        ``recovery_half_life_months``, ``long_run``) of a control dated after an
        uncontrolled fitted window; default: the learned shape
        (:func:`~riskmodel.config.scenario.load_learned_shape`), read only when needed.
    events : pandas.DataFrame, optional
        Every product's policy events (:func:`riskmodel.customs.read_policy_events`),
        read by a ``policy_risk`` regime, which uses those dated before the first
        forecast month only; default: the bundled events, read only when needed.

    Returns
    -------
    xarray.Dataset
        ``exports`` (customs figures), ``exports_physical`` (the shipped flow,
        :func:`release_backlog`, without reporting noise) and ``counterfactual``
        (tonnes a month) and ``approval``, all with dims ``(path, destination,
        month)``; month coordinates are ``YYYY-MM``
        strings; attrs carry scenario, seed and provenance, ``policy_events`` (a
        ``policy_risk`` regime's counts and rates) and ``episode_recovery`` (the
        control a ``policy_risk`` forecast recovers from, when there is one).
    """
    if horizon < 1:
        raise ValueError("horizon must be at least 1 month")
    if n_paths < 1:
        raise ValueError("n_paths must be at least 1")
    gen = np.random.default_rng(rng)
    destinations = [str(d) for d in posterior["destination"].values]
    months = pd.PeriodIndex([str(m) for m in posterior["month"].values], freq="M")
    last = months[-1]
    future = pd.period_range(last + 1, periods=horizon, freq="M")
    n_dest = len(destinations)

    n_samples = posterior.sizes["chain"] * posterior.sizes["draw"]
    pick = gen.choice(n_samples, size=n_paths, replace=n_paths > n_samples)
    drawn: dict[str, np.ndarray] = {}

    def standard_normal(name: str, shape: tuple[int, ...]) -> np.ndarray:
        drawn[name] = gen.standard_normal(shape)
        return drawn[name]

    log_mu, logit = continue_model(
        posterior,
        pick,
        standard_normal,
        horizon=horizon,
        share_knot_months=share_knot_months,
        future_regime_starts=future_regime_starts,
    )
    if logit is not None:
        approval_base = 1.0 / (1.0 + np.exp(-logit))
    elif future_regime_starts:
        approval_base = _new_control_approval(
            min(future_regime_starts), gen, n_paths, n_dest, future, new_control_shape
        )
    else:
        approval_base = np.ones((n_paths, n_dest, horizon))
    controlled = np.full(horizon, logit is not None)
    if logit is None and future_regime_starts:
        controlled[max((min(future_regime_starts) - future[0]).n, 0) :] = True
    policy = _PolicyContext(
        str(posterior.attrs.get("product", "")), controlled, events, gen.spawn(1)[0]
    )
    if logit is not None and any(s.kind == "policy_risk" for s in scenario.regimes):
        policy.recovery = _episode_recovery(
            posterior, pick, logit, future, sorted(future_regime_starts or []), drawn, gen
        )
    approval = _apply_scenario(scenario, approval_base, future, destinations, gen, policy)

    counterfactual = np.exp(log_mu)
    physical = release_backlog(
        counterfactual,
        approval,
        _draws(posterior, "backlog_keep")[pick] if "backlog_keep" in posterior else 0.0,
        _draws(posterior, "backlog")[pick][:, :, -1] if "backlog" in posterior else 0.0,
    )
    sigma_obs = _draws(posterior, "obs_sigma")[pick][:, None, None]
    noise = sigma_obs * gen.standard_t(student_t_nu, size=(n_paths, n_dest, horizon))
    # approval 0 ships nothing; the floor (as before the backlog, 1e-12 of demand) keeps
    # every customs figure positive, so logs of paths stay finite.
    exports = np.maximum(physical, 1e-12 * counterfactual) * np.exp(noise)

    dims = ("path", "destination", "month")
    coords = {
        "path": np.arange(n_paths),
        "destination": destinations,
        "month": [str(m) for m in future],
    }
    attrs = {
        "scenario": scenario.name,
        "scenario_digest": scenario.digest(),
        "product": str(posterior.attrs.get("product", "")),
        "data_hash": str(posterior.attrs.get("data_hash", "")),
        "priors_hash": str(posterior.attrs.get("priors_hash", "")),
        "riskmodel_version": __version__,
        "model": "bayes",
        "units": "tonnes per month",
    }
    if policy.summary:
        attrs["policy_events"] = json.dumps(policy.summary, sort_keys=True)
    if policy.recovery is not None and policy.recovery.summary:
        attrs["episode_recovery"] = json.dumps(policy.recovery.summary, sort_keys=True)
    return xr.Dataset(
        {
            "exports": (dims, exports),
            "exports_physical": (dims, physical),
            "counterfactual": (dims, counterfactual),
            "approval": (dims, approval),
        },
        coords=coords,
        attrs=attrs,
    )


def release_backlog(
    demand: np.ndarray,
    approval: np.ndarray,
    keep: np.ndarray | float,
    backlog: np.ndarray | float,
) -> np.ndarray:
    """Return the shipped flow: each month's approval times its queued demand.

    The export model's backlog carried on (:func:`~riskmodel.models.export_model.build_model`):
    month ``h`` queues its demand plus ``keep`` times the backlog left the month
    before, ships ``approval`` of the queue and leaves the rest. A month of approval 1
    ships the whole queue (relief releases the backlog at once).

    Parameters
    ----------
    demand, approval : numpy.ndarray
        Counterfactual demand (tonnes) and approval, (path, destination, month).
    keep : numpy.ndarray or float
        Share of the backlog still wanted a month later, per path (or one value).
    backlog : numpy.ndarray or float
        Backlog left by the last fitted month, (path, destination) (or one value).

    Returns
    -------
    numpy.ndarray
        Shipments, shaped like ``demand``.
    """
    keep = np.asarray(keep, dtype=float).reshape(-1, 1) if np.ndim(keep) else float(keep)
    left = np.broadcast_to(np.asarray(backlog, dtype=float), demand.shape[:2])
    shipped = np.empty_like(demand)
    for h in range(demand.shape[2]):
        queue = demand[:, :, h] + keep * left
        shipped[:, :, h] = approval[:, :, h] * queue
        left = queue - shipped[:, :, h]
    return shipped


def continue_model(
    posterior: xr.Dataset,
    pick: np.ndarray,
    standard_normal: Callable[[str, tuple[int, ...]], np.ndarray],
    *,
    horizon: int,
    share_knot_months: int,
    future_regime_starts: list[pd.Period] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Carry the export model's equations on past the last fitted month.

    The equations of :func:`~riskmodel.models.export_model.build_model` (share knots
    interpolated by its :func:`~riskmodel.models.export_model.knot_weights`), continued
    from each picked draw's state at the last fitted month.

    Parameters
    ----------
    posterior : xarray.Dataset
        The ``posterior`` group of a fit.
    pick : numpy.ndarray
        The stacked (chain, draw) sample each path continues.
    standard_normal : callable
        ``standard_normal(name, shape)``: the model's innovations of the future months,
        ``"share"`` (path, other destination, new knot), ``"level"`` (path, month),
        ``"regime"`` (path, future regime) and ``"approval"`` (path, destination, month).
    horizon, share_knot_months : int
        Months to continue; the knot spacing the posterior was fitted with.
    future_regime_starts : list of pandas.Period, optional
        Regimes dated after the last fitted month (each with a mean stepped from the
        one before, :func:`held_target`).

    Returns
    -------
    tuple of numpy.ndarray
        Log counterfactual demand and approval logit, each (path, destination, month);
        the logit is None when no control was in force in the fitted window.

    Raises
    ------
    ValueError
        If the posterior's share knots do not fit ``share_knot_months``.
    """

    def take(name: str) -> np.ndarray:
        return _draws(posterior, name)[pick]

    n_paths = len(pick)
    months = pd.PeriodIndex([str(m) for m in posterior["month"].values], freq="M")
    n_dest, n_fitted = len(posterior["destination"]), len(months)
    future = pd.period_range(months[-1] + 1, periods=horizon, freq="M")
    season = take("season")  # (P, 12)
    # Share of each destination at the last fitted month and after it (0 for World).
    share = np.zeros((n_paths, n_dest, horizon + 1))
    if n_dest > 1:
        weights = knot_weights(n_fitted + horizon, share_knot_months)[n_fitted - 1 :]
        knots = take("share_innovation")  # (P, D-1, K)
        if knots.shape[2] != knot_weights(n_fitted, share_knot_months).shape[1]:
            raise ValueError(
                f"the posterior has {knots.shape[2]} share knots, which does not fit "
                f"{n_fitted} months with knots every {share_knot_months} months"
            )
        new = standard_normal("share", (n_paths, n_dest - 1, weights.shape[1] - knots.shape[2]))
        sigma_share = take("destination_share_sigma")[:, None, None]
        # A fit made before the share knots reverted has none: its walk is phi = 1.
        phi = (
            take("destination_share_persistence")
            if "destination_share_persistence" in posterior
            else np.ones(n_paths)
        )
        knot_walk = ar1_matrix(np, phi[:, None, None], weights.shape[1])  # (P, K, K)
        walk = (sigma_share * np.concatenate([knots, new], axis=2)) @ knot_walk.transpose(0, 2, 1)
        share[:, 1:, :] = walk @ weights.T
    last_moy = months[-1].month - 1
    level = take("log_demand")[:, :, -1] - season[:, [last_moy]] - share[:, :, 0]  # (P, D)
    eps_level = standard_normal("level", (n_paths, horizon))
    common = np.cumsum(
        take("demand_drift")[:, None] + take("demand_level_sigma")[:, None] * eps_level, axis=1
    )
    moy = np.array([m.month - 1 for m in future])
    log_mu = level[:, :, None] + common[:, None, :] + share[:, :, 1:] + season[:, moy][:, None, :]
    if "regime_mean" not in posterior:
        return log_mu, None

    starts = sorted(future_regime_starts or [])
    eps_regime = standard_normal("regime", (n_paths, len(starts)))
    target = held_target(posterior, pick, future, starts, eps_regime)  # (P, H)
    x = take("approval_logit")[:, :, -1]  # (P, D)
    delta = take("destination_offset")  # (P, D)
    rho = take("approval_persistence")[:, None]
    sigma_a = take("approval_sigma")[:, None]
    eps = standard_normal("approval", (n_paths, n_dest, horizon))
    logit = np.empty((n_paths, n_dest, horizon))
    for h in range(horizon):
        x = rho * x + (1 - rho) * (target[:, [h]] + delta) + sigma_a * eps[:, :, h]
        logit[:, :, h] = x
    return log_mu, logit


def held_target(
    posterior: xr.Dataset,
    pick: np.ndarray,
    future: pd.PeriodIndex,
    future_regime_starts: list[pd.Period],
    eps_regime: np.ndarray,
) -> np.ndarray:
    """Return the regime mean the approval AR(1) is pulled to in each forecast month.

    The last fitted regime's mean, replaced from the first month of each regime dated
    after the fitted window by a step from the mean before it, as the model steps
    (``direction * regime_step_mean + regime_step_sigma * eps_regime``, the direction
    from the regime's event types, :func:`future_regime_directions`). A posterior of
    the exchangeable model (no ``regime_step_mean``) draws each such regime afresh
    from the fitted distribution of regime means (``regime_mean_mu +
    regime_mean_sigma * eps_regime``).

    Parameters
    ----------
    posterior : xarray.Dataset
        The ``posterior`` group of a fit with licensing in force.
    pick : numpy.ndarray
        The stacked (chain, draw) sample each path continues.
    future : pandas.PeriodIndex
        The forecast months.
    future_regime_starts : list of pandas.Period
        Regimes dated after the fitted window, in time order.
    eps_regime : numpy.ndarray
        Standard normal draws, (path, future regime).

    Returns
    -------
    numpy.ndarray
        The target logit, (path, month).
    """
    horizon = len(future)
    last = _draws(posterior, "regime_mean")[pick][:, -1]
    target = np.repeat(last[:, None], horizon, axis=1)
    stepped = "regime_step_mean" in posterior
    if stepped:
        step_mean = _draws(posterior, "regime_step_mean")[pick]
        step_sigma = _draws(posterior, "regime_step_sigma")[pick]
        directions = future_regime_directions(posterior)
        unlabelled = [str(s) for s in future_regime_starts if s not in directions]
        if unlabelled:
            warnings.warn(
                f"the fit records no event types for the regimes dated {', '.join(unlabelled)} "
                "(posterior attr 'future_regimes'): they step either way (direction 0)",
                RiskModelWarning,
                stacklevel=3,
            )
    else:  # a fit of the exchangeable model (before regime steps)
        mu = _draws(posterior, "regime_mean_mu")[pick]
        sigma = _draws(posterior, "regime_mean_sigma")[pick]
    for i, start in enumerate(future_regime_starts):
        if stepped:
            direction = directions.get(start, 0)
            last = last + direction * step_mean + step_sigma * eps_regime[:, i]
        else:
            last = mu + sigma * eps_regime[:, i]
        h0 = (start - future[0]).n
        if 0 <= h0 < horizon:
            target[:, h0:] = last[:, None]
    return target


def future_regime_directions(posterior: xr.Dataset) -> dict[pd.Period, int]:
    """Return the direction of each regime a fit recorded as dated after its window.

    Read from the fit's ``future_regimes`` attr (regime labels, ``"YYYY-MM
    type+type"``; :func:`~riskmodel.models.regimes.regime_direction`); empty when the
    fit records none. A regime without a label steps either way (direction 0), with a
    warning (:func:`held_target`).
    """
    labels = [n for n in str(posterior.attrs.get("future_regimes", "")).split("|") if n]
    return {
        pd.Period(label.partition(" ")[0], freq="M"): regime_direction(label) for label in labels
    }


def _new_control_approval(
    start: pd.Period,
    gen: np.random.Generator,
    n_paths: int,
    n_dest: int,
    future: pd.PeriodIndex,
    shape: Mapping[str, Dist] | None,
) -> np.ndarray:
    """Approval of a product whose first control is dated after the fitted window.

    The control's shape is drawn once per path from ``shape`` (default: the learned
    shape) and applied to every destination: 1 before ``start``, then
    :func:`control_multiplier` of the months since ``start``. Later dated regimes are
    part of that shape's recovery and add nothing.
    """
    horizon = len(future)
    h0 = (start - future[0]).n
    if h0 >= horizon:
        warnings.warn(
            f"the control dated {start} starts after the forecast's last month "
            f"{future[-1]}: the forecast shows no effect of it (lengthen the horizon)",
            RiskModelWarning,
            stacklevel=3,
        )
        return np.ones((n_paths, n_dest, horizon))
    specs = dict(shape) if shape is not None else load_learned_shape()
    params = {key: specs[key].sample(gen, n_paths) for key in KIND_PARAMETERS["new_control"]}
    tau = np.arange(horizon) - h0  # months since the control's start month
    mult = control_multiplier(
        tau[None, :],
        params["depth"][:, None],
        params["months_to_low"][:, None],
        params["recovery_half_life_months"][:, None],
        params["long_run"][:, None],
    )  # (P, H)
    return np.repeat(np.clip(mult, 0.0, 1.0)[:, None, :], n_dest, axis=1)


def last_control_month(posterior: xr.Dataset) -> pd.Period | None:
    """Return the first month of the latest fitted regime opened by a control.

    Regime labels are those the fit records (``"2025-04 control_effective"``,
    ``"2025-06 deal+licences_approved"``; :mod:`riskmodel.models.regimes`): the
    ``regime`` coordinate of the posterior, else its ``regimes`` attr. A regime counts
    when one of its event types starts a control
    (:data:`~riskmodel.models.regimes.CONTROL_START_TYPES`: an onset or a tightening).

    Parameters
    ----------
    posterior : xarray.Dataset
        The ``posterior`` group of a fit.

    Returns
    -------
    pandas.Period or None
        None when no fitted regime was opened by a control (or the labels carry no
        month).
    """
    if "regime" in posterior.coords:
        names = [str(r) for r in posterior["regime"].values]
    else:
        names = [n for n in str(posterior.attrs.get("regimes", "")).split("|") if n]
    latest: pd.Period | None = None
    for name in names:
        month = name.partition(" ")[0]
        if not regime_kinds(name) & CONTROL_START_TYPES:
            continue
        try:
            start = pd.Period(month, freq="M")
        except ValueError:
            continue
        latest = start if latest is None else max(latest, start)
    return latest


def learned_episode_months(path: str | Path | None = None) -> int | None:
    """Return the longest time, after its effect month, that a learned episode was observed.

    The learned shape (``priors/shock_shape.yaml``) rests on the pooled episodes it
    lists (``status: fitted``), each observed from its ``effective_month`` to its
    ``window_end``; beyond the longest of these spans the shape has seen no data.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Default: :func:`~riskmodel.config.scenario.learned_shape_path`.

    Returns
    -------
    int or None
        Months from the effect month to the last observed month; None when the file or
        its episode list cannot be read.
    """
    file = Path(path) if path is not None else learned_shape_path()
    try:
        raw = read_yaml(file, error=ScenarioError)
        spans = [
            (
                pd.Period(str(e["window_end"]), freq="M")
                - pd.Period(str(e["effective_month"]), freq="M")
            ).n
            for e in raw.get("episodes", [])
            if e.get("status") == "fitted"
        ]
    except (ScenarioError, OSError, KeyError, TypeError, ValueError, AttributeError):
        return None
    return max(spans) if spans else None


def recovered_logit(
    logit: np.ndarray,
    target: np.ndarray,
    rho: np.ndarray,
    months_since_control: int,
    months_to_low: np.ndarray,
    recovery_half_life_months: np.ndarray,
    long_run: np.ndarray,
) -> np.ndarray:
    """Move the held approval logit as a control episode's recovery would.

    With ``tau`` the months since the control's effect month (``tau0`` at the last
    fitted month, ``tau0 + 1 + h`` in forecast month ``h``), the learned shape leaves
    the share ``g(tau) = 2 ** (-max(tau - T, 0) / h)`` of its recovery still to come
    (:func:`~riskmodel.config.scenario.control_multiplier`). The regime mean the AR(1)
    is pulled to closes the share ``g(tau0) - g(tau)`` of its gap to ``logit(L)`` (only
    upwards: a fitted level above ``L`` is kept), so the mean moves at the drawn
    half-life from the fitted level toward the long-run level, and a control whose
    recovery the shape says is over by the last fitted month (``g(tau0)`` near 0) moves
    nothing. The AR(1) is linear in its mean, so the new logit is the held one plus the
    mean's shift filtered by ``x[h] = rho * x[h-1] + (1 - rho) * shift[h]``; the held
    path's innovations are kept.

    Parameters
    ----------
    logit : numpy.ndarray
        The held approval logit, (path, destination, month).
    target : numpy.ndarray
        The held regime mean, (path, month) (:func:`held_target`).
    rho : numpy.ndarray
        Approval persistence, (path,).
    months_since_control : int
        ``tau0``: months from the control's effect month to the last fitted month.
    months_to_low, recovery_half_life_months, long_run : numpy.ndarray
        The shape drawn per path, (path,).

    Returns
    -------
    numpy.ndarray
        The recovering logit, same shape as ``logit``.
    """
    n_paths, _, horizon = logit.shape
    t_low = np.asarray(months_to_low, dtype=np.float64)[:, None]
    half = np.asarray(recovery_half_life_months, dtype=np.float64)[:, None]
    tau = months_since_control + 1.0 + np.arange(horizon)[None, :]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        left_then = np.exp2(-np.maximum(months_since_control - t_low, 0.0) / half)
        left_now = np.exp2(-np.maximum(tau - t_low, 0.0) / half)
    share = np.clip(np.nan_to_num(left_then - left_now), 0.0, 1.0)  # (P, H)
    lr = np.clip(np.asarray(long_run, dtype=np.float64), 1e-6, 1.0 - 1e-6)
    goal = (np.log(lr) - np.log1p(-lr))[:, None]
    shift = np.maximum(goal - target, 0.0) * share
    out = np.array(logit, dtype=np.float64)
    x = np.zeros(n_paths)
    rho = np.asarray(rho, dtype=np.float64).reshape(n_paths)
    for h in range(horizon):
        x = rho * x + (1.0 - rho) * shift[:, h]
        out[:, :, h] += x[:, None]
    return out


class _Recovery:
    """The held regime of a fit whose window ends inside a control episode, recovering."""

    def __init__(
        self,
        control: pd.Period,
        months_since: int,
        span: int | None,
        logit: np.ndarray,
        target: np.ndarray,
        rho: np.ndarray,
        gen: np.random.Generator,
    ) -> None:
        self.control = control
        self.months_since = months_since
        self.span = span
        self.logit = logit
        self.target = target
        self.rho = rho
        self.gen = gen
        self.summary: dict[str, object] = {}

    def approval(self, shape: Mapping[str, Dist]) -> np.ndarray:
        """Return the recovering approval, the shape drawn once per path from ``shape``."""
        n_paths = self.logit.shape[0]
        keys = ("months_to_low", "recovery_half_life_months", "long_run")
        draws = {k: shape[k].sample(self.gen, n_paths) for k in keys}
        logit = recovered_logit(
            self.logit, self.target, self.rho, self.months_since, *(draws[k] for k in keys)
        )
        self.summary = {
            "control_month": str(self.control),
            "months_since_control_at_last_fitted_month": self.months_since,
            "learned_episode_months": self.span,
            "mean_logit_shift_by_month": [
                round(float(v), 4) for v in (logit - self.logit).mean(axis=(0, 1))
            ],
        }
        return 1.0 / (1.0 + np.exp(-logit))


def _episode_recovery(
    posterior: xr.Dataset,
    pick: np.ndarray,
    logit: np.ndarray,
    future: pd.PeriodIndex,
    future_regime_starts: list[pd.Period],
    drawn: Mapping[str, np.ndarray],
    gen: np.random.Generator,
) -> _Recovery | None:
    """Return the recovery of the control episode the fitted window ends in, or None.

    None when no fitted regime was opened by a control, or when the control's effect
    month lies further before the last fitted month than any learned episode was
    observed (:func:`learned_episode_months`): the held regime is then settled.
    """
    control = last_control_month(posterior)
    if control is None:
        return None
    months_since = (future[0] - 1 - control).n
    span = learned_episode_months()
    if months_since < 0 or (span is not None and months_since > span):
        return None
    eps = drawn.get("regime", np.zeros((len(pick), len(future_regime_starts))))
    target = held_target(posterior, pick, future, future_regime_starts, eps)
    rho = _draws(posterior, "approval_persistence")[pick]
    return _Recovery(control, months_since, span, logit, target, rho, gen.spawn(1)[0])


class _PolicyContext:
    """What a ``policy_risk`` regime needs: product, licensing by month, events, draws."""

    def __init__(
        self,
        product: str,
        controlled: np.ndarray,
        events: pd.DataFrame | None,
        gen: np.random.Generator,
    ) -> None:
        self.product = product
        self.controlled = controlled
        self.events = events
        self.gen = gen
        self.summary: dict[str, object] = {}
        self.recovery: _Recovery | None = None

    def apply(self, spec: RegimeSpec, previous: np.ndarray, future: pd.PeriodIndex, start: int):
        """Return ``previous`` moved by the policy events drawn from ``start`` on."""
        from riskmodel.customs.events import load_bundled_events

        if self.events is None:
            self.events = load_bundled_events()
        history = policy_history(self.events, self.product, future[0])
        rates = rate_posteriors(spec.params, history)
        moved, events = simulate_policy(
            previous,
            rates=rates,
            effects=spec.params,
            controlled=self.controlled,
            start=start,
            gen=self.gen,
        )
        self.summary = {
            **history.to_dict(),
            "mean_rate_per_month": {c: round(d.mean(), 6) for c, d in rates.items()},
            "share_of_paths_with_event": {
                c: round(float(events[:, :, j].any(axis=1).mean()), 4) for j, c in enumerate(rates)
            },
        }
        return moved


def _apply_scenario(
    scenario: Scenario,
    base: np.ndarray,
    future: pd.PeriodIndex,
    destinations: list[str],
    gen: np.random.Generator,
    policy: _PolicyContext,
) -> np.ndarray:
    """Chain the scenario's regimes over the base approval paths."""
    n_paths, _, horizon = base.shape
    regime, since = scenario.regime_schedule(future[0], horizon, destinations, allow_past=True)
    params = scenario.sample_params(gen, n_paths)
    previous = base
    chosen = np.array(base)
    held = np.ones(len(destinations), dtype=bool)  # still the held ``current`` continuation
    for i, spec in enumerate(scenario.regimes):
        applies = np.array([spec.applies_to(d) for d in destinations])[None, :, None]
        p = params[i]
        if spec.kind == "current":
            value = base
        elif spec.kind == "lifted":
            value = np.ones_like(base)
        elif spec.kind == "set":
            value = np.broadcast_to(p["level"][:, None, None], base.shape)
        elif spec.kind == "policy_risk":
            start = spec.start_index(future[0], horizon, allow_past=True)
            source = previous
            if policy.recovery is not None:
                # today's regime, recovering as past control episodes did
                recovering = policy.recovery.approval(spec.params)
                source = np.where(held[None, :, None], recovering, previous)
            value = policy.apply(spec, source, future, start)
        else:  # new_control
            mult = control_multiplier(
                since[None, :, :],
                p["depth"][:, None, None],
                p["months_to_low"][:, None, None],
                p["recovery_half_life_months"][:, None, None],
                p["long_run"][:, None, None],
            )
            value = previous * mult
        current = np.where(applies, value, previous)
        chosen = np.where((regime == i)[None, :, :], current, chosen)
        previous = current
        held = np.where(applies[0, :, 0], spec.kind == "current", held)
    return np.clip(chosen, 0.0, 1.0)


def forecast_table(paths: xr.Dataset, variable: str = "exports") -> pd.DataFrame:
    """Summarise paths per month and destination.

    Returns
    -------
    pandas.DataFrame
        Columns ``month``, ``destination``, ``scenario``, ``mean``, ``q05``, ``q10``,
        ``q25``, ``q50``, ``q75``, ``q90``, ``q95``; one row per month and destination.
    """
    values = paths[variable].transpose("path", "destination", "month").values
    qs = np.quantile(values, FORECAST_QUANTILES, axis=0)
    mean = values.mean(axis=0)
    rows = []
    for k, month in enumerate(paths["month"].values):
        for j, dest in enumerate(paths["destination"].values):
            row = {
                "month": str(month),
                "destination": str(dest),
                "scenario": str(paths.attrs.get("scenario", "")),
                "mean": float(mean[j, k]),
            }
            for q, v in zip(FORECAST_QUANTILES, qs[:, j, k], strict=True):
                row[f"q{round(q * 100):02d}"] = float(v)
            rows.append(row)
    return pd.DataFrame(rows)


def write_forecast(paths: xr.Dataset, out_dir: str | Path) -> Path:
    """Write ``forecast.csv`` and ``paths.nc`` into ``out_dir`` (atomically, file by file)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = forecast_table(paths)
    atomic_write(out / "forecast.csv", lambda p: table.to_csv(p, index=False, float_format="%.6g"))
    atomic_write(out / "paths.nc", lambda p: paths.to_netcdf(p, engine="h5netcdf"))
    return out
