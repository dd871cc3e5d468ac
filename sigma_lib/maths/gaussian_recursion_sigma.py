"""Sigma-UB on recursive Gaussian fitting: the tracks measured on a process whose drift is known.

At every generation ``g`` of each replicate (:func:`sigma_lib.maths.gaussian_recursion.simulate_recursion`
with ``keep_states=True``) the fitted law ``N(mu_g, L_g L_g^T)`` is "evaluated": ``N`` points are
drawn from it, the embeddings ``X_g`` (``(N, d)`` rows), and measured on one fixed observed index
set of size ``m > d`` (:func:`sigma_lib.maths.observed.select_observed_indices`), as Algorithm 1 does:

* Track II on the raw rows, ``U = log det(G_m/m + (eps/m) I)`` with the **uncentred** Gram
  ``G_m = X_m^T X_m`` (3.20). It estimates the log det of the second moment
  ``M_g = Sigma_g + mu_g mu_g^T``, not of the covariance:
  ``log det M = log det Sigma + log(1 + mu^T Sigma^{-1} mu)``, and under ``replace`` the mean's
  random walk makes the Mahalanobis term grow while ``Sigma`` shrinks (K.3);
* the same with the block centred on its own mean (``U_centred``), which estimates ``log det Sigma``:
  a centred Gaussian block is ``Wishart_d(m - 1, Sigma)`` whatever the mean (K.7);
* both tracks on unit-normalised rows, as the pipeline does (``U_unit``, and Track I ``Gamma_KF``
  (3.18) with ``B = N - m``, which is only an envelope for unit-norm rows (3.17)).

The ridge ``eps`` (B.1) puts a floor under every ``U``: ``U >= d log(eps/m)``, so a law whose
``log det`` falls below that is out of the tracks' reach.

Noise and intervals for the drift ``Delta U_g = U_g - U_0`` (two independent evaluations):

* the **index-set band**: the sd of the drift over ``n_draws`` re-drawn index sets (the same sets at
  ``g`` and at 0), what :class:`sigma_lib.maths.monitor.SigmaMonitor` reports as ``noise_U``;
* **Theorem 3** (3.10)-(3.11) for each checkpoint, with the law as its target (``N -> infinity``,
  so ``sqrt(1/m - 1/N) -> 1/sqrt(m)``) and ``sigma_xi`` estimated in-sample from the block
  (:func:`sigma_lib.maths.theorem3.mahalanobis_xi`, the paper's choice): half-width
  ``z sqrt(s_g^2 + s_0^2) / sqrt(m)``;
* **bias-corrected**: the offset (K.7) is the same at every generation at fixed ``m`` and cancels in
  the drift; its exact Gaussian variance gives the half-width ``z sqrt(2 sum_i psi'((m-i+1)/2))``
  (``m - 1`` in place of ``m`` for the centred block, whose target is ``Delta log det Sigma``).

All of it is vectorised over replicates; Grams are accumulated in float64.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from .gaussian_recursion import RecursionPaths
from .gaussian_recursion_law import wishart_logdet_variance
from .noise import bootstrap_index_sets
from .observed import select_observed_indices
from .theorem3 import z_value
from .tracks import DEFAULT_EPS
from .validation import check_block_sizes, check_eps

#: The per-replicate series of :class:`SigmaPaths`, each ``(G+1, R)``.
SERIES = ("U", "U_centred", "U_unit", "gamma_kf", "band_U", "band_U_unit", "sigma_xi2",
          "logdet_sigma", "logdet_second_moment", "log_min_eigenvalue")


@dataclass(frozen=True)
class SigmaPaths:
    """Sigma-UB's series on one cell's paths, generations ``0..G`` on the first axis, replicates on the second.

    ``U``, ``U_centred``, ``U_unit`` (nats), ``gamma_kf`` (dimensionless): the tracks (module docstring).
    ``band_U``, ``band_U_unit``: index-set sd of the drift ``U_g - U_0`` (0 at g = 0), nats.
    ``sigma_xi2``: in-sample ``Var xi`` of the raw block (3.9). ``logdet_sigma``, ``logdet_second_moment``:
    ``log det Sigma_g`` and ``log det M_g`` of the fitted law (exact, from its Cholesky factor), nats.
    ``log_min_eigenvalue``: ``log lambda_min(Sigma_g)``, to set beside the ridge's ``log(eps/m)``.
    """

    N: int
    m: int
    d: int
    eps: float
    U: np.ndarray
    U_centred: np.ndarray
    U_unit: np.ndarray
    gamma_kf: np.ndarray
    band_U: np.ndarray
    band_U_unit: np.ndarray
    sigma_xi2: np.ndarray
    logdet_sigma: np.ndarray
    logdet_second_moment: np.ndarray
    log_min_eigenvalue: np.ndarray

    def drift(self, name: str) -> np.ndarray:
        """``series_g - series_0`` of one of ``U``, ``U_centred``, ``U_unit``, ``gamma_kf``,
        ``logdet_sigma``, ``logdet_second_moment``; shape ``(G+1, R)``."""
        if name not in ("U", "U_centred", "U_unit", "gamma_kf", "logdet_sigma", "logdet_second_moment"):
            raise ValueError(f"no drift of {name!r}")
        values = getattr(self, name)
        return values - values[0]


def _ridge_logdet(G: np.ndarray, eps: float, name: str) -> np.ndarray:
    """``log det(G + eps I)`` of a stack of PSD ``(R, d, d)`` Grams by Cholesky (B.19)."""
    try:
        C = np.linalg.cholesky(G + eps * np.eye(G.shape[-1]))
    except np.linalg.LinAlgError:
        raise ValueError(f"{name}: G + eps I has no Cholesky factor (eps={eps:g} below the round-off of G)") from None
    return 2.0 * np.sum(np.log(np.diagonal(C, axis1=-2, axis2=-1)), axis=-1)


def _blocks(X, name: str, *, above_d: bool = False) -> np.ndarray:
    """``X`` as a finite float64 ``(R, m, d)`` stack; ``ValueError`` otherwise (or if ``m <= d`` with ``above_d``)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 3 or 0 in X.shape or not np.isfinite(X).all():
        raise ValueError(f"{name} must be a finite (R, m, d) stack of blocks, got shape {X.shape}")
    if above_d and not X.shape[1] > X.shape[2]:
        raise ValueError(f"{name}: the block size m={X.shape[1]} must exceed the dimension d={X.shape[2]}")
    return X


def _gram(X: np.ndarray) -> np.ndarray:
    G = X.transpose(0, 2, 1) @ X
    return 0.5 * (G + G.transpose(0, 2, 1))


def track2_batch(X_m: np.ndarray, eps: float) -> np.ndarray:
    """Track II (3.20) of ``(R, m, d)`` observed blocks, uncentred, rows as given: ``(R,)`` nats."""
    X_m, eps = _blocks(X_m, "X_m"), check_eps(eps)
    m, d = X_m.shape[1], X_m.shape[2]
    return _ridge_logdet(_gram(X_m), eps, "Track II") - d * np.log(m)


def track1_batch(X_m_unit: np.ndarray, N: int, eps: float) -> np.ndarray:
    """Track I ``Gamma_KF`` (3.18)-(3.19) of ``(R, m, d)`` unit-norm blocks with ``B = N - m``: ``(R,)``."""
    X_m_unit, eps = _blocks(X_m_unit, "X_m_unit"), check_eps(eps)
    if not N > X_m_unit.shape[1]:
        raise ValueError(f"N={N} must exceed the block size m={X_m_unit.shape[1]} (B = N - m > 0)")
    B = N - X_m_unit.shape[1]
    return _ridge_logdet(_gram(X_m_unit) / (B + eps), 1.0, "Track I")


def in_sample_xi_variance(X_m: np.ndarray) -> np.ndarray:
    """``Var xi`` (3.9) of each ``(m, d)`` block of ``X_m`` ``(R, m, d)``, ``xi_j = x_j^T (G_m/m)^{-1} x_j``,
    sample variance (``ddof=1``), as :func:`sigma_lib.maths.theorem3.estimate_sigma_xi` (``"in-sample"``)
    squared. Computed from the thin QR factor (``xi_j = m |Q_j|^2``), which stays accurate when
    ``G_m`` is too ill-conditioned to factor."""
    X_m = _blocks(X_m, "X_m", above_d=True)
    Q = np.linalg.qr(X_m, mode="reduced")[0]
    xi = X_m.shape[1] * np.einsum("rjk,rjk->rj", Q, Q)
    return np.var(xi, axis=1, ddof=1)


def _true_logdets(paths: RecursionPaths) -> tuple[np.ndarray, np.ndarray]:
    """``log det Sigma_g`` and ``log det M_g = log det Sigma_g + log(1 + |L^{-1} mu|^2)``, ``(G+1, R)`` each;
    the triangular solve keeps the Mahalanobis term accurate when ``Sigma_g`` has collapsed."""
    G1, R = paths.logdet.shape
    maha = np.empty((G1, R))
    for g in range(G1):
        for r in range(R):
            y = scipy.linalg.solve_triangular(paths.chol[g, r], paths.mu[g, r], lower=True, check_finite=False)
            maha[g, r] = y @ y
    return paths.logdet, paths.logdet + np.log1p(maha)


def sigma_on_recursion(paths: RecursionPaths, *, N: int, m: int, eps: float = DEFAULT_EPS, n_draws: int = 10,
                       seed: int = 0) -> SigmaPaths:
    """Measure Sigma-UB on every generation of every replicate of ``paths`` (module docstring).

    Parameters
    ----------
    paths : RecursionPaths with ``keep_states=True`` (means and Cholesky factors).
    N, m : int
        Points drawn per evaluation and the observed block, ``d < m < N``.
    eps : float
        Ridge of (B.1), finite and ``> 0``, fixed across generations.
    n_draws : int
        Re-drawn index sets for the index-set band, ``>= 2``.
    seed : int
        Seeds the evaluations' points, the fixed index set (``seed``) and the re-drawn sets (``seed + 1``,
        as :class:`~sigma_lib.maths.monitor.SigmaMonitor`).

    Returns
    -------
    SigmaPaths

    Raises
    ------
    ValueError
        If ``paths`` holds no states, ``m`` is not in ``(d, N)``, ``n_draws < 2`` or ``eps <= 0``.
    """
    if paths.mu is None or paths.chol is None:
        raise ValueError("paths hold no states: simulate them with keep_states=True")
    d = paths.d
    check_block_sizes(N, m, d)
    if not m < N:
        raise ValueError(f"the observed block m={m} must be smaller than N={N} (Track I needs B = N - m > 0)")
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 2:
        raise ValueError(f"n_draws must be an integer >= 2 (a spread needs two draws), got {n_draws!r}")
    eps = check_eps(eps)
    G1, R = paths.logdet.shape
    rng = np.random.default_rng([int(seed), int(d), int(paths.n), 7])
    observed = select_observed_indices(N, m, seed)
    draws = bootstrap_index_sets(N, m, n_draws, seed + 1)
    out = {k: np.zeros((G1, R)) for k in SERIES}
    base_draws = base_draws_unit = None
    for g in range(G1):
        X = paths.mu[g][:, None, :] + rng.standard_normal((R, N, d)) @ paths.chol[g].transpose(0, 2, 1)
        Xu = X / np.linalg.norm(X, axis=2, keepdims=True)
        Xo, Xuo = X[:, observed], Xu[:, observed]
        out["U"][g] = track2_batch(Xo, eps)
        out["U_centred"][g] = track2_batch(Xo - Xo.mean(axis=1, keepdims=True), eps)
        out["U_unit"][g] = track2_batch(Xuo, eps)
        out["gamma_kf"][g] = track1_batch(Xuo, N, eps)
        out["sigma_xi2"][g] = in_sample_xi_variance(Xo)
        out["log_min_eigenvalue"][g] = 2 * np.log(np.linalg.svd(paths.chol[g], compute_uv=False)[:, -1])
        on_draws = np.stack([track2_batch(X[:, s], eps) for s in draws])
        on_draws_unit = np.stack([track2_batch(Xu[:, s], eps) for s in draws])
        if g == 0:
            base_draws, base_draws_unit = on_draws, on_draws_unit
        out["band_U"][g] = np.std(on_draws - base_draws, axis=0, ddof=1)
        out["band_U_unit"][g] = np.std(on_draws_unit - base_draws_unit, axis=0, ddof=1)
    out["logdet_sigma"], out["logdet_second_moment"] = _true_logdets(paths)
    return SigmaPaths(N=int(N), m=int(m), d=d, eps=eps, **out)


def drift_coverage(sp: SigmaPaths, *, alpha: float = 0.05) -> dict[str, np.ndarray]:
    """Per generation, the fraction of replicates whose true drift lies inside each interval.

    Returns ``{name: (G+1,) array}`` for

    * ``band``: ``Delta U +- 2 band_U`` (the pipeline's index-set band), target ``Delta log det M``;
    * ``theorem3``: ``Delta U +- z sqrt(s_g^2 + s_0^2)/sqrt(m)`` (in-sample ``sigma_xi``), target ``Delta log det M``;
    * ``bias_corrected``: ``Delta U +- z sqrt(2 V_m)``, ``V_m = sum_i psi'((m-i+1)/2)``, target ``Delta log det M``;
    * ``centred``: ``Delta U_centred +- z sqrt(2 V_{m-1})``, target ``Delta log det Sigma`` (the known answer);
    * ``theorem3_vs_sigma``: the Theorem 3 interval of ``Delta U`` judged against ``Delta log det Sigma``.

    At ``g = 0`` every drift is 0 and every interval covers.
    """
    z = z_value(alpha)
    dU, dUc = sp.drift("U"), sp.drift("U_centred")
    dM, dS = sp.drift("logdet_second_moment"), sp.drift("logdet_sigma")
    h_thm3 = z * np.sqrt(sp.sigma_xi2 + sp.sigma_xi2[0]) / np.sqrt(sp.m)
    h_bc = z * np.sqrt(2 * wishart_logdet_variance(sp.m, sp.d))
    h_c = z * np.sqrt(2 * wishart_logdet_variance(sp.m - 1, sp.d))
    return {
        "band": np.mean(np.abs(dU - dM) <= 2 * sp.band_U, axis=1),
        "theorem3": np.mean(np.abs(dU - dM) <= h_thm3, axis=1),
        "bias_corrected": np.mean(np.abs(dU - dM) <= h_bc, axis=1),
        "centred": np.mean(np.abs(dUc - dS) <= h_c, axis=1),
        "theorem3_vs_sigma": np.mean(np.abs(dU - dS) <= h_thm3, axis=1),
    }


def ridge_floor(d: int, m: int, *, eps: float = DEFAULT_EPS) -> float:
    """The least value of Track II, ``d log(eps/m)`` nats: ``U`` cannot see a ``log det`` below it."""
    return float(d * np.log(eps / m))
