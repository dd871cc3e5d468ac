"""The observed block: a seeded index set of ``m`` of the ``N`` embeddings, fixed once per run.

The column split ``X = [X_m | X_{N-m}]`` (Sec. 3.1) and ``G = G_m + G_{N-m}`` (3.3).
Algorithm 1 fixes the observed index set once per run so that every checkpoint is measured on
the same response slots (prompt id, response number): this prevents measurement drift.
"""
from __future__ import annotations

import numpy as np

from .gram import gram_matrix
from .validation import as_embeddings, as_index_set, check_block_sizes


def select_observed_indices(N: int, m: int, seed: int) -> np.ndarray:
    """Seeded choice of ``m`` distinct indices out of ``range(N)``, sorted ascending.

    The same ``(N, m, seed)`` always gives the same set (numpy ``PCG64`` generator).

    Returns
    -------
    ndarray of shape (m,), dtype int64.
    """
    check_block_sizes(N, m, d=1, require_m_above_d=False)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(N, size=m, replace=False)).astype(np.int64)


def split_gram(X, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Observed and unobserved Gram blocks ``(G_m, G_{N-m})`` of row embeddings, (3.2), (3.3).

    Parameters
    ----------
    X : array of shape (N, d)
    observed : int array of distinct indices into the rows of X, in ``[0, N)``, any order

    Returns
    -------
    (G_m, G_rest) : two (d, d) float64 matrices with ``G_m + G_rest = G``.

    Raises
    ------
    ValueError
        If an index is negative (it is not wrapped to row ``N - 1``), ``>= N``, repeated or
        not a whole number; ``TypeError`` for a boolean mask.
    """
    X = as_embeddings(X)
    observed = as_index_set(observed, "observed", N=X.shape[0])
    mask = np.zeros(X.shape[0], dtype=bool)
    mask[observed] = True
    rest = X[~mask]
    G_rest = gram_matrix(rest) if rest.shape[0] else np.zeros((X.shape[1], X.shape[1]))
    return gram_matrix(X[mask]), G_rest
