"""The two Sigma-UB monitors (Sec. 3.4, App. B): Track I, Track II, and their drift (3.21).

Both take the observed Gram ``G_m`` of **unit-norm** embeddings, the observed block size ``m``
and the total count ``N``, and a ridge ``eps > 0`` fixed across generations (B.1).
"""
from __future__ import annotations

import numpy as np

from .logdet import regularized_logdet
from .validation import as_square_symmetric

#: Default ridge ``eps`` of (B.1). The paper's value was lost in extraction (choice): 1e-3 is
#: far below the typical eigenvalue of ``G_m`` for unit-norm embeddings (``~ m/d``) and far
#: above float64 round-off, so it only matters once the spectrum has collapsed.
DEFAULT_EPS = 1e-3


def tail_energy_budget(N: int, m: int) -> int:
    """Tail-energy budget ``B = N - m`` (3.17): with unit-norm columns ``rho <= tr G_{N-m} = B``."""
    if not (0 < m <= N):
        raise ValueError(f"need 0 < m <= N, got m={m}, N={N}")
    return int(N - m)


def track1_gamma_kf(G_m, N: int, m: int, eps: float = DEFAULT_EPS) -> float:
    """Track I, the normalised deterministic envelope ``Gamma_KF`` (3.18), (3.19), (B.11), (B.12).

        Gamma_KF = log det(G_m + (B+eps) I) - d log(B+eps) = sum_i log(1 + lambda_i(G_m)/(B+eps))

    computed as ``log det(I + G_m/(B+eps))`` by Cholesky (B.19), which avoids cancelling two
    large numbers when ``B`` is large.

    Parameters
    ----------
    G_m : array (d, d)
        Observed Gram of unit-norm embeddings.
    N, m : int
        Total number of embeddings and observed block size; ``B = N - m``.
    eps : float
        Ridge of (B.1).

    Returns
    -------
    float, dimensionless, ``>= 0``.
    """
    G_m = as_square_symmetric(G_m, "G_m")
    scale = tail_energy_budget(N, m) + eps
    # log det(I + G_m/s) = L_1(G_m / s): the regularised log det with ridge 1.
    return regularized_logdet(G_m / scale, 1.0)


def track1_envelope(G_m, N: int, m: int, eps: float = DEFAULT_EPS) -> float:
    """The un-normalised Track I envelope ``log det(G_m + (B+eps) I)`` >= ``L_eps(G)`` (3.16), (3.17)."""
    d = np.shape(G_m)[0]
    return track1_gamma_kf(G_m, N, m, eps) + d * float(np.log(tail_energy_budget(N, m) + eps))


def track2_u_lln_cov(G_m, m: int, eps: float = DEFAULT_EPS) -> float:
    """Track II, the covariance-normalised LLN statistic ``U_LLN,cov`` (3.20), (B.17), (B.18).

        U = L_eps(G_m) - d log m = log det(G_m/m + (eps/m) I)

    ``U -> log det Sigma`` as ``m`` grows: size-invariant, the quantity to difference over
    checkpoints.

    Parameters
    ----------
    G_m : array (d, d)
        Observed Gram of unit-norm embeddings.
    m : int
        Observed block size.
    eps : float
        Ridge of (B.1).

    Returns
    -------
    float, nats.
    """
    G_m = as_square_symmetric(G_m, "G_m")
    if m <= 0:
        raise ValueError(f"m must be positive, got {m}")
    return regularized_logdet(G_m, eps) - G_m.shape[0] * float(np.log(m))


def drift(values, baseline: float | None = None) -> np.ndarray:
    """Drift against a baseline checkpoint (3.21), (B.16): ``value(t) - value(t0)``.

    Parameters
    ----------
    values : sequence of floats, one per checkpoint in order.
    baseline : float, optional
        ``value(t0)``; the first value when omitted (so the first drift is 0 by definition).
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError("values must be a non-empty 1-D sequence")
    return values - (values[0] if baseline is None else float(baseline))
