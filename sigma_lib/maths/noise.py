"""Noise of the Sigma-UB tracks: spread over re-drawn observed index sets (bootstrap).

A drift ``Delta U(t)`` is only a signal if it is large next to how much ``U`` moves when a
different, equally valid observed block is drawn. We re-draw ``n_draws`` index sets of the same
size ``m`` (seeded), evaluate both tracks on each, and report the standard deviation; for a
drift, the same draws are applied to the checkpoint and to the baseline, so the spread is that
of the difference.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .algorithm1 import observed_grams, sigma_ub_unchecked
from .tracks import DEFAULT_EPS
from .validation import as_embeddings, check_block_sizes, check_eps


def bootstrap_index_sets(N: int, m: int, n_draws: int, seed: int) -> list[np.ndarray]:
    """``n_draws`` seeded, sorted index sets of size ``m`` out of ``range(N)``, each drawn anew.

    Draw ``b`` uses the ``b``-th child of ``numpy.random.SeedSequence(seed)``, so adding draws
    never changes the earlier ones.
    """
    check_block_sizes(N, m, d=1, require_m_above_d=False)
    if n_draws < 1:
        raise ValueError(f"n_draws must be at least 1, got {n_draws}")
    children = np.random.SeedSequence(seed).spawn(n_draws)
    return [np.sort(np.random.default_rng(c).choice(N, size=m, replace=False)) for c in children]


@dataclass(frozen=True)
class TrackDraws:
    """Track values over re-drawn index sets: arrays of shape ``(n_draws,)``."""

    U: np.ndarray
    gamma_kf: np.ndarray
    d: int = 0

    @property
    def sd_U(self) -> float:
        return float(np.std(self.U, ddof=1)) if self.U.size > 1 else 0.0

    @property
    def sd_gamma_kf(self) -> float:
        return float(np.std(self.gamma_kf, ddof=1)) if self.gamma_kf.size > 1 else 0.0

    def __sub__(self, other: "TrackDraws") -> "TrackDraws":
        return TrackDraws(self.U - other.U, self.gamma_kf - other.gamma_kf, self.d)

    def __getitem__(self, index) -> "TrackDraws":
        return TrackDraws(np.atleast_1d(self.U[index]), np.atleast_1d(self.gamma_kf[index]), self.d)


def tracks_over_index_sets(chunks, index_sets, N: int | None = None, eps: float = DEFAULT_EPS) -> TrackDraws:
    """Both tracks on each index set (one streaming pass over ``chunks``).

    Each index set holds distinct, non-negative integer row indices, sorted ascending (checked by
    :func:`sigma_lib.maths.algorithm1.observed_grams`); ``eps`` must be finite and ``> 0``.
    """
    eps = check_eps(eps)
    grams, n = observed_grams(chunks, index_sets, N)
    vals = [sigma_ub_unchecked(G, n, len(s), eps) for G, s in zip(grams, index_sets)]
    return TrackDraws(np.array([v.U for v in vals]), np.array([v.gamma_kf for v in vals]), grams[0].shape[0])


def index_set_bootstrap(embeddings, m: int, n_draws: int = 50, seed: int = 0, eps: float = DEFAULT_EPS) -> TrackDraws:
    """Track I and II over ``n_draws`` re-drawn observed index sets of size ``m``.

    Parameters
    ----------
    embeddings : array (N, d)
    m : int, observed block size, ``d < m <= N``
    n_draws : int
    seed : int
    eps : float

    Returns
    -------
    TrackDraws, whose ``sd_U`` and ``sd_gamma_kf`` are the noise of one checkpoint's values.
    """
    X = as_embeddings(embeddings)
    check_block_sizes(X.shape[0], m, X.shape[1])
    return tracks_over_index_sets([X], bootstrap_index_sets(X.shape[0], m, n_draws, seed), X.shape[0], eps)


def drift_noise(embeddings, baseline_embeddings, m: int, n_draws: int = 50, seed: int = 0,
                eps: float = DEFAULT_EPS) -> TrackDraws:
    """Drift ``(t) - (t0)`` of both tracks over re-drawn index sets (same draws for both).

    The two checkpoints must have the same ``N`` (the same frozen prompt bank and response count).
    Returns the per-draw drifts; their ``sd_U`` / ``sd_gamma_kf`` are the drift's noise.
    """
    X = as_embeddings(embeddings)
    X0 = as_embeddings(baseline_embeddings, "baseline_embeddings")
    if X.shape != X0.shape:
        raise ValueError(f"checkpoint and baseline embeddings differ in shape: {X.shape} vs {X0.shape}")
    return index_set_bootstrap(X, m, n_draws, seed, eps) - index_set_bootstrap(X0, m, n_draws, seed, eps)
