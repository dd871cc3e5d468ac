"""Other collapse signals a user might watch instead of Sigma-UB, on the same embeddings.

Each signal's definition is stated exactly, since peer packages differ (cross-tested against
them in ``tests/test_peer_definitions.py``):

* **Vendi score** (Friedman & Dieng, 2023), order ``q = 1``, cosine kernel: rows unit-normalised,
  ``K = X X^T / N`` (``N x N``), ``VS = exp(-sum_i lambda_i log lambda_i)`` over the positive
  eigenvalues of ``K``. Computed through the ``d x d`` dual ``X^T X / N``, which has the same
  non-zero eigenvalues, in ``O(N d^2)`` instead of ``O(N^3)``. Identical (to round-off) to
  ``vendi_score.vendi.score_dual(X)`` and ``score_X(X)`` of the ``vendi-score`` package with
  their default ``normalize=True``.
* **RankMe** (Garrido et al., 2023, eq. 1): ``exp`` of the entropy of
  ``p_k = sigma_k / sum_j sigma_j + 1e-7`` over the ``min(N, d)`` singular values ``sigma_k``
  of the embedding matrix **as given: uncentred, rows not normalised** (Garrido et al.'s
  definition). ``rankme(X, centered=True)`` subtracts the column means first.
  *Not* the number ``reptrix.rankme.get_rankme`` returns: reptrix centres the features and then
  puts PCA's ``explained_variance_ratio_``, i.e. the **squared** singular values
  ``sigma_k^2 / sum sigma_j^2`` of the centred features (the covariance eigenvalues), into the
  same entropy (and keeps at most ``max_eigenvals = 2048`` of them). Squaring concentrates the
  distribution, so reptrix's value is usually much smaller; centring alone moves ours either way
  (it removes the mean direction). After the same centring, our value equals reptrix's entropy
  ``reptrix.rankme.get_rank`` applied to the centred singular values.
* Their noise: the spread over bootstrap resamples of the responses.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .gram import gram_matrix, unit_normalize
from .validation import as_embeddings


def vendi_score(embeddings) -> float:
    """Vendi score (order 1) of unit-normalised embeddings with the cosine kernel, via the ``d x d`` dual.

        VS = exp(-sum_i lambda_i log lambda_i),  lambda_i > 0 the eigenvalues of X^T X / N

    with the rows of ``X`` unit-normalised: the non-zero eigenvalues of the ``N x N`` kernel
    ``K = X X^T / N`` (Friedman & Dieng, 2023). Equals ``vendi_score.vendi.score_dual(X)``.

    Parameters
    ----------
    embeddings : array (N, d)
        Real, finite, no all-zero row.

    Returns
    -------
    float, between 1 (all responses identical in direction) and ``min(N, d)``.
    """
    X = unit_normalize(embeddings)
    lam = np.clip(np.linalg.eigvalsh(gram_matrix(X) / X.shape[0]), 0.0, None)
    lam = lam[lam > 0]
    return float(np.exp(-np.sum(lam * np.log(lam))))


def _singular_values(X: np.ndarray) -> np.ndarray:
    """The ``min(N, d)`` singular values of a float64 ``(N, d)`` matrix.

    ``N >= d``: square roots of the eigenvalues of the ``d x d`` Gram (as :func:`gram_matrix`;
    round-off below 0 clipped), ascending, ``O(N d^2)``. ``N < d``: ``numpy.linalg.svd``,
    ``O(N^2 d)``, which keeps structural zeros (centred rows) at round-off level.
    """
    if X.shape[0] < X.shape[1]:
        return np.linalg.svd(X, compute_uv=False)
    G = X.T @ X
    return np.sqrt(np.clip(np.linalg.eigvalsh(0.5 * (G + G.T)), 0.0, None))


def rankme(embeddings, eps: float = 1e-7, centered: bool = False) -> float:
    """RankMe effective rank (Garrido et al., 2023, eq. 1) of the embedding matrix.

        RankMe = exp(-sum_k p_k log p_k),  p_k = sigma_k / sum_j sigma_j + eps,  k = 1..min(N, d)

    with ``sigma_k`` the singular values of the ``(N, d)`` embedding matrix as given (not
    unit-normalised). Only the ``min(N, d)`` singular values of the definition enter: for
    ``N < d`` the ``d - N`` structural zeros are not counted (each would add ``eps`` terms).

    Parameters
    ----------
    embeddings : array (N, d)
        Real and finite.
    eps : float
        The ``1e-7`` of Garrido et al. (and of reptrix), added to every ``p_k``.
    centered : bool
        Subtract the column means first (``False``: Garrido et al.'s definition, the default).
        ``True`` matches reptrix's centring; reptrix then still differs, because it feeds the
        *squared* singular values (PCA's explained-variance ratios) to the entropy (see the
        module docstring).

    Returns
    -------
    float, between about 1 and ``min(N, d)``.

    Raises
    ------
    ValueError
        If every singular value is 0 (all-zero embeddings, or identical rows with
        ``centered=True``): the distribution ``p`` is undefined.
    """
    X = as_embeddings(embeddings).astype(np.float64, copy=False)
    if centered:
        X = X - X.mean(axis=0)
    s = _singular_values(X)
    if not s.sum() > 0:
        raise ValueError(
            "every singular value of the embeddings is 0 (all-zero rows, or identical rows with "
            "centered=True): RankMe is undefined"
        )
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


def frechet_distance(X, Y) -> float:
    """Fréchet distance between Gaussians fitted to two sets of embeddings (as in FID, Heusel et al. 2017):
    ``||mu_X - mu_Y||^2 + tr(S_X + S_Y - 2 (S_X S_Y)^{1/2})``, in squared embedding units.

    ``X`` ``(N, d)``, ``Y`` ``(M, d)``: rows are embeddings; covariances with ``ddof=1``. The trace of
    the matrix square root is computed as ``sum sqrt(eig(S_X^{1/2} S_Y S_X^{1/2}))``, a symmetric PSD
    form, so the result is real; it is 0 for identical sets and grows as the two laws part.
    """
    X = as_embeddings(X, "X", allow_float32=False)
    Y = as_embeddings(Y, "Y", allow_float32=False)
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"X and Y must have the same dimension, got {X.shape[1]} and {Y.shape[1]}")
    if min(X.shape[0], Y.shape[0]) < 2:
        raise ValueError("frechet_distance needs at least 2 rows in each set")
    mu = X.mean(axis=0) - Y.mean(axis=0)
    Sx, Sy = np.cov(X, rowvar=False), np.cov(Y, rowvar=False)
    w, V = np.linalg.eigh(Sx)
    root = (V * np.sqrt(np.clip(w, 0, None))) @ V.T
    cross = np.linalg.eigvalsh(root @ Sy @ root)
    value = float(mu @ mu + np.trace(Sx) + np.trace(Sy) - 2 * np.sqrt(np.clip(cross, 0, None)).sum())
    return max(value, 0.0)  # round-off can leave -1e-15 for identical sets
