"""The joint Bayesian model of licence approval rates and export volumes (PyMC).

For destination ``d`` and month ``t`` (DESIGN.md, "Models")::

    log mu[d,t] = loc[d] + level0[d] + g[t] + share[d,t] + season[month(t)]
        g[t]      = drift * t + cumsum(sigma_level * eps)        common local level
        share[d]  = AR(1) over 6-month knots (w[k] = phi * w[k-1] + sigma * eps[k]),
                    linearly interpolated (0 for World)
    a[d,t]      = 1 before licensing; afterwards sigmoid(x[d,t]) with
        x[d,t]    = rho * x[d,t-1] + (1 - rho) * (m[regime(t)] + delta[d]) + sigma_a * eps
        m[r]      = m[r-1] + dir[r] * step_mean + step_sigma * eps    (r > 0)
    q[d,t]      = mu[d,t] + keep * b[d,t-1]      demand queued for a licence this month
    b[d,t]      = (1 - a[d,t]) * q[d,t]           the backlog it leaves (0 before licensing)
    log y_i     ~ StudentT(nu, log sum_{t in months_i} a[d_i,t] * q[d_i,t], sigma_obs)
    approved_j  ~ BetaBinomial(applications_j, mean a over the counts' months)

The backlog: demand not let through in a licensing month is not lost at once; a
share ``keep`` of it is still wanted the next month and queues again with that
month's new demand, released at that month's rate. So the months after a harsh
regime ship more than their own demand (the catch-up of mid and late 2025) without
that being read as demand growth, and ``keep = 0`` is the model without backlog.

Everything is non-centred. ``x`` is a linear recursion, so it is written as a
lower-triangular matrix product rather than a scan (cheaper gradients). Reported
zeros are *censored* at the reporting resolution (``P(y < zero_threshold_t)``):
a hurdle would need a separate zero process that a handful of zeros cannot inform,
whereas censoring says exactly what a zero in customs means, "less than one unit".
Both the beta-binomial and the censored Student-t are written without scipy's special
functions (``riskmodel.models.likelihoods``) so that the compiled gradient can be
served from numba's disk cache.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from riskmodel.config.priors import PriorSet, SettingRange, default_priors_path, load_priors
from riskmodel.models.inputs import ModelInputs
from riskmodel.models.regimes import regime_direction
from riskmodel.sampling.pytensor_setup import configure_pytensor

MODEL_TYPE = "export_model"

#: Prior name -> required support.
REQUIRED_PRIORS: dict[str, str] = {
    "demand_drift": "real",
    "demand_level_sigma": "positive",
    "destination_level": "real",
    "destination_share_sigma": "positive",
    "destination_share_persistence": "unit",
    "season_sigma": "positive",
    "regime_mean_mu": "real",
    "regime_step_mean": "positive",
    "regime_step_sigma": "positive",
    "destination_offset_sigma": "positive",
    "approval_persistence": "unit",
    "approval_sigma": "positive",
    "obs_sigma": "positive",
    "backlog_keep": "unit",
}
REQUIRED_SETTINGS: dict[str, SettingRange] = {
    "student_t_nu": SettingRange(0.0, 1000.0, open_low=True),
    "share_knot_months": SettingRange(1, 120, integer=True),
    "pre_control_approval": SettingRange(0.0, 1.0, open_low=True, open_high=True),
    "zero_threshold_t": SettingRange(0.0, open_low=True),
    "licence_concentration": SettingRange(0.0, open_low=True),
}

#: The variables NUTS samples (convergence is checked on these, not on deterministics).
FREE_VARIABLES = (
    "demand_drift", "demand_level_sigma", "level_innovation", "destination_level",
    "destination_share_sigma", "destination_share_persistence", "share_innovation",
    "season_raw", "season_sigma",
    "regime_mean_mu", "regime_step_mean", "regime_step_sigma", "regime_step_raw",
    "destination_offset_sigma",
    "destination_offset_raw", "approval_persistence", "approval_sigma", "approval_innovation",
    "obs_sigma", "backlog_keep",
)  # fmt: skip


def load_model_priors(path: str | None = None) -> PriorSet:
    """Load and validate the priors of the export model (default: the bundled file).

    Raises
    ------
    riskmodel.exceptions.PriorsError
        Listing every problem in the file.
    """
    file = path or default_priors_path(MODEL_TYPE)
    return load_priors(file, model=MODEL_TYPE, required=REQUIRED_PRIORS, settings=REQUIRED_SETTINGS)


def knot_weights(n_months: int, spacing: int) -> np.ndarray:
    """Linear interpolation weights (month x knot) from knots every ``spacing`` months.

    Knot ``k`` sits at month ``k * spacing``; a longer window only appends rows and
    columns, so the forecast continues the walk with the weights of a longer window.
    """
    n_knots = (n_months - 1) // spacing + 2
    weights = np.zeros((n_months, n_knots))
    for t in range(n_months):
        k, frac = divmod(t, spacing)
        weights[t, k] += 1 - frac / spacing
        weights[t, k + 1] += frac / spacing
    return weights


#: Padding blocks of :func:`model_structure` (``padded=True``): counts are rounded up
#: to these multiples so that neighbouring origins and releases share one structure.
OBS_BLOCK = 32
CONTROLLED_BLOCK = 6
SMALL_BLOCK = 4
TRIALS_BLOCK = 64
#: Months one observation may cover, padded up to the next of these widths.
OBS_WIDTHS = (1, 2, 3, 6, 12)


@dataclass(frozen=True)
class ModelStructure:
    """The shapes one compiled model serves; the data are swapped in at fit time.

    Two :class:`ModelInputs` share one compiled model when their structures are equal
    and the priors are the same. The structure is the window length and the number of
    destinations (these size parameters), and the capacities below; the observations,
    masks, licence counts, the months' calendar, the regime of each controlled month,
    the regimes' directions and the demand centring are data. Anything that changes a
    shape (one destination more, more regimes or observations than the capacities) is
    another structure and compiles again. The compiled model is filed under
    :func:`riskmodel.sampling.backends.model_structure_hash` of the built model, which
    adds the priors and the library versions to these shapes.

    Attributes
    ----------
    n_months, n_destinations : int
        Window length, destinations (World included).
    n_regimes : int
        Regimes under licensing; spare regimes past the data's own have a step drawn
        from its prior that no month uses (dropped from the posterior after sampling).
    n_obs : int
        Observation rows; rows past the data's count carry zero weight.
    obs_width : int
        Months one row may cover.
    n_zero : int
        Reported zeros (censored rows); 0 means the model has no censoring term.
    n_controlled : int
        Trailing months that carry approval innovations (licensing months, padded at
        the front with months of approval 1 whose innovations only meet their prior);
        0 when no licensing falls in the window.
    n_licences : int
        Licence-count rows (0: no licence term); padding rows have zero applications.
    max_trials : int
        Upper bound of the applications in one row.
    """

    n_months: int
    n_destinations: int
    n_regimes: int
    n_obs: int
    obs_width: int
    n_zero: int
    n_controlled: int
    n_licences: int
    max_trials: int


def _round_up(value: int, block: int) -> int:
    return -(-value // block) * block if value else 0


def model_structure(inputs: ModelInputs, *, padded: bool = True) -> ModelStructure:
    """Return the structure of ``inputs``: exact shapes, or padded to shared blocks.

    Parameters
    ----------
    inputs : ModelInputs
        The data.
    padded : bool
        Round the counts up (observations to :data:`OBS_BLOCK`, licensing months to
        :data:`CONTROLLED_BLOCK`, regimes, zeros and licence rows to :data:`SMALL_BLOCK`,
        applications to :data:`TRIALS_BLOCK`, row widths to :data:`OBS_WIDTHS`), so
        that origins a month apart, revised releases and simulations usually share
        one compiled model. ``False`` gives the exact shapes.

    Returns
    -------
    ModelStructure
    """
    t0 = inputs.regimes.control_start
    lic = inputs.licences if t0 is not None else None
    exact = ModelStructure(
        n_months=inputs.n_months,
        n_destinations=len(inputs.destinations),
        n_regimes=inputs.regimes.n_regimes if t0 is not None else 0,
        n_obs=len(inputs.obs_quantity),
        obs_width=inputs.obs_months.shape[1],
        n_zero=int(inputs.obs_is_zero.sum()),
        n_controlled=inputs.n_months - t0 if t0 is not None else 0,
        n_licences=0 if lic is None else len(lic.applications),
        max_trials=0 if lic is None else max(int(np.max(lic.applications)), 1),
    )
    if not padded:
        return exact
    width = exact.obs_width
    return dataclasses.replace(
        exact,
        n_obs=_round_up(exact.n_obs, OBS_BLOCK),
        obs_width=next((w for w in OBS_WIDTHS if w >= width), _round_up(width, 12)),
        n_regimes=_round_up(exact.n_regimes, SMALL_BLOCK),
        n_zero=_round_up(exact.n_zero, SMALL_BLOCK),
        n_controlled=min(_round_up(exact.n_controlled, CONTROLLED_BLOCK), exact.n_months),
        n_licences=_round_up(exact.n_licences, SMALL_BLOCK),
        max_trials=_round_up(exact.max_trials, TRIALS_BLOCK),
    )


def model_data(inputs: ModelInputs, structure: ModelStructure) -> dict[str, np.ndarray]:
    """Return the data arrays of the model (its ``pm.Data``), shaped by ``structure``.

    Rows, months and licence rows beyond the data's own are padding: zero weight,
    zero applications, approval 1, and indices that point at a real cell so that
    nothing infinite reaches a gradient.

    Raises
    ------
    ValueError
        If ``inputs`` do not fit ``structure`` (a capacity too small, another window).
    """
    own = model_structure(inputs, padded=False)
    for name in ("n_months", "n_destinations"):
        if getattr(own, name) != getattr(structure, name):
            raise ValueError(f"inputs have {name}={getattr(own, name)}, the structure another")
    if bool(own.n_regimes) != bool(structure.n_regimes):
        raise ValueError("inputs and structure disagree on whether licensing is in the window")
    capacities = ("n_obs", "obs_width", "n_regimes", "n_zero", "n_controlled", "n_licences")
    for name in (*capacities, "max_trials"):
        if getattr(own, name) > getattr(structure, name):
            raise ValueError(f"inputs need {name}={getattr(own, name)}, more than the structure")
    n_months = structure.n_months
    n_cells = structure.n_destinations * n_months
    n_obs, width = own.n_obs, own.obs_width
    # Each row sums flat (destination, month) cells; unused slots read the extra zero
    # cell ``n_cells``, padding rows read cell 0 (a finite total they give no weight).
    slots = np.full((structure.n_obs, structure.obs_width), n_cells, dtype=np.int64)
    flat = inputs.obs_destination[:, None] * inputs.n_months + inputs.obs_months
    slots[:n_obs, :width] = np.where(inputs.obs_mask, flat, n_cells)
    slots[n_obs:, 0] = 0
    positive = np.zeros(structure.n_obs)
    positive[:n_obs] = ~inputs.obs_is_zero
    log_y = np.zeros(structure.n_obs)
    log_y[:n_obs][~inputs.obs_is_zero] = np.log(inputs.obs_quantity[~inputs.obs_is_zero])
    zero_rows = np.zeros(structure.n_zero, dtype=np.int64)
    zero_weight = np.zeros(structure.n_zero)
    zero_rows[: own.n_zero] = np.flatnonzero(inputs.obs_is_zero)
    zero_weight[: own.n_zero] = 1.0
    data = {
        "location": inputs.log_location(),
        "calendar_month": np.array([m.month - 1 for m in inputs.months], dtype=np.int64),
        "obs_slots": slots.ravel(),
        "obs_positive": positive,
        "log_quantity": log_y,
        "zero_rows": zero_rows,
        "zero_weight": zero_weight,
    }
    n_c = structure.n_controlled
    if n_c:
        pad = n_c - own.n_controlled
        controlled = np.zeros(n_c)
        controlled[pad:] = 1.0
        regime = np.zeros(n_c, dtype=np.int64)
        regime[pad:] = inputs.regimes.index[inputs.n_months - own.n_controlled :]
        data["controlled"] = controlled
        data["controlled_regime"] = regime
        # x[s] starts from the pre-control logit: its weight is rho ** (s + 1).
        data["controlled_power"] = np.maximum(np.arange(n_c) + 1 - pad, 0).astype(float)
        # Spare regimes past the data's own step by their prior alone (direction 0).
        direction = np.zeros(structure.n_regimes)
        direction[: own.n_regimes] = [regime_direction(n) for n in inputs.regimes.names]
        data["regime_direction"] = direction
    if structure.n_licences:
        weights = np.zeros((structure.n_licences, n_cells))
        applications = np.zeros(structure.n_licences, dtype=np.int64)
        approved = np.zeros(structure.n_licences, dtype=np.int64)
        if own.n_licences:
            lic = inputs.licences
            rows = zip(lic.destination, lic.first, lic.last, strict=True)
            for j, (d, f, ell) in enumerate(rows):
                weights[j, d * n_months + f : d * n_months + ell + 1] = 1 / (ell - f + 1)
            applications[: own.n_licences] = lic.applications
            approved[: own.n_licences] = lic.approved
        data.update(
            licence_weights=weights,
            licence_applications=applications,
            licence_approved=approved,
        )
    return data


def regime_labels(inputs: ModelInputs, structure: ModelStructure) -> list[str]:
    """Return the ``regime`` coordinate: the data's regimes, then the spare ones."""
    names = list(inputs.regimes.names)
    return names + [f"(spare {k})" for k in range(1, structure.n_regimes - len(names) + 1)]


def drop_padding(posterior: Any, inputs: ModelInputs, structure: ModelStructure) -> Any:
    """Return the posterior of the data's own shapes: drop what only the padding held.

    The innovations of padded months before licensing and the spare regimes of a
    padded structure met nothing but their prior; without them the posterior is the
    one the exact structure gives (``posterior`` is an ``xarray.Dataset``).
    """
    own = model_structure(inputs, padded=False)
    pad = structure.n_controlled - own.n_controlled
    if pad:
        posterior = posterior.isel(controlled_month=slice(pad, None))
    if structure.n_regimes > own.n_regimes:
        posterior = posterior.isel(regime=slice(0, own.n_regimes))
        if own.n_regimes > 1:
            posterior = posterior.isel(regime_step=slice(0, own.n_regimes - 1))
        elif "regime_step" in posterior.dims:  # the exact model of one regime has no steps
            posterior = posterior.drop_dims("regime_step")
    return posterior


def build_model(
    inputs: ModelInputs, priors: PriorSet, structure: ModelStructure | None = None
) -> Any:
    """Build the PyMC model for one product.

    The data enter as ``pm.Data`` (:func:`model_data`) with shapes fixed by
    ``structure``, so one compiled model serves every input of that structure
    (:mod:`riskmodel.sampling` swaps the data in).

    Parameters
    ----------
    inputs : ModelInputs
        Observations, regimes and licence counts (see :func:`prepare_inputs`).
    priors : PriorSet
        As returned by :func:`load_model_priors`.
    structure : ModelStructure, optional
        Default: the exact shapes of ``inputs`` (``model_structure(inputs,
        padded=False)``); a padded one adds approval innovations of months before
        licensing (prior only) and zero-weight rows, leaving the posterior of
        everything else unchanged.

    Returns
    -------
    pymc.Model
        With dims ``destination``, ``month``, ``regime``, ``regime_step`` (the regimes
        after the first), ``month_of_year``, ``controlled_month``, ``knot`` and
        ``other_destination``; ``backlog``
        (tonnes carried out of each licensing month) on ``(destination,
        controlled_month)``.
    """
    configure_pytensor()
    import pymc as pm
    import pytensor.tensor as pt

    from riskmodel.models.likelihoods import (
        beta_binomial_logp,
        beta_binomial_random,
        student_t_logcdf,
    )

    structure = structure or model_structure(inputs, padded=False)
    arrays = model_data(inputs, structure)
    n_dest, n_months = structure.n_destinations, structure.n_months
    n_ctrl = structure.n_controlled
    spacing = int(priors.setting("share_knot_months"))
    weights = knot_weights(n_months, spacing)

    coords: dict[str, Any] = {
        "destination": list(inputs.destinations),
        "month": inputs.month_labels,
        "month_of_year": list(range(1, 13)),
        "knot": list(range(weights.shape[1])),
        "other_destination": list(inputs.destinations[1:]),
    }
    if n_ctrl:
        regimes = regime_labels(inputs, structure)
        coords["regime"] = regimes
        if structure.n_regimes > 1:
            coords["regime_step"] = regimes[1:]
        coords["controlled_month"] = inputs.month_labels[n_months - n_ctrl :]

    with pm.Model(coords=coords) as model:
        data = {name: pm.Data(name, value, shape=value.shape) for name, value in arrays.items()}
        # Counterfactual demand: what would have shipped without licensing.
        drift = priors.variable("demand_drift")
        sigma_level = priors.variable("demand_level_sigma")
        eps_level = pm.Normal("level_innovation", 0.0, 1.0, dims="month")
        common = pt.cumsum(sigma_level * eps_level) + drift * np.arange(n_months)
        level0 = priors.variable("destination_level", dims="destination")
        if n_dest > 1:
            sigma_share = priors.variable("destination_share_sigma")
            phi_share = priors.variable("destination_share_persistence")
            eps_share = pm.Normal("share_innovation", 0.0, 1.0, dims=("other_destination", "knot"))
            # An AR(1) over knots, then interpolated to months by the constant ``weights``.
            knot_walk = ar1_matrix(pt, phi_share, weights.shape[1])
            share = pt.concatenate(
                [
                    pt.zeros((1, n_months)),
                    pt.dot(pt.dot(sigma_share * eps_share, knot_walk.T), weights.T),
                ],
                axis=0,
            )
        else:
            share = pt.zeros((1, n_months))
        season_raw = pm.Normal("season_raw", 0.0, 1.0, dims="month_of_year")
        season_sigma = priors.variable("season_sigma")
        season = pm.Deterministic(
            "season", season_sigma * (season_raw - season_raw.mean()), dims="month_of_year"
        )
        log_demand = pm.Deterministic(
            "log_demand",
            data["location"][:, None]
            + level0[:, None]
            + common[None, :]
            + share
            + season[data["calendar_month"]][None, :],
            dims=("destination", "month"),
        )

        # Share of the backlog still wanted a month later (drawn also without licensing
        # in the window: a forecast of a new control needs it).
        keep = priors.variable("backlog_keep")

        # Approval (release) rate: 1 before licensing, a logit AR(1) around regime means
        # after, over the last ``n_ctrl`` months; ``controlled`` marks licensing months.
        pre_logit = float(
            np.log(
                priors.setting("pre_control_approval")
                / (1 - priors.setting("pre_control_approval"))
            )
        )
        if n_ctrl:
            # The first regime's mean is a parameter of its own; each later regime
            # moves from the one before, up for a deal, an approval or a suspension
            # and down for a control or ban (``regime_direction``), by ``step_mean``
            # on average.
            first_mean = priors.variable("regime_mean_mu")
            step_mean = priors.variable("regime_step_mean")
            step_sigma = priors.variable("regime_step_sigma")
            if structure.n_regimes > 1:
                step_raw = pm.Normal("regime_step_raw", 0.0, 1.0, dims="regime_step")
                steps = data["regime_direction"][1:] * step_mean + step_sigma * step_raw
                later = pt.concatenate([pt.zeros(1), pt.cumsum(steps)])
            else:
                later = pt.zeros(1)
            regime_mean = pm.Deterministic("regime_mean", first_mean + later, dims="regime")
            if n_dest > 1:
                sigma_delta = priors.variable("destination_offset_sigma")
                delta_raw = pm.Normal("destination_offset_raw", 0.0, 1.0, dims="other_destination")
                delta = pt.concatenate([pt.zeros(1), sigma_delta * delta_raw])
            else:
                delta = pt.zeros(1)
            pm.Deterministic("destination_offset", delta, dims="destination")
            rho = priors.variable("approval_persistence")
            sigma_a = priors.variable("approval_sigma")
            eps_a = pm.Normal(
                "approval_innovation", 0.0, 1.0, dims=("destination", "controlled_month")
            )
            controlled = data["controlled"][None, :]
            target = regime_mean[data["controlled_regime"]][None, :] + delta[:, None]
            decay = ar1_matrix(pt, rho, n_ctrl)
            drive = ((1 - rho) * target + sigma_a * eps_a) * controlled
            x_ctrl = pt.dot(drive, decay.T) + (rho ** data["controlled_power"])[None, :] * pre_logit
            is_ctrl = pt.gt(controlled, 0.0)
            x_ctrl = pt.switch(is_ctrl, x_ctrl, pre_logit)
            log_a_ctrl = pt.switch(is_ctrl, -pt.log1p(pt.exp(-x_ctrl)), 0.0)
            n_pre = n_months - n_ctrl
            logit_a = pt.concatenate([pt.full((n_dest, n_pre), pre_logit), x_ctrl], axis=1)
            log_a = pt.concatenate([pt.zeros((n_dest, n_pre)), log_a_ctrl], axis=1)
            log_refused = pt.switch(is_ctrl, -pt.log1p(pt.exp(x_ctrl)), _LOG_NONE)
            log_queue = _log_backlog_queue(
                pt, log_demand[:, n_pre:], log_refused, pt.log(keep), n_ctrl
            )
            pm.Deterministic(
                "backlog",
                pt.switch(is_ctrl, pt.exp(log_refused + log_queue), 0.0),
                dims=("destination", "controlled_month"),
            )
            log_flow = pt.concatenate([log_demand[:, :n_pre], log_a_ctrl + log_queue], axis=1)
        else:
            logit_a = pt.full((n_dest, n_months), pre_logit)
            log_a = pt.zeros((n_dest, n_months))
            log_flow = log_demand
        pm.Deterministic("approval_logit", logit_a, dims=("destination", "month"))
        approval = pm.Deterministic("approval", pt.exp(log_a), dims=("destination", "month"))

        # Observations: each row observes the total over its months, a sum over flat
        # (destination, month) cells. Every gather is 1-d: a multi-index gather and its
        # scatter-add gradient cost a fifth of a logp evaluation, 1-d ones a few percent.
        flow = pt.concatenate([pt.exp(log_flow.ravel()), pt.zeros(1)])
        shape = (structure.n_obs, structure.obs_width)
        log_total = pt.log(flow[data["obs_slots"]].reshape(shape).sum(axis=1))
        sigma_obs = priors.variable("obs_sigma")
        nu = float(priors.setting("student_t_nu"))
        # Rows that are not positive observations (zeros, padding) get a fixed location
        # and scale: a constant term, no gradient.
        positive = pt.gt(data["obs_positive"], 0.0)
        pm.StudentT(
            "log_exports",
            nu=nu,
            mu=pt.switch(positive, log_total, 0.0),
            sigma=pt.switch(positive, sigma_obs, 1.0),
            observed=data["log_quantity"],
        )
        if structure.n_zero:
            censor_at = np.log(float(priors.setting("zero_threshold_t")))
            mu_zero = log_total[data["zero_rows"]]
            log_below = student_t_logcdf(censor_at, nu, mu_zero, sigma_obs)
            pm.Potential("reported_zeros", (data["zero_weight"] * log_below).sum())

        if structure.n_licences:
            kappa = float(priors.setting("licence_concentration"))
            mean_a = pt.dot(data["licence_weights"], approval.ravel())
            mean_a = pt.clip(mean_a, 1e-6, 1 - 1e-6)
            max_trials = structure.max_trials
            pm.CustomDist(
                "licences_approved",
                mean_a * kappa,
                (1 - mean_a) * kappa,
                data["licence_applications"],
                logp=lambda k, a, b, n: beta_binomial_logp(k, n, a, b, max_trials=max_trials),
                random=lambda a, b, n, rng=None, size=None: beta_binomial_random(
                    n, a, b, rng=rng, size=size
                ),
                dtype="int64",
                observed=data["licence_approved"],
            )
    return model


def ar1_matrix(pt: Any, phi: Any, n: int) -> Any:
    """Return the matrix of an AR(1) recursion: ``w = ar1_matrix @ e``.

    ``w[k] = phi * w[k-1] + e[k]`` from ``w[0] = e[0]`` is ``w[k] = sum_{j <= k}
    phi ** (k - j) * e[j]``, a lower-triangular matrix (no scan, cheap gradients); the
    share knots and the approval logit use it. ``pt`` is ``pytensor.tensor`` (a
    symbolic ``phi``) or NumPy (``phi`` of shape ``(P, 1, 1)`` gives one matrix per path).
    """
    k = np.arange(n)
    lag = k[:, None] - k[None, :]
    return pt.where(lag >= 0, phi ** np.maximum(lag, 0), 0.0)


#: Log of "nothing" in the backlog recursion: exp(-100) is 0 in every sum it meets,
#: and unlike -inf it keeps the differences of cumulative sums finite.
_LOG_NONE = -100.0


def _log_backlog_queue(pt: Any, log_demand: Any, log_refused: Any, log_keep: Any, n: int) -> Any:
    """Log of the demand queued in each licensing month, new demand plus kept backlog.

    ``q[t] = mu[t] + keep * (1 - a[t-1]) * q[t-1]`` is a linear recursion with
    month-varying coefficients ``c[t] = keep * (1 - a[t-1])``, so
    ``q[t] = sum_{s <= t} mu[s] * prod_{s < j <= t} c[j]``: a lower-triangular
    matrix built from cumulative sums of ``log c`` (no scan, cheap gradients).
    ``log_refused`` is ``log(1 - a)`` with :data:`_LOG_NONE` in padding months, so
    nothing carries out of a month before licensing.
    """
    prev = pt.concatenate(
        [pt.full((log_refused.shape[0], 1), _LOG_NONE), log_refused[:, :-1]], axis=1
    )
    cum = pt.cumsum(log_keep + prev, axis=1)  # (destination, month)
    lower = np.tril(np.ones((n, n)))
    log_carry = pt.switch(lower > 0, cum[:, :, None] - cum[:, None, :], _LOG_NONE)
    return pt.log((pt.exp(log_carry) * lower * pt.exp(log_demand)[:, None, :]).sum(axis=2))


def free_variable_names(model: Any) -> list[str]:
    """Names of the sampled (free) variables of a built model."""
    return [rv.name for rv in model.free_RVs]
