"""The AR(1) matrix of the share knots and the approval logit: a random walk at phi = 1."""

import numpy as np
import pytest

from riskmodel.models.export_model import ar1_matrix


def test_phi_one_is_the_random_walk():
    np.testing.assert_array_equal(ar1_matrix(np, 1.0, 5), np.tril(np.ones((5, 5))))


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9])
def test_matrix_is_the_recursion(phi):
    rng = np.random.default_rng(0)
    e = rng.standard_normal(7)
    w = np.empty(7)
    w[0] = e[0]
    for k in range(1, 7):
        w[k] = phi * w[k - 1] + e[k]
    np.testing.assert_allclose(ar1_matrix(np, phi, 7) @ e, w, rtol=1e-12)


def test_one_matrix_per_path_and_the_symbolic_one_agree():
    import pytensor.tensor as pt

    phi = np.array([0.3, 0.8])
    per_path = ar1_matrix(np, phi[:, None, None], 4)
    assert per_path.shape == (2, 4, 4)
    symbolic = ar1_matrix(pt, pt.dscalar("phi"), 4)
    for p, value in enumerate(phi):
        np.testing.assert_allclose(symbolic.eval({"phi": value}), per_path[p], rtol=1e-12)
