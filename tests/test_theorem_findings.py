"""Issue 14, part 3: the theorem chapter's three findings, each checked against a Monte Carlo.

1. the in-sample sigma_xi estimate is biased low and its interval under-covers (predicted);
2. the moment-corrected offset matches non-Gaussian columns where the Gaussian D does not;
3. the paper's interval needs m >> d^3 (exact Wilks draws against the normal approximation).
"""
import numpy as np
import pytest
import scipy.stats

from sigma_lib.maths import simulation as sim
from sigma_lib.maths.bias_correction import (
    block_size_for_paper_coverage,
    digamma_offset,
    digamma_offset_variance,
    moment_corrected_interval,
    moment_corrected_offset,
    moment_corrected_variance,
    naive_bias,
    paper_interval_coverage,
    second_order_bias,
)
from sigma_lib.maths.logdet import logdet
from sigma_lib.maths.theorem3 import in_sample_coverage, sigma_xi2_estimates


def test_wilks_draws_match_the_digamma_moments_and_a_direct_simulation():
    rng = np.random.default_rng(3)
    d, m, N, reps = 6, 20, 80, 4000
    w = sim.wilks_logdet_gap(rng, N, m, d, reps)
    assert abs(w.mean() - digamma_offset(N, m, d)) < 4 * w.std(ddof=1) / np.sqrt(reps)
    assert w.var(ddof=1) == pytest.approx(digamma_offset_variance(N, m, d), rel=0.1)
    direct = []
    for _ in range(1500):
        X = rng.standard_normal((N, d))
        Gm = X[:m].T @ X[:m]
        direct.append(logdet(Gm + X[m:].T @ X[m:]) - logdet(Gm))
    assert scipy.stats.ks_2samp(w, direct).pvalue > 1e-3
    # A wrong Beta parameter (N instead of N - m) is detected by the same test.
    wrong = -np.log(rng.beta((m - np.arange(1, d + 1) + 1)[:, None] / 2, N / 2, size=(d, reps))).sum(axis=0)
    assert scipy.stats.ks_2samp(wrong, direct).pvalue < 1e-6


def test_bartlett_wishart_has_the_wishart_mean_and_logdet():
    rng = np.random.default_rng(4)
    d, dof, reps = 5, 12, 3000
    draws = [sim.wishart_draw(rng, dof, d) for _ in range(reps)]
    assert np.mean(draws, axis=0) == pytest.approx(dof * np.eye(d), abs=0.35)
    ld = np.array([logdet(A) for A in draws])
    exact = sim.gaussian_expected_logdet(dof, d)
    assert abs(ld.mean() - exact) < 4 * ld.std(ddof=1) / np.sqrt(reps)


def test_in_sample_interval_under_covers_as_predicted_and_rescaled_does_not():
    rows = sim.sigma_xi_estimator_study([(48, 96, 1024)], reps=300, seed=1)
    r = rows[0]
    se = np.sqrt(0.9 * 0.1 / 300)
    assert r["ratio_in_sample"] == pytest.approx(r["in_sample_factor"], rel=0.1)
    assert r["coverage_in_sample"] < 0.9  # predicted ~0.84 at d/m = 1/2
    assert abs(r["coverage_in_sample"] - r["coverage_in_sample_predicted"]) < 4 * se
    assert abs(r["coverage_rescaled"] - 0.95) < 0.05
    assert r["ratio_rescaled"] == pytest.approx(1.0, abs=0.1)
    assert in_sample_coverage(512, 384) == pytest.approx(2 * scipy.stats.norm.cdf(1.959964 * 0.5) - 1, abs=0.01)


def test_moment_corrected_offset_fits_unit_norm_columns_and_gaussian_d_does_not():
    """Unit-norm isotropic columns (sigma_xi = 0): the bias is (d^2 - d)/2 (1/m - 1/N) to second order."""
    d, m, N, reps = 16, 256, 2048, 300
    rng = np.random.default_rng(5)
    gaps = []
    for _ in range(reps):
        X = sim.draw_columns("unit_gaussian", rng, N, d)
        Gm = X[:m].T @ X[:m]
        gaps.append(logdet(Gm + X[m:].T @ X[m:]) - logdet(Gm))
    gaps = np.array(gaps)
    se = gaps.std(ddof=1) / np.sqrt(reps)
    assert abs(gaps.mean() - moment_corrected_offset(N, m, d, 0.0)) < 4 * se
    assert abs(gaps.mean() - digamma_offset(N, m, d)) > 10 * se
    # its variance is far below the Gaussian one, and the moment-corrected variance is close
    assert gaps.var(ddof=1) < 0.1 * digamma_offset_variance(N, m, d)
    assert gaps.var(ddof=1) == pytest.approx(moment_corrected_variance(N, m, d, 0.0), rel=0.4)


def test_moment_correction_reduces_to_the_gaussian_one():
    N, m, d = 4096, 512, 64
    assert moment_corrected_offset(N, m, d, 2 * d) == pytest.approx(digamma_offset(N, m, d), rel=1e-14)
    assert moment_corrected_variance(N, m, d, 2 * d) == pytest.approx(digamma_offset_variance(N, m, d), rel=1e-14)
    assert second_order_bias(80_000, 20_000, 8, 16) == pytest.approx(naive_bias(80_000, 20_000, 8), rel=1e-3)


def test_non_gaussian_study_student_t_and_population():
    rng = np.random.default_rng(0)
    pop = rng.standard_t(5, size=(600, 40))
    rows = sim.non_gaussian_bias_study([(8, 64, 512)], ("student_t", "population"), reps=150, seed=2, population=pop)
    t = rows[0]
    assert t["sigma_xi2_true"] == pytest.approx(64.0)
    # heavy tails: the Gaussian D is too small, the moment-corrected offset is right within MC error
    assert abs(t["bias_moment_true"] - t["bias_measured"]) < 4 * t["bias_measured_se"]
    assert t["bias_moment_true"] > t["bias_gaussian"]
    assert t["coverage_moment"] >= 0.8 and t["coverage_moment"] > t["coverage_gaussian"]
    p = rows[1]
    assert p["kind"] == "population" and np.isfinite(p["sigma_xi2_true"])
    assert abs(p["bias_moment_true"] - p["bias_measured"]) < 4 * p["bias_measured_se"]


def test_clt_study_agrees_with_its_normal_approximation_and_needs_m_above_d_cubed():
    rows = sim.clt_coverage_study(ds=(16, 64), ms=(1024, 65536), reps=2000, seed=0)
    for r in rows:
        assert abs(r["coverage"] - r["coverage_predicted"]) < 4 * max(r["coverage_se"], 0.005)
    by = {(r["d"], r["m"]): r for r in rows}
    assert by[(64, 1024)]["coverage"] < 0.05 < 0.85 < by[(16, 65536)]["coverage"]
    assert paper_interval_coverage(8 * 10**6, 10**6, 384) < 0.5
    m90 = block_size_for_paper_coverage(384, 0.9)
    assert m90 > 10**6
    assert paper_interval_coverage(8 * m90, m90, 384) >= 0.9 > paper_interval_coverage(8 * (m90 - 1), m90 - 1, 384)


def test_bad_inputs_are_refused_with_clear_messages():
    X = np.random.default_rng(0).standard_normal((32, 8))
    with pytest.raises(ValueError, match="sigma_xi2"):
        moment_corrected_offset(100, 32, 8, -1.0)
    with pytest.raises(TypeError, match="sigma_xi2"):
        moment_corrected_variance(100, 32, 8, "2")
    with pytest.raises(ValueError, match="exceeds the number of embeddings"):
        moment_corrected_interval(X, 16)
    with pytest.raises(ValueError, match="must exceed the embedding dimension"):
        moment_corrected_interval(X[:6], 100)
    with pytest.raises(ValueError, match="method must be one of"):
        moment_corrected_interval(X, 100, method="jackknife")
    with pytest.raises(ValueError, match="non-finite"):
        moment_corrected_interval(np.where(X > 2, np.nan, X), 100)
    with pytest.raises(ValueError, match="coverage must lie"):
        block_size_for_paper_coverage(16, 0.97)
    with pytest.raises(ValueError, match="d < m < N"):
        sim.wilks_logdet_gap(np.random.default_rng(0), 10, 10, 4, 5)
    with pytest.raises(ValueError, match="0 < d < m <= N"):
        sim.sigma_xi_estimator_study([(8, 8, 100)], reps=2)
    with pytest.raises(ValueError, match="needs the population"):
        sim.non_gaussian_bias_study([(4, 16, 64)], ("population",), reps=2)
    with pytest.raises(ValueError, match="methods must be"):
        sigma_xi2_estimates(X, "rescaled")


def test_moment_corrected_interval_covers_on_unit_norm_columns():
    rng = np.random.default_rng(9)
    d, m, N, reps = 8, 128, 1024, 200
    hits = 0
    for _ in range(reps):
        X = sim.draw_columns("unit_gaussian", rng, N, d, sim.anisotropic_spectrum(d, 10.0))
        hits += moment_corrected_interval(X[:m], N).covers(logdet(X.T @ X))
    assert hits / reps >= 0.9


def test_population_helpers():
    rng = np.random.default_rng(6)
    P = rng.standard_normal((500, 30)) @ rng.standard_normal((30, 30))
    Q = sim.principal_unit_columns(P, 8)
    assert Q.shape == (500, 8)
    assert np.linalg.norm(Q, axis=1) == pytest.approx(np.ones(500))
    # the mean of xi is exactly d for the empirical law; Var xi of Student-t (df = 10) columns is 3d
    T = rng.standard_t(10, size=(200_000, 4))
    assert sim.population_sigma_xi2(T) == pytest.approx(sim.student_t_sigma_xi2(4, 10), rel=0.08)
    assert sim.population_sigma_xi2(rng.standard_normal((200_000, 4))) == pytest.approx(8.0, rel=0.03)
    with pytest.raises(ValueError, match="df > 4"):
        sim.student_t_sigma_xi2(4, 4)
    with pytest.raises(ValueError, match="at least d=40 columns"):
        sim.principal_unit_columns(P, 40)
