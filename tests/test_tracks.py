"""Track I (3.18), Track II (3.20), drift (3.21), Algorithm 1."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import random_orthogonal
from sigma_lib import (
    algorithm1,
    drift,
    gram_matrix,
    regularized_logdet,
    select_observed_indices,
    sigma_ub_from_gram,
    split_gram,
    track1_envelope,
    track1_gamma_kf,
    track2_u_lln_cov,
    unit_normalize,
)


def unit_rows(N, d, seed, anisotropy=1.0):
    rng = np.random.default_rng(seed)
    return unit_normalize(rng.standard_normal((N, d)) * np.logspace(0, np.log10(anisotropy), d))


@given(
    d=st.integers(2, 20),
    extra=st.integers(1, 40),
    tail=st.integers(0, 200),
    seed=st.integers(0, 10_000),
    anisotropy=st.sampled_from([1.0, 10.0, 1e3]),
    eps=st.sampled_from([1e-6, 1e-3, 1.0]),
)
def test_track1_envelope_is_never_below_full_L_eps(d, extra, tail, seed, anisotropy, eps):
    m = d + extra
    N = m + tail
    X = unit_rows(N, d, seed, anisotropy)
    obs = select_observed_indices(N, m, seed)
    Gm, Gr = split_gram(X, obs)
    full = regularized_logdet(Gm + Gr, eps)
    env = track1_envelope(Gm, N, m, eps)
    assert full <= env + 1e-9 * max(1.0, abs(full))


def test_gamma_kf_formulas_agree(rng):
    X = unit_normalize(rng.standard_normal((300, 12)))
    Gm = gram_matrix(X[:100])
    N, m, eps = 300, 100, 1e-3
    B = N - m
    lam = np.linalg.eigvalsh(Gm)
    g = track1_gamma_kf(Gm, N, m, eps)
    assert g == pytest.approx(np.sum(np.log1p(lam / (B + eps))), rel=1e-10)  # (3.19)
    assert g == pytest.approx(np.linalg.slogdet(Gm + (B + eps) * np.eye(12))[1] - 12 * np.log(B + eps),
                              rel=1e-8)  # (3.18)
    assert g >= 0


def test_u_is_covariance_normalised(rng):
    X = unit_normalize(rng.standard_normal((400, 10)))
    Gm = gram_matrix(X)
    U = track2_u_lln_cov(Gm, 400, 1e-3)
    assert U == pytest.approx(np.linalg.slogdet(Gm / 400 + 1e-3 / 400 * np.eye(10))[1], rel=1e-10)  # (B.17)
    assert U == pytest.approx(regularized_logdet(Gm, 1e-3) - 10 * np.log(400), rel=1e-12)  # (3.20)


def test_u_converges_to_logdet_sigma():
    # Unit-norm isotropic vectors: Sigma = I/d, log det Sigma = -d log d.
    d = 8
    U = [track2_u_lln_cov(gram_matrix(unit_rows(m, d, 0)), m, 1e-9) for m in (200, 20_000)]
    target = -d * np.log(d)
    assert abs(U[1] - target) < abs(U[0] - target)
    assert U[1] == pytest.approx(target, abs=0.05)


def test_tracks_invariant_to_rotation_and_permutation(rng):
    N, d, m = 500, 16, 200
    X = unit_rows(N, d, 3, anisotropy=30)
    obs = select_observed_indices(N, m, 1)
    base = algorithm1(X, obs)
    Q = random_orthogonal(d, rng)
    rotated = algorithm1(X @ Q.T, obs)
    assert rotated.U == pytest.approx(base.U, rel=1e-10)
    assert rotated.gamma_kf == pytest.approx(base.gamma_kf, rel=1e-10)
    # Permuting the observed columns among themselves changes nothing.
    perm = X.copy()
    perm[obs] = X[rng.permutation(obs)]
    permuted = algorithm1(perm, obs)
    assert permuted.U == pytest.approx(base.U, rel=1e-12)
    assert permuted.gamma_kf == pytest.approx(base.gamma_kf, rel=1e-12)


def test_algorithm1_normalises_and_matches_gram_route(rng):
    X = rng.standard_normal((300, 10)) * rng.uniform(0.5, 5.0, size=(300, 1))
    obs = select_observed_indices(300, 120, 0)
    res = algorithm1(X, obs)
    Gm = gram_matrix(unit_normalize(X)[obs])
    ref = sigma_ub_from_gram(Gm, 300, 120)
    assert (res.U, res.gamma_kf) == pytest.approx((ref.U, ref.gamma_kf), rel=1e-12)
    assert (res.N, res.m, res.d) == (300, 120, 10)


def test_contraction_lowers_both_tracks(rng):
    X = rng.standard_normal((800, 16))
    obs = select_observed_indices(800, 400, 0)
    healthy = algorithm1(X, obs)
    squash = X.copy()
    squash[:, 8:] *= 0.1  # half the directions shrink
    collapsed = algorithm1(squash, obs)
    assert collapsed.U < healthy.U - 10
    assert collapsed.gamma_kf < healthy.gamma_kf


def test_drift():
    np.testing.assert_allclose(drift([3.0, 2.0, 1.5]), [0.0, -1.0, -1.5])
    np.testing.assert_allclose(drift([3.0, 2.0], baseline=1.0), [2.0, 1.0])
    with pytest.raises(ValueError):
        drift([])


def test_algorithm1_bad_inputs(rng):
    X = rng.standard_normal((100, 10))
    with pytest.raises(ValueError, match="must exceed the embedding dimension"):
        algorithm1(X, np.arange(10))
    bad = X.copy()
    bad[5, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        algorithm1(bad, np.arange(50))
    with pytest.raises(ValueError, match="out of range"):
        algorithm1(X, np.arange(60, 120))
    with pytest.raises(ValueError, match="exceeds"):
        algorithm1(X[:20], np.arange(30))
    zero = X.copy()
    zero[0] = 0
    with pytest.raises(ValueError, match="all-zero"):
        algorithm1(zero, np.arange(50))
    # Bucket slices may opt out of m > d: finite values through eps.
    assert np.isfinite(algorithm1(X, np.arange(5), require_m_above_d=False).U)
