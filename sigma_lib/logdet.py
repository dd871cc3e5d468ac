"""Log-determinants of PSD matrices: exact (2.2) and regularised (B.1), (B.19).

``L(G) = log det G = sum_i log lambda_i(G)`` (2.2) is the paper's primary metric.
``L_eps(A) = log det(A + eps I)`` (B.1) is the regularised version used by both Sigma-UB tracks,
computed from a Cholesky factor ``A + eps I = L L^T`` as ``2 sum_i log L_ii`` (B.19).
"""
from __future__ import annotations

import numpy as np

from .validation import as_square_symmetric

# Eigenvalues below this multiple of d * machine-eps * lambda_max count as zero.
_RANK_TOL_FACTOR = 10.0


def _cholesky_logdet(A: np.ndarray) -> float:
    """``2 sum log diag(chol(A))`` (B.19); raises ``numpy.linalg.LinAlgError`` if not PD."""
    L = np.linalg.cholesky(A)
    return float(2.0 * np.sum(np.log(np.diag(L))))


def regularized_logdet(A, eps: float) -> float:
    """Regularised log-determinant ``L_eps(A) = log det(A + eps I)`` by Cholesky, (B.1), (B.19).

    Parameters
    ----------
    A : array of shape (d, d)
        Symmetric positive semi-definite matrix (a Gram matrix).
    eps : float
        Ridge ``eps > 0``; the paper fixes it across generations.

    Returns
    -------
    float
        ``log det(A + eps I)`` in nats.

    Raises
    ------
    ValueError
        If ``eps <= 0``, ``A`` is not square, not symmetric, holds NaN/Inf, or is so far from
        PSD that ``A + eps I`` is not positive definite.
    """
    if not np.isfinite(eps) or eps <= 0:
        raise ValueError(f"eps must be a finite positive number, got {eps!r}")
    A = as_square_symmetric(A, "A")
    shifted = A + eps * np.eye(A.shape[0])
    try:
        return _cholesky_logdet(shifted)
    except np.linalg.LinAlgError:
        lam_min = float(np.linalg.eigvalsh(A)[0])
        raise ValueError(
            f"A is not positive semi-definite: its smallest eigenvalue is {lam_min:.3g}, "
            f"so A + eps I (eps={eps:g}) has no Cholesky factor"
        ) from None


def logdet(A) -> float:
    """Exact log-determinant ``log det A`` of a symmetric PSD matrix, (2.2).

    Parameters
    ----------
    A : array of shape (d, d)

    Returns
    -------
    float
        ``log det A`` in nats; ``-inf`` if ``A`` is singular (numerical rank below ``d``:
        an eigenvalue at most ``10 d eps_machine lambda_max``).

    Raises
    ------
    ValueError
        If ``A`` is not square, not symmetric, holds NaN/Inf, or has a clearly negative
        eigenvalue (not PSD).
    """
    A = as_square_symmetric(A, "A")
    d = A.shape[0]
    lam = np.linalg.eigvalsh(A)
    lam_max = max(float(lam[-1]), 0.0)
    tol = _RANK_TOL_FACTOR * d * np.finfo(np.float64).eps * lam_max
    if lam[0] < -tol:
        raise ValueError(
            f"A is not positive semi-definite: smallest eigenvalue {lam[0]:.3g} < 0 "
            f"(largest {lam_max:.3g})"
        )
    if lam_max == 0.0 or lam[0] <= tol:
        return float("-inf")
    try:
        return _cholesky_logdet(A)  # more accurate than summing eigenvalue logs
    except np.linalg.LinAlgError:
        return float(np.sum(np.log(lam)))
