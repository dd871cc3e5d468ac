"""Finite-sample bias correction of the Theorem 3 plug-in (the spec's **finding**).

Theorem 3's proof drops terms that are not negligible at the paper's sizes. For Gaussian
columns the Bartlett decomposition of the Wishart law gives exactly

    E[log det G_k] = log det Sigma + d log 2 + sum_{i=1..d} psi((k - i + 1)/2)

so the expected gap between the full and the observed log-determinant is

    D(N, m, d) = sum_{i=1..d} [ psi((N-i+1)/2) - psi((m-i+1)/2) ]                (finding)

with ``D - d log(N/m) ~ d(d+1)/2 (1/m - 1/N) > 0``: the naive plug-in (3.13) is biased low.
The corrected estimator is ``Lhat* = log det G_m + D(N, m, d)`` and, because ``G`` and
``G^{-1/2} G_m G^{-1/2}`` are independent for Wishart matrices, the variance of
``log det G - log det G_m`` is ``sum_i [psi'((m-i+1)/2) - psi'((N-i+1)/2)]``.
"""
from __future__ import annotations

import numpy as np
from scipy.special import digamma, polygamma

from .theorem3 import Interval, z_value
from .validation import check_block_sizes


def _half_dofs(k: int, d: int) -> np.ndarray:
    return (k - np.arange(1, d + 1) + 1) / 2.0


def wishart_digamma_sum(k: int, d: int) -> float:
    """``sum_{i=1..d} psi((k - i + 1)/2)``: the part of ``E[log det G_k]`` that depends on ``k``
    for Gaussian columns (Bartlett decomposition), requires ``k >= d``."""
    return float(np.sum(digamma(_half_dofs(k, d))))


def digamma_offset(N: int, m: int, d: int) -> float:
    """``D(N, m, d) = sum_{i=1..d} [psi((N-i+1)/2) - psi((m-i+1)/2)]``, nats (finding).

    Exact ``E[log det G - log det G_m]`` for Gaussian columns. Requires ``d < m <= N``.
    """
    check_block_sizes(N, m, d)
    return wishart_digamma_sum(N, d) - wishart_digamma_sum(m, d)


def digamma_offset_variance(N: int, m: int, d: int) -> float:
    """Gaussian variance of ``log det G - log det G_m``: ``sum_i [psi'((m-i+1)/2) - psi'((N-i+1)/2)]``.

    Leading order ``2 d (1/m - 1/N)``, i.e. Theorem 3's ``sigma_xi^2 (1/m - 1/N)`` with
    ``sigma_xi^2 = 2 d``.
    """
    check_block_sizes(N, m, d)
    return float(np.sum(polygamma(1, _half_dofs(m, d)) - polygamma(1, _half_dofs(N, d))))


def naive_bias(N: int, m: int, d: int) -> float:
    """Gaussian bias of the paper's plug-in: ``D(N, m, d) - d log(N/m)`` (> 0), nats."""
    return digamma_offset(N, m, d) - d * float(np.log(N / m))


def bias_corrected_estimate(logdet_Gm: float, N: int, m: int, d: int) -> float:
    """Bias-corrected estimator ``Lhat* = log det G_m + D(N, m, d)`` of ``log det G`` (finding)."""
    return float(logdet_Gm + digamma_offset(N, m, d))


def bias_corrected_interval(
    logdet_Gm: float, N: int, m: int, d: int, alpha: float = 0.05, sigma_xi: float | None = None
) -> Interval:
    """``1 - alpha`` interval ``Lhat* +- z sqrt(V)`` for ``log det G`` (finding).

    Parameters
    ----------
    logdet_Gm : float
        ``log det G_m``, nats.
    N, m, d : int
        Sizes, ``d < m <= N``.
    alpha : float
        Miscoverage level.
    sigma_xi : float, optional
        If given, the Gaussian variance ``V`` is rescaled by ``sigma_xi^2 / (2 d)``, the ratio of
        the observed to the Gaussian ``Var xi`` (choice: matches Theorem 3's leading order for
        non-Gaussian columns). If omitted, ``V`` is the exact Gaussian variance.
    """
    var = digamma_offset_variance(N, m, d)
    if sigma_xi is not None:
        if not sigma_xi > 0:
            raise ValueError(f"sigma_xi must be positive, got {sigma_xi!r}")
        var *= sigma_xi**2 / (2.0 * d)
    return Interval(bias_corrected_estimate(logdet_Gm, N, m, d), z_value(alpha) * float(np.sqrt(var)))
