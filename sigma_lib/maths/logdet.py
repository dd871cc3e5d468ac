"""Log-determinants of PSD matrices: exact (2.2) and regularised (B.1), (B.19).

``L(G) = log det G = sum_i log lambda_i(G)`` (2.2) is the paper's primary metric.
``L_eps(A) = log det(A + eps I)`` (B.1) is the regularised version used by both Sigma-UB tracks,
computed from a Cholesky factor ``A + eps I = L L^T`` as ``2 sum_i log L_ii`` (B.19).
"""
from __future__ import annotations

import numpy as np

from .validation import as_gram, as_square_symmetric, check_eps

# Eigenvalues below this multiple of d * machine-eps * lambda_max count as zero.
_RANK_TOL_FACTOR = 10.0


def cholesky_logdet(A: np.ndarray) -> float:
    """``2 sum log diag(chol(A))`` (B.19); raises ``numpy.linalg.LinAlgError`` if not PD."""
    L = np.linalg.cholesky(A)
    return float(2.0 * np.sum(np.log(np.diag(L))))


def shifted_logdet(A: np.ndarray, eps: float) -> float:
    """``log det(A + eps I)`` (B.19) of an already-checked symmetric PSD ``A``: no validation."""
    try:
        return cholesky_logdet(A + eps * np.eye(A.shape[0]))
    except np.linalg.LinAlgError:
        lam_min = float(np.linalg.eigvalsh(A)[0])
        raise ValueError(
            f"A + eps I has no Cholesky factor (smallest eigenvalue of A {lam_min:.3g}, eps={eps:g}): "
            "eps is below the round-off of A; use a larger eps"
        ) from None


def regularized_logdet(A, eps: float) -> float:
    """Regularised log-determinant ``L_eps(A) = log det(A + eps I)`` by Cholesky, (B.1), (B.19).

    Parameters
    ----------
    A : array of shape (d, d)
        Real symmetric positive semi-definite matrix (a Gram matrix).
    eps : float
        Ridge ``eps > 0``; the paper fixes it across generations.

    Returns
    -------
    float
        ``log det(A + eps I)`` in nats.

    Raises
    ------
    TypeError
        If ``A`` is complex (the imaginary part is never dropped) or not numeric.
    ValueError
        If ``eps <= 0``, ``A`` is not square, not symmetric, holds NaN/Inf, or is not PSD up to
        round-off (see :func:`sigma_lib.maths.validation.check_psd`): ``L_eps`` of an indefinite
        matrix is not the log-volume of anything, even when ``A + eps I`` happens to factor.
    """
    eps = check_eps(eps)
    return shifted_logdet(as_gram(A, "A"), eps)


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
    TypeError
        If ``A`` is complex (the imaginary part is never dropped) or not numeric.
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
        return cholesky_logdet(A)  # more accurate than summing eigenvalue logs
    except np.linalg.LinAlgError:
        return float(np.sum(np.log(lam)))
