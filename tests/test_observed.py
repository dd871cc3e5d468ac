import numpy as np
import pytest

from sigma_lib import gram_matrix, select_observed_indices, split_gram


def test_index_set_is_seeded_sorted_distinct():
    a = select_observed_indices(1000, 200, seed=7)
    b = select_observed_indices(1000, 200, seed=7)
    c = select_observed_indices(1000, 200, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert len(np.unique(a)) == 200 and np.all(np.diff(a) > 0) and a.max() < 1000


def test_split_gram_adds_up(rng):
    X = rng.standard_normal((300, 10))
    Gm, Gr = split_gram(X, select_observed_indices(300, 50, 0))
    np.testing.assert_allclose(Gm + Gr, gram_matrix(X), rtol=1e-12, atol=1e-10)


def test_bad_sizes():
    with pytest.raises(ValueError, match="exceeds"):
        select_observed_indices(10, 20, 0)
