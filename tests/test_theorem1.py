"""Theorem 1 (3.4) on random and adversarial inputs, and the overestimation ratio (3.8)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigma_lib import (
    logdet,
    overestimation_ratio_asymptotic,
    overestimation_ratio_measured,
    select_observed_indices,
    split_gram,
    theorem1_bounds,
)

KINDS = ["gaussian", "ill_conditioned", "rank_deficient_block", "m_just_above_d", "scale_gap_up", "scale_gap_down",
         "heavy_tailed"]


def make_case(kind, d, seed):
    rng = np.random.default_rng(seed)
    N = 6 * d + 20
    m = d + 1 if kind == "m_just_above_d" else 3 * d
    X = rng.standard_normal((N, d))
    if kind == "ill_conditioned":
        X *= np.logspace(-4, 4, d)
    if kind == "heavy_tailed":
        X = rng.standard_t(2.5, size=(N, d))
    obs = select_observed_indices(N, m, seed)
    if kind == "rank_deficient_block":
        basis = rng.standard_normal((max(1, d // 2), d))
        X[obs] = rng.standard_normal((m, basis.shape[0])) @ basis
    mask = np.zeros(N, bool)
    mask[obs] = True
    if kind == "scale_gap_up":
        X[mask] *= 1e4
    if kind == "scale_gap_down":
        X[~mask] *= 1e4
    return X, obs


def assert_bounds_hold(X, obs):
    Gm, Gr = split_gram(X, obs)
    b = theorem1_bounds(Gm, Gr)
    L = logdet(Gm + Gr)
    if L == float("-inf"):  # numerically singular G: G >= G_m forces a singular G_m too
        assert b.lower == float("-inf")
        return b, L
    tol = 1e-9 * max(1.0, abs(L))
    assert b.lower <= L + tol, (b.lower, L)
    assert L <= b.upper + tol, (L, b.upper)
    return b, L


@given(kind=st.sampled_from(KINDS), d=st.integers(1, 24), seed=st.integers(0, 100_000))
def test_theorem1_bounds_hold(kind, d, seed):
    X, obs = make_case(kind, d, seed)
    b, L = assert_bounds_hold(X, obs)
    if kind == "rank_deficient_block" and d > 1:
        assert b.lower == float("-inf")


def test_bounds_are_tight_in_the_equality_cases(rng):
    # G_rest = 0: lower bound is exact. Isotropic G_rest, G_m = 0 direction-wise: upper exact.
    X = rng.standard_normal((20, 4))
    obs = np.arange(20)
    Gm, _ = split_gram(X, obs)
    b = theorem1_bounds(Gm, np.zeros((4, 4)))
    assert b.lower == pytest.approx(logdet(Gm), rel=1e-12)
    assert b.upper == pytest.approx(logdet(Gm), rel=1e-12)
    b2 = theorem1_bounds(np.zeros((4, 4)), 3.0 * np.eye(4))
    assert b2.upper == pytest.approx(4 * np.log(3.0))


def test_ratio_is_one_for_isotropic_sigma():
    assert overestimation_ratio_asymptotic(np.ones(10), 0.3) == pytest.approx(0.0)
    assert overestimation_ratio_asymptotic(np.ones(10), 0.3, log=False) == pytest.approx(1.0)


def test_ratio_grows_with_anisotropy():
    r = 0.25
    vals = [overestimation_ratio_asymptotic(np.array([1.0, 1.0 / k]), r) for k in (1, 2, 10, 100)]
    assert np.all(np.diff(vals) > 0)
    assert vals[-1] == pytest.approx(np.log(r + (1 - r) * 100))


def test_measured_ratio_converges_to_formula_3_8():
    rng = np.random.default_rng(3)
    mu = np.array([1.0, 0.5, 0.1, 0.01])
    N, m = 400_000, 100_000
    X = rng.standard_normal((N, 4)) * np.sqrt(mu)
    Gm, Gr = split_gram(X, select_observed_indices(N, m, 0))
    b = theorem1_bounds(Gm, Gr)
    measured = overestimation_ratio_measured(b, logdet(Gm + Gr))
    predicted = overestimation_ratio_asymptotic(mu, m / N)
    assert predicted == pytest.approx(6.93, abs=0.01)
    assert measured == pytest.approx(predicted, abs=0.03)


def test_ratio_bad_input():
    with pytest.raises(ValueError, match="positive"):
        overestimation_ratio_asymptotic(np.array([1.0, 0.0]), 0.5)
    with pytest.raises(ValueError, match="r = m/N"):
        overestimation_ratio_asymptotic(np.ones(3), 1.5)
    with pytest.raises(ValueError, match="same shape"):
        theorem1_bounds(np.eye(2), np.eye(3))
