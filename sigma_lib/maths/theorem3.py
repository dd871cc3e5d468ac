"""Theorem 3, the stochastic error term (3.9)-(3.14), and the sample-size rule.

(3.9)  ``xi = x^T Sigma^{-1} x``, ``E xi = d``, ``sigma_xi^2 = Var xi`` (Gaussian: ``2 d``).
(3.10) ``(log det G - log det G_m - d log(N/m)) / (sigma_xi sqrt(1/m - 1/N)) -> N(0, 1)``.
(3.11) 95 % (or ``1 - alpha``) interval for ``log det G`` around the plug-in (3.13).
(3.14) Rule of thumb: choose ``m >= (z sigma_xi / eps)^2`` for half-width ``eps``.

**Finding** (see :mod:`sigma_lib.maths.bias_correction`): at the paper's sizes the plug-in is biased
by ``~ d(d+1)/2 (1/m - 1/N)`` and this interval almost never covers the truth.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.stats

from .theorem2 import plugin_estimate
from .validation import as_embeddings, check_block_sizes, check_observed_size


@dataclass(frozen=True)
class Interval:
    """A confidence interval ``center +- half_width`` for ``log det G`` (nats)."""

    center: float
    half_width: float

    @property
    def low(self) -> float:
        return self.center - self.half_width

    @property
    def high(self) -> float:
        return self.center + self.half_width

    def covers(self, value: float) -> bool:
        return bool(self.low <= value <= self.high)


def mahalanobis_xi(X_m) -> np.ndarray:
    """Squared Mahalanobis norms ``xi_j = x_j^T (G_m/m)^{-1} x_j`` of the observed block, (3.9).

    ``Sigma`` is unknown, so the observed block's own second moment ``G_m / m`` stands in
    (choice, see the spec). Their mean is exactly ``d``.

    Parameters
    ----------
    X_m : array (m, d), the observed embeddings, ``m > d``.

    Returns
    -------
    ndarray (m,)
    """
    X_m = as_embeddings(X_m, "X_m").astype(np.float64, copy=False)
    m, d = X_m.shape
    check_block_sizes(m, m, d)
    S = X_m.T @ X_m / m
    Y = np.linalg.solve(S, X_m.T)  # (d, m)
    return np.einsum("ij,ji->i", X_m, Y)


SIGMA_XI_METHODS = ("in-sample", "rescaled", "leave-one-out")


def in_sample_variance_factor(m: int, d: int) -> float:
    """``E[sigma_hat^2] / sigma_xi^2`` of the in-sample estimate for Gaussian columns *(finding)*.

    With ``xi_j`` computed from the observed block itself, ``E[sigma_hat^2] = 2d (m-d)/(m+2) m/(m-1)``
    against the true ``sigma_xi^2 = 2d``: the factor ``(m-d) m / ((m+2)(m-1))``, 0.25 at d = 384,
    m = 512 (checked by simulation in the tests).
    """
    if not m > d >= 1:
        raise ValueError(f"need m > d >= 1, got m={m}, d={d}")
    return (m - d) * m / ((m + 2) * (m - 1))


def estimate_sigma_xi(X_m, method: str = "in-sample") -> float:
    """Estimate ``sigma_xi = sd(xi)`` (3.9) from the observed block ``X_m`` (m, d).

    Methods:

    * ``"in-sample"`` *(choice of the first version, as the spec describes)*: the sample sd of
      ``xi_j = x_j^T (G_m/m)^{-1} x_j``. Biased low *(finding)*: each ``x_j`` is part of the ``G_m``
      that whitens it, so the ``xi_j`` are squeezed towards ``d``
      (:func:`in_sample_variance_factor`); the interval (3.11) built on it under-covers.
    * ``"rescaled"``: the in-sample variance divided by its Gaussian expectation factor; unbiased
      for Gaussian columns, approximately so for others.
    * ``"leave-one-out"``: the sample sd of ``xi_j^(-j) = (m-1) h_j / (1 - h_j)``, ``h_j = xi_j / m``
      the leverage, i.e. ``x_j`` whitened by the block without it (Sherman-Morrison); needs no
      Gaussian assumption, but at large ``d/m`` it over-estimates (the interval over-covers).

    For Gaussian columns the truth is ``sqrt(2 d)``; heavy tails make it larger.
    """
    if method not in SIGMA_XI_METHODS:
        raise ValueError(f"method must be one of {SIGMA_XI_METHODS}, got {method!r}")
    xi = mahalanobis_xi(X_m)
    m, d = int(np.shape(X_m)[0]), int(np.shape(X_m)[1])
    if method == "leave-one-out":
        h = xi / m
        xi = (m - 1) * h / (1 - h)
    var = float(np.var(xi, ddof=1))
    if method == "rescaled":
        var /= in_sample_variance_factor(m, d)
    return var ** 0.5


def z_value(alpha: float) -> float:
    """Two-sided normal quantile ``z_{1-alpha/2}`` (1.96 for ``alpha = 0.05``)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    return float(scipy.stats.norm.ppf(1 - alpha / 2))


def theorem3_half_width(sigma_xi: float, N: int, m: int, alpha: float = 0.05) -> float:
    """Half-width ``z_{1-alpha/2} sigma_xi sqrt(1/m - 1/N)`` of (3.11), nats.

    ``N`` and ``m`` must be positive integers with ``m <= N``.
    """
    N, m = check_observed_size(N, m)
    if not sigma_xi >= 0:
        raise ValueError(f"sigma_xi must be non-negative, got {sigma_xi!r}")
    return z_value(alpha) * sigma_xi * float(np.sqrt(1.0 / m - 1.0 / N))


def theorem3_interval(logdet_Gm: float, N: int, m: int, d: int, sigma_xi: float, alpha: float = 0.05) -> Interval:
    """The paper's interval (3.11) for ``log det G``: plug-in (3.13) ``+-`` (3.11)'s half-width."""
    return Interval(plugin_estimate(logdet_Gm, N, m, d), theorem3_half_width(sigma_xi, N, m, alpha))


def standardized_error(logdet_G: float, logdet_Gm: float, N: int, m: int, d: int, sigma_xi: float) -> float:
    """The statistic of (3.10): ``(log det G - Lhat) / (sigma_xi sqrt(1/m - 1/N))``; ~ N(0,1) per the paper."""
    return float((logdet_G - plugin_estimate(logdet_Gm, N, m, d)) / (sigma_xi * np.sqrt(1.0 / m - 1.0 / N)))


def required_block_size(sigma_xi: float, half_width: float, alpha: float = 0.05) -> int:
    """Sample-size rule (3.14): the smallest ``m`` with ``z sigma_xi / sqrt(m) <= half_width``.

    ``m = ceil((z_{1-alpha/2} sigma_xi / half_width)^2)``.
    """
    if not half_width > 0:
        raise ValueError(f"half_width must be positive, got {half_width!r}")
    if not sigma_xi > 0:
        raise ValueError(f"sigma_xi must be positive, got {sigma_xi!r}")
    return int(np.ceil((z_value(alpha) * sigma_xi / half_width) ** 2))
