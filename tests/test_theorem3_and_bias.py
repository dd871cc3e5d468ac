"""Theorems 2-3 and the bias-corrected estimator (the spec's finding), by Gaussian simulation."""
import numpy as np
import pytest
from scipy.special import digamma

from sigma_lib import (
    bias_corrected_estimate,
    bias_corrected_interval,
    digamma_offset,
    digamma_offset_variance,
    estimate_sigma_xi,
    logdet,
    naive_bias,
    plugin_estimate,
    required_block_size,
    size_invariant_logdet,
    standardized_error,
    theorem3_half_width,
    theorem3_interval,
)


def simulate(d, m, N, reps, seed):
    """log det G and log det G_m of `reps` Gaussian draws (Sigma = I)."""
    rng = np.random.default_rng(seed)
    out = np.empty((reps, 2))
    for r in range(reps):
        X = rng.standard_normal((N, d))
        Gm = X[:m].T @ X[:m]
        out[r] = logdet(Gm + X[m:].T @ X[m:]), logdet(Gm)
    return out


def test_plugin_and_scaling_law():
    assert plugin_estimate(10.0, 400, 100, 3) == pytest.approx(10.0 + 3 * np.log(4))
    # Theorem 2: log det G - d log N is flat in N (Gaussian, Sigma = I so the limit is 0).
    rng = np.random.default_rng(0)
    vals = [size_invariant_logdet(logdet(X.T @ X), len(X), 4)
            for X in (rng.standard_normal((n, 4)) for n in (10_000, 100_000))]
    assert vals == pytest.approx([0.0, 0.0], abs=0.06)


def test_digamma_offset_matches_its_asymptotics():
    d, m, N = 8, 20_000, 80_000
    assert digamma_offset(N, m, d) - d * np.log(N / m) == pytest.approx(d * (d + 1) / 2 * (1 / m - 1 / N), rel=1e-3)
    assert naive_bias(N, m, d) > 0
    assert digamma_offset_variance(N, m, d) == pytest.approx(2 * d * (1 / m - 1 / N), rel=1e-3)
    ref = sum(digamma((N - i + 1) / 2) - digamma((m - i + 1) / 2) for i in range(1, d + 1))
    assert digamma_offset(N, m, d) == pytest.approx(ref, rel=1e-12)


@pytest.mark.slow
def test_bias_corrected_is_unbiased_and_naive_is_not():
    """Issue 2: Gaussian d=64, m=256, N=4096: corrected unbiased within MC error, naive not."""
    d, m, N, reps = 64, 256, 4096, 300
    sims = simulate(d, m, N, reps, seed=11)
    err_naive = sims[:, 0] - np.array([plugin_estimate(g, N, m, d) for g in sims[:, 1]])
    err_corr = sims[:, 0] - np.array([bias_corrected_estimate(g, N, m, d) for g in sims[:, 1]])
    se = err_corr.std(ddof=1) / np.sqrt(reps)
    assert abs(err_corr.mean()) < 4 * se
    assert abs(err_naive.mean()) > 20 * se
    assert err_naive.mean() == pytest.approx(naive_bias(N, m, d), rel=0.05)
    # The exact Gaussian variance of the gap matches the simulation's.
    assert err_corr.var(ddof=1) == pytest.approx(digamma_offset_variance(N, m, d), rel=0.25)
    # Coverage: the paper's interval (with sigma_xi from the data) fails, the corrected one holds.
    rng = np.random.default_rng(5)
    X = rng.standard_normal((m, d))
    sxi = estimate_sigma_xi(X)
    cov_naive = np.mean([theorem3_interval(g, N, m, d, sxi).covers(L) for L, g in sims])
    cov_corr = np.mean([bias_corrected_interval(g, N, m, d).covers(L) for L, g in sims])
    assert cov_naive < 0.2
    assert 0.9 <= cov_corr <= 0.99


def test_standardized_error_is_standard_normal_when_d_is_small():
    """(3.10) holds where the bias is negligible (d small next to m)."""
    d, m, N = 3, 2000, 20_000
    sims = simulate(d, m, N, 300, seed=2)
    z = np.array([standardized_error(L, g, N, m, d, np.sqrt(2 * d)) for L, g in sims])
    assert abs(z.mean()) < 0.25
    assert z.std(ddof=1) == pytest.approx(1.0, abs=0.15)


def test_sigma_xi_estimate_is_sqrt_2d_for_gaussians():
    rng = np.random.default_rng(1)
    assert estimate_sigma_xi(rng.standard_normal((20_000, 16))) == pytest.approx(np.sqrt(32), rel=0.05)
    heavy = rng.standard_t(5, size=(20_000, 16))
    assert estimate_sigma_xi(heavy) > 1.3 * np.sqrt(32)


def test_sample_size_rule_is_the_inverse_of_the_half_width():
    sxi, eps = np.sqrt(2 * 384), 0.5
    m = required_block_size(sxi, eps)
    assert m == int(np.ceil((1.959963984540054 * sxi / eps) ** 2))
    assert theorem3_half_width(sxi, 10**12, m) <= eps < theorem3_half_width(sxi, 10**12, m - 1)


def test_errors():
    with pytest.raises(ValueError, match="exceed the embedding dimension"):
        digamma_offset(100, 8, 8)
    with pytest.raises(ValueError, match="exceed the embedding dimension"):
        estimate_sigma_xi(np.random.default_rng(0).standard_normal((4, 4)))
    with pytest.raises(ValueError, match="alpha"):
        theorem3_half_width(1.0, 100, 10, alpha=1.5)
    with pytest.raises(ValueError, match="half_width"):
        required_block_size(1.0, 0.0)
    with pytest.raises(ValueError, match="sigma_xi"):
        bias_corrected_interval(0.0, 100, 20, 4, sigma_xi=-1.0)


def test_in_sample_sigma_xi_is_biased_low_and_the_corrections_are_not():
    """Issue 14's first finding, reproduced: for Gaussian columns the in-sample variance of xi has
    expectation 2d (m-d)/(m+2) m/(m-1), not 2d; the rescaled estimate is unbiased; leave-one-out
    over-estimates."""
    from sigma_lib.maths.theorem3 import estimate_sigma_xi, in_sample_variance_factor

    rng = np.random.default_rng(7)
    d, m, reps = 16, 64, 300
    est = {k: [] for k in ("in-sample", "rescaled", "leave-one-out")}
    for _ in range(reps):
        X = rng.standard_normal((m, d))
        for k in est:
            est[k].append(estimate_sigma_xi(X, k) ** 2)
    mean = {k: np.mean(v) for k, v in est.items()}
    se = {k: np.std(v, ddof=1) / np.sqrt(reps) for k, v in est.items()}
    assert abs(mean["in-sample"] - 2 * d * in_sample_variance_factor(m, d)) < 4 * se["in-sample"]
    assert mean["in-sample"] < 0.8 * 2 * d
    assert abs(mean["rescaled"] - 2 * d) < 4 * se["rescaled"]
    assert mean["leave-one-out"] > 2 * d
    assert in_sample_variance_factor(512, 384) == pytest.approx(0.25, abs=0.005)
    with pytest.raises(ValueError, match="method must be one of"):
        estimate_sigma_xi(rng.standard_normal((m, d)), "jackknife")


@pytest.mark.parametrize("call", [lambda: plugin_estimate(10.0, 400, 3, 5),
                                  lambda: theorem3_interval(10.0, 400, 5, 5, 1.0)])
def test_the_plug_in_and_the_interval_refuse_m_at_or_below_d(call):
    with pytest.raises(ValueError, match=r"m=\d must exceed the embedding dimension d=5"):
        call()
