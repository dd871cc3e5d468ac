"""The exact law of recursive Gaussian fitting: the known answers Sigma is checked against.

The process (Shumailov et al. 2024; Gerstgrasser et al. 2024; Kazdan, Schaeffer et al.,
"Collapse or Thrive?"): the law of generation 0 is ``N(mu_0, Sigma_0) = N(0, I_d)``; generation
``g >= 1`` draws ``n`` points from the law of generation ``g - 1`` (under ``alpha-<a>``: ``n - k``
of them from it and ``k = round(a n)`` from ``N(0, I)``) and fits mean and covariance by maximum
likelihood (divide by the number of points). Settings: ``replace`` (fit on the newest ``n``
points), ``accumulate`` (fit on all ``g n`` points so far), ``alpha-<a>``.

**Replace, log det (exact).** With ``x = mu + L z`` (``Sigma = L L^T``), the refit covariance is
``L S_z L^T`` with ``n S_z ~ Wishart_d(n - 1, I)`` whatever ``mu`` and ``Sigma`` are, so the change
of ``log det Sigma`` in one generation is ``log det S_z``, independent of the past. By the Bartlett
decomposition ``log det(n S_z) = sum_{i=1..d} log chi^2_{n-i}`` (independent chi-squares), so

    E[log det Sigma_g - log det Sigma_{g-1}]   = sum_{i=1..d} psi((n-i)/2) + d log(2/n)     (K.1)
    Var[log det Sigma_g - log det Sigma_{g-1}] = sum_{i=1..d} psi'((n-i)/2)                (K.2)

(``psi`` digamma, ``psi'`` trigamma; ``E log chi^2_k = psi(k/2) + log 2``, ``Var = psi'(k/2)``), and
over ``g`` generations both add up: the mean is exactly ``g`` times (K.1), linear in ``g``, and
the variance ``g`` times (K.2). Requires ``n > d`` (else the refit is singular).

**Second moments (exact, every setting above).** ``E Sigma_g = a_g I`` and ``E mu_g mu_g^T = b_g I``
by rotation invariance. Under ``replace``: ``a_g = ((n-1)/n)^g`` and
``E|mu_g|^2 = d b_g = d (1 - a_g)`` (K.3): the spread shrinks while the mean's random walk reaches
``d``. Under ``accumulate`` (Chan's pooled update of the scatter, ``mu_g = mu_{g-1} + delta_g / g``):

    a_g = prod_{k=1..g} (1 - 1/(k^2 n))  ->  sin(pi/sqrt n) / (pi/sqrt n) = 1 - pi^2/(6n) + ...   (K.4)
    E|mu_g|^2 = (d/n) sum_{k=1..g} a_{k-1} / k^2  <=  (d/n) pi^2/6                             (K.5)

(the pi^2/6 results of Gerstgrasser et al.). Under ``alpha-<a>`` with ``k1 = n - k`` model points
and ``k2 = k`` fresh points, the pooled MLE gives the linear recursion

    a' = [w(k1) a + w(k2) + (k2/n) a + k1/n + (k1 k2/n) b] / n,    b' = [k1^2 b + k1 a + k2] / n^2   (K.6)

with ``w(k) = max(k - 1, 0)``. There is no closed form for ``E log det Sigma_g`` beyond
``replace``; Jensen gives ``E log det Sigma_g <= d log a_g``.

**Wishart log det (for the drift intervals).** For ``k`` i.i.d. ``N(0, Sigma)`` rows the Gram
``G_k`` is ``Wishart_d(k, Sigma)`` and ``log det G_k - log det Sigma`` has mean
``d log 2 + sum_i psi((k-i+1)/2)`` and variance ``sum_i psi'((k-i+1)/2)`` (K.7); a centred block of
``k`` rows is ``Wishart_d(k - 1, Sigma)``.

Equation labels (K.n) are this chapter's ("Sigma against known answers"); the paper has none.
"""
from __future__ import annotations

import numbers
import re

import numpy as np
from scipy.special import digamma, polygamma

#: Settings with an exact law of the second moments; ``alpha-<a>`` settings are named by their fraction.
EXACT_SETTINGS = ("replace", "accumulate")
_ALPHA = re.compile(r"^alpha-(\d+(?:\.\d+)?)$")


def _count(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_sizes(d, n) -> tuple[int, int]:
    """``(d, n)`` as ints; ``ValueError`` unless ``1 <= d < n`` (the refit of ``n`` points is non-singular)."""
    d, n = _count(d, "d"), _count(n, "n", 2)
    if not n > d:
        raise ValueError(f"the sample size n={n} must exceed the dimension d={d} "
                         "(else the refit covariance is singular)")
    return d, n


def alpha_of(setting: str) -> float | None:
    """The real-data fraction of an ``alpha-<a>`` setting name (``"alpha-0.25"`` -> 0.25), else ``None``."""
    match = _ALPHA.match(setting) if isinstance(setting, str) else None
    if match is None:
        return None
    a = float(match.group(1))
    if not 0 < a < 1:
        raise ValueError(f"the real-data fraction of {setting!r} must lie strictly between 0 and 1")
    return a


def fresh_count(n: int, alpha: float) -> int:
    """``k = round(alpha n)``, the fresh points per generation under ``alpha-<a>``; ``ValueError``
    unless ``1 <= k <= n - 1`` (both sources contribute)."""
    k = int(round(alpha * n))
    if not 1 <= k <= n - 1:
        raise ValueError(f"alpha={alpha!r} with n={n} gives {k} fresh points a generation; it needs 1..{n - 1}")
    return k


def _generations(generations) -> np.ndarray:
    g = np.asarray(generations)
    if g.ndim != 1 or g.size == 0 or not np.issubdtype(g.dtype, np.integer) or (g < 0).any():
        raise ValueError(f"generations must be a non-empty 1-D sequence of integers >= 0, got {generations!r}")
    return g.astype(np.int64)


def replace_step_mean(d: int, n: int) -> float:
    """(K.1): ``E`` of the one-generation change of ``log det Sigma`` under ``replace``, nats
    (``sum_{i=1..d} psi((n-i)/2) + d log(2/n)``, negative: collapse)."""
    d, n = check_sizes(d, n)
    return float(np.sum(digamma((n - np.arange(1, d + 1)) / 2.0)) + d * np.log(2.0 / n))


def replace_step_variance(d: int, n: int) -> float:
    """(K.2): variance of the one-generation change of ``log det Sigma`` under ``replace``, nats^2."""
    d, n = check_sizes(d, n)
    return float(np.sum(polygamma(1, (n - np.arange(1, d + 1)) / 2.0)))


def replace_logdet_law(d: int, n: int, generations) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of ``log det Sigma_g - log det Sigma_0`` under ``replace``
    at each of ``generations``: ``g`` (K.1) and ``sqrt(g (K.2))``, arrays of the shape of ``generations``, nats."""
    g = _generations(generations)
    return g * replace_step_mean(d, n), np.sqrt(g * replace_step_variance(d, n))


def second_moment_law(setting: str, d: int, n: int, generations) -> tuple[np.ndarray, np.ndarray]:
    """``(E tr Sigma_g / d, E |mu_g - mu_0|^2)`` at each of ``generations`` (K.3)-(K.6).

    Parameters
    ----------
    setting : ``"replace"``, ``"accumulate"`` or ``"alpha-<a>"``.
    d, n : int, ``1 <= d < n``.
    generations : 1-D integers ``>= 0``.

    Returns
    -------
    Two float arrays of the shape of ``generations``: the scale ``a_g`` (dimensionless, 1 at g = 0)
    and the squared distance of the mean from ``mu_0`` (squared units of the data).

    Raises
    ------
    ValueError
        For a setting without an exact law (``accumulate-subsample``), or sizes as in :func:`check_sizes`.
    """
    d, n = check_sizes(d, n)
    g = _generations(generations)
    alpha = alpha_of(setting)
    if setting not in EXACT_SETTINGS and alpha is None:
        raise ValueError(f"no exact second-moment law for setting {setting!r}; it has one for {EXACT_SETTINGS} "
                         "and alpha-<a>")
    G = int(g.max())
    a, b = np.ones(G + 1), np.zeros(G + 1)
    if alpha is not None:
        k2 = fresh_count(n, alpha)
        k1 = n - k2
    for t in range(1, G + 1):
        if setting == "replace":
            a[t], b[t] = a[t - 1] * (n - 1) / n, b[t - 1] + a[t - 1] / n
        elif setting == "accumulate":
            a[t], b[t] = a[t - 1] * (1 - 1 / (t * t * n)), b[t - 1] + a[t - 1] / (n * t * t)
        else:
            a[t] = ((k1 - 1) * a[t - 1] + (k2 - 1) + k2 * a[t - 1] / n + k1 / n + k1 * k2 * b[t - 1] / n) / n
            b[t] = (k1 * k1 * b[t - 1] + k1 * a[t - 1] + k2) / (n * n)
    return a[g], d * b[g]


def accumulate_scale_limit(n: int) -> float:
    """``lim_g E tr Sigma_g / d`` under ``accumulate``: ``sin(pi/sqrt n) / (pi/sqrt n)`` (K.4)."""
    n = _count(n, "n", 2)
    x = np.pi / np.sqrt(n)
    return float(np.sin(x) / x)


def wishart_logdet_offset(k: int, d: int) -> float:
    """(K.7): ``E[log det G_k] - log det Sigma = d log 2 + sum_{i=1..d} psi((k-i+1)/2)`` for a
    ``Wishart_d(k, Sigma)`` Gram, nats; requires ``k >= d``."""
    d, k = _count(d, "d"), _count(k, "k")
    if k < d:
        raise ValueError(f"a Wishart log det needs k >= d degrees of freedom, got k={k}, d={d}")
    return float(d * np.log(2.0) + np.sum(digamma((k - np.arange(1, d + 1) + 1) / 2.0)))


def wishart_logdet_variance(k: int, d: int) -> float:
    """(K.7): ``Var[log det G_k] = sum_{i=1..d} psi'((k-i+1)/2)`` for a ``Wishart_d(k, Sigma)`` Gram,
    nats^2; requires ``k >= d``."""
    d, k = _count(d, "d"), _count(k, "k")
    if k < d:
        raise ValueError(f"a Wishart log det needs k >= d degrees of freedom, got k={k}, d={d}")
    return float(np.sum(polygamma(1, (k - np.arange(1, d + 1) + 1) / 2.0)))
