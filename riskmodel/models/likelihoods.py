"""Likelihood terms written without scipy's special functions.

PyTensor's numba backend calls scipy's Cython ``digamma`` and incomplete beta for the
gradient of PyMC's ``BetaBinomial`` and for ``StudentT``'s CDF. Those calls are
function pointers that numba must look up in every process ("dynamic globals"), so a
graph that contains them is never served from numba's disk cache and every fit
recompiles it (several seconds on the bundled model, see ``benchmarks/RESULTS.md``).
The two terms below are the same densities written with logs, powers and square
roots only, exact for the cases the model uses (integer counts; even integer
degrees of freedom), so the whole logp+gradient graph can be cached.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

# Terms of the tail series of the Student-t CDF kept beyond the leading one. The
# series is only used where its ratio is at most 1/2, so the truncation error is
# below 2**-60 relative.
_TAIL_TERMS = 60


def beta_binomial_logp(
    value: Any, n: Any, alpha: Any, beta: Any, max_trials: int | None = None
) -> Any:
    """Log-pmf of a beta-binomial for integer counts, without digamma in its gradient.

    Uses ``B(k + a, n - k + b) / B(a, b) = prod_{i<k}(a + i) prod_{j<n-k}(b + j) /
    prod_{m<n}(a + b + m)``, exact for integer ``n`` and ``k``.

    Parameters
    ----------
    value : tensor of int
        Observed successes ``k`` (``0 <= k <= n``).
    n : numpy.ndarray or tensor of int
        Trials. A tensor (data swapped into a compiled model) needs ``max_trials``.
    alpha, beta : tensor
        Positive shape parameters, broadcastable against ``value``.
    max_trials : int, optional
        An upper bound of ``n`` (it sizes the products); default ``max(n)``.

    Returns
    -------
    tensor
        Log-probability per element of ``value``; ``-inf`` outside ``0..n``.
    """
    if max_trials is None:
        n = np.asarray(n, dtype="int64")
        max_trials = int(n.max())
    steps = np.arange(max(max_trials, 1), dtype="float64")[None, :]
    k = pt.as_tensor_variable(value)[..., None]
    n_col = pt.as_tensor_variable(n).astype("float64")[..., None]
    a = pt.as_tensor_variable(alpha)[..., None]
    b = pt.as_tensor_variable(beta)[..., None]
    log_rising = (
        pt.switch(pt.lt(steps, k), pt.log(a + steps), 0.0).sum(axis=-1)
        + pt.switch(pt.lt(steps, n_col - k), pt.log(b + steps), 0.0).sum(axis=-1)
        - pt.switch(pt.lt(steps, n_col), pt.log(a + b + steps), 0.0).sum(axis=-1)
    )
    value = pt.as_tensor_variable(value)
    log_choose = pt.gammaln(n + 1.0) - pt.gammaln(value + 1.0) - pt.gammaln(n - value + 1.0)
    inside = pt.and_(pt.ge(value, 0), pt.le(value, n))
    return pt.switch(inside, log_choose + log_rising, -np.inf)


def beta_binomial_random(
    n: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
    rng: np.random.Generator | None = None,
    size: tuple[int, ...] | None = None,
) -> np.ndarray:
    """Draw beta-binomial counts (the ``random`` of :func:`beta_binomial_logp`)."""
    rng = np.random.default_rng(rng)
    return rng.binomial(n, rng.beta(alpha, beta, size=size), size=size)


def _even_integer(nu: float) -> int | None:
    if float(nu).is_integer() and int(nu) >= 2 and int(nu) % 2 == 0:
        return int(nu)
    return None


def student_t_logcdf(upper: Any, nu: float, mu: Any, sigma: Any) -> Any:
    """``log P(Y <= upper)`` for ``Y ~ StudentT(nu, mu, sigma)``.

    For even integer ``nu = 2k`` the CDF is elementary. With ``s = |t|``,
    ``u = s / sqrt(nu + s^2)``, ``x = nu / (nu + s^2)`` and
    ``c_j = prod_{i<=j} (2i - 1) / (2i)``::

        P(T <= -s) = (1 - u sum_{j<k} c_j x^j) / 2 = (u / 2) sum_{j>=k} c_j x^j

    (the two are equal because ``sum_j c_j x^j = (1 - x)^(-1/2) = 1 / u``). The closed
    form is used near the centre and the tail series, free of cancellation and
    computed in logs, where ``x <= 1/2``. Any other ``nu`` falls back to PyMC's
    ``logcdf`` (correct, but then the graph is not disk-cacheable).

    Parameters
    ----------
    upper : tensor or float
        The bound.
    nu : float
        Degrees of freedom, a number known when the model is built.
    mu, sigma : tensor
        Location and scale.

    Returns
    -------
    tensor
        Elementwise log-CDF.
    """
    half_nu = _even_integer(nu)
    if half_nu is None:
        return pm.logcdf(pm.StudentT.dist(nu=nu, mu=mu, sigma=sigma), upper)
    half_nu //= 2
    nu = float(nu)
    coef = np.cumprod(
        np.r_[
            1.0,
            (2 * np.arange(1, half_nu + _TAIL_TERMS) - 1)
            / (2 * np.arange(1, half_nu + _TAIL_TERMS)),
        ]
    )
    head, tail = coef[:half_nu], coef[half_nu:]

    t = (upper - mu) / sigma
    # Not pt.abs: its gradient is 0 at t = 0, where the CDF's is not.
    s = pt.switch(pt.lt(t, 0.0), -t, t)
    # Each branch sees an argument inside its own range, so neither produces inf or
    # nan that a switch would pass on to the gradient.
    s_centre = pt.minimum(s, np.sqrt(nu))
    x_centre = nu / (nu + s_centre**2)
    u_centre = s_centre / pt.sqrt(nu + s_centre**2)
    powers_head = x_centre[..., None] ** np.arange(half_nu)
    lower_centre = pt.log(0.5 * (1.0 - u_centre * (powers_head * head).sum(axis=-1)))

    s_tail = pt.maximum(s, np.sqrt(nu))
    x_tail = nu / (nu + s_tail**2)
    log_u_tail = pt.log(s_tail) - 0.5 * pt.log(nu + s_tail**2)
    powers_tail = x_tail[..., None] ** np.arange(_TAIL_TERMS)
    lower_tail = (
        np.log(0.5)
        + log_u_tail
        + half_nu * pt.log(x_tail)
        + pt.log((powers_tail * tail).sum(axis=-1))
    )

    log_lower = pt.switch(pt.le(s, np.sqrt(nu)), lower_centre, lower_tail)
    return pt.switch(pt.lt(t, 0.0), log_lower, pt.log1mexp(log_lower))
