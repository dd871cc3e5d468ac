"""Recursive Gaussian fitting, simulated: many seeded replicates at once, the fit carried as a Cholesky factor.

The process and its exact law are stated in :mod:`sigma_lib.maths.gaussian_recursion_law`. Each
generation draws ``n`` points from the current fit and refits mean and covariance by maximum
likelihood (divide by the number of points). Settings:

* ``replace``: fit on the newest ``n`` points;
* ``accumulate``: fit on all ``g n`` points drawn so far (the first ``n`` from the truth);
* ``accumulate-subsample``: fit on ``n`` points drawn without replacement from those ``g n``;
* ``alpha-<a>``: ``round(a n)`` of the ``n`` points are fresh draws from the truth ``N(0, I)``.

**Numerics.** Re-forming the covariance each generation (``np.cov`` then a multivariate normal)
fails under ``replace`` at small ``n``: the mean wanders by ``O(1)`` while the spread shrinks like
``exp(g E / d)`` (E of (K.1), about ``-1.1`` nats a generation at ``d = 3, n = 10``), so centring cancels
every digit and the Cholesky factor of the refit stops existing. Here a point is ``x = mu + L z``
with ``L`` the fit's Cholesky factor and ``z`` standard normal, and the refit is done in the
``z`` coordinates, which never lose precision: ``mu' = mu + L zbar``, ``L' = L chol(S_z)``, and
``log det Sigma' = log det Sigma + 2 sum log diag chol(S_z)`` is accumulated as a sum of logs, so it
stays exact far below ``log det = -700`` where ``det`` itself underflows. ``accumulate`` pools the
scatter with Chan's update (the new batch's offset from the pooled mean is ``L zbar``, never a
difference of two nearly equal means); its covariance stays bounded, (K.4).

**Draws.** ``draw="samples"`` draws the ``n`` points. ``draw="sufficient"`` draws, for a batch of
``k >= d + 1`` points, its sufficient statistics from their exact joint law instead: the mean
``zbar ~ N(0, I/k)`` and, independent of it, the scatter ``W = A A^T ~ Wishart_d(k - 1, I)`` by the
Bartlett decomposition (``A`` lower triangular, ``A_ii^2 ~ chi^2_{k-i}``, ``A_ij ~ N(0, 1)`` below
the diagonal): the same law of the refit (Cochran's theorem) at ``O(d^2)`` instead of ``O(k d)``
normal draws per batch. Batches with ``k <= d`` are always drawn as points.
``accumulate-subsample`` needs the points themselves, so it only takes ``draw="samples"``.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from .gaussian_recursion_law import alpha_of, check_sizes, fresh_count

SETTINGS = ("replace", "accumulate", "accumulate-subsample")
DRAWS = ("samples", "sufficient")


@dataclass(frozen=True)
class RecursionPaths:
    """Replicated paths of one (setting, d, n) cell, generations ``0..G`` on the first axis.

    Attributes
    ----------
    logdet : (G+1, R) ``log det Sigma_g - log det Sigma_0`` (nats; ``Sigma_0 = I``).
    trace_ratio : (G+1, R) ``tr Sigma_g / d``.
    mean_sq : (G+1, R) ``|mu_g - mu_0|^2``.
    mu : (G+1, R, d) or None, the fitted means (``keep_states=True``).
    chol : (G+1, R, d, d) or None, the fits' lower Cholesky factors ``Sigma_g = L L^T``.
    """

    setting: str
    d: int
    n: int
    draw: str
    logdet: np.ndarray
    trace_ratio: np.ndarray
    mean_sq: np.ndarray
    mu: np.ndarray | None = None
    chol: np.ndarray | None = None

    @property
    def generations(self) -> int:
        return self.logdet.shape[0] - 1

    @property
    def replicates(self) -> int:
        return self.logdet.shape[1]


def check_setting(setting: str) -> str:
    """``setting`` unchanged; ``ValueError`` unless it is one of :data:`SETTINGS` or ``alpha-<a>`` with
    ``0 < a < 1``."""
    if setting in SETTINGS or alpha_of(setting) is not None:
        return setting
    raise ValueError(f"unknown setting {setting!r}; choose from {SETTINGS} or 'alpha-<a>' with 0 < a < 1")


def cell_seed(seed: int, setting: str, d: int, n: int) -> np.random.Generator:
    """The generator of one cell: seeded by ``(seed, setting, d, n)``, so cells are independent and
    adding a cell to a grid never changes another."""
    return np.random.default_rng([int(seed), zlib.crc32(setting.encode()), int(d), int(n)])


def bartlett_factor(rng: np.random.Generator, replicates: int, k: int, d: int) -> np.ndarray:
    """``(R, d, d)`` lower-triangular ``A`` with ``A A^T ~ Wishart_d(k - 1, I)`` (Bartlett); needs ``k >= d + 1``."""
    if k < d + 1:
        raise ValueError(f"a Bartlett factor of Wishart(k - 1 = {k - 1}, I_{d}) needs k >= d + 1")
    A = np.zeros((replicates, d, d))
    i = np.arange(d)
    A[:, i, i] = np.sqrt(rng.chisquare(k - 1 - i, size=(replicates, d)))
    rows, cols = np.tril_indices(d, -1)
    A[:, rows, cols] = rng.standard_normal((replicates, rows.size))
    return A


def batch_statistics(rng: np.random.Generator, replicates: int, k: int, d: int, *, draw: str = "samples"):
    """Mean and scatter factor of ``k`` standard-normal points in ``R^d``, for ``replicates`` batches at once.

    Returns ``(zbar, C)``: ``(R, d)`` means and ``(R, d, d)`` lower-triangular factors ``C`` of the
    scatters about them, ``C C^T = W = sum_j (z_j - zbar)(z_j - zbar)^T``. ``draw="sufficient"``
    (with ``k >= d + 1``) draws them from their exact law, ``C`` being the Bartlett factor (module
    docstring); otherwise the points are drawn and ``C = chol(W)``. For ``k <= d`` the scatter is
    singular: then ``C`` is the ``(R, d, k)`` square root ``Zc^T`` of the centred points, still with
    ``C C^T = W``.
    """
    if draw not in DRAWS:
        raise ValueError(f"draw must be one of {DRAWS}, got {draw!r}")
    if draw == "sufficient" and k >= d + 1:
        zbar = rng.standard_normal((replicates, d)) / np.sqrt(k)
        return zbar, bartlett_factor(rng, replicates, k, d)
    Z = rng.standard_normal((replicates, k, d))
    zbar = Z.mean(axis=1)
    Zc = Z - zbar[:, None, :]
    if k >= d + 1:
        return zbar, _chol(Zc.transpose(0, 2, 1) @ Zc, "a batch of points", 0)
    return zbar, Zc.transpose(0, 2, 1)


def _chol(S: np.ndarray, setting: str, generation: int) -> np.ndarray:
    try:
        return np.linalg.cholesky(0.5 * (S + S.transpose(0, 2, 1)))
    except np.linalg.LinAlgError:
        raise ValueError(f"{setting}: the refit covariance of generation {generation} has no Cholesky factor") from None


def _logdet_of_chol(C: np.ndarray) -> np.ndarray:
    return 2.0 * np.sum(np.log(np.diagonal(C, axis1=1, axis2=2)), axis=1)


def _mat_vec(L: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.einsum("rij,rj->ri", L, v)


def simulate_recursion(setting: str, d: int, n: int, *, generations: int, replicates: int, seed: int = 0,
                       draw: str = "samples", keep_states: bool = False) -> RecursionPaths:
    """``replicates`` independent paths of recursive Gaussian fitting over ``generations`` generations.

    Parameters
    ----------
    setting : ``"replace"``, ``"accumulate"``, ``"accumulate-subsample"`` or ``"alpha-<a>"`` (module docstring).
    d, n : int
        Dimension and points per generation, ``1 <= d < n``.
    generations, replicates : int, ``>= 1``.
    seed : int
        With the setting, ``d`` and ``n`` it seeds the cell (:func:`cell_seed`).
    draw : ``"samples"`` or ``"sufficient"`` (module docstring; ``accumulate-subsample`` takes ``"samples"`` only).
    keep_states : bool
        Also return every generation's means and Cholesky factors (memory ``(G+1) R d^2``).

    Returns
    -------
    RecursionPaths, generation 0 first (``Sigma_0 = I``, ``mu_0 = 0``).

    Raises
    ------
    ValueError
        For an unknown setting or draw, ``n <= d``, counts below 1, a real-data fraction that
        gives no fresh or no model point, or ``draw="sufficient"`` with ``accumulate-subsample``.
    """
    setting, d, n, G, R = _check_recursion(setting, d, n, generations=generations, replicates=replicates, draw=draw)
    rng = cell_seed(seed, setting, d, n)
    alpha = alpha_of(setting)
    state = _PathState(mu=np.zeros((R, d)), L=np.broadcast_to(np.eye(d), (R, d, d)).copy(), logdet=np.zeros(R),
                       k_fresh=fresh_count(n, alpha) if alpha is not None else 0)
    step = _STEPS.get(setting, _step_alpha)
    out = {k: np.zeros((G + 1, R)) for k in ("logdet", "trace_ratio", "mean_sq")}
    out["trace_ratio"][0] = 1.0
    states = ([state.mu.copy()], [state.L.copy()]) if keep_states else None
    for g in range(1, G + 1):
        step(state, rng, n=n, d=d, draw=draw, g=g, setting=setting)
        out["logdet"][g] = state.logdet
        out["trace_ratio"][g] = np.einsum("rij,rij->r", state.L, state.L) / d
        out["mean_sq"][g] = np.einsum("ri,ri->r", state.mu, state.mu)
        if keep_states:
            states[0].append(state.mu.copy())
            states[1].append(state.L.copy())
    mu_all, chol_all = (np.stack(states[0]), np.stack(states[1])) if keep_states else (None, None)
    return RecursionPaths(setting, d, n, draw, out["logdet"], out["trace_ratio"], out["mean_sq"], mu_all, chol_all)


def _check_recursion(setting, d, n, *, generations, replicates, draw) -> tuple[str, int, int, int, int]:
    """The arguments of :func:`simulate_recursion`, checked: ``(setting, d, n, G, R)``."""
    setting = check_setting(setting)
    d, n = check_sizes(d, n)
    for name, value in (("generations", generations), ("replicates", replicates)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if draw not in DRAWS:
        raise ValueError(f"draw must be one of {DRAWS}, got {draw!r}")
    if setting == "accumulate-subsample" and draw != "samples":
        raise ValueError("accumulate-subsample re-uses drawn points: it needs draw='samples'")
    return setting, d, n, int(generations), int(replicates)


@dataclass
class _PathState:
    """The fitted law of every replicate after a generation (``mu`` (R, d), ``L`` (R, d, d) its Cholesky
    factor, ``logdet`` (R,)), and what the accumulating settings keep: the pooled scatter and count
    (``accumulate``), the pool of points (``accumulate-subsample``); ``k_fresh``: fresh points per
    generation of ``alpha-<a>``."""

    mu: np.ndarray
    L: np.ndarray
    logdet: np.ndarray
    k_fresh: int = 0
    pooled_S: np.ndarray | None = None
    pooled_count: int = 0
    pool: np.ndarray | None = None


def _step_replace(st: _PathState, rng, *, n, d, draw, g, setting) -> None:
    """One generation of ``replace``: fit the next law to ``n`` points of the current one."""
    zbar, C = batch_statistics(rng, st.mu.shape[0], n, d, draw=draw)
    C = C / np.sqrt(n)                             # chol(S_z), S_z = W / n
    st.mu = st.mu + _mat_vec(st.L, zbar)
    st.L = st.L @ C
    st.logdet = st.logdet + _logdet_of_chol(C)


def _step_accumulate(st: _PathState, rng, *, n, d, draw, g, setting) -> None:
    """One generation of ``accumulate``: pool ``n`` new points with every earlier one."""
    zbar, C = batch_statistics(rng, st.mu.shape[0], n, d, draw=draw)
    delta = _mat_vec(st.L, zbar)                   # batch mean - pooled mean, without a difference
    LC = st.L @ C
    W_x = LC @ LC.transpose(0, 2, 1)
    if st.pooled_S is None:
        st.pooled_S = W_x
    else:
        st.pooled_S = (st.pooled_S + W_x + np.einsum("ri,rj->rij", delta, delta)
                       * (st.pooled_count * n / (st.pooled_count + n)))
    st.mu = st.mu + delta * (n / (st.pooled_count + n))
    st.pooled_count += n
    st.L = _chol(st.pooled_S / st.pooled_count, setting, g)
    st.logdet = _logdet_of_chol(st.L)


def _step_subsample(st: _PathState, rng, *, n, d, draw, g, setting) -> None:
    """One generation of ``accumulate-subsample``: fit to ``n`` points drawn from the growing pool."""
    R = st.mu.shape[0]
    new = st.mu[:, None, :] + rng.standard_normal((R, n, d)) @ st.L.transpose(0, 2, 1)
    st.pool = new if st.pool is None else np.concatenate([st.pool, new], axis=1)
    if g == 1:
        chosen = st.pool
    else:
        picks = np.stack([rng.choice(st.pool.shape[1], size=n, replace=False) for _ in range(R)])
        chosen = np.take_along_axis(st.pool, picks[:, :, None], axis=1)
    st.mu = chosen.mean(axis=1)
    Xc = chosen - st.mu[:, None, :]
    st.L = _chol(Xc.transpose(0, 2, 1) @ Xc / n, setting, g)
    st.logdet = _logdet_of_chol(st.L)


def _step_alpha(st: _PathState, rng, *, n, d, draw, g, setting) -> None:
    """One generation of ``alpha-<a>``: ``k_fresh`` points of the true law, the rest of the model's."""
    R, k_fresh = st.mu.shape[0], st.k_fresh
    k1 = n - k_fresh
    z1, C1 = batch_statistics(rng, R, k1, d, draw=draw)
    x2, C2 = batch_statistics(rng, R, k_fresh, d, draw=draw)
    m1 = st.mu + _mat_vec(st.L, z1)
    delta = m1 - x2
    LC1 = st.L @ C1
    S = (LC1 @ LC1.transpose(0, 2, 1) + C2 @ C2.transpose(0, 2, 1)
         + np.einsum("ri,rj->rij", delta, delta) * (k1 * k_fresh / n))
    st.mu = (k1 * m1 + k_fresh * x2) / n
    st.L = _chol(S / n, setting, g)
    st.logdet = _logdet_of_chol(st.L)


_STEPS = {"replace": _step_replace, "accumulate": _step_accumulate, "accumulate-subsample": _step_subsample}


def naive_recursion(d: int, n: int, *, generations: int, seed: int = 0) -> np.ndarray:
    """One ``replace`` path done the naive way, for contrast: ``np.cov(bias=True)`` of the points and
    ``rng.multivariate_normal`` from the refit, ``log det`` by ``np.linalg.slogdet``.

    Returns the ``(generations + 1,)`` array of ``log det Sigma_g`` (``nan`` from the first generation
    whose covariance can no longer be factored or has a non-positive determinant, and after it).
    """
    d, n = check_sizes(d, n)
    rng = np.random.default_rng(seed)
    mean, cov = np.zeros(d), np.eye(d)
    out = np.full(generations + 1, np.nan)
    out[0] = 0.0
    for g in range(1, generations + 1):
        try:
            X = rng.multivariate_normal(mean, cov, size=n, method="cholesky")
        except np.linalg.LinAlgError:
            break
        mean, cov = X.mean(axis=0), np.atleast_2d(np.cov(X, rowvar=False, bias=True))
        sign, value = np.linalg.slogdet(cov)
        if not sign > 0 or not np.isfinite(value):
            break
        out[g] = value
    return out
