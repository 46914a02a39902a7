"""The special-function-free likelihood terms equal scipy's densities and gradients."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import special, stats

from riskmodel.models.likelihoods import beta_binomial_logp, student_t_logcdf

MODE = "FAST_COMPILE"  # Python implementations: no C compile for a few evaluations


def _logcdf_and_grads(nu):
    x, mu, sigma = pt.dvector("x"), pt.dscalar("mu"), pt.dscalar("sigma")
    out = student_t_logcdf(x, nu, mu, sigma)
    grads = pt.grad(out.sum(), [mu, sigma])
    return pytensor.function([x, mu, sigma], [out, *grads], mode=MODE)


@pytest.mark.parametrize("nu", [2, 4, 6, 10])
def test_student_t_logcdf_matches_scipy_from_deep_tail_to_upper_tail(nu):
    f = _logcdf_and_grads(nu)
    xs = np.array([-1e6, -1e3, -50, -10, -3, -2.001, -2, -1.999, -1, -0.1, 0, 0.1, 1, 2, 5, 30])
    value, _, _ = f(xs, 0.0, 1.0)
    reference = stats.t.logcdf(xs, nu)
    np.testing.assert_allclose(value, reference, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("nu", [2, 4, 8])
@pytest.mark.parametrize("x0", [-1e3, -20.0, -2.0000001, -1.5, 0.3, 4.0])
def test_student_t_logcdf_gradients_match_finite_differences(nu, x0):
    f = _logcdf_and_grads(nu)
    _, d_mu, d_sigma = f(np.array([x0]), 0.3, 1.7)
    h = 1e-6
    fd_mu = (stats.t.logcdf(x0, nu, 0.3 + h, 1.7) - stats.t.logcdf(x0, nu, 0.3 - h, 1.7)) / (2 * h)
    fd_sigma = (stats.t.logcdf(x0, nu, 0.3, 1.7 + h) - stats.t.logcdf(x0, nu, 0.3, 1.7 - h)) / (
        2 * h
    )
    assert d_mu == pytest.approx(fd_mu, rel=1e-5, abs=1e-7)
    assert d_sigma == pytest.approx(fd_sigma, rel=1e-5, abs=1e-7)


def test_beta_binomial_logp_and_gradient_match_scipy():
    k, a, b = pt.lvector("k"), pt.dvector("a"), pt.dvector("b")
    n = np.array([180, 141, 0, 3, 7])
    logp = beta_binomial_logp(k, n, a, b)
    f = pytensor.function([k, a, b], [logp, *pt.grad(logp.sum(), [a, b])], mode=MODE)
    kv = np.array([5, 19, 0, 3, 0])
    av = np.array([0.3, 1.4, 2.0, 0.5, 6.0])
    bv = np.array([9.7, 8.6, 3.0, 0.2, 0.7])
    value, d_a, d_b = f(kv, av, bv)
    np.testing.assert_allclose(value, stats.betabinom.logpmf(kv, n, av, bv), rtol=1e-12)
    digamma = special.digamma
    np.testing.assert_allclose(
        d_a, digamma(kv + av) - digamma(n + av + bv) - digamma(av) + digamma(av + bv), atol=1e-12
    )
    np.testing.assert_allclose(
        d_b,
        digamma(n - kv + bv) - digamma(n + av + bv) - digamma(bv) + digamma(av + bv),
        atol=1e-12,
    )
    outside, _, _ = f(np.array([-1, 181, 1, 4, 8]), av, bv)
    assert np.all(np.isneginf(outside))


@pytest.mark.parametrize("nu", [3, 4.5])
def test_student_t_logcdf_other_nu_is_pymcs_logcdf(nu):
    import pymc as pm

    x = np.array([-1e3, -10.0, -1.0, 0.0, 2.0])
    ours = student_t_logcdf(x, nu, 0.2, 1.3).eval(mode=MODE)
    pymcs = pm.logcdf(pm.StudentT.dist(nu=nu, mu=0.2, sigma=1.3), x).eval(mode=MODE)
    np.testing.assert_array_equal(ours, pymcs)
