"""Does Track II's finite-sample bias cancel in its drift? A simulation behind the theorem chapter.

Sec. 3.4.1 says of Track II (3.20): "While the absolute scaling in Theorem 2 involves an unknown
constant, this constant cancels when we monitor trends", i.e. in the drift (3.21). At the paper's
sizes the constant is large: for Gaussian columns ``E[U] - log det Sigma = d log 2 + sum_i
psi((m-i+1)/2) - d log m`` (about ``-d(d+1)/(2m)``), which depends on ``d`` and ``m`` only, so it
cancels exactly in expectation between two checkpoints measured with the same ``m``. For unit-norm
embeddings (what Sigma-UB feeds on) it also depends on the law of the columns, so the cancellation
is only approximate. :func:`drift_bias_study` measures both.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..common import profiles
from ..common.params import require_int, resolve_profile
from .gram import unit_normalize
from .simulation import anisotropic_spectrum, draw_columns
from .tracks import DEFAULT_EPS, track2_u_lln_cov

#: ``test`` runs in about a second (nbval); ``default`` is the book's, at the book run's sizes
#: (:data:`sigma_lib.common.profiles.DRIFT_BIAS`), ``eps`` = DEFAULT_EPS.
DRIFT_BIAS_PROFILES = {name: {**p, "eps": DEFAULT_EPS} for name, p in profiles.DRIFT_BIAS.items()}


def drift_bias_parameters(profile: str = "default", **overrides) -> dict:
    """The study's parameters for a profile, with non-``None`` overrides, checked."""
    params = resolve_profile(DRIFT_BIAS_PROFILES, profile, overrides, "drift-bias study")
    require_int(params, "reps", 2)
    require_int(params, "d", 1)
    if not params["m"] > params["d"]:
        raise ValueError(f"m must exceed d, got m={params['m']}, d={params['d']}")
    return params


def _logdet_sigma(kind: str, mu: np.ndarray, reference_n: int, rng: np.random.Generator, chunk: int = 10_000) -> float:
    """``log det E[x x^T]``: exact for Gaussian columns, a Monte-Carlo reference for unit-normalised ones."""
    if kind == "gaussian":
        return float(np.sum(np.log(mu)))
    d = len(mu)
    G = np.zeros((d, d))
    done = 0
    while done < reference_n:
        n = min(chunk, reference_n - done)
        X = unit_normalize(rng.standard_normal((n, d)) * np.sqrt(mu))
        G += X.T @ X
        done += n
    return float(np.linalg.slogdet(G / reference_n)[1])


def drift_bias_study(*, d: int = 384, m: int = 512, base_kappa: float = 10.0,
                     kappas: Sequence[float] = (10.0, 100.0, 1000.0), reps: int = 30, reference_n: int = 100_000,
                     eps: float = DEFAULT_EPS, seed: int = 0,
                     kinds: Sequence[str] = ("gaussian", "unit_gaussian")) -> list[dict]:
    """Bias of Track II ``U`` and of its drift ``Delta U`` between a baseline and a contracted law.

    The baseline checkpoint draws ``m`` columns whose covariance has condition number
    ``base_kappa``; the later checkpoint draws ``m`` new columns with condition number ``kappa``
    (the smallest eigenvalues shrink: a contraction). Per ``kind`` and ``kappa``, over ``reps``
    pairs of checkpoints: the mean bias of ``U`` at the later checkpoint (``U - log det Sigma``,
    nats), the mean measured drift, the true drift ``log det Sigma_t - log det Sigma_0``, and
    their difference (the drift's bias) with its standard error.
    """
    rows = []
    for ki, kind in enumerate(kinds):
        rng = np.random.default_rng([seed, ki])
        mu0 = anisotropic_spectrum(d, base_kappa)
        ref0 = _logdet_sigma(kind, mu0, reference_n, rng)
        for kappa in kappas:
            mu = anisotropic_spectrum(d, kappa)
            ref = _logdet_sigma(kind, mu, reference_n, rng)
            U0, Ut = [], []
            for _ in range(reps):
                X0 = draw_columns(kind, rng, m, d, mu0)
                Xt = draw_columns(kind, rng, m, d, mu)
                U0.append(track2_u_lln_cov(X0.T @ X0, m, eps))
                Ut.append(track2_u_lln_cov(Xt.T @ Xt, m, eps))
            drift = np.asarray(Ut) - np.asarray(U0)
            rows.append(dict(kind=kind, d=d, m=m, reps=reps, base_kappa=base_kappa, kappa=kappa,
                             bias_U=float(np.mean(Ut)) - ref, drift_true=ref - ref0, drift_mean=float(drift.mean()),
                             drift_bias=float(drift.mean()) - (ref - ref0),
                             drift_bias_se=float(drift.std(ddof=1) / np.sqrt(reps))))
    return rows
