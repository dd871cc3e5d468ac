import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigma_lib import logdet, regularized_logdet


def well_conditioned(d, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((3 * d, d))
    return X.T @ X / (3 * d) + 0.5 * np.eye(d)


@given(d=st.integers(1, 60), seed=st.integers(0, 10_000))
def test_cholesky_logdet_matches_slogdet(d, seed):
    A = well_conditioned(d, seed)
    sign, ref = np.linalg.slogdet(A)
    assert sign == 1
    assert logdet(A) == pytest.approx(ref, rel=1e-9, abs=1e-9)


@given(d=st.integers(1, 40), seed=st.integers(0, 10_000), eps=st.floats(1e-6, 10.0))
def test_regularized_logdet_is_logdet_of_shifted_matrix(d, seed, eps):
    A = well_conditioned(d, seed)
    ref = np.linalg.slogdet(A + eps * np.eye(d))[1]
    assert regularized_logdet(A, eps) == pytest.approx(ref, rel=1e-9, abs=1e-9)


def test_regularized_logdet_is_psd_monotone(rng):
    X = rng.standard_normal((50, 10))
    A = X[:30].T @ X[:30]
    B = X.T @ X  # B >= A in PSD order
    assert regularized_logdet(A, 1e-3) <= regularized_logdet(B, 1e-3)


def test_singular_gives_minus_inf(rng):
    X = rng.standard_normal((3, 8))  # rank 3 < 8
    assert logdet(X.T @ X) == float("-inf")
    assert logdet(np.zeros((4, 4))) == float("-inf")


def test_regularized_logdet_finite_on_singular(rng):
    X = rng.standard_normal((3, 8))
    assert np.isfinite(regularized_logdet(X.T @ X, 1e-3))


@pytest.mark.parametrize(
    "A, message",
    [
        (np.array([[1.0, 2.0], [0.0, 1.0]]), "not symmetric"),
        (np.array([[1.0, 0.0], [0.0, -1.0]]), "not positive semi-definite"),
        (np.array([[np.nan, 0.0], [0.0, 1.0]]), "NaN"),
        (np.array([[np.inf, 0.0], [0.0, 1.0]]), "Inf"),
        (np.ones((2, 3)), "square"),
    ],
)
def test_bad_input_is_named(A, message):
    with pytest.raises(ValueError, match=message):
        logdet(A)
    with pytest.raises(ValueError, match=message):
        regularized_logdet(A, 1e-3)


@pytest.mark.parametrize("eps", [0.0, -1.0, np.nan])
def test_bad_eps(eps):
    with pytest.raises(ValueError, match="eps"):
        regularized_logdet(np.eye(2), eps)
