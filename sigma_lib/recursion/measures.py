"""The per-generation measures: both Sigma-UB tracks with drift and noise band, surface proxies,
the spectral peers (Vendi, RankMe), per-bucket Track II (App. C.6), computed from a checkpoint's
responses and their embeddings."""
from __future__ import annotations

import numpy as np

from ..maths.algorithm1 import algorithm1
from ..maths.monitor import SigmaMonitor
from ..maths.signals import rankme, vendi_score
from ..maths.surface import distinct_n, hashed_ngram_hhi

HHI_N, HHI_BUCKETS = 4, 2**20


TRACK_KEYS = ("N", "m", "d", "U", "gamma_kf", "drift_U", "drift_gamma_kf", "noise_U", "noise_gamma_kf", "sd_U",
              "sd_gamma_kf")


def baseline_monitor(emb0: np.ndarray, m: int, seed: int, eps: float, n_draws: int, *,
                     require_m_above_d: bool = True) -> SigmaMonitor:
    """A run's monitor with its baseline ``emb0`` measured once (index sets fixed by ``seed``,
    identical for every checkpoint of the run: Algorithm 1); its record is ``records[0]``.
    ``require_m_above_d=False`` admits an encoder wider than ``m`` (``U`` finite through ``eps``)."""
    mon = SigmaMonitor(emb0.shape[0], m, seed=seed, eps=eps, n_draws=n_draws)
    mon.update(emb0, "baseline", require_m_above_d=require_m_above_d)
    return mon


def track_metrics(emb: np.ndarray, monitor: SigmaMonitor) -> dict:
    """Track I and II of ``emb``, their drift against the monitor's baseline and noise bands."""
    r = monitor.compare(emb)
    return {k: getattr(r, k) for k in TRACK_KEYS}


def surface_metrics(texts: list[str]) -> dict:
    """distinct-2 (pooled) and hashed 4-gram HHI (2^20 buckets), and the count of empty responses."""
    empty = sum(1 for t in texts if not t.strip())
    if empty == len(texts):
        raise ValueError("every response is empty: the model produced no text to measure")
    return {"distinct_2": distinct_n(texts, 2), "hhi": hashed_ngram_hhi(texts, HHI_N, HHI_BUCKETS),
            "empty_responses": empty}


def spectral_metrics(emb: np.ndarray) -> dict:
    """The peers a user would pick instead of Sigma-UB, on the same ``(N, d)`` embeddings: the Vendi
    score (exp of the entropy of the eigenvalues of K/N, cosine kernel) and RankMe (exp of the entropy
    of the normalised singular values); both fall when the responses lose diversity."""
    return {"vendi": vendi_score(emb), "rankme": rankme(emb)}


def bucket_metrics(emb: np.ndarray, emb0: np.ndarray, buckets: list[str], eps: float) -> list[dict]:
    """Track II per prompt bucket on all of the bucket's responses, with drift against ``emb0``.

    A bucket has fewer responses than dimensions (``m <= d``), so ``G_m`` is rank-deficient and
    ``U`` is finite only through ``eps``: compare drifts, not levels, across buckets.
    """
    rows = []
    buckets = np.asarray(buckets)
    for b in sorted(set(buckets.tolist())):
        idx = np.flatnonzero(buckets == b)
        U = algorithm1(emb[idx], np.arange(idx.size), eps, require_m_above_d=False).U
        U0 = algorithm1(emb0[idx], np.arange(idx.size), eps, require_m_above_d=False).U
        rows.append({"bucket": b, "n_responses": int(idx.size), "U": U, "drift_U": U - U0})
    return rows
