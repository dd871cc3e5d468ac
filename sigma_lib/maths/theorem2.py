"""Theorem 2, the stochastic scaling law (3.5), (3.6), and its plug-in estimator (3.13).

For i.i.d. columns with second-moment matrix ``Sigma``, ``G_k / k -> Sigma`` so
``log det G_k = d log k + log det Sigma + o(1)``. Hence ``log det G - d log N`` is
size-invariant for a healthy model, and ``log det G ~ log det G_m + d log(N/m)``.
"""
from __future__ import annotations

import numpy as np

from .validation import check_block_sizes, check_count


def plugin_estimate(logdet_Gm: float, N: int, m: int, d: int) -> float:
    """Plug-in estimator ``Lhat = log det G_m + d log(N/m)`` of ``log det G``, (3.13).

    Parameters
    ----------
    logdet_Gm : float
        ``log det G_m`` of the observed block, nats.
    N, m, d : int
        Total embeddings, observed block size, dimension: positive integers, ``d < m <= N``
        (the paper's regime; ``m <= d`` raises ``ValueError`` naming both).
    """
    check_block_sizes(N, m, d)
    N, m, d = int(N), int(m), int(d)
    return float(logdet_Gm + d * np.log(N / m))


def size_invariant_logdet(logdet_G: float, N: int, d: int) -> float:
    """``log det G - d log N``: the scaling law's size-invariant quantity (Theorem 2).

    Tends to ``log det Sigma`` as ``N`` grows.
    """
    N, d = check_count(N, "N"), check_count(d, "d")
    return float(logdet_G - d * np.log(N))
