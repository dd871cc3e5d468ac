import numpy as np
import pytest

from sigma_lib import distinct_n, hashed_ngram_hhi, least_squares_slope, run_summary, spearman
from sigma_lib.maths.surface import default_tokenize


def test_run_summary_table1():
    g = np.arange(6)
    s = run_summary(g, -2.0 * g, 0.5 * g - 1.0 * (g > 0))
    assert s.g_max == 5 and s.drift_U_final == -10.0
    assert s.slope_U == pytest.approx(-2.0)
    assert s.drift_gamma_final == pytest.approx(1.5)
    assert s.track_agreement is False
    s2 = run_summary(g, -g, -0.1 * g)
    assert s2.track_agreement is True and s2.slope_gamma == pytest.approx(-0.1)
    with pytest.raises(ValueError, match="same length"):
        run_summary(g, g[:-1], g)
    with pytest.raises(ValueError, match="two distinct"):
        least_squares_slope([1.0], [2.0])


def test_distinct_n_hand_worked():
    # "the cat sat" -> (the,cat),(cat,sat); "the cat ran" -> (the,cat),(cat,ran)
    # pooled: 4 bigrams, 3 distinct -> 0.75 (per-response averaging would give 1.0).
    assert distinct_n(["The cat sat", "the cat ran"], n=2) == pytest.approx(0.75)
    assert distinct_n(["a a a a"], n=1) == pytest.approx(0.25)
    assert default_tokenize("Hello, World!") == ["hello", ",", "world", "!"]


def test_hhi_hand_worked():
    # With no collisions possible to matter: 4 bigrams, counts {ab:2, bc:1, ca:1} -> 0.25+1/16+1/16
    texts = ["a b c a b"]
    assert hashed_ngram_hhi(texts, n=2, n_buckets=2**30) == pytest.approx(0.375)
    # One bucket: everything collides -> HHI = 1.
    assert hashed_ngram_hhi(texts, n=2, n_buckets=1) == pytest.approx(1.0)
    # Repetition raises concentration.
    assert hashed_ngram_hhi(["x y z w"] * 5, n=2) > hashed_ngram_hhi(["x y z w v u t s r q p o n m l k"], n=2)


def test_surface_errors():
    with pytest.raises(ValueError, match="no responses"):
        distinct_n([])
    with pytest.raises(ValueError, match="empty responses"):
        distinct_n(["", "one"], n=2)
    with pytest.raises(ValueError, match="empty responses"):
        hashed_ngram_hhi(["", ""], n=4)
    with pytest.raises(TypeError, match="expected str"):
        distinct_n(["ok", None])


def test_spearman():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        spearman([1, 2], [1, 2])
