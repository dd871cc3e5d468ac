import numpy as np
import pytest

from sigma_lib import GramAccumulator, accumulate_gram, gram_matrix, gram_matrix_torch, unit_normalize


def test_streaming_equals_batch(rng):
    X = rng.standard_normal((1000, 16))
    G, n = accumulate_gram(np.array_split(X, 7))
    assert n == 1000
    np.testing.assert_allclose(G, gram_matrix(X), rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(G, X.T @ X, rtol=1e-12, atol=1e-10)


def test_float32_is_accumulated_in_float64(rng):
    # Large offsets make float32 accumulation lose digits; float64 accumulation must not.
    X32 = (rng.standard_normal((20000, 8)) + 100.0).astype(np.float32)
    exact = X32.astype(np.float64).T @ X32.astype(np.float64)
    G, _ = accumulate_gram(np.array_split(X32, 10))
    assert G.dtype == np.float64
    np.testing.assert_allclose(G, exact, rtol=1e-13)
    naive32 = (X32.T @ X32).astype(np.float64)  # what float32 accumulation would give
    assert np.max(np.abs(naive32 - exact) / exact) > 1e-8


def test_unit_normalize(rng):
    X = rng.standard_normal((10, 5)) * 7
    np.testing.assert_allclose(np.linalg.norm(unit_normalize(X), axis=1), 1.0)


def test_normalizing_accumulator(rng):
    X = rng.standard_normal((100, 6)) * rng.uniform(0.1, 10, size=(100, 1))
    acc = GramAccumulator(normalize=True)
    for c in np.array_split(X, 3):
        acc.add(c)
    np.testing.assert_allclose(np.trace(acc.G), 100.0)


def test_errors(rng):
    with pytest.raises(ValueError, match="all-zero"):
        unit_normalize(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        gram_matrix(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="dimension"):
        accumulate_gram([rng.standard_normal((3, 4)), rng.standard_normal((3, 5))])
    with pytest.raises(ValueError, match="no embeddings"):
        accumulate_gram([])
    with pytest.raises(ValueError, match="2-D"):
        gram_matrix(np.ones(3))
    with pytest.raises(ValueError, match="empty"):
        gram_matrix(np.ones((0, 3)))


def test_torch_path_matches_numpy(rng):
    pytest.importorskip("torch")
    X = rng.standard_normal((500, 12)).astype(np.float32)
    G, n = gram_matrix_torch(np.array_split(X, 4), device="cpu")
    assert n == 500
    np.testing.assert_allclose(G, gram_matrix(X), rtol=1e-12)
    with pytest.raises(ValueError, match="non-finite"):
        gram_matrix_torch([np.full((2, 2), np.nan)], device="cpu")
