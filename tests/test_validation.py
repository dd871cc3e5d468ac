"""Input checks of sigma_lib.maths.validation: each refusal names the input and what was wrong."""
import numpy as np
import pytest

from sigma_lib.maths import validation as v


def test_as_embeddings_keeps_float32_and_refuses_bad_arrays():
    X = np.ones((4, 3), dtype=np.float32)
    assert v.as_embeddings(X).dtype == np.float32
    assert v.as_embeddings(X, allow_float32=False).dtype == np.float64
    assert v.as_embeddings([[1, 2], [3, 4]]).dtype == np.float64
    with pytest.raises(ValueError, match="2-D"):
        v.as_embeddings(np.ones(3))
    with pytest.raises(ValueError, match="empty"):
        v.as_embeddings(np.ones((0, 3)))
    with pytest.raises(TypeError, match="complex"):
        v.as_embeddings(np.ones((2, 2), dtype=complex))
    with pytest.raises(TypeError, match="numeric"):
        v.as_embeddings(np.ones((2, 2), dtype=bool))
    bad = np.ones((3, 2))
    bad[1, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        v.as_embeddings(bad, name="my_embeddings")


def test_counts_and_ridge():
    assert v.check_count(100.0, "N") == 100
    for bad in (100.5, 0, -1, float("nan")):
        with pytest.raises(ValueError, match="N must be a positive integer"):
            v.check_count(bad, "N")
    with pytest.raises(TypeError):
        v.check_count(True, "N")
    assert v.check_eps(1e-3) == 1e-3
    for bad in (0.0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="eps must be a finite positive"):
            v.check_eps(bad)
    assert v.check_observed_size(10, 4) == (10, 4)
    with pytest.raises(ValueError, match="m=11 exceeds the number of embeddings N=10"):
        v.check_observed_size(10, 11)


def test_psd_and_symmetry_checks_name_the_matrix():
    A = np.array([[2.0, 0.0], [0.0, 1.0]])
    assert np.array_equal(v.as_square_symmetric(A), A)
    with pytest.raises(ValueError, match="G_m"):
        v.as_gram(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="G_m"):
        v.as_gram(np.array([[1.0, 0.0], [0.0, -1.0]]))
