"""The two Sigma-UB monitors (Sec. 3.4, App. B): Track I, Track II, and their drift (3.21).

Both take the observed Gram ``G_m`` of **unit-norm** embeddings, the observed block size ``m``
and the total count ``N``, and a ridge ``eps > 0`` fixed across generations (B.1).

The public functions check their inputs (``G_m`` real, symmetric and positive semi-definite up to
round-off; ``N``, ``m`` positive integers with ``m <= N``; ``eps`` finite and positive) and
refuse anything else with a ``ValueError``: a non-PSD ``G_m`` would give a negative
``Gamma_KF``, which cannot exist. The private ``gamma_kf_unchecked`` / ``u_lln_cov_unchecked`` skip the checks for
Grams this library built itself from embeddings (PSD by construction), so Algorithm 1 and the
monitor pay nothing for them.
"""
from __future__ import annotations

import numpy as np

from .logdet import shifted_logdet
from .validation import as_gram, check_count, check_eps, check_observed_size

#: Default ridge ``eps`` of (B.1). The paper's value was lost in extraction (choice): 1e-3 is
#: far below the typical eigenvalue of ``G_m`` for unit-norm embeddings (``~ m/d``) and far
#: above float64 round-off, so it only matters once the spectrum has collapsed.
DEFAULT_EPS = 1e-3


def tail_energy_budget(N: int, m: int) -> int:
    """Tail-energy budget ``B = N - m`` (3.17): with unit-norm columns ``rho <= tr G_{N-m} = B``.

    Raises ``ValueError`` unless ``N`` and ``m`` are positive integers with ``m <= N``.
    """
    N, m = check_observed_size(N, m)
    return N - m


def gamma_kf_unchecked(G_m: np.ndarray, B: int, eps: float) -> float:
    """(3.19) on a checked ``G_m``: ``log det(I + G_m/(B+eps)) = L_1(G_m / (B+eps))``."""
    return shifted_logdet(G_m / (B + eps), 1.0)


def u_lln_cov_unchecked(G_m: np.ndarray, m: int, eps: float) -> float:
    """(3.20) on a checked ``G_m``: ``L_eps(G_m) - d log m``."""
    return shifted_logdet(G_m, eps) - G_m.shape[0] * float(np.log(m))


def track1_gamma_kf(G_m, N: int, m: int, eps: float = DEFAULT_EPS) -> float:
    """Track I, the normalised deterministic envelope ``Gamma_KF`` (3.18), (3.19), (B.11), (B.12).

        Gamma_KF = log det(G_m + (B+eps) I) - d log(B+eps) = sum_i log(1 + lambda_i(G_m)/(B+eps))

    computed as ``log det(I + G_m/(B+eps))`` by Cholesky (B.19), which avoids cancelling two
    large numbers when ``B`` is large.

    Parameters
    ----------
    G_m : array (d, d)
        Observed Gram of unit-norm embeddings: real, symmetric, positive semi-definite.
    N, m : int
        Total number of embeddings and observed block size, positive integers with
        ``m <= N``; ``B = N - m``.
    eps : float
        Ridge of (B.1), finite and ``> 0``.

    Returns
    -------
    float, dimensionless, ``>= 0``.

    Raises
    ------
    ValueError
        If ``eps <= 0``, ``N`` or ``m`` is not a positive integer or ``m > N``, or ``G_m`` is not
        a symmetric PSD matrix (its eigenvalues would make (3.19) negative).
    """
    eps = check_eps(eps)
    B = tail_energy_budget(N, m)
    return gamma_kf_unchecked(as_gram(G_m, "G_m"), B, eps)


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
        Observed Gram of unit-norm embeddings: real, symmetric, positive semi-definite.
    m : int
        Observed block size, a positive integer.
    eps : float
        Ridge of (B.1), finite and ``> 0``.

    Returns
    -------
    float, nats.

    Raises
    ------
    ValueError
        If ``eps <= 0``, ``m`` is not a positive integer, or ``G_m`` is not a symmetric PSD
        matrix (a slightly indefinite one can still factor with the ridge, and give a
        meaningless ``U``).
    """
    eps = check_eps(eps)
    m = check_count(m, "m")
    return u_lln_cov_unchecked(as_gram(G_m, "G_m"), m, eps)


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
