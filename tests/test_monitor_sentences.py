"""The monitor chapter's findings in words (sigma_lib.report.monitor_sentences), on small tables."""
from types import SimpleNamespace

import numpy as np
import pytest

from sigma_lib.apps import cli
from sigma_lib.maths.monitor import SigmaMonitor
from sigma_lib.maths.tracks import track2_u_lln_cov
from sigma_lib.report import monitor_sentences as ms


def _scores(drifts=(-47.7, -64.4), noises=(3.46, 3.12), N=540, m=448):
    rows = [{"checkpoint": "ex/g0.jsonl", "N": N, "m": m, "d": 384, "drift_U": 0.0, "noise_U": 0.0}]
    for name, dU, sd in zip(("S1-last.jsonl", "S2-last.jsonl"), drifts, noises):
        rows.append({"checkpoint": f"ex/{name}", "N": N, "m": m, "d": 384, "drift_U": dU, "noise_U": sd})
    return rows


def test_the_gaussian_offset_of_track_two_is_the_exact_mean_of_u():
    rng = np.random.default_rng(0)
    d, m, reps = 4, 10, 20000
    U = np.array([track2_u_lln_cov(X.T @ X, m, eps=1e-12) for X in rng.standard_normal((reps, m, d))])
    assert U.mean() == pytest.approx(ms.track2_gaussian_offset(d, m), abs=4 * U.std() / np.sqrt(reps))
    assert ms.track2_gaussian_offset(384, 512) == pytest.approx(-207.25, abs=0.01)  # the theorem chapter's size
    with pytest.raises(ValueError, match="m > d"):
        ms.track2_gaussian_offset(384, 384)


def test_the_size_correction_sentence_says_what_dividing_by_m_does_not_remove():
    text = ms.size_correction_sentence(384, 448)
    assert "size-corrected" not in text  # the old wording hid the bias
    assert ("removes the growth of $\\log\\det G_m$ with the block size ($d\\log m$) but not its finite-sample "
            "bias") in text
    assert "$d$ = 384 and $m$ = 448, $U$ lies, on average, **260 nats below** $\\log\\det\\Sigma$" in text
    assert "part of it can remain in the drift ({ref}`sec-drift-bias`" in text


def test_the_drift_band_sentence_says_the_band_is_index_set_noise_only():
    text = ms.drift_band_sentence(_scores())
    assert "contraction, not chance" not in text  # the old over-claim
    assert "Here $|\\Delta U|$ is 14 times that sd for S1-last.jsonl and 21 times that sd for S2-last.jsonl" in text
    assert "(beyond twice the band for S1-last.jsonl, S2-last.jsonl)" in text
    assert "covers index-set noise only" in text and "{doc}`known_answers`" in text and "{doc}`replicates`" in text
    assert "this page cannot tell" in text
    small = ms.drift_band_sentence(_scores(drifts=(-5.0, -64.4)))
    assert "(beyond twice the band for S2-last.jsonl; within it for S1-last.jsonl)" in small
    assert "nothing to judge" in ms.drift_band_sentence(_scores()[:1])


def test_the_index_sets_sentence_checks_the_run_parameters_and_the_stored_drifts():
    stored = {"S1": ((0, 0.0, 0.0), (5, -47.7000066, 3.46)), "S2": ((0, 0.0, 0.0), (5, -64.4, 3.12))}
    run_rows = [{"setting": s, "generation": g, "N": 540, "drift_U": dU, "noise_U": sd}
                for s, rows in stored.items() for g, dU, sd in rows]
    config = {"seed": 0, "index_seed": None, "m": 448, "n_draws": 50}
    kw = dict(settings={"S1-last.jsonl": "S1", "S2-last.jsonl": "S2"}, run_name="runs/real-cpu/")
    same = ms.run_index_sets_sentence(_scores(), run_rows, config, seed=0, n_draws=50, **kw)
    assert same.startswith("These index sets are the run's")
    assert "($N$ = 540, $m$ = 448, re-drawn sets = 50, index-set seed = 0)" in same
    assert "(S1 at generation 5, S2 at generation 5): they agree with the run's stored table to 0.0000066 nats." in same
    other = ms.run_index_sets_sentence(_scores(), run_rows, {**config, "index_seed": 3}, seed=0, n_draws=50, **kw)
    assert other.startswith("These index sets are not the run's: index-set seed differs from `runs/real-cpu/`'s "
                            "(index-set seed 0 here, 3 there)")


def test_sigma_score_draws_the_index_sets_of_a_run_with_the_same_parameters():
    # what run_index_sets_sentence relies on: the command line and Algorithm 1 (SigmaMonitor) agree
    N, m, seed, n_draws = 540, 448, 0, 5
    ours = cli._index_sets(N, SimpleNamespace(m=m, seed=seed, n_draws=n_draws))
    monitor = SigmaMonitor(N, m, seed=seed, n_draws=n_draws)
    theirs = [monitor.observed, *monitor._draw_sets]
    assert len(ours) == len(theirs) and all(np.array_equal(a, b) for a, b in zip(ours, theirs))
