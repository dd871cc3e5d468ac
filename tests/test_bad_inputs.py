"""Every bad input of issue 11 (item 5, library side) is refused with a message that names it.

Each test here failed before the fix: the input was silently misread (a negative index dropped
or wrapped, a float index truncated, an imaginary part dropped, a string split into characters,
a non-PSD Gram turned into a negative Gamma_KF) or refused with a bare numpy error.
"""
import numpy as np
import pytest

from sigma_lib import (
    algorithm1,
    distinct_n,
    gram_matrix,
    hashed_ngram_hhi,
    logdet,
    regularized_logdet,
    sigma_ub_from_gram,
    split_gram,
    theorem1_bounds,
    track1_envelope,
    track1_gamma_kf,
    track2_u_lln_cov,
    unit_normalize,
)
from sigma_lib.maths.noise import tracks_over_index_sets
from sigma_lib.maths.signals import rankme


@pytest.fixture
def X(rng):
    return rng.standard_normal((100, 10))


@pytest.fixture
def G_m(X):
    return gram_matrix(unit_normalize(X[:20]))


# --- Algorithm 1 and the observed index set -------------------------------------------------


def test_algorithm1_refuses_a_negative_index(X):
    # Before: row -1 was skipped by the streaming Gram while U still divided by m = 20.
    observed = np.arange(20)
    observed[0] = -1
    with pytest.raises(ValueError, match=r"observed holds the negative index -1 at position 0.*\[0, N\)"):
        algorithm1(X, observed)


def test_algorithm1_refuses_non_whole_indices(X):
    # Before: 0.5, 1.5, ... were truncated to 0, 1, ...
    with pytest.raises(ValueError, match="whole-number row indices, got 0.5 at position 0"):
        algorithm1(X, np.arange(20) + 0.5)


def test_algorithm1_accepts_whole_number_float_indices(X):
    assert algorithm1(X, np.arange(20.0)) == algorithm1(X, np.arange(20))


def test_algorithm1_refuses_duplicate_indices(X):
    with pytest.raises(ValueError, match="holds the index 5 more than once.*np.unique"):
        algorithm1(X, np.r_[np.arange(19), 5])


def test_algorithm1_refuses_a_boolean_mask(X):
    with pytest.raises(TypeError, match="boolean mask.*np.flatnonzero"):
        algorithm1(X, np.arange(100) < 20)


def test_algorithm1_names_the_out_of_range_index(X):
    with pytest.raises(ValueError, match="index 100 .*out of range for N=100.*0 to 99"):
        algorithm1(X, np.arange(90, 110))


def test_algorithm1_refuses_complex_embeddings(X):
    # Before: the imaginary part was dropped with only a ComplexWarning.
    with pytest.raises(TypeError, match="complex"):
        algorithm1(X * (1 + 1j), np.arange(20))


def test_streaming_grams_refuse_a_negative_index(X):
    # The monitor's route (observed_grams): a negative index was skipped, not refused.
    sets = [np.arange(20), np.r_[-1, np.arange(1, 20)]]
    with pytest.raises(ValueError, match="index set 1 holds the negative index -1"):
        tracks_over_index_sets([X], sets, 100)


def test_split_gram_refuses_a_negative_index(X):
    # Before: -1 was wrapped to row N - 1.
    with pytest.raises(ValueError, match="negative index -1"):
        split_gram(X, [-1, 0, 1])


def test_split_gram_refuses_an_index_past_the_end_with_a_value_error(X):
    # Before: a bare IndexError from numpy.
    with pytest.raises(ValueError, match="index 100 .*out of range for N=100"):
        split_gram(X, [100, 0])


# --- Track I, Track II, Theorem 1 -----------------------------------------------------------


@pytest.mark.parametrize("eps", [0.0, -1.0, np.nan, np.inf])
def test_gamma_kf_refuses_a_non_positive_eps(G_m, eps):
    with pytest.raises(ValueError, match="eps must be a finite positive number"):
        track1_gamma_kf(G_m, 100, 20, eps)
    with pytest.raises(ValueError, match="eps must be a finite positive number"):
        track1_envelope(G_m, 100, 20, eps)


@pytest.mark.parametrize("N, m, name", [(100.5, 20, "N"), (100, 20.5, "m"), (100, 0, "m")])
def test_gamma_kf_refuses_non_integer_counts(G_m, N, m, name):
    with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
        track1_gamma_kf(G_m, N, m)


def test_gamma_kf_refuses_a_non_psd_gram():
    # Before: -I gave Gamma_KF = -0.126, which cannot exist (3.19 is a sum of log(1 + lambda/s)).
    with pytest.raises(ValueError, match="G_m is not positive semi-definite: its smallest eigenvalue is -1"):
        track1_gamma_kf(-np.eye(10), 100, 20)


def test_sigma_ub_from_gram_refuses_a_non_psd_gram():
    with pytest.raises(ValueError, match="G_m is not positive semi-definite"):
        sigma_ub_from_gram(-np.eye(10), 100, 20)


def test_track2_refuses_a_non_psd_gram_even_when_the_ridge_hides_it():
    # -1e-4 I + eps I (eps = 1e-3) factors by Cholesky, so this used to return U = -100.09.
    with pytest.raises(ValueError, match="G_m is not positive semi-definite: its smallest eigenvalue is -0.0001"):
        track2_u_lln_cov(-1e-4 * np.eye(10), 20)


def test_track2_refuses_a_non_integer_m(G_m):
    with pytest.raises(ValueError, match="m must be a positive integer"):
        track2_u_lln_cov(G_m, 20.5)


def test_theorem1_refuses_a_non_psd_unobserved_block():
    # Before: G_rest = -I gave rho = 0 and bounds (0, 0) without a word.
    with pytest.raises(ValueError, match="G_rest is not positive semi-definite"):
        theorem1_bounds(np.eye(3), -np.eye(3))


def test_psd_checks_accept_rank_deficient_grams(rng):
    # Bucket slices have m <= d: G_m is singular, PSD only up to round-off. It must still pass.
    X = unit_normalize(rng.standard_normal((5, 64)))
    G = gram_matrix(X)
    assert np.linalg.eigvalsh(G)[0] < 1e-12
    assert np.isfinite(track2_u_lln_cov(G, 5)) and track1_gamma_kf(G, 100, 5) >= 0
    assert np.isfinite(regularized_logdet(G, 1e-3))
    assert theorem1_bounds(G, G).rho > 0


# --- Log-determinants -----------------------------------------------------------------------


@pytest.mark.parametrize("f", [logdet, lambda A: regularized_logdet(A, 1e-3)], ids=["logdet", "regularized_logdet"])
def test_logdets_refuse_complex_input(f):
    # Before: the imaginary part was dropped (log det(diag(1+i, 1+i)) came out as 0).
    with pytest.raises(TypeError, match=r"A is complex \(dtype complex128\).*A.real"):
        f(np.eye(2) * (1 + 1j))


# --- Surface proxies ------------------------------------------------------------------------


@pytest.mark.parametrize("f, text", [(distinct_n, "abca"), (hashed_ngram_hhi, "aab")], ids=["distinct_n", "hhi"])
def test_surface_proxies_refuse_a_bare_string(f, text):
    # Before: the string was read as one response per character.
    with pytest.raises(TypeError, match=r"single str of length \d+ .*\[text\]"):
        f(text)
    with pytest.raises(TypeError, match="single str"):
        f(text, 1)


# --- RankMe ---------------------------------------------------------------------------------


def test_rankme_uses_min_N_d_singular_values_when_N_is_below_d(rng):
    # Garrido et al.: the min(N, d) singular values. Before, all d eigenvalues of the d x d Gram
    # entered, and the d - N structural zeros each added an eps term.
    Y = rng.standard_normal((10, 64))
    s = np.linalg.svd(Y, compute_uv=False)
    assert s.size == 10
    p = s / s.sum() + 1e-7
    assert rankme(Y) == pytest.approx(np.exp(-np.sum(p * np.log(p))), rel=1e-10)


def test_torch_gram_refuses_complex_chunks(X):
    torch = pytest.importorskip("torch")
    from sigma_lib.maths.gram import gram_matrix_torch

    with pytest.raises(TypeError, match="complex"):
        gram_matrix_torch([torch.from_numpy(X * (1 + 1j))], device="cpu")
