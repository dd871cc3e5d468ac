import numpy as np
import pytest

from sigma_lib import SigmaMonitor, algorithm1, drift_noise, index_set_bootstrap


def checkpoints(seed=0, N=900, d=12, shrink=(1.0, 0.9, 0.5)):
    rng = np.random.default_rng(seed)
    for s in shrink:
        X = rng.standard_normal((N, d))
        X[:, d // 2 :] *= s
        yield X


def test_monitor_baseline_drift_and_noise():
    mon = SigmaMonitor(900, 300, seed=4, n_draws=30)
    recs = [mon.update(X, f"g{g}") for g, X in enumerate(checkpoints())]
    assert recs[0].drift_U == 0 and recs[0].noise_U == 0
    assert recs[0].sd_U > 0
    # The strong contraction is far outside its noise band; values match Algorithm 1 directly.
    assert recs[2].drift_U < -10 * recs[2].noise_U
    assert recs[2].drift_U < recs[1].drift_U
    X2 = list(checkpoints())[2]
    assert recs[2].U == pytest.approx(algorithm1(X2, mon.observed).U, rel=1e-12)
    assert [r["checkpoint"] for r in mon.table()] == ["g0", "g1", "g2"]


def test_monitor_chunks_equal_array():
    a = SigmaMonitor(900, 300, seed=1, n_draws=10)
    b = SigmaMonitor(900, 300, seed=1, n_draws=10)
    for X in checkpoints():
        ra = a.update(X)
        rb = b.update(iter(np.array_split(X, 7)))
        assert ra.U == pytest.approx(rb.U, rel=1e-12)
        assert ra.gamma_kf == pytest.approx(rb.gamma_kf, rel=1e-12)
        assert ra.noise_U == pytest.approx(rb.noise_U, rel=1e-9)


def test_monitor_errors():
    mon = SigmaMonitor(900, 300, seed=1, n_draws=5)
    with pytest.raises(ValueError, match="expected N=900"):
        mon.update(np.ones((800, 12)))
    mon.update(next(checkpoints()))
    with pytest.raises(ValueError, match="dimension"):
        mon.update(np.random.default_rng(0).standard_normal((900, 13)))
    with pytest.raises(ValueError, match="exceed the embedding dimension"):
        SigmaMonitor(900, 10, seed=1).update(next(checkpoints()))
    with pytest.raises(ValueError, match="eps"):
        SigmaMonitor(900, 300, eps=0.0)


def test_bootstrap_is_seeded_and_drift_noise_is_zero_for_identical_checkpoints():
    X = next(checkpoints())
    a = index_set_bootstrap(X, 300, n_draws=8, seed=3)
    b = index_set_bootstrap(X, 300, n_draws=8, seed=3)
    np.testing.assert_array_equal(a.U, b.U)
    assert a.sd_U > 0
    dn = drift_noise(X, X, 300, n_draws=8, seed=3)
    assert dn.sd_U == 0 and np.all(dn.U == 0)
    with pytest.raises(ValueError, match="differ in shape"):
        drift_noise(X, X[:-1], 300)
