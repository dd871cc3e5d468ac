"""Monte-Carlo checks of Theorems 1-3 and of Sigma-UB, behind the theorem chapter of the book.

Every study is a plain function of its sizes, repetitions and seed, returning a list of dicts
(one table row each) so that a notebook only displays and plots. Column distributions:

* ``"gaussian"``: ``x ~ N(0, diag(mu))``: Theorem 3's and the bias correction's home ground.
* ``"unit_gaussian"``: the same, unit-normalised (what Sigma-UB feeds on). For isotropic
  ``mu`` this makes ``xi = x^T Sigma^{-1} x = d`` exactly, so ``sigma_xi = 0``.
* ``"student_t"``: ``x = sqrt(mu) * t_df`` coordinate-wise, heavy tails (finite 4th moment for
  ``df > 4``).
* ``"population"`` (:func:`non_gaussian_bias_study` only): rows drawn with replacement from a
  finite set of real embeddings, the "truth distribution" being their empirical law.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
from tqdm import tqdm

from ..common import profiles
from ..common.params import require_int, resolve_profile
from .bias_correction import (
    bias_corrected_estimate,
    bias_corrected_interval,
    digamma_offset_variance,
    moment_corrected_offset,
    moment_corrected_variance,
    naive_bias,
    paper_interval_coverage,
    wishart_digamma_sum,
)
from .gram import unit_normalize
from .logdet import cholesky_logdet, logdet, regularized_logdet
from .theorem1 import (
    overestimation_ratio_asymptotic,
    overestimation_ratio_measured,
    theorem1_bounds,
)
from .theorem2 import plugin_estimate, size_invariant_logdet
from .theorem3 import (
    SIGMA_XI_METHODS,
    Interval,
    estimate_sigma_xi,
    in_sample_coverage,
    in_sample_variance_factor,
    required_block_size,
    sigma_xi2_estimates,
    theorem3_interval,
    z_value,
)
from .tracks import DEFAULT_EPS, track1_envelope, track2_u_lln_cov

KINDS = ("gaussian", "unit_gaussian", "student_t")
ADVERSARIAL_KINDS = (
    "gaussian", "ill_conditioned", "rank_deficient_block", "m_just_above_d", "scale_gap", "heavy_tailed",
)


def anisotropic_spectrum(d: int, kappa: float) -> np.ndarray:
    """Eigenvalues ``mu_i`` decaying geometrically from 1 to ``1/kappa`` (condition number ``kappa``)."""
    if kappa < 1:
        raise ValueError(f"kappa must be >= 1, got {kappa}")
    return np.logspace(0, -np.log10(kappa), d) if d > 1 else np.ones(1)


def draw_columns(kind: str, rng: np.random.Generator, N: int, d: int, mu=None, df: float = 5.0) -> np.ndarray:
    """``N`` i.i.d. embeddings of shape ``(N, d)`` of the given kind (see module docstring)."""
    scale = np.sqrt(np.ones(d) if mu is None else np.asarray(mu, dtype=np.float64))
    if kind == "gaussian":
        return rng.standard_normal((N, d)) * scale
    if kind == "unit_gaussian":
        return unit_normalize(rng.standard_normal((N, d)) * scale)
    if kind == "student_t":
        return rng.standard_t(df, size=(N, d)) * scale
    raise ValueError(f"unknown kind {kind!r}; choose from {KINDS}")


def adversarial_case(kind: str, rng: np.random.Generator, d: int) -> tuple[np.ndarray, np.ndarray]:
    """An embedding matrix and observed mask built to stress Theorem 1 (3.4).

    Kinds: ``ill_conditioned`` (coordinate scales 1e-3..1e3), ``rank_deficient_block`` (observed
    rows in a d/2-dimensional subspace), ``m_just_above_d`` (``m = d + 1``), ``scale_gap``
    (unobserved rows 1e3 times larger), ``heavy_tailed`` (Student-t, 2.5 dof), ``gaussian``.
    Returns ``(X, mask)`` with ``X`` of shape ``(N, d)`` and ``mask`` the observed rows.
    """
    N = 6 * d + 20
    m = d + 1 if kind == "m_just_above_d" else 3 * d
    X = rng.standard_t(2.5, size=(N, d)) if kind == "heavy_tailed" else rng.standard_normal((N, d))
    if kind == "ill_conditioned":
        X *= np.logspace(-3, 3, d)
    mask = np.zeros(N, dtype=bool)
    mask[rng.choice(N, size=m, replace=False)] = True
    if kind == "rank_deficient_block":
        basis = rng.standard_normal((max(1, d // 2), d))
        X[mask] = rng.standard_normal((m, basis.shape[0])) @ basis
    if kind == "scale_gap":
        X[~mask] *= 1e3
    if kind not in ADVERSARIAL_KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose from {ADVERSARIAL_KINDS}")
    return X, mask


def theorem1_violations(kinds: Iterable[str] = ADVERSARIAL_KINDS, d: int = 16, reps: int = 200, seed: int = 0,
                        progress: bool = False) -> list[dict]:
    """Count violations of both halves of Theorem 1 (3.4) over ``reps`` draws per kind.

    A violation is ``log det G_m > log det G`` or ``log det G > upper bound`` beyond a relative
    round-off tolerance of 1e-9. Also reports the mean gap to each bound (nats).
    """
    rows = []
    for kind in kinds:
        rng = np.random.default_rng([seed, ADVERSARIAL_KINDS.index(kind)])
        low_v = up_v = 0
        gaps_low, gaps_up = [], []
        for _ in tqdm(range(reps), desc=f"Theorem 1, {kind}", disable=not progress):
            X, mask = adversarial_case(kind, rng, d)
            Gm, Gr = X[mask].T @ X[mask], X[~mask].T @ X[~mask]
            b = theorem1_bounds(Gm, Gr)
            L = logdet(Gm + Gr)
            tol = 1e-9 * max(1.0, abs(L)) if np.isfinite(L) else 0.0
            low_v += int(b.lower > L + tol)
            up_v += int(L > b.upper + tol)
            if np.isfinite(b.lower) and np.isfinite(L):
                gaps_low.append(L - b.lower)
            if np.isfinite(L):
                gaps_up.append(b.upper - L)
        rows.append(dict(
            kind=kind, d=d, reps=reps, lower_violations=low_v, upper_violations=up_v,
            mean_gap_to_lower=float(np.mean(gaps_low)) if gaps_low else float("nan"),
            mean_gap_to_upper=float(np.mean(gaps_up)) if gaps_up else float("nan"),
        ))
    return rows


def overestimation_vs_anisotropy(kappas: Sequence[float] = (1, 10, 100, 1000), d: int = 16, m: int = 2000,
                                 N: int = 8000, reps: int = 20, seed: int = 0) -> list[dict]:
    """Theorem 1's looseness ``log R`` (3.7) measured on Gaussian columns vs its limit (3.8)."""
    rows = []
    for j, kappa in enumerate(kappas):
        mu = anisotropic_spectrum(d, kappa)
        rng = np.random.default_rng([seed, j])
        logR = []
        for _ in range(reps):
            X = draw_columns("gaussian", rng, N, d, mu)
            Gm, Gr = X[:m].T @ X[:m], X[m:].T @ X[m:]
            logR.append(overestimation_ratio_measured(theorem1_bounds(Gm, Gr), logdet(Gm + Gr)))
        rows.append(dict(kappa=kappa, d=d, m=m, N=N, reps=reps,
                         predicted_log_R=overestimation_ratio_asymptotic(mu, m / N),
                         measured_log_R=float(np.mean(logR)), measured_log_R_sd=float(np.std(logR, ddof=1))))
    return rows


def gaussian_expected_logdet(N: int, d: int, mu=None) -> float:
    """Exact ``E[log det G_N]`` for Gaussian columns (Bartlett): ``log det Sigma + d log 2 + sum psi((N-i+1)/2)``."""
    logdet_sigma = 0.0 if mu is None else float(np.sum(np.log(mu)))
    return logdet_sigma + d * np.log(2.0) + wishart_digamma_sum(N, d)


def scaling_law(Ns: Sequence[int] = (128, 256, 512, 1024, 2048, 4096, 8192), d: int = 64, kappa: float = 10.0,
                reps: int = 30, seed: int = 0) -> list[dict]:
    """Theorem 2: ``log det G - d log N`` against ``N`` (flat up to ``O(d^2/N)``), Gaussian columns."""
    mu = anisotropic_spectrum(d, kappa)
    rows = []
    for j, N in enumerate(Ns):
        rng = np.random.default_rng([seed, j])
        vals = [size_invariant_logdet(logdet(X.T @ X), N, d)
                for X in (draw_columns("gaussian", rng, N, d, mu) for _ in range(reps))]
        rows.append(dict(N=N, d=d, reps=reps, mean=float(np.mean(vals)), sd=float(np.std(vals, ddof=1)),
                         exact_expectation=gaussian_expected_logdet(N, d, mu) - d * np.log(N),
                         logdet_sigma=float(np.sum(np.log(mu)))))
    return rows


def estimator_study(grid: Sequence[tuple[int, int, int]], *, reps: int = 100, seed: int = 0, kind: str = "gaussian",
                    alpha: float = 0.05, kappa: float = 1.0, progress: bool = False) -> tuple[list[dict], list[dict]]:
    """Naive plug-in (3.13) with Theorem 3's interval (3.11) vs the bias-corrected estimator.

    For every ``(d, m, N)`` in ``grid`` and ``reps`` draws: the realised ``log det G`` (truth),
    ``log det G_m`` on the first ``m`` (i.i.d., hence random) columns, ``sigma_xi`` estimated from
    that block, both estimators and three intervals: the paper's, the corrected one with the
    exact Gaussian variance, and the corrected one rescaled by the estimated ``sigma_xi``.
    Configurations sharing ``(d, N)`` reuse one draw per repetition (nested blocks).

    Returns
    -------
    (summary_rows, error_rows): one summary row per configuration (biases in nats, coverages as
    fractions), and one row per draw and configuration with the standardised errors.
    """
    groups: dict[tuple[int, int], list[int]] = {}
    for d, m, N in grid:
        if not d < m <= N:
            raise ValueError(f"grid entry (d={d}, m={m}, N={N}) violates d < m <= N")
        groups.setdefault((d, N), []).append(m)
    z = z_value(alpha)
    summary, errors = [], []
    for gi, ((d, N), ms) in enumerate(sorted(groups.items())):
        ms = sorted(set(ms))
        mu = anisotropic_spectrum(d, kappa)
        rng = np.random.default_rng([seed, gi])
        acc = {m: dict(naive=[], corr=[], cov_naive=0, cov_corr=0, cov_corr_sxi=0, sxi=[], hw_naive=[], hw_corr=[])
               for m in ms}
        for r in tqdm(range(reps), desc=f"estimators d={d} N={N}", disable=not progress):
            X = draw_columns(kind, rng, N, d, mu)
            G = np.zeros((d, d))
            start = 0
            logdet_Gm = {}
            for m in ms:
                G += X[start:m].T @ X[start:m]
                start = m
                logdet_Gm[m] = logdet(G)
            G += X[start:].T @ X[start:]
            L = logdet(G)
            for m in ms:
                a = acc[m]
                sxi = estimate_sigma_xi(X[:m])
                naive = theorem3_interval(logdet_Gm[m], N, m, d, sxi, alpha)
                corr = bias_corrected_interval(logdet_Gm[m], N, m, d, alpha)
                corr_sxi = bias_corrected_interval(logdet_Gm[m], N, m, d, alpha, sigma_xi=max(sxi, 1e-12))
                a["naive"].append(L - naive.center)
                a["corr"].append(L - corr.center)
                a["cov_naive"] += naive.covers(L)
                a["cov_corr"] += corr.covers(L)
                a["cov_corr_sxi"] += corr_sxi.covers(L)
                a["sxi"].append(sxi)
                a["hw_naive"].append(naive.half_width)
                a["hw_corr"].append(corr.half_width)
                errors.append(dict(kind=kind, d=d, m=m, N=N, rep=r,
                                   z_naive=((L - naive.center) / (naive.half_width / z)
                                            if naive.half_width > 0 else np.nan),
                                   z_corrected=(L - corr.center) / (corr.half_width / z)))
        for m in ms:
            a = acc[m]
            summary.append(dict(
                kind=kind, d=d, m=m, N=N, reps=reps,
                sigma_xi_gaussian=float(np.sqrt(2 * d)), sigma_xi_estimated=float(np.mean(a["sxi"])),
                bias_naive=float(np.mean(a["naive"])), bias_corrected=float(np.mean(a["corr"])),
                sd_error=float(np.std(a["corr"], ddof=1)),
                half_width_paper=float(np.mean(a["hw_naive"])), half_width_corrected=float(np.mean(a["hw_corr"])),
                coverage_paper=a["cov_naive"] / reps, coverage_corrected=a["cov_corr"] / reps,
                coverage_corrected_sigma_xi=a["cov_corr_sxi"] / reps,
            ))
    return summary, errors


def sample_size_rule_study(half_widths: Sequence[float] = (2.0, 1.0, 0.5), d: int = 64, reps: int = 40,
                           pilot: int = 2000, N_factor: int = 4, seed: int = 0) -> list[dict]:
    """The rule (3.14): choose ``m`` for a target half-width, then measure what is achieved.

    ``sigma_xi`` comes from a pilot block of ``pilot`` Gaussian columns; ``m`` from
    :func:`~sigma_lib.maths.theorem3.required_block_size`; ``N = N_factor * m``. The achieved
    half-width is the 95th percentile of ``|log det G - estimate|`` over ``reps`` draws, for the
    paper's plug-in and for the bias-corrected estimator.
    """
    rng = np.random.default_rng(seed)
    sxi = estimate_sigma_xi(draw_columns("gaussian", rng, pilot, d))
    rows = []
    for target in half_widths:
        m = max(required_block_size(sxi, target), d + 1)
        N = N_factor * m
        err_naive, err_corr = [], []
        for _ in range(reps):
            X = draw_columns("gaussian", rng, N, d)
            Gm = X[:m].T @ X[:m]
            ldm, L = logdet(Gm), logdet(Gm + X[m:].T @ X[m:])
            err_naive.append(abs(L - plugin_estimate(ldm, N, m, d)))
            err_corr.append(abs(L - bias_corrected_estimate(ldm, N, m, d)))
        rows.append(dict(d=d, target_half_width=target, sigma_xi_pilot=sxi, m_chosen=m, N=N, reps=reps,
                         achieved_paper=float(np.quantile(err_naive, 0.95)),
                         achieved_corrected=float(np.quantile(err_corr, 0.95)),
                         predicted_gaussian=z_value(0.05) * float(np.sqrt(digamma_offset_variance(N, m, d)))))
    return rows


def track1_envelope_study(kappas: Sequence[float] = (1, 10, 100, 1000), *, d: int = 64, m: int = 256, N: int = 2048,
                          reps: int = 30, eps: float = DEFAULT_EPS, seed: int = 0) -> list[dict]:
    """Track I's envelope ``log det(G_m + (B+eps)I)`` against the full ``L_eps(G)`` (unit-norm columns).

    Reports violations (must be 0) and the looseness ``envelope - L_eps(G)`` in nats.
    """
    rows = []
    for j, kappa in enumerate(kappas):
        rng = np.random.default_rng([seed, j])
        mu = anisotropic_spectrum(d, kappa)
        loose, viol = [], 0
        for _ in range(reps):
            X = draw_columns("unit_gaussian", rng, N, d, mu)
            Gm = X[:m].T @ X[:m]
            full = regularized_logdet(Gm + X[m:].T @ X[m:], eps)
            env = track1_envelope(Gm, N, m, eps)
            viol += int(full > env + 1e-9 * abs(full))
            loose.append(env - full)
        rows.append(dict(kappa=kappa, d=d, m=m, N=N, reps=reps, violations=viol,
                         looseness_mean=float(np.mean(loose)), looseness_sd=float(np.std(loose, ddof=1))))
    return rows


def track2_convergence(ms: Sequence[int] = (96, 128, 256, 512, 1024, 4096, 16384), *, d: int = 64,
                       kappa: float = 10.0, reps: int = 20, eps: float = DEFAULT_EPS, reference_n: int = 400_000,
                       seed: int = 0) -> list[dict]:
    """Track II ``U`` against ``m`` for unit-normalised Gaussian columns, with ``log det Sigma``.

    ``Sigma`` of unit-normalised anisotropic Gaussians has no closed form; its log det is
    estimated once from ``reference_n`` draws (Monte-Carlo reference, stated in the table).
    """
    mu = anisotropic_spectrum(d, kappa)
    rng = np.random.default_rng([seed, 999])
    ref = draw_columns("unit_gaussian", rng, reference_n, d, mu)
    logdet_sigma = logdet(ref.T @ ref / reference_n)
    rows = []
    for j, m in enumerate(ms):
        rng = np.random.default_rng([seed, j])
        U = []
        for _ in range(reps):
            X = draw_columns("unit_gaussian", rng, m, d, mu)
            U.append(track2_u_lln_cov(X.T @ X, m, eps))
        rows.append(dict(m=m, d=d, reps=reps, U_mean=float(np.mean(U)), U_sd=float(np.std(U, ddof=1)),
                         logdet_sigma_reference=logdet_sigma, gap=float(np.mean(U)) - logdet_sigma))
    return rows


# -- the theorem chapter's three findings (issue 14) ------------------------------------------------
def wishart_draw(rng: np.random.Generator, dof: int, d: int) -> np.ndarray:
    """A ``d x d`` Wishart ``W_d(dof, I)`` matrix (the Gram of ``dof`` standard Gaussian rows), Bartlett.

    ``L L^T`` with ``L`` lower triangular, ``L_ii = sqrt(chi^2_{dof-i+1})`` and standard normals
    below the diagonal: ``O(d^2)`` draws instead of ``dof * d``. Requires ``dof >= d``.
    """
    if not dof >= d >= 1:
        raise ValueError(f"need dof >= d >= 1, got dof={dof}, d={d}")
    L = np.tril(rng.standard_normal((d, d)), -1)
    L[np.diag_indices(d)] = np.sqrt(rng.chisquare(dof - np.arange(d)))
    return L @ L.T


def wilks_logdet_gap(rng: np.random.Generator, N: int, m: int, d: int, size: int) -> np.ndarray:
    """``size`` exact draws of ``log det G - log det G_m`` for Gaussian columns (any ``Sigma``), nats.

    ``det G_m / det G`` is Wilks' Lambda, distributed as ``prod_i u_i`` with independent
    ``u_i ~ Beta((m-i+1)/2, (N-m)/2)``, ``i = 1..d``: ``d`` Beta draws per sample, so the CLT (3.10)
    can be checked at ``m = 10^8`` where forming ``G`` is impossible. Requires ``d < m < N``.
    """
    if not d < m < N:
        raise ValueError(f"need d < m < N, got d={d}, m={m}, N={N}")
    a = (m - np.arange(1, d + 1) + 1) / 2.0
    u = rng.beta(a[:, None], (N - m) / 2.0, size=(d, size))
    return -np.log(u).sum(axis=0)


def principal_unit_columns(P, d: int) -> np.ndarray:
    """Rows of ``P`` (n, D) projected on its ``d`` leading principal directions, then unit-normalised.

    The directions are the top eigenvectors of the (uncentred) second moment ``P^T P / n``, so a
    rank-deficient ``P`` (real embeddings often are) yields a full-rank ``d``-dimensional law;
    unit norm is what Sigma-UB feeds on. Returns an array of shape (n, d).
    """
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 2 or not 1 <= d <= P.shape[1]:
        raise ValueError(f"P must be 2-D with at least d={d} columns, got shape {P.shape}")
    _, vecs = np.linalg.eigh(P.T @ P)
    return unit_normalize(P @ vecs[:, ::-1][:, :d])


def population_sigma_xi2(P) -> float:
    """``Var xi`` (3.9) of the empirical law of the rows of ``P`` (n, d), ``Sigma = P^T P / n`` exactly."""
    P = np.asarray(P, dtype=np.float64)
    xi = np.einsum("ij,ji->i", P, np.linalg.solve(P.T @ P / len(P), P.T))
    return float(np.var(xi))


def student_t_sigma_xi2(d: int, df: float) -> float:
    """``Var xi`` (3.9) of i.i.d. Student-t coordinates: ``d (3 (df-2)/(df-4) - 1)`` (``df > 4``; 8d at df = 5)."""
    if not df > 4:
        raise ValueError(f"Var xi is finite only for df > 4, got df={df}")
    return d * (3.0 * (df - 2) / (df - 4) - 1.0)


def _coverage_se(p: float, reps: int) -> float:
    return float(np.sqrt(max(p * (1 - p), 0.95 * 0.05) / reps))


def sigma_xi_estimator_study(grid: Sequence[tuple[int, int, int]], reps: int = 200, seed: int = 0,
                             alpha: float = 0.05, progress: bool = False) -> list[dict]:
    """Coverage of the bias-corrected interval with ``sigma_xi`` (3.9) from each estimator, Gaussian columns.

    For every ``(d, m, N)`` of ``grid`` and ``reps`` draws: ``X_m`` (m, d) standard Gaussian, the
    rest of ``G`` by :func:`wishart_draw`, and the interval ``log det G_m + D(N, m, d) +- z sqrt(V)``
    (:func:`~sigma_lib.maths.bias_correction.bias_corrected_interval`) with ``V`` the exact Gaussian
    variance (the "true" row) or rescaled by ``sigma_hat^2 / (2d)`` for each estimator of
    :data:`~sigma_lib.maths.theorem3.SIGMA_XI_METHODS`.

    Returns
    -------
    list of dict, one row per configuration: the mean estimate of ``sigma_xi^2`` over its truth
    ``2d`` per method (``ratio_*``; the in-sample one predicted by ``in_sample_factor``), the
    coverages (fractions; ``coverage_se`` their binomial standard error) and the in-sample coverage
    predicted by :func:`~sigma_lib.maths.theorem3.in_sample_coverage`.
    """
    rows = []
    for j, (d, m, N) in enumerate(grid):
        check_grid_entry(d, m, N)
        rng = np.random.default_rng([seed, 14, j])
        cover = {k: 0 for k in ("true",) + SIGMA_XI_METHODS}
        s2 = {k: [] for k in SIGMA_XI_METHODS}
        for _ in tqdm(range(reps), desc=f"sigma_xi d={d} m={m}", disable=not progress):
            X = rng.standard_normal((m, d))
            Gm = X.T @ X  # positive definite (Gaussian rows, m > d): no validation needed
            L, ldm = cholesky_logdet(Gm + wishart_draw(rng, N - m, d)), cholesky_logdet(Gm)
            cover["true"] += bias_corrected_interval(ldm, N, m, d, alpha).covers(L)
            for k, v in sigma_xi2_estimates(X).items():
                s2[k].append(v)
                cover[k] += bias_corrected_interval(ldm, N, m, d, alpha, sigma_xi=max(v, 1e-300) ** 0.5).covers(L)
        row = dict(d=d, m=m, N=N, reps=reps, in_sample_factor=in_sample_variance_factor(m, d))
        row.update({f"ratio_{k.replace('-', '_')}": float(np.mean(v)) / (2 * d) for k, v in s2.items()})
        row.update({f"coverage_{k.replace('-', '_')}": c / reps for k, c in cover.items()})
        row["coverage_in_sample_predicted"] = in_sample_coverage(m, d, alpha)
        row["coverage_se"] = _coverage_se(1 - alpha, reps)
        rows.append(row)
    return rows


NON_GAUSSIAN_KINDS = ("unit_isotropic", "student_t", "population")


def non_gaussian_bias_study(grid: Sequence[tuple[int, int, int]],
                            kinds: Sequence[str] = ("unit_isotropic", "student_t"), *, reps: int = 200, seed: int = 0,
                            alpha: float = 0.05, df: float = 5.0, population=None, method: str = "rescaled",
                            progress: bool = False) -> list[dict]:
    """The Gaussian correction ``D`` against the moment-corrected one on columns that are not Gaussian.

    Kinds: ``"unit_isotropic"`` (unit-normalised standard Gaussians, ``sigma_xi = 0``),
    ``"student_t"`` (``df`` degrees of freedom per coordinate) and ``"population"`` (rows of
    ``population`` (n, D) reduced to ``d`` dimensions by :func:`principal_unit_columns` and drawn
    with replacement; their ``sigma_xi^2`` is exact, :func:`population_sigma_xi2`).

    For each kind, ``(d, m, N)`` of ``grid`` and ``reps`` draws of ``N`` columns: the measured bias
    of the paper's plug-in (3.13) (mean of ``log det G - log det G_m - d log(N/m)``, nats, with its
    standard error), the Gaussian prediction ``D - d log(N/m)``, the moment-corrected prediction
    (:func:`~sigma_lib.maths.bias_correction.moment_corrected_offset`) with the true and with the
    estimated ``sigma_xi^2`` (``method``), and the coverage of the two ``1 - alpha`` intervals
    (:func:`~sigma_lib.maths.bias_correction.bias_corrected_interval`, exact Gaussian variance;
    the moment-corrected one with ``sigma_xi^2`` estimated from ``X_m``, and with the true one).

    Returns
    -------
    list of dict, one row per kind and configuration.
    """
    rows = []
    for k, kind in enumerate(kinds):
        if kind not in NON_GAUSSIAN_KINDS:
            raise ValueError(f"unknown kind {kind!r}; choose from {NON_GAUSSIAN_KINDS}")
        if kind == "population" and population is None:
            raise ValueError("kind 'population' needs the population array (n, D) of real embeddings")
        for j, (d, m, N) in enumerate(grid):
            check_grid_entry(d, m, N)
            rng = np.random.default_rng([seed, 15, k, j])
            if kind == "population":
                pop = principal_unit_columns(population, d)
                s2_true = population_sigma_xi2(pop)
            else:
                s2_true = 0.0 if kind == "unit_isotropic" else student_t_sigma_xi2(d, df)
            h = 1.0 / m - 1.0 / N
            gap, est, cov_g, cov_m, cov_t, sd_m = [], [], 0, 0, 0, []
            for _ in tqdm(range(reps), desc=f"{kind} d={d} m={m}", disable=not progress):
                if kind == "population":
                    X = pop[rng.integers(len(pop), size=N)]
                else:
                    X = draw_columns("unit_gaussian" if kind == "unit_isotropic" else "student_t", rng, N, d, df=df)
                Gm = X[:m].T @ X[:m]
                ldm = logdet(Gm)
                L = logdet(Gm + X[m:].T @ X[m:])
                gap.append(L - ldm)
                s2 = sigma_xi2_estimates(X[:m], (method,))[method]
                est.append(s2)
                cov_g += bias_corrected_interval(ldm, N, m, d, alpha).covers(L)
                sd = float(np.sqrt(moment_corrected_variance(N, m, d, s2)))
                sd_m.append(sd)
                cov_m += Interval(ldm + moment_corrected_offset(N, m, d, s2), z_value(alpha) * sd).covers(L)
                cov_t += Interval(ldm + moment_corrected_offset(N, m, d, s2_true),
                                  z_value(alpha)
                                  * float(np.sqrt(moment_corrected_variance(N, m, d, s2_true)))).covers(L)
            gap = np.asarray(gap)
            plug = d * float(np.log(N / m))
            rows.append(dict(
                kind=kind, d=d, m=m, N=N, reps=reps, sigma_xi2_true=s2_true, sigma_xi2_estimated=float(np.mean(est)),
                bias_measured=float(gap.mean()) - plug, bias_measured_se=float(gap.std(ddof=1) / np.sqrt(reps)),
                bias_gaussian=naive_bias(N, m, d), bias_second_order=(s2_true + d * d - d) / 2 * h,
                bias_moment_true=moment_corrected_offset(N, m, d, s2_true) - plug,
                bias_moment_estimated=float(np.mean([moment_corrected_offset(N, m, d, v) for v in est])) - plug,
                sd_measured=float(gap.std(ddof=1)), sd_gaussian=float(np.sqrt(digamma_offset_variance(N, m, d))),
                sd_moment_estimated=float(np.mean(sd_m)),
                coverage_gaussian=cov_g / reps, coverage_moment=cov_m / reps, coverage_moment_true=cov_t / reps,
                coverage_se=_coverage_se(1 - alpha, reps),
            ))
    return rows


def clt_coverage_study(ds: Sequence[int] = (16, 32, 64, 128, 256, 384), ms: Sequence[int] = (512, 4096, 32768),
                       N_factor: float = 8.0, reps: int = 2000, seed: int = 0, alpha: float = 0.05) -> list[dict]:
    """Coverage of the paper's interval (3.11) against ``m``, Gaussian columns, true ``sigma_xi = sqrt(2d)``.

    The most favourable case for (3.10): the true ``sigma_xi``, the plug-in (3.13) uncorrected,
    ``N = N_factor m``; the gap is drawn exactly by :func:`wilks_logdet_gap` (``m`` up to ``10^8``).
    Pairs with ``m <= d`` are skipped.

    Returns
    -------
    list of dict, one row per ``(d, m)``: the simulated coverage (fraction) with its standard error,
    the normal-approximation prediction
    (:func:`~sigma_lib.maths.bias_correction.paper_interval_coverage`), the bias over the standard
    deviation of the gap and its leading order ``d^{3/2} sqrt(1 - m/N) / (2 sqrt(2m))``.
    """
    z = z_value(alpha)
    rows = []
    for i, d in enumerate(ds):
        for j, m in enumerate(ms):
            d, m = int(d), int(m)
            if m <= d:
                continue
            N = int(round(N_factor * m))
            rng = np.random.default_rng([seed, 16, i, j])
            stat = wilks_logdet_gap(rng, N, m, d, reps) - d * np.log(N / m)
            h = 1.0 / m - 1.0 / N
            cov = float(np.mean(np.abs(stat) <= z * np.sqrt(2 * d * h)))
            rows.append(dict(
                d=d, m=m, N=N, reps=reps, coverage=cov, coverage_se=float(np.sqrt(max(cov * (1 - cov), 1e-12) / reps)),
                coverage_predicted=paper_interval_coverage(N, m, d, alpha),
                bias_over_sd=naive_bias(N, m, d) / float(np.sqrt(digamma_offset_variance(N, m, d))),
                bias_over_sd_leading=d**1.5 * np.sqrt(1 - m / N) / (2 * np.sqrt(2 * m)),
            ))
    return rows


def check_grid_entry(d: int, m: int, N: int) -> None:
    """``ValueError`` unless ``0 < d < m <= N`` (a grid entry of the studies)."""
    if not 0 < d < m <= N:
        raise ValueError(f"grid entry (d={d}, m={m}, N={N}) must satisfy 0 < d < m <= N")


#: Parameter sets of the theorem chapter (:data:`sigma_lib.common.profiles.THEOREMS`), ``eps`` = DEFAULT_EPS.
THEOREM_PROFILES: dict[str, dict] = {name: {**p, "eps": DEFAULT_EPS} for name, p in profiles.THEOREMS.items()}


def theorem_parameters(profile: str = "default", **overrides) -> dict:
    """The theorem chapter's parameters: a profile's values, with non-``None`` overrides applied.

    Raises ``ValueError`` naming the parameter for an unknown profile or name, a repetition
    count below 2, or a grid entry outside ``d < m <= N``.
    """
    params = resolve_profile(THEOREM_PROFILES, profile, overrides, "theorem chapter")
    require_int(params, "seed", 0)
    for key in [k for k in params if k.endswith("_reps")]:
        require_int(params, key, 2)  # a spread needs two draws
    for key in ("coverage_grid", "beyond_grid", "sigma_grid", "nongauss_grid"):
        grid = [tuple(int(v) for v in entry) for entry in params[key]]
        for d, m, N in grid:
            if not 0 < d < m <= N:
                raise ValueError(f"{key} entry (d={d}, m={m}, N={N}) must satisfy 0 < d < m <= N")
        params[key] = grid
    if not params["eps"] > 0:
        raise ValueError(f"eps must be positive, got {params['eps']!r}")
    if any(h <= 0 for h in params["half_widths"]):
        raise ValueError(f"half_widths must be positive, got {params['half_widths']!r}")
    if not params["clt_N_factor"] > 1:
        raise ValueError(f"clt_N_factor must exceed 1, got {params['clt_N_factor']!r}")
    if not params["nongauss_df"] > 4:
        raise ValueError(f"nongauss_df must exceed 4 (a finite fourth moment), got {params['nongauss_df']!r}")
    if any(m <= params["track_d"] for m in params["track_ms"]):
        raise ValueError(f"track_ms must all exceed track_d={params['track_d']}, got {params['track_ms']!r}")
    return params
