"""The across-episode model: partially pooled shapes of ``control_multiplier``.

Each pooled episode ``e`` has its own shape parameters, drawn from a population::

    log(-log depth_e)  = mu_depth + sd_depth * z[e, 0]
    months_to_low_e    = softplus(mu_low + sd_low * z[e, 1])        (> 0, ~linear above 1)
    log half_life_e    = mu_half + sd_half * z[e, 2]
    logit long_run_e   = mu_long + sd_long * z[e, 3]

with ``z ~ Normal(0, 1)``, and its curve is
:func:`riskmodel.config.scenario.control_multiplier`.

Depth is pooled on the log-log scale, ``log(-log depth)``, not on the logit scale:
two episodes (gallium, germanium) stopped exports outright for two months, which
this curve can only express with a depth near 1e-4 (logit -9), while the others cut
to 4-25% (logit -3 to -1). A normal population of logit depths must stretch its
spread to about 3 to hold both, and, being symmetric, then gives a new control a
one-in-five chance of a cut shallower than half, which no well-measured episode
showed. On the log-log scale 1e-4, 0.04, 0.18 and 0.6 are 2.2, 1.2, 0.5 and -0.7:
total stops differ little from deep cuts (they do not differ for supply either),
shallow cuts are spread out, and one normal population fits them all. The data are
the episodes' *windows* (:class:`~riskmodel.shocks.measure.ShockWindow`): for each
post-control observation, the posterior mean and sd of the logit of the approval
rate over its months, from the episode's own fit. A window is modelled as::

    logit_mean[w] ~ Normal(logit(mean over its months of the curve), sqrt(logit_sd[w]^2 + misfit^2))

so each episode's measurement uncertainty is carried into the pooled fit (a poorly
measured month counts for little), and ``misfit`` absorbs month-to-month wiggles
that a smooth curve cannot follow (licence batches). Curve and measurements are
floored at 1% of normal and capped at 99% (see
:data:`~riskmodel.shocks.measure.APPROVAL_FLOOR`); a window at the floor (a month of
zero exports) is censored: it says only that the curve is at or below the floor. A
window's sd is at least :data:`MIN_LOGIT_SD`.

The posterior predictive of a *new* episode (fresh ``z`` from the population, per
posterior draw of the population parameters) is the prior of a new control; it is
summarised as one distribution per parameter (:func:`predictive_distspecs`).

Leave-one-out folds switch an episode's windows off through a weight vector, so one
compiled model serves every fold (:class:`ShapeModel`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from riskmodel.config.dists import Dist
from riskmodel.config.scenario import control_multiplier
from riskmodel.shocks.measure import APPROVAL_FLOOR, ShockWindow

__all__ = [
    "HYPERPRIORS",
    "PARAMETERS",
    "PooledData",
    "ShapeModel",
    "ShapePosterior",
    "pooled_data",
    "predictive_distspecs",
]

#: The shape parameters, in ``control_multiplier`` order.
PARAMETERS = ("depth", "months_to_low", "recovery_half_life_months", "long_run")

#: Priors of the population parameters: (mean, sd) of the Normal for the population
#: mean on the model scale, and the sd of the HalfNormal for the population spread.
HYPERPRIORS: dict[str, tuple[float, float, float]] = {
    # log(-log depth): 0.5 -> depth 0.19 of normal; 90% of population means in 0.01-0.6
    "depth": (0.5, 0.75, 0.75),
    # softplus^-1 of months to low: softplus(0.5) = 0.97 months
    "months_to_low": (0.5, 1.0, 1.0),
    # log half-life: 2 months, 90% in 0.6-6.9 months
    "recovery_half_life_months": (math.log(2.0), 0.75, 0.75),
    # logit long run: 0.82 of the pre-control rate
    "long_run": (1.5, 1.5, 1.5),
}
#: Sd of the HalfNormal prior of the month-to-month misfit (logit scale).
MISFIT_PRIOR_SD = 0.5
#: Smallest measurement sd of a window (logit scale): no monthly customs ratio is
#: known better than this.
MIN_LOGIT_SD = 0.2

_LOGIT_CAP = math.log((1 - APPROVAL_FLOOR) / APPROVAL_FLOOR)


@dataclass(frozen=True)
class PooledData:
    """The windows of the pooled episodes as arrays.

    Attributes
    ----------
    episodes : tuple of str
        Episode ids, one per episode index.
    episode : numpy.ndarray
        ``(W,)`` episode index of each window.
    taus : numpy.ndarray
        ``(W, K)`` months since the effect (padded with 0).
    mask : numpy.ndarray
        ``(W, K)`` 1.0 where ``taus`` is real.
    y, s : numpy.ndarray
        ``(W,)`` logit mean and sd of each window's approval.
    censored : numpy.ndarray
        ``(W,)`` 1.0 where the window is at the floor (approval at most the floor).
    """

    episodes: tuple[str, ...]
    episode: np.ndarray
    taus: np.ndarray
    mask: np.ndarray
    y: np.ndarray
    s: np.ndarray
    censored: np.ndarray

    @property
    def n_windows(self) -> int:
        """Number of windows."""
        return int(self.y.size)

    def weights_without(self, episode_id: str | None) -> np.ndarray:
        """Window weights with one episode switched off (all on for ``None``)."""
        w = np.ones(self.n_windows)
        if episode_id is not None:
            w[self.episode == self.episodes.index(episode_id)] = 0.0
        return w


def pooled_data(windows: dict[str, Sequence[ShockWindow]]) -> PooledData:
    """Stack the informative windows of each episode.

    Parameters
    ----------
    windows : dict of str to sequence of ShockWindow
        Episode id -> its windows (uninformative ones are skipped).

    Returns
    -------
    PooledData
    """
    rows: list[tuple[int, ShockWindow]] = []
    ids: list[str] = []
    for eid, ws in windows.items():
        keep = [w for w in ws if w.informative]
        if not keep:
            continue
        ids.append(eid)
        rows.extend((len(ids) - 1, w) for w in keep)
    if not rows:
        raise ValueError("no informative window in any episode")
    k = max(len(w.taus) for _, w in rows)
    taus = np.zeros((len(rows), k))
    mask = np.zeros((len(rows), k))
    for i, (_, w) in enumerate(rows):
        taus[i, : len(w.taus)] = w.taus
        mask[i, : len(w.taus)] = 1.0
    return PooledData(
        episodes=tuple(ids),
        episode=np.array([e for e, _ in rows], dtype=np.int64),
        taus=taus,
        mask=mask,
        y=np.clip([w.logit_mean for _, w in rows], -_LOGIT_CAP, _LOGIT_CAP),
        s=np.array([max(w.logit_sd, MIN_LOGIT_SD) for _, w in rows]),
        censored=np.array([float(w.censored) for _, w in rows]),
    )


@dataclass
class ShapePosterior:
    """Posterior draws of the across-episode model.

    Attributes
    ----------
    population : dict of str to numpy.ndarray
        ``mu_<param>`` and ``sd_<param>`` (model scale) and ``misfit``, each ``(S,)``.
    episode_params : dict of str to numpy.ndarray
        Natural-scale shape parameters per episode, each ``(S, E)``.
    episodes : tuple of str
        Episode ids (columns of ``episode_params``).
    diagnostics : dict
        Max R-hat, min bulk ESS and divergences over the population parameters.
    held_out : str or None
        The episode left out (leave-one-out folds).
    """

    population: dict[str, np.ndarray]
    episode_params: dict[str, np.ndarray]
    episodes: tuple[str, ...]
    diagnostics: dict[str, Any] = field(default_factory=dict)
    held_out: str | None = None

    def predictive(
        self, rng: np.random.Generator | int, per_draw: int = 4
    ) -> dict[str, np.ndarray]:
        """Shape parameters of a new episode, ``per_draw`` per posterior draw.

        Returns
        -------
        dict of str to numpy.ndarray
            :data:`PARAMETERS` on the natural scale, plus ``misfit``; each ``(S * per_draw,)``.
        """
        gen = np.random.default_rng(rng)
        pop = self.population
        n = pop["misfit"].size
        z = gen.standard_normal((4, n, per_draw))
        raw = {
            p: (pop[f"mu_{p}"][:, None] + pop[f"sd_{p}"][:, None] * z[i]).ravel()
            for i, p in enumerate(PARAMETERS)
        }
        return {
            "depth": np.exp(-np.exp(raw["depth"])),
            "months_to_low": _softplus(raw["months_to_low"]),
            "recovery_half_life_months": np.exp(raw["recovery_half_life_months"]),
            "long_run": _sigmoid(raw["long_run"]),
            "misfit": np.repeat(pop["misfit"], per_draw),
        }

    def predictive_windows(
        self,
        windows: Sequence[ShockWindow],
        rng: np.random.Generator | int,
        *,
        per_draw: int = 4,
        misfit: bool = True,
        measurement: bool = False,
    ) -> np.ndarray:
        """Predictive approval of a new episode over each window's months.

        Parameters
        ----------
        windows : sequence of ShockWindow
            The months to predict (their measurement sd is used with ``measurement``).
        rng : numpy.random.Generator or int
            Random generator or seed.
        per_draw : int
            New episodes per posterior draw.
        misfit : bool
            Add the fitted month-to-month misfit (logit scale).
        measurement : bool
            Also add each window's measurement sd (logit scale): the prediction is
            then of the *measured* approval, as the model's likelihood has it.

        Returns
        -------
        numpy.ndarray
            ``(n_draws, len(windows))`` approval rates, floored and capped as the data are.
        """
        gen = np.random.default_rng(rng)
        p = self.predictive(gen, per_draw)
        out = np.empty((p["depth"].size, len(windows)))
        for j, w in enumerate(windows):
            taus = np.asarray(w.taus, dtype=float)[None, :]
            m = control_multiplier(
                taus,
                p["depth"][:, None],
                p["months_to_low"][:, None],
                p["recovery_half_life_months"][:, None],
                p["long_run"][:, None],
            ).mean(axis=1)
            lg = _logit_np(m)
            if misfit:
                lg = lg + p["misfit"] * gen.standard_normal(lg.size)
            if measurement:
                lg = lg + max(w.logit_sd, MIN_LOGIT_SD) * gen.standard_normal(lg.size)
            out[:, j] = _sigmoid(np.clip(lg, -_LOGIT_CAP, _LOGIT_CAP))
        return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _logit_np(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, APPROVAL_FLOOR, 1 - APPROVAL_FLOOR)
    return np.log(p) - np.log1p(-p)


class ShapeModel:
    """The across-episode PyMC model, compiled once for a set of windows.

    Parameters
    ----------
    data : PooledData
        The windows.

    Notes
    -----
    The data enter as shared variables; :meth:`sample` sets them (and the window
    weights) explicitly on every call, so leave-one-out folds reuse one compiled model.
    Sampling goes through :func:`riskmodel.sampling.sample` (nutpie when installed).
    """

    def __init__(self, data: PooledData) -> None:
        self.data = data
        self.model = self._build()

    def _build(self) -> Any:
        import pymc as pm
        import pytensor.tensor as pt

        from riskmodel.sampling.pytensor_setup import configure_pytensor

        configure_pytensor()
        d = self.data
        coords = {"episode": list(d.episodes), "parameter": list(PARAMETERS)}
        with pm.Model(coords=coords) as model:
            y = pm.Data("y", d.y)
            s = pm.Data("s", d.s)
            taus = pm.Data("taus", d.taus)
            mask = pm.Data("mask", d.mask)
            censored = pm.Data("censored", d.censored)
            weight = pm.Data("weight", np.ones(d.n_windows))
            mus, sds = [], []
            for p in PARAMETERS:
                m0, m_sd, s_sd = HYPERPRIORS[p]
                mus.append(pm.Normal(f"mu_{p}", m0, m_sd))
                sds.append(pm.HalfNormal(f"sd_{p}", s_sd))
            z = pm.Normal("z", 0.0, 1.0, dims=("episode", "parameter"))
            raw = [mus[i] + sds[i] * z[:, i] for i in range(4)]
            log_depth = -pt.exp(raw[0])
            depth = pm.Deterministic("depth", pt.exp(log_depth), dims="episode")
            t_low = pm.Deterministic("months_to_low", pt.softplus(raw[1]), dims="episode")
            half = pm.Deterministic("recovery_half_life_months", pt.exp(raw[2]), dims="episode")
            long_run = pm.Deterministic("long_run", pm.math.sigmoid(raw[3]), dims="episode")
            misfit = pm.HalfNormal("misfit", MISFIT_PRIOR_SD)

            e = d.episode
            tl = t_low[e][:, None]
            falling = pt.exp(log_depth[e][:, None] * (taus + 1.0) / (tl + 1.0))
            rising = long_run[e][:, None] - (long_run[e][:, None] - depth[e][:, None]) * pt.exp2(
                -pt.maximum(taus - tl, 0.0) / half[e][:, None]
            )
            curve = pt.switch(taus <= tl, falling, rising)
            pred = pt.sum(curve * mask, axis=1) / pt.sum(mask, axis=1)
            pred = pt.clip(pred, APPROVAL_FLOOR, 1 - APPROVAL_FLOOR)
            logit_pred = pt.log(pred) - pt.log1p(-pred)
            sigma = pt.sqrt(s**2 + misfit**2)
            dist = pm.Normal.dist(logit_pred, sigma)
            # A window at the floor says only "at most the floor": P(logit <= floor).
            logp = pt.switch(censored > 0, pm.logcdf(dist, -_LOGIT_CAP), pm.logp(dist, y))
            pm.Potential("windows", pt.sum(weight * logp))
        return model

    def sample(
        self,
        *,
        held_out: str | None = None,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 2,
        seed: int = 0,
        target_accept: float = 0.95,
        backend: str | None = None,
    ) -> ShapePosterior:
        """Sample the posterior, optionally without one episode.

        Parameters
        ----------
        held_out : str, optional
            Episode id whose windows are switched off (leave-one-out).
        draws, tune, chains, seed, target_accept
            NUTS settings.
        backend : str, optional
            A :mod:`riskmodel.sampling` backend; default nutpie when installed.

        Returns
        -------
        ShapePosterior
        """
        from riskmodel.models.diagnostics import convergence_report
        from riskmodel.sampling import SamplerConfig, default_backend, sample

        weights = self.data.weights_without(held_out)
        values = {
            "y": self.data.y,
            "s": self.data.s,
            "taus": self.data.taus,
            "mask": self.data.mask,
            "censored": self.data.censored,
            "weight": weights,
        }
        sampler = SamplerConfig(
            backend=backend or default_backend(),
            draws=draws,
            tune=tune,
            chains=chains,
            seed=seed,
            target_accept=target_accept,
            cores=min(2, chains),
        )
        idata = sample(self.model, sampler, data=values).idata
        post = idata.posterior
        flat = {
            name: post[name].stack(sample=("chain", "draw")).transpose("sample", ...).values
            for name in post.data_vars
        }
        population = {
            k: v for k, v in flat.items() if k.startswith(("mu_", "sd_")) or k == "misfit"
        }
        episode_params = {p: flat[p] for p in PARAMETERS}
        hyper = [f"mu_{p}" for p in PARAMETERS] + [f"sd_{p}" for p in PARAMETERS] + ["misfit"]
        report = convergence_report(idata, hyper)
        diag = {
            "max_rhat": round(float(report.max_rhat), 4),
            "min_ess_bulk": round(float(report.min_ess_bulk), 1),
            "divergences": int(report.divergences),
        }
        return ShapePosterior(population, episode_params, self.data.episodes, diag, held_out)


# --------------------------------------------------------------------------- summaries


def _beta_fit(x: np.ndarray) -> tuple[float, float]:
    x = np.clip(x, 1e-4, 1 - 1e-4)
    a, b, _, _ = stats.beta.fit(x, floc=0.0, fscale=1.0)
    return float(a), float(b)


def predictive_distspecs(
    draws: dict[str, np.ndarray], *, episodes: Sequence[str], sources: Sequence[str]
) -> tuple[dict[str, Dist], dict[str, dict[str, float]]]:
    """One distribution per shape parameter, fitted to a new episode's predictive draws.

    ``depth`` and ``long_run``: Beta (maximum likelihood); ``months_to_low``: Gamma
    (maximum likelihood, rate parameterisation); ``recovery_half_life_months``:
    LogNormal (mean and sd of the log draws). Correlations between the parameters
    are not kept.

    Parameters
    ----------
    draws : dict of str to numpy.ndarray
        :meth:`ShapePosterior.predictive` output.
    episodes : sequence of str
        Labels of the pooled episodes (named in each ``reason``).
    sources : sequence of str
        URLs of the episodes' policy events (each ``source``).

    Returns
    -------
    specs : dict of str to Dist
    check : dict of str to dict
        Per parameter, the 5/50/95% quantiles of the draws and of the fitted distribution.
    """
    names = ", ".join(episodes)
    specs: dict[str, Dist] = {}
    source = " | ".join(dict.fromkeys(sources))
    a, b = _beta_fit(draws["depth"])
    specs["depth"] = Dist.of(
        "Beta",
        alpha=round(a, 4),
        beta=round(b, 4),
        reason=(
            f"Posterior predictive of a new episode's low (multiplier at the bottom) from a "
            f"hierarchical fit to {len(episodes)} past episodes ({names}); Beta fitted to it"
        ),
        source=source,
    )
    x = np.maximum(draws["months_to_low"], 1e-3)
    shape, _, scale = stats.gamma.fit(x, floc=0.0)
    specs["months_to_low"] = Dist.of(
        "Gamma",
        alpha=round(float(shape), 4),
        beta=round(1.0 / float(scale), 4),
        reason=(
            f"Posterior predictive of months from the effect month to the low, pooled over "
            f"{len(episodes)} episodes ({names}); Gamma fitted to it (beta is the rate)"
        ),
        source=source,
    )
    lh = np.log(draws["recovery_half_life_months"])
    specs["recovery_half_life_months"] = Dist.of(
        "LogNormal",
        mu=round(float(lh.mean()), 4),
        sigma=round(float(lh.std(ddof=1)), 4),
        reason=(
            f"Posterior predictive of the recovery half-life (months), pooled over "
            f"{len(episodes)} episodes ({names}); normal on the log scale"
        ),
        source=source,
    )
    a, b = _beta_fit(draws["long_run"])
    specs["long_run"] = Dist.of(
        "Beta",
        alpha=round(a, 4),
        beta=round(b, 4),
        reason=(
            f"Posterior predictive of the share of pre-control flow regained, pooled over "
            f"{len(episodes)} episodes ({names}); Beta fitted to it"
        ),
        source=source,
    )
    check: dict[str, dict[str, float]] = {}
    for p in PARAMETERS:
        dq = np.quantile(draws[p], [0.05, 0.5, 0.95])
        fq = [specs[p].quantile(q) for q in (0.05, 0.5, 0.95)]
        check[p] = {
            "draws_q05": round(float(dq[0]), 4),
            "draws_q50": round(float(dq[1]), 4),
            "draws_q95": round(float(dq[2]), 4),
            "fitted_q05": round(float(fq[0]), 4),
            "fitted_q50": round(float(fq[1]), 4),
            "fitted_q95": round(float(fq[2]), 4),
        }
    return specs, check
