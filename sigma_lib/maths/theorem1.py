"""Theorem 1, the deterministic spectral bound (3.4), and its overestimation ratio (3.7), (3.8).

    det(G_m) <= det(G) <= prod_i ( lambda_i(G_m) + rho ),   rho = lambda_max(G_{N-m})     (3.4)

The lower half follows from ``G >= G_m`` in PSD order (Cauchy-Binet, (A.1)-(A.2)); the upper
half from Weyl's inequality ``lambda_i(A + B) <= lambda_i(A) + lambda_max(B)`` (A.3)-(A.4).
It holds for every matrix: no distributional assumption.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .logdet import logdet
from .validation import as_square_symmetric, check_psd


@dataclass(frozen=True)
class Theorem1Bounds:
    """Log-form Theorem 1 bounds (3.4), in nats.

    Attributes
    ----------
    lower : float
        ``log det G_m`` (``-inf`` when ``G_m`` is singular).
    upper : float
        ``sum_i log(lambda_i(G_m) + rho)``.
    rho : float
        ``lambda_max(G_{N-m})``, the unobserved block's spectral radius.
    """

    lower: float
    upper: float
    rho: float


def theorem1_bounds(G_m, G_rest) -> Theorem1Bounds:
    """Theorem 1 (3.4) in log form: ``log det G_m <= log det G <= sum_i log(lambda_i(G_m) + rho)``.

    Parameters
    ----------
    G_m : array (d, d)
        Observed Gram block: real, symmetric, positive semi-definite.
    G_rest : array (d, d)
        Unobserved Gram block ``G_{N-m}``, also a Gram (PSD); only its largest eigenvalue
        ``rho`` is used. Pass zeros when ``m = N``.

    Returns
    -------
    Theorem1Bounds

    Raises
    ------
    ValueError
        If either block is not square, not symmetric, holds NaN/Inf, is not PSD up to round-off
        (the bound needs ``G >= G_m``: an indefinite ``G_rest`` such as ``-I`` would silently give
        ``rho = 0``), or the two shapes differ.
    """
    G_m = as_square_symmetric(G_m, "G_m")
    G_rest = as_square_symmetric(G_rest, "G_rest")
    if G_m.shape != G_rest.shape:
        raise ValueError(f"G_m and G_rest must have the same shape, got {G_m.shape} and {G_rest.shape}")
    lam = np.linalg.eigvalsh(G_m)
    lam_rest = np.linalg.eigvalsh(G_rest)
    check_psd(G_m, "G_m", eigenvalues=lam)
    check_psd(G_rest, "G_rest", eigenvalues=lam_rest)
    lam = np.clip(lam, 0.0, None)
    rho = max(float(lam_rest[-1]), 0.0)
    with np.errstate(divide="ignore"):
        upper = float(np.sum(np.log(lam + rho)))
    return Theorem1Bounds(lower=logdet(G_m), upper=upper, rho=rho)


def overestimation_ratio_asymptotic(mu, r: float, log: bool = True) -> float:
    """Asymptotic overestimation ratio of Theorem 1's upper bound, (3.8).

    ``R -> prod_i ( r + (1 - r) mu_1 / mu_i )`` with ``r = m / N`` and ``mu_1 >= ... >= mu_d``
    the eigenvalues of ``Sigma``. ``R = 1`` for isotropic ``Sigma``; it grows with anisotropy.

    Parameters
    ----------
    mu : array (d,)
        Eigenvalues of the second-moment matrix ``Sigma``, all positive.
    r : float
        Observed fraction ``m / N`` in ``(0, 1]``.
    log : bool
        Return ``log R`` (default; ``R`` itself overflows quickly).
    """
    mu = np.asarray(mu, dtype=np.float64)
    if mu.ndim != 1 or mu.size == 0 or not np.all(np.isfinite(mu)) or np.any(mu <= 0):
        raise ValueError("mu must be a non-empty 1-D array of positive, finite eigenvalues")
    if not 0 < r <= 1:
        raise ValueError(f"r = m/N must lie in (0, 1], got {r!r}")
    log_R = float(np.sum(np.log(r + (1 - r) * mu.max() / mu)))
    return log_R if log else float(np.exp(log_R))


def overestimation_ratio_measured(bounds: Theorem1Bounds, logdet_G: float) -> float:
    """Measured ``log R = log[ prod_i(lambda_i(G_m) + rho) / det G ]`` (3.7), in nats."""
    return bounds.upper - logdet_G
