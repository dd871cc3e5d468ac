"""Drift forecasts (DMD against persistence and linear extrapolation) and the paper's Track I gap (issue 14)."""
import numpy as np
import pytest

from sigma_lib.maths import forecast as fc
from sigma_lib.maths import track1_offset as t1
from sigma_lib.maths.tracks import track2_u_lln_cov
from sigma_lib.report import forecast as rf
from sigma_lib.report import run_report as rr


# -- DMD -------------------------------------------------------------------------------------------
def _linear_system(n=3, steps=6, seed=0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    A = Q @ np.diag([0.9, 0.7, -0.5][:n]) @ Q.T
    x = [rng.normal(size=n)]
    for _ in range(steps - 1):
        x.append(A @ x[-1])
    return A, np.array(x)


def test_dmd_recovers_a_known_linear_system_exactly():
    A, S = _linear_system()
    model = fc.dmd_fit(S)
    assert model.rank == 3
    np.testing.assert_allclose(model.operator, A, atol=1e-10)
    np.testing.assert_allclose(np.sort(model.eigenvalues.real), [-0.5, 0.7, 0.9], atol=1e-10)
    np.testing.assert_allclose(fc.dmd_forecast(S, 3), np.linalg.matrix_power(A, 3) @ S[-1], atol=1e-10)


def test_dmd_with_fewer_snapshots_than_dimensions_continues_a_geometric_spectrum():
    # a spectrum shrinking by the same factor every generation lies in a 1-D space: one pair suffices
    x0 = np.linspace(-1.0, -6.0, 50)
    S = np.array([x0, 0.97 * x0])
    np.testing.assert_allclose(fc.dmd_forecast(S, 4), 0.97 ** 5 * x0, rtol=1e-12)
    assert fc.dmd_fit(S).rank == 1


def test_dmd_refuses_bad_input():
    with pytest.raises(ValueError, match="at least 2 rows"):
        fc.dmd_fit(np.ones((1, 3)))
    with pytest.raises(ValueError, match="finite"):
        fc.dmd_fit(np.array([[1.0, np.nan], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="all zero"):
        fc.dmd_fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"rank must be an integer in \[1, 1\]"):
        fc.dmd_fit(np.array([[1.0, 2.0], [2.0, 4.0]]), rank=2)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        fc.dmd_forecast(np.eye(3), 0)


# -- baselines -------------------------------------------------------------------------------------
def test_persistence_and_linear_extrapolation_on_known_sequences():
    y = [0.0, -2.0, -5.0]
    assert fc.persistence_forecast(y, 1) == -5.0
    assert fc.persistence_forecast(y, 7) == -5.0
    assert fc.linear_forecast(y, 1) == -8.0
    assert fc.linear_forecast(y, 3) == -14.0
    assert fc.linear_forecast([1.0, 1.0], 5) == 1.0


@pytest.mark.parametrize("call, match", [
    (lambda: fc.persistence_forecast([], 1), "at least 1"),
    (lambda: fc.linear_forecast([1.0], 1), "at least 2"),
    (lambda: fc.linear_forecast([[1.0, 2.0]], 1), "1-D"),
    (lambda: fc.linear_forecast([1.0, np.inf], 1), "finite"),
    (lambda: fc.linear_forecast([1.0, 2.0], 1.5), "positive integer"),
    (lambda: fc.persistence_forecast([1.0], True), "positive integer"),
])
def test_baselines_refuse_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_log_spectrum_sums_to_track_ii():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 6))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    G = X.T @ X
    spec = fc.log_spectrum(G, 40, 1e-3)
    assert spec.shape == (6,) and np.all(np.diff(spec) <= 0)
    assert spec.sum() == pytest.approx(track2_u_lln_cov(G, 40, 1e-3), abs=1e-10)
    with pytest.raises(ValueError):
        fc.log_spectrum(-G, 40, 1e-3)


def test_forecast_drift_uses_the_past_only_and_names_every_method():
    rng = np.random.default_rng(2)
    spectra = np.cumsum(rng.normal(-0.1, 0.05, size=(5, 8)), axis=0)
    u = spectra.sum(axis=1)
    drift = u - u[0]
    out = fc.forecast_drift(drift[:3], spectra[:3], 2, u[0])
    assert set(out) == set(fc.METHODS)
    assert out["persistence"] == drift[2] and out["linear"] == pytest.approx(drift[2] + 2 * (drift[2] - drift[1]))
    assert out["dmd"] == pytest.approx(fc.dmd_forecast(spectra[:3], 2).sum() - u[0])
    assert fc.forecast_drift(drift[:1], spectra[:1], 1, u[0])["dmd"] is None
    with pytest.raises(ValueError, match="one row per drift value"):
        fc.forecast_drift(drift[:3], spectra[:2], 1, u[0])


def test_winners_split_ties():
    assert fc.winners({"a": 1.0, "b": -1.0, "c": 2.0}) == ["a", "b"]
    assert fc.winners({"a": None, "b": 3.0}) == ["b"]
    with pytest.raises(ValueError):
        fc.winners({"a": None})


# -- the backtest ----------------------------------------------------------------------------------
def _series(G=4, d=5, seed=3):
    rng = np.random.default_rng(seed)
    spectra = np.cumsum(rng.normal(-0.2, 0.1, size=(G + 1, d)), axis=0)
    u = spectra.sum(axis=1)
    return {"generation": np.arange(G + 1), "drift_U": u - u[0], "noise_U": np.full(G + 1, 0.5), "U": u,
            "spectra": spectra}


def test_backtest_rows_cover_every_origin_and_horizon_once():
    series = {"S1": _series(4), "S2": _series(2, seed=4)}
    rows = rf.backtest_rows("toy", series)
    s1 = [(r["origin"], r["horizon"]) for r in rows if r["setting"] == "S1"]
    assert sorted(s1) == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (3, 1)]
    assert [(r["origin"], r["horizon"]) for r in rows if r["setting"] == "S2"] == [(1, 1)]
    for r in rows:
        assert r["target"] == r["origin"] + r["horizon"] <= 4
        assert r["actual"] == series[r["setting"]]["drift_U"][r["target"]]
        for m in fc.METHODS:
            assert r[f"{m}_error"] == pytest.approx(abs(r[f"{m}_forecast"] - r["actual"]))
    # changing what happens after an origin changes no forecast made from it
    later = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in series["S1"].items()}
    later["drift_U"][3:] += 100.0
    later["spectra"][3:] += 1.0
    again = rf.backtest_rows("toy", {"S1": later})
    for a, b in zip([r for r in rows if r["setting"] == "S1"], again):
        if a["origin"] >= 3:
            continue
        for m in fc.METHODS:
            assert a[f"{m}_forecast"] == b[f"{m}_forecast"]
    with pytest.raises(ValueError, match="min_origin"):
        rf.backtest_rows("toy", series, min_origin=0)


def test_error_table_counts_forecasts_and_wins():
    rows = rf.backtest_rows("toy", {"S1": _series(4)})
    table = rf.error_table(rows)
    assert [r["horizon"] for r in table] == [1, 2, 3]
    assert [r["n_forecasts"] for r in table] == [3, 2, 1]
    for r in table:
        assert sum(r[f"{m}_wins"] for m in fc.METHODS) >= r["n_forecasts"]
        mine = [x for x in rows if x["horizon"] == r["horizon"]]
        assert r["dmd_mae"] == pytest.approx(np.mean([x["dmd_error"] for x in mine]))
        assert r["noise_2sd"] == pytest.approx(1.0)
    verdict = rf.dmd_verdict(table)
    assert verdict["groups"] == 3 and verdict["forecasts"] == 6


def test_backtest_on_the_committed_run_reads_the_spectra_its_table_was_measured_on():
    path = rr.committed_run("real-cpu")
    if path is None:
        pytest.skip("runs/real-cpu is not in this checkout")
    series = rf.run_series(path)  # raises if a log-spectrum does not sum to the table's U
    assert set(series) == {"S1", "S2", "repeat-real"}
    G = len(series["S1"]["generation"]) - 1
    rows = rf.backtest_rows("runs/real-cpu", series)
    assert len(rows) == 3 * G * (G - 1) // 2
    np.testing.assert_array_equal(series["S1"]["spectra"][0], series["S2"]["spectra"][0])


# -- the paper's Track I gap -----------------------------------------------------------------------
def test_the_track_i_gap_is_derived_from_the_papers_table():
    c4 = rr.paper_reported()["c4"]
    gap = t1.gap_constant(c4["generation"], c4["drift_U"], c4["drift_gamma"], from_generation=2)
    assert gap["constant"] == pytest.approx(8.935, abs=5e-4)
    assert gap["n_at_constant"] >= gap["n_generations"] - 2
    gaps = t1.track_gaps(c4["drift_U"], c4["drift_gamma"])
    assert gaps[0] == 0.0


def test_only_d_384_makes_the_gap_a_log_ratio_of_whole_counts():
    c4 = rr.paper_reported()["c4"]
    gaps = t1.track_gaps(c4["drift_U"], c4["drift_gamma"])
    found = t1.integer_counts(gaps, 384)
    assert found is not None and found["counts"][0] == found["n0"]
    assert max(found["counts"]) > found["n0"]
    # the recovered counts give back every printed gap to print precision
    np.testing.assert_allclose(384 * np.log(np.array(found["counts"]) / found["n0"]), gaps, atol=2e-6)
    for d in (512, 768, 1024):
        assert t1.integer_counts(gaps, d) is None


def test_integer_counts_finds_a_planted_count():
    counts = np.array([950, 1000, 990, 1000])
    gaps = np.round(100 * np.log(counts / 950), 6)
    found = t1.integer_counts(gaps, 100)
    # 1000/950 = 20/19 and 990/950 = 99/95: the smallest whole n_0 is 95
    assert found["n0"] == 95 and found["counts"] == [95, 100, 99, 100]
    assert t1.ratio_as_fraction(gaps[2], 100) == t1.Fraction(99, 95)


def test_fixed_size_normalisations_cancel_in_a_drift_and_the_count_one_reproduces_the_gap():
    rows = t1.candidate_gaps(384, 512, 1000, 1e-3, 977, 1000)
    fixed = [r for r in rows if "n_g" not in r["candidate"]]
    assert fixed and all(r["predicted_gap"] == 0.0 for r in fixed)
    count = [r for r in rows if "n_g" in r["candidate"]]
    assert count[0]["predicted_gap"] == pytest.approx(384 * np.log(1000 / 977))
    assert count[1]["predicted_gap"] == pytest.approx(2 * count[0]["predicted_gap"])
    with pytest.raises(ValueError, match="m must be <= N"):
        t1.candidate_gaps(384, 1001, 1000, 1e-3, 977, 1000)


def test_track_gaps_refuse_mismatched_series():
    with pytest.raises(ValueError, match="one value per generation"):
        t1.track_gaps([0.0, 1.0], [0.0])
    with pytest.raises(ValueError, match="finite"):
        t1.track_gaps([0.0, np.nan], [0.0, 1.0])


def test_dmd_eigenvalues_agree_with_pydmd_when_installed():
    pydmd = pytest.importorskip("pydmd")
    rng = np.random.default_rng(0)
    S = np.cumsum(rng.normal(size=(5, 30)), axis=0)
    ours = fc.dmd_fit(S)
    theirs = pydmd.DMD(svd_rank=ours.rank, exact=True)
    theirs.fit(S.T)
    np.testing.assert_allclose(np.sort_complex(ours.eigenvalues), np.sort_complex(theirs.eigs), atol=1e-8)


def _error_row(horizon, maes, noise, n=2, run="r", setting="S1"):
    """A row of error_table's shape with the given MAE per method (each method wins once per forecast it is best)."""
    best = min(maes, key=maes.get)
    return {"run": run, "setting": setting, "horizon": horizon, "n_forecasts": n,
            **{f"{m}_mae": maes[m] for m in fc.METHODS}, **{f"{m}_wins": n if m == best else 0 for m in fc.METHODS},
            "noise_2sd": noise, "best_mae": best}


def test_the_dmd_sentence_counts_groups_forecasts_and_gaps_beyond_noise():
    rows = [_error_row(1, {"persistence": 1.0, "linear": 3.0, "dmd": 2.0}, 0.5),
            _error_row(2, {"persistence": 1.0, "linear": 3.0, "dmd": 1.2}, 0.5),
            _error_row(3, {"persistence": 4.0, "linear": 3.0, "dmd": 1.0}, 0.1)]
    text = rf.dmd_sentence(rows)
    # DMD is worse than the best baseline beyond noise in group 1, within noise in group 2, better in group 3: a tie
    assert text.startswith("**Neither DMD nor the baselines is ahead beyond noise on these runs**: its MAE is above "
                           "the best baseline's by more than the targets' 2 sd index-set noise in 1 of the 3 groups")
    assert "below it by more than that in 1, and within that noise in 1, where these runs cannot tell" in text
    assert "DMD has the smallest MAE in 1 groups, persistence in 2, linear extrapolation in 0" in text
    assert "DMD beats persistence in 1 groups and linear extrapolation in 3" in text
    assert "Of the 6 single forecasts, DMD wins 2, persistence 4 and linear extrapolation 0" in text
    assert text.endswith("In 2 of the 3 groups the best MAE is smaller than the second best by more than the targets' "
                         "2 sd noise.")
    rows[2] = _error_row(3, {"persistence": 4.0, "linear": 3.0, "dmd": 2.95}, 0.1)  # within noise now
    assert rf.dmd_sentence(rows).startswith("**DMD does not beat the baselines on these runs**: its MAE is above the "
                                            "best baseline's by more than the targets' 2 sd index-set noise in 1 of "
                                            "the 3 groups (run, setting, horizon), below it by more than that in 0, "
                                            "and within that noise in 2")
    rows[0] = _error_row(1, {"persistence": 2.0, "linear": 3.0, "dmd": 1.0}, 0.5)
    assert rf.dmd_sentence(rows).startswith("**DMD beats the baselines beyond noise in more groups than they beat it**")


def test_the_late_origin_sentence_names_the_best_method_per_horizon_and_says_when_its_lead_is_noise():
    rows = [_error_row(1, {"persistence": 6.13, "linear": 10.1, "dmd": 7.561}, 5.7, n=15),
            _error_row(2, {"persistence": 9.0, "linear": 17.1, "dmd": 1.23}, 0.5, n=9)]
    text = rf.late_origin_sentence(rows)
    assert text.startswith(r"From origins $t \ge 2$ only")
    assert ("$k$ = 1: **persistence** (persistence 6.13, linear 10.1, dmd 7.56 nats; 15 forecasts; its lead over "
            "dmd, 1.43, is within the 2 sd noise, 5.7); $k$ = 2: **dmd** (persistence 9, linear 17.1, dmd 1.23 nats; "
            "9 forecasts; its lead over persistence, 7.77, is beyond the 2 sd noise, 0.5).") in text
    assert text.endswith("From these origins the best method's lead is beyond noise at $k$ = 2 and within it at the "
                         "other horizons.")
    rows[1] = _error_row(2, {"persistence": 9.0, "linear": 17.1, "dmd": 8.0}, 5.7, n=9)
    assert rf.late_origin_sentence(rows).endswith(
        "From these origins the best method's lead is within noise at every horizon: these forecasts do not tell "
        "the methods apart.")
