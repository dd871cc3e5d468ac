"""Theorem 3, the stochastic error term (3.9)-(3.14), and the sample-size rule.

(3.9)  ``xi = x^T Sigma^{-1} x``, ``E xi = d``, ``sigma_xi^2 = Var xi`` (Gaussian: ``2 d``).
(3.10) ``(log det G - log det G_m - d log(N/m)) / (sigma_xi sqrt(1/m - 1/N)) -> N(0, 1)``.
(3.11) 95 % (or ``1 - alpha``) interval for ``log det G`` around the plug-in (3.13).
(3.14) Rule of thumb: choose ``m >= (z sigma_xi / eps)^2`` for half-width ``eps``.

**Finding** (see :mod:`sigma_lib.maths.bias_correction`): at the paper's sizes the plug-in is biased
by ``~ d(d+1)/2 (1/m - 1/N)`` and this interval almost never covers the truth; even with the
true ``sigma_xi`` it needs ``m >> d^3`` (``~1.5e7`` for 90 % coverage at d = 384).

**Finding**: ``sigma_xi`` estimated in-sample is biased low by the factor
:func:`in_sample_variance_factor` (0.25 at d = 384, m = 512), so any interval built on it
under-covers (:func:`in_sample_coverage`); ``method="rescaled"`` removes the bias for Gaussian columns.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.stats

from .theorem2 import plugin_estimate
from .validation import as_embeddings, check_block_sizes, check_count, check_observed_size


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
    try:
        C = np.linalg.cholesky(X_m.T @ X_m / m)  # S = G_m / m = C C^T
    except np.linalg.LinAlgError:
        raise ValueError(
            "X_m's second moment G_m/m is singular: the m observed rows must span R^d "
            f"(m={m} rows in dimension d={d})"
        ) from None
    Y = scipy.linalg.solve_triangular(C, X_m.T, lower=True, check_finite=False)  # (d, m)
    return np.einsum("ij,ij->j", Y, Y)  # x_j^T S^{-1} x_j = |C^{-1} x_j|^2


SIGMA_XI_METHODS = ("in-sample", "rescaled", "leave-one-out")


def in_sample_variance_factor(m: int, d: int) -> float:
    """``E[sigma_hat^2] / sigma_xi^2`` of the in-sample estimate for Gaussian columns *(finding)*.

    With ``xi_j`` computed from the observed block itself, ``E[sigma_hat^2] = 2d (m-d)/(m+2) m/(m-1)``
    against the true ``sigma_xi^2 = 2d``: the factor ``(m-d) m / ((m+2)(m-1))``, 0.25 at d = 384,
    m = 512 (checked by simulation in the tests). Why: for Gaussian columns the leverage
    ``h_j = xi_j / m`` follows ``Beta(d/2, (m-d)/2)``, whose variance times ``m^2`` is
    ``2d (m-d)/(m+2)``; the ``m/(m-1)`` is the ``ddof=1`` of the sample variance.

    Parameters
    ----------
    m, d : int
        Block size and dimension, ``m > d >= 1``.
    """
    m, d = check_count(m, "m"), check_count(d, "d")
    if not m > d:
        raise ValueError(f"observed block size m={m} must exceed the embedding dimension d={d}")
    return (m - d) * m / ((m + 2) * (m - 1))


def _xi_variances(xi: np.ndarray, m: int, d: int, methods) -> dict[str, float]:
    """``{method: sigma_xi^2 estimate}`` from the in-sample norms ``xi`` of a block of shape (m, d)."""
    out = {}
    for method in methods:
        values = xi
        if method == "leave-one-out":
            h = xi / m  # leverages
            values = (m - 1) * h / (1 - h)
        var = float(np.var(values, ddof=1))
        if method == "rescaled":
            var /= in_sample_variance_factor(m, d)
        out[method] = var
    return out


def _check_methods(methods) -> tuple[str, ...]:
    """``methods`` as a tuple; ``ValueError`` naming the first that is not in :data:`SIGMA_XI_METHODS`."""
    if isinstance(methods, str) or not len(methods):
        raise ValueError(f"methods must be a non-empty sequence of names from {SIGMA_XI_METHODS}, got {methods!r}")
    for method in methods:
        if not isinstance(method, str) or method not in SIGMA_XI_METHODS:
            raise ValueError(f"method must be one of {SIGMA_XI_METHODS}, got {method!r}")
    return tuple(methods)


def estimate_sigma_xi(X_m, method: str = "in-sample") -> float:
    """Estimate ``sigma_xi = sd(xi)`` (3.9) from the observed block ``X_m`` (m, d).

    Methods:

    * ``"in-sample"`` *(choice of the first version, as the spec describes)*: the sample sd of
      ``xi_j = x_j^T (G_m/m)^{-1} x_j``. Biased low *(finding)*: each ``x_j`` is part of the ``G_m``
      that whitens it, so the ``xi_j`` are squeezed towards ``d``
      (:func:`in_sample_variance_factor`); the interval (3.11) built on it under-covers
      (:func:`in_sample_coverage`).
    * ``"rescaled"``: the in-sample variance divided by its Gaussian expectation factor; unbiased
      for Gaussian columns, approximately so for others (it over-estimates a ``sigma_xi`` near 0,
      e.g. unit-norm isotropic columns, by about the noise of ``G_m/m``, ``O(d^2/m)``).
    * ``"leave-one-out"``: the sample sd of ``xi_j^(-j) = (m-1) h_j / (1 - h_j)``, ``h_j = xi_j / m``
      the leverage, i.e. ``x_j`` whitened by the block without it (Sherman-Morrison); needs no
      Gaussian assumption, but at large ``d/m`` it over-estimates (the interval over-covers).

    For Gaussian columns the truth is ``sqrt(2 d)``; heavy tails make it larger.
    """
    _check_methods((method,))
    return sigma_xi2_estimates(X_m, (method,))[method] ** 0.5


def sigma_xi2_estimates(X_m, methods=SIGMA_XI_METHODS) -> dict[str, float]:
    """``{method: estimate of sigma_xi^2}`` (3.9) from one block ``X_m`` (m, d), one solve for all.

    Parameters
    ----------
    X_m : array (m, d)
        The observed embeddings, one per row, ``m > d``.
    methods : sequence of str
        Names from :data:`SIGMA_XI_METHODS` (see :func:`estimate_sigma_xi`).

    Returns
    -------
    dict
        ``{method: sigma_xi^2 estimate}``, variances of the dimensionless ``xi``.
    """
    methods = _check_methods(methods)
    xi = mahalanobis_xi(X_m)
    m, d = int(np.shape(X_m)[0]), int(np.shape(X_m)[1])
    return _xi_variances(xi, m, d, methods)


def in_sample_coverage(m: int, d: int, alpha: float = 0.05) -> float:
    """Coverage of a correctly centred normal interval whose variance is the in-sample one *(finding)*.

    If the interval's half-width is ``z sigma_hat sqrt(1/m - 1/N)`` with ``sigma_hat^2`` the
    in-sample estimate (expectation factor :func:`in_sample_variance_factor` ``f``) instead of
    ``sigma_xi^2``, it covers with probability ``~ 2 Phi(z sqrt(f)) - 1`` (normal approximation,
    ignoring the estimate's own noise): 0.67 instead of 0.95 at d = 384, m = 512.
    """
    f = in_sample_variance_factor(m, d)
    return float(2 * scipy.stats.norm.cdf(z_value(alpha) * np.sqrt(f)) - 1)


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
