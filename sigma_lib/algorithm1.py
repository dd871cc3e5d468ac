"""Algorithm 1 (Sec. 3.4.2): online Sigma-UB monitoring of one checkpoint.

Per checkpoint: unit-normalise the embeddings of the frozen prompt bank's responses, form the
observed Gram ``G_m`` in float64 on the run's fixed index set, factor ``G_m + eps I`` and
``G_m + (B+eps) I`` by Cholesky, and return Track II ``U`` (3.20) and Track I ``Gamma_KF``
(3.18). Cost ``O(m d^2 + d^3)``, memory ``O(d^2)``; no eigendecomposition.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from .gram import unit_normalize
from .tracks import DEFAULT_EPS, track1_gamma_kf, track2_u_lln_cov
from .validation import as_embeddings, check_block_sizes


@dataclass(frozen=True)
class SigmaUB:
    """Both Sigma-UB tracks of one checkpoint.

    Attributes
    ----------
    U : float
        Track II, ``U_LLN,cov`` (3.20), nats.
    gamma_kf : float
        Track I, ``Gamma_KF`` (3.18), dimensionless.
    N, m, d : int
        Embeddings, observed block size, dimension.
    eps : float
        Ridge of (B.1).
    """

    U: float
    gamma_kf: float
    N: int
    m: int
    d: int
    eps: float


def sigma_ub_from_gram(G_m, N: int, m: int, eps: float = DEFAULT_EPS) -> SigmaUB:
    """Both tracks from an observed Gram ``G_m`` of unit-norm embeddings (steps 4-5 of Algorithm 1)."""
    d = int(np.shape(G_m)[0])
    return SigmaUB(
        U=track2_u_lln_cov(G_m, m, eps),
        gamma_kf=track1_gamma_kf(G_m, N, m, eps),
        N=int(N), m=int(m), d=d, eps=float(eps),
    )


def observed_grams(
    chunks: Iterable, index_sets: Sequence[np.ndarray], N: int | None = None
) -> tuple[list[np.ndarray], int]:
    """Observed Grams ``G_m`` of unit-normalised rows for several index sets, in one pass.

    Streams ``chunks`` of row embeddings (shape ``(n_i, d)``) once; memory is ``O(len(index_sets)
    d^2)`` whatever the total ``N``. Each index set must be sorted and index the concatenated rows.

    Returns
    -------
    (grams, N_seen)
    """
    sets = [np.asarray(s, dtype=np.int64) for s in index_sets]
    for s in sets:
        if s.ndim != 1 or s.size == 0:
            raise ValueError("each index set must be a non-empty 1-D array of indices")
        if np.any(np.diff(s) <= 0):
            raise ValueError("each index set must be strictly increasing (sorted, distinct)")
    grams: list[np.ndarray | None] = [None] * len(sets)
    start = 0
    d = None
    for chunk in chunks:
        X = as_embeddings(chunk, "chunk")
        if d is None:
            d = X.shape[1]
            grams = [np.zeros((d, d)) for _ in sets]
        elif X.shape[1] != d:
            raise ValueError(f"chunk has embedding dimension {X.shape[1]}, but earlier chunks had {d}")
        stop = start + X.shape[0]
        for G, s in zip(grams, sets):
            lo, hi = np.searchsorted(s, [start, stop])
            if hi > lo:
                rows = unit_normalize(X[s[lo:hi] - start], "embeddings")
                G += rows.T @ rows
        start = stop
    if d is None:
        raise ValueError("no embeddings were given")
    if N is not None and start != N:
        raise ValueError(f"expected N={N} embeddings, the stream held {start}")
    for s in sets:
        if s[-1] >= start:
            raise ValueError(f"observed index {int(s[-1])} is out of range for N={start} embeddings")
    return [0.5 * (G + G.T) for G in grams], start


def algorithm1(embeddings, observed, eps: float = DEFAULT_EPS, require_m_above_d: bool = True) -> SigmaUB:
    """Algorithm 1: one checkpoint's embeddings in, both Sigma-UB tracks out.

    Parameters
    ----------
    embeddings : array (N, d)
        All ``N`` response embeddings of the checkpoint, rows in the run's fixed order.
    observed : int array (m,)
        The run's fixed observed index set (see :func:`sigma_lib.observed.select_observed_indices`).
    eps : float
        Ridge of (B.1), fixed across checkpoints.
    require_m_above_d : bool
        Enforce the paper's regime ``m > d`` (default). Bucket slices with fewer responses than
        dimensions may pass ``False``: the tracks stay finite through ``eps``.

    Returns
    -------
    SigmaUB
    """
    X = as_embeddings(embeddings)
    N, d = X.shape
    observed = np.sort(np.asarray(observed, dtype=np.int64))
    check_block_sizes(N, observed.size, d, require_m_above_d)
    (G_m,), _ = observed_grams([X], [observed], N)
    return sigma_ub_from_gram(G_m, N, observed.size, eps)
