"""Other collapse signals a user might watch instead of Sigma-UB, on the same embeddings.

* Vendi score (Friedman & Dieng, 2023) with the cosine kernel ``K = X X^T / N`` of unit-norm
  embeddings, computed through the ``d x d`` dual: the non-zero eigenvalues of ``K`` (``N x N``)
  are those of ``X^T X / N`` (``d x d``), so ``VS = exp(-sum_i lambda_i log lambda_i)`` costs
  ``O(N d^2)`` instead of ``O(N^3)``.
* RankMe (Garrido et al., 2023): ``exp`` of the entropy of the normalised singular values of the
  embedding matrix, an effective rank.
* Their noise: the spread over bootstrap resamples of the responses.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .gram import gram_matrix, unit_normalize
from .validation import as_embeddings


def vendi_score(embeddings) -> float:
    """Vendi score of unit-normalised embeddings with the cosine kernel, via the ``d x d`` dual.

    Between 1 (all responses identical in direction) and ``min(N, d)``.
    """
    X = unit_normalize(embeddings)
    lam = np.clip(np.linalg.eigvalsh(gram_matrix(X) / X.shape[0]), 0.0, None)
    lam = lam[lam > 0]
    return float(np.exp(-np.sum(lam * np.log(lam))))


def rankme(embeddings, eps: float = 1e-7) -> float:
    """RankMe effective rank: ``exp(-sum_k p_k log p_k)``, ``p_k = sigma_k / sum sigma + eps``.

    Singular values of the (unnormalised) embedding matrix, from the ``d x d`` Gram.
    """
    X = as_embeddings(embeddings).astype(np.float64, copy=False)
    s = np.sqrt(np.clip(np.linalg.eigvalsh(gram_matrix(X)), 0.0, None))
    p = s / s.sum() + eps
    return float(np.exp(-np.sum(p * np.log(p))))


def bootstrap_sd(items: Sequence, statistic: Callable, n_draws: int = 50, seed: int = 0) -> float:
    """Standard deviation of ``statistic`` over ``n_draws`` resamples (with replacement) of ``items``.

    ``items`` is an array (rows are resampled) or a list (elements are).
    """
    rng = np.random.default_rng(seed)
    n = len(items)
    vals = []
    for _ in range(n_draws):
        idx = rng.integers(0, n, size=n)
        sample = items[idx] if isinstance(items, np.ndarray) else [items[i] for i in idx]
        vals.append(statistic(sample))
    return float(np.std(vals, ddof=1))


def first_exit(generations: Sequence[int], values: Sequence[float], band: float, direction: int = -1) -> int | None:
    """First generation whose change from generation 0 exceeds ``band`` in ``direction``.

    ``direction = -1`` flags a fall (diversity signals), ``+1`` a rise (NLL, HHI). ``None`` if the
    signal never leaves its band.
    """
    values = np.asarray(values, dtype=np.float64)
    change = (values - values[0]) * direction
    for g, c in zip(generations, change):
        if g > 0 and c > band:
            return int(g)
    return None
