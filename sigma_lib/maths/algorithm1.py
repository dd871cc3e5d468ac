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
from .tracks import DEFAULT_EPS, gamma_kf_unchecked, tail_energy_budget, u_lln_cov_unchecked
from .validation import (
    as_embeddings,
    as_gram,
    as_index_set,
    check_block_sizes,
    check_eps,
    check_index_range,
)


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


def sigma_ub_unchecked(G_m: np.ndarray, N: int, m: int, eps: float) -> SigmaUB:
    """Both tracks of a Gram this library built from embeddings (PSD by construction): no checks."""
    return SigmaUB(
        U=u_lln_cov_unchecked(G_m, m, eps),
        gamma_kf=gamma_kf_unchecked(G_m, N - m, eps),
        N=int(N), m=int(m), d=int(G_m.shape[0]), eps=float(eps),
    )


def sigma_ub_from_gram(G_m, N: int, m: int, eps: float = DEFAULT_EPS) -> SigmaUB:
    """Both tracks from an observed Gram ``G_m`` of unit-norm embeddings (steps 4-5 of Algorithm 1).

    ``G_m`` must be real, symmetric and positive semi-definite, ``m <= N`` positive integers and
    ``eps > 0``; anything else raises ``ValueError`` (see :func:`sigma_lib.maths.tracks.track1_gamma_kf`).
    """
    eps = check_eps(eps)
    tail_energy_budget(N, m)
    return sigma_ub_unchecked(as_gram(G_m, "G_m"), int(N), int(m), eps)


def observed_grams(
    chunks: Iterable, index_sets: Sequence[np.ndarray], N: int | None = None
) -> tuple[list[np.ndarray], int]:
    """Observed Grams ``G_m`` of unit-normalised rows for several index sets, in one pass.

    Streams ``chunks`` of row embeddings (shape ``(n_i, d)``) once; memory is ``O(len(index_sets)
    d^2)`` whatever the total ``N``. Each index set must hold distinct, non-negative integer
    indices into the concatenated rows, sorted ascending (see
    :func:`sigma_lib.maths.validation.as_index_set`; a negative index is refused, never wrapped or
    skipped).

    Returns
    -------
    (grams, N_seen)
    """
    sets = [as_index_set(s, f"index set {i}", N, require_sorted=True) for i, s in enumerate(index_sets)]
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
    for i, s in enumerate(sets):
        check_index_range(s, start, f"index set {i}")
    return [0.5 * (G + G.T) for G in grams], start


def algorithm1(embeddings, observed, eps: float = DEFAULT_EPS, require_m_above_d: bool = True) -> SigmaUB:
    """Algorithm 1: one checkpoint's embeddings in, both Sigma-UB tracks out.

    Parameters
    ----------
    embeddings : array (N, d)
        All ``N`` response embeddings of the checkpoint, rows in the run's fixed order.
    observed : int array (m,)
        The run's fixed observed index set (see :func:`sigma_lib.maths.observed.select_observed_indices`):
        distinct integers in ``[0, N)``, in any order. Negative, out-of-range, duplicate or
        non-whole indices and boolean masks are refused (``ValueError`` / ``TypeError``), never
        wrapped, truncated or dropped.
    eps : float
        Ridge of (B.1), finite and ``> 0``, fixed across checkpoints.
    require_m_above_d : bool
        Enforce the paper's regime ``m > d`` (default). Bucket slices with fewer responses than
        dimensions may pass ``False``: the tracks stay finite through ``eps``.

    Returns
    -------
    SigmaUB
    """
    eps = check_eps(eps)
    X = as_embeddings(embeddings)
    N, d = X.shape
    observed = np.sort(as_index_set(observed, "observed"))
    check_block_sizes(N, observed.size, d, require_m_above_d)
    check_index_range(observed, N, "observed")
    (G_m,), _ = observed_grams([X], [observed], N)
    return sigma_ub_unchecked(G_m, N, observed.size, eps)
