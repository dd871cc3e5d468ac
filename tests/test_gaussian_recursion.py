"""Recursive Gaussian fitting against its exact law, Sigma-UB on it, and the dose-response helpers
(the chapter "Sigma against known answers")."""
import numpy as np
import pytest
from scipy.special import digamma, polygamma

from sigma_lib.maths import gaussian_recursion as gr
from sigma_lib.maths import gaussian_recursion_law as law
from sigma_lib.maths import gaussian_recursion_sigma as gs
from sigma_lib.maths.bias_correction import wishart_digamma_sum
from sigma_lib.maths.gram import unit_normalize
from sigma_lib.maths.theorem3 import estimate_sigma_xi
from sigma_lib.maths.tracks import track1_gamma_kf, track2_u_lln_cov
from sigma_lib.report import dose_response as dr
from sigma_lib.report import known_answers as ka


# -- the exact law --------------------------------------------------------------------------------
def test_closed_form_of_one_step_is_the_digamma_sum():
    d, n = 4, 9
    assert law.replace_step_mean(d, n) == pytest.approx(sum(digamma((n - i) / 2) for i in range(1, d + 1))
                                                        + d * np.log(2 / n))
    assert law.replace_step_variance(d, n) == pytest.approx(sum(polygamma(1, (n - i) / 2) for i in range(1, d + 1)))
    mean, sd = law.replace_logdet_law(d, n, [0, 1, 7])
    np.testing.assert_allclose(mean, [0, law.replace_step_mean(d, n), 7 * law.replace_step_mean(d, n)])
    np.testing.assert_allclose(sd ** 2, [0, law.replace_step_variance(d, n), 7 * law.replace_step_variance(d, n)])


@pytest.mark.parametrize("d, n", [(3, 10), (5, 7)])
def test_closed_form_matches_a_large_simulation_drawing_the_points(d, n):
    """E and Var of log det Sigma_g - log det Sigma_0 under replace: g (K.1) and g (K.2), from drawn points."""
    G, R = 8, 4000
    paths = gr.simulate_recursion("replace", d, n, generations=G, replicates=R, seed=11, draw="samples")
    mean, sd = law.replace_logdet_law(d, n, np.arange(G + 1))
    sim = paths.logdet
    se = sim.std(axis=1, ddof=1) / np.sqrt(R)
    assert np.all(np.abs(sim.mean(axis=1)[1:] - mean[1:]) <= 4 * se[1:])
    # the sd of a sample sd is about sd / sqrt(2R): 5 of them
    np.testing.assert_allclose(sim.std(axis=1, ddof=1)[1:], sd[1:], rtol=5 / np.sqrt(2 * R))


def test_the_test_above_can_fail():
    """The same comparison against a wrong law (dividing by n - 1, the unbiased refit) fails."""
    d, n, G, R = 3, 10, 8, 4000
    paths = gr.simulate_recursion("replace", d, n, generations=G, replicates=R, seed=11)
    wrong = np.arange(G + 1) * (law.replace_step_mean(d, n) + d * np.log(n / (n - 1)))
    se = paths.logdet.std(axis=1, ddof=1) / np.sqrt(R)
    assert np.any(np.abs(paths.logdet.mean(axis=1)[1:] - wrong[1:]) > 4 * se[1:])


def test_sufficient_statistics_draw_the_same_law():
    d, n, G, R = 4, 12, 5, 6000
    exact, sd = law.replace_logdet_law(d, n, [G])
    for draw in gr.DRAWS:
        x = gr.simulate_recursion("replace", d, n, generations=G, replicates=R, seed=3, draw=draw).logdet[G]
        assert abs(x.mean() - exact[0]) <= 4 * x.std(ddof=1) / np.sqrt(R)
        assert x.std(ddof=1) == pytest.approx(sd[0], rel=5 / np.sqrt(2 * R))


@pytest.mark.parametrize("setting", ["replace", "accumulate", "alpha-0.3"])
def test_second_moments_match_their_exact_law(setting):
    """tr Sigma_g / d and |mu_g|^2 against (K.3)-(K.4) at early generations (light tails there)."""
    d, n, G, R = 3, 10, 4, 8000
    p = gr.simulate_recursion(setting, d, n, generations=G, replicates=R, seed=5)
    a, m2 = law.second_moment_law(setting, d, n, np.arange(G + 1))
    for sim, exact in ((p.trace_ratio, a), (p.mean_sq, m2)):
        se = sim.std(axis=1, ddof=1) / np.sqrt(R)
        assert np.all(np.abs(sim.mean(axis=1)[1:] - exact[1:]) <= 4.5 * se[1:]), (setting, sim.mean(axis=1), exact)


def test_accumulate_scale_tends_to_the_sine_product_and_the_mean_stays_bounded():
    n, d = 10, 3
    a, m2 = law.second_moment_law("accumulate", d, n, [5000])
    assert a[0] == pytest.approx(law.accumulate_scale_limit(n), rel=1e-4)
    assert m2[0] <= d / n * np.pi ** 2 / 6
    a_rep, m2_rep = law.second_moment_law("replace", d, n, [50])
    assert a_rep[0] == pytest.approx(0.9 ** 50) and m2_rep[0] == pytest.approx(d * (1 - 0.9 ** 50))


def test_wishart_offset_is_the_library_digamma_sum():
    assert law.wishart_logdet_offset(20, 5) == pytest.approx(5 * np.log(2) + wishart_digamma_sum(20, 5))


# -- numerics -------------------------------------------------------------------------------------
def test_d3_n10_stays_finite_and_accurate_to_generation_100():
    d, n, G, R = 3, 10, 100, 2000
    p = gr.simulate_recursion("replace", d, n, generations=G, replicates=R, seed=2)
    assert np.isfinite(p.logdet).all() and np.isfinite(p.mean_sq).all()
    exact, sd = law.replace_logdet_law(d, n, [G])
    assert p.logdet[G].max() < -50  # far below where det itself is still comfortable
    assert abs(p.logdet[G].mean() - exact[0]) <= 4 * sd[0] / np.sqrt(R)


def test_where_the_naive_refit_fails_the_carried_factor_does_not():
    naive = gr.naive_recursion(31, 32, generations=40, seed=0)
    assert np.isnan(naive).any()
    p = gr.simulate_recursion("replace", 31, 32, generations=40, replicates=50, seed=0)
    assert np.isfinite(p.logdet).all() and p.logdet[-1].max() < -1000


# -- Sigma on the process --------------------------------------------------------------------------
def test_batched_tracks_equal_the_library_ones():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 40, 5)) @ np.diag([1.0, 2.0, 0.5, 1.0, 3.0]) + 0.7
    U = gs.track2_batch(X, 1e-3)
    Xu = X / np.linalg.norm(X, axis=2, keepdims=True)
    gam = gs.track1_batch(Xu, 100, 1e-3)
    xi2 = gs.in_sample_xi_variance(X)
    for r in range(3):
        assert U[r] == pytest.approx(track2_u_lln_cov(X[r].T @ X[r], 40, 1e-3), rel=1e-10)
        Ur = unit_normalize(X[r])
        assert gam[r] == pytest.approx(track1_gamma_kf(Ur.T @ Ur, 100, 40, 1e-3), rel=1e-10)
        assert xi2[r] == pytest.approx(estimate_sigma_xi(X[r], "in-sample") ** 2, rel=1e-8)


def test_centred_track2_drift_finds_the_known_answer_and_the_uncentred_one_does_not():
    d, n, G, R = 3, 20, 6, 300
    p = gr.simulate_recursion("replace", d, n, generations=G, replicates=R, seed=4, keep_states=True)
    sp = gs.sigma_on_recursion(p, N=400, m=200, n_draws=4, seed=0)
    exact = law.replace_logdet_law(d, n, [G])[0][0]
    dUc, dU = sp.drift("U_centred")[G], sp.drift("U")[G]
    assert abs(dUc.mean() - exact) <= 4 * dUc.std(ddof=1) / np.sqrt(R)
    assert dU.mean() > exact + 4 * dU.std(ddof=1) / np.sqrt(R)  # the second moment falls more slowly
    np.testing.assert_allclose(sp.drift("logdet_second_moment") >= sp.drift("logdet_sigma") - 1e-9, True)
    cov = gs.drift_coverage(sp)
    assert all(v[0] == 1.0 for v in cov.values())
    assert cov["centred"][1:].mean() > 0.85


# -- validation -----------------------------------------------------------------------------------
@pytest.mark.parametrize("call, message", [
    (lambda: law.check_sizes(5, 5), "must exceed the dimension"),
    (lambda: law.replace_step_mean(0, 5), "d must be an integer"),
    (lambda: law.second_moment_law("accumulate-subsample", 2, 5, [1]), "no exact second-moment law"),
    (lambda: law.second_moment_law("replace", 2, 5, [-1]), "generations must be"),
    (lambda: law.alpha_of("alpha-1.5"), "strictly between 0 and 1"),
    (lambda: law.fresh_count(10, 0.01), "fresh points"),
    (lambda: law.wishart_logdet_offset(3, 5), "k >= d"),
    (lambda: gr.simulate_recursion("replicate", 2, 5, generations=2, replicates=2), "unknown setting"),
    (lambda: gr.simulate_recursion("replace", 2, 5, generations=0, replicates=2), "generations must be"),
    (lambda: gr.simulate_recursion("replace", 2, 5, generations=2, replicates=2, draw="exact"), "draw must be"),
    (lambda: gr.simulate_recursion("accumulate-subsample", 2, 5, generations=2, replicates=2, draw="sufficient"),
     "needs draw='samples'"),
    (lambda: gs.sigma_on_recursion(gr.simulate_recursion("replace", 2, 5, generations=2, replicates=2), N=20, m=10),
     "keep_states=True"),
    (lambda: gs.sigma_on_recursion(gr.simulate_recursion("replace", 4, 8, generations=1, replicates=2,
                                                         keep_states=True),
                                   N=20, m=4), "must exceed the embedding dimension"),
    (lambda: gs.sigma_on_recursion(gr.simulate_recursion("replace", 2, 5, generations=1, replicates=2,
                                                         keep_states=True),
                                   N=20, m=10, n_draws=1), "n_draws must be"),
    (lambda: dr.replacement_sources(np.random.default_rng(0), 1.0, np.array(["a", "b"]), mode="copies"),
     "in \\[0, 1\\)"),
    (lambda: dr.replacement_sources(np.random.default_rng(0), 0.5, np.array(["a", "b"]), mode="shuffle"),
     "mode must be"),
    (lambda: ka.known_answers_parameters("test", sigma_cells=[[3, 3]]), "must exceed the dimension"),
    (lambda: ka.known_answers_parameters("test", dose_qs=[0.1, 0.5]), "starting at 0"),
    (lambda: ka.known_answers_parameters("test", replicates=1), "replicates must be"),
    (lambda: ka.known_answers_parameters("test", colour="red"), "unknown parameter"),
])
def test_bad_inputs_fail_with_one_clear_line(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# -- the dose-response ----------------------------------------------------------------------------
def _toy_theta0(N=60, d=20, m=24, seed=0):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(200)]
    texts = [" ".join(rng.choice(words, 12)) for _ in range(2 * N)]
    emb = rng.standard_normal((2 * N, d))
    buckets = np.array(["A", "B", "C"] * (N // 3))
    prompts = np.repeat(np.arange(N // 3), 3).astype(str)
    from sigma_lib.maths.algorithm1 import algorithm1
    from sigma_lib.maths.observed import select_observed_indices

    U = algorithm1(emb[:N], select_observed_indices(N, m, 0), 1e-3).U
    return dr.Theta0(label="toy", texts=texts[:N], buckets=buckets, prompt_ids=prompts, embeddings=emb[:N],
                     reseed_texts=texts[N:], reseed_embeddings=emb[N:], m=m, seed=0, eps=1e-3, stored_U=U)


def test_replacement_sources_replace_the_asked_fraction_by_copies():
    rng = np.random.default_rng(1)
    buckets = np.array(["A", "B", "C", "D"] * 25)
    src = dr.replacement_sources(rng, 0.3, buckets, mode="copies")
    changed = np.flatnonzero(src != np.arange(100))
    assert changed.size <= 30 and not np.isin(src[changed], changed).any()  # copies of kept responses
    src = dr.replacement_sources(rng, 0.5, buckets, mode="one-bucket")
    assert len(set(buckets[src[src != np.arange(100)]])) == 1
    assert (dr.replacement_sources(rng, 0.0, buckets, mode="copies") == np.arange(100)).all()


def test_dose_response_falls_with_q_and_refuses_another_index_set():
    th = _toy_theta0()
    rows = dr.dose_response(th, [0.0, 0.3, 0.6], n_draws=3, seed=0)
    noise = {"toy": dr.evaluation_noise(th, n_splits=3, seed=0)}
    assert all(v > 0 and np.isfinite(v) for v in noise["toy"].values())
    summ = {(r["mode"], r["q"]): r for r in dr.dose_summary(rows, noise)}
    for mode in dr.MODES:
        assert summ[(mode, 0.0)]["drift_U"] == 0 and summ[(mode, 0.0)]["draws"] == 1
        assert summ[(mode, 0.6)]["distinct_2"] < summ[(mode, 0.3)]["distinct_2"] < 0
        assert summ[(mode, 0.6)]["drift_U"] < summ[(mode, 0.3)]["drift_U"] < 0
    det = dr.detection(list(summ.values()))
    assert {r["signal"] for r in det} == set(dr.SIGNALS)
    import dataclasses

    with pytest.raises(ValueError, match="not the run's observed index set"):
        dr.dose_response(dataclasses.replace(th, stored_U=th.stored_U + 1.0), [0.0, 0.3], n_draws=2)


@pytest.mark.parametrize("call, message", [
    (lambda: gs.track2_batch(np.ones((4, 5)), 1e-3), "stack of blocks"),
    (lambda: gs.track2_batch(np.ones((2, 4, 5)), 0.0), "finite positive"),
    (lambda: gs.track1_batch(np.ones((2, 4, 3)), 4, 1e-3), "must exceed the block size"),
    (lambda: gs.in_sample_xi_variance(np.ones((2, 3, 3))), "must exceed the dimension"),
])
def test_batched_tracks_refuse_bad_blocks(call, message):
    with pytest.raises(ValueError, match=message):
        call()
