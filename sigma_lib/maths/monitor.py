"""A streaming Sigma-UB monitor: checkpoints one at a time, baseline and index set kept.

This is Algorithm 1 run over a training run: the observed index set is fixed when the monitor is
made, the first checkpoint is the baseline ``t0``, and each later checkpoint gets its drift
(3.21) and a noise band from re-drawn index sets (see :mod:`sigma_lib.maths.noise`). Each checkpoint
may be an array or an iterator of chunks, so ``N`` may exceed memory.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .noise import TrackDraws, bootstrap_index_sets, tracks_over_index_sets
from .observed import select_observed_indices
from .tracks import DEFAULT_EPS
from .validation import check_block_sizes


@dataclass(frozen=True)
class CheckpointRecord:
    """One checkpoint's monitor output (all in nats, except ``gamma_kf`` which is dimensionless).

    ``noise_*`` is the standard deviation, over re-drawn index sets, of the drift (0 at the
    baseline by definition); ``sd_*`` is the spread of the value itself.
    """

    checkpoint: str
    N: int
    m: int
    d: int
    eps: float
    U: float
    gamma_kf: float
    drift_U: float
    drift_gamma_kf: float
    noise_U: float
    noise_gamma_kf: float
    sd_U: float
    sd_gamma_kf: float

    def as_dict(self) -> dict:
        return asdict(self)


def monitor_step(draws: TrackDraws, baseline: TrackDraws, checkpoint: str, N: int, m: int,
                 eps: float) -> CheckpointRecord:
    """Drift (3.21) and noise band of one checkpoint against the baseline: the one monitor step.

    ``draws`` and ``baseline`` hold both tracks on the same list of index sets (index 0: the
    run's fixed observed set; 1..: the re-drawn sets of the noise band). The drift is taken on the
    fixed set; its noise is the standard deviation of the drift over the re-drawn sets (NaN when
    the two were measured on different numbers of sets, e.g. checkpoints of different ``N``).
    Used by :class:`SigmaMonitor`, the ``sigma score`` command line, the training callbacks and
    the recursion engine.
    """
    if draws.d != baseline.d:
        raise ValueError(f"checkpoint {checkpoint} has embedding dimension {draws.d}, the baseline had {baseline.d} "
                         "(a different encoder?)")
    same_sets = draws.U.size == baseline.U.size
    change = draws - baseline if same_sets else None
    return CheckpointRecord(
        checkpoint=str(checkpoint), N=int(N), m=int(m), d=draws.d, eps=float(eps),
        U=float(draws.U[0]), gamma_kf=float(draws.gamma_kf[0]),
        drift_U=float(draws.U[0] - baseline.U[0]), drift_gamma_kf=float(draws.gamma_kf[0] - baseline.gamma_kf[0]),
        noise_U=change[1:].sd_U if same_sets else float("nan"),
        noise_gamma_kf=change[1:].sd_gamma_kf if same_sets else float("nan"),
        sd_U=draws[1:].sd_U, sd_gamma_kf=draws[1:].sd_gamma_kf,
    )


class SigmaMonitor:
    """Online Sigma-UB monitor (Algorithm 1) with drift (3.21) and bootstrap noise.

    Parameters
    ----------
    n_embeddings : int
        ``N``, the number of responses per checkpoint (frozen prompt bank times responses per
        prompt); the same at every checkpoint.
    m : int
        Observed block size, ``d < m <= N``.
    seed : int
        Seeds the fixed observed index set and the bootstrap draws.
    eps : float
        Ridge of (B.1), fixed across checkpoints.
    n_draws : int
        Re-drawn index sets for the noise band (0 disables it).

    Examples
    --------
    >>> mon = SigmaMonitor(n_embeddings=800, m=512, seed=0)      # doctest: +SKIP
    >>> rec0 = mon.update(emb_g0, "g0"); rec1 = mon.update(emb_g1, "g1")  # doctest: +SKIP
    >>> rec1.drift_U, rec1.noise_U                               # doctest: +SKIP
    """

    def __init__(self, n_embeddings: int, m: int, seed: int = 0, eps: float = DEFAULT_EPS, n_draws: int = 50):
        check_block_sizes(n_embeddings, m, d=1, require_m_above_d=False)
        if not (np.isfinite(eps) and eps > 0):
            raise ValueError(f"eps must be a finite positive number, got {eps!r}")
        self.N, self.m, self.seed, self.eps, self.n_draws = (int(n_embeddings), int(m), int(seed), float(eps),
                                                             int(n_draws))
        self.observed = select_observed_indices(self.N, self.m, seed)
        # Draws seeded apart from the main set so that the main set is not one of them.
        self._draw_sets = bootstrap_index_sets(self.N, self.m, n_draws, seed + 1) if n_draws > 0 else []
        self._baseline: TrackDraws | None = None
        self.records: list[CheckpointRecord] = []

    def update(self, embeddings, checkpoint: str | int | None = None,
               require_m_above_d: bool = True) -> CheckpointRecord:
        """Measure one checkpoint.

        Parameters
        ----------
        embeddings : array (N, d) or iterable of (n_i, d) chunks
            The checkpoint's response embeddings, in the run's fixed order.
        checkpoint : str or int, optional
            A label (generation number, step); defaults to the record's position.

        Returns
        -------
        CheckpointRecord, also appended to ``self.records``.
        """
        return self.update_from_draws(self.draws(embeddings), checkpoint, require_m_above_d)

    def draws(self, embeddings) -> TrackDraws:
        """Both tracks of ``embeddings`` (array or iterable of chunks) on the fixed and the re-drawn index sets."""
        chunks = [embeddings] if isinstance(embeddings, np.ndarray) else embeddings
        return tracks_over_index_sets(chunks, [self.observed, *self._draw_sets], self.N, self.eps)

    def update_from_draws(self, draws: TrackDraws, checkpoint=None, require_m_above_d: bool = True) -> CheckpointRecord:
        """:meth:`update` for track values already measured on this monitor's index sets (e.g. summed
        over processes); the first call sets the baseline."""
        check_block_sizes(self.N, self.m, draws.d, require_m_above_d)
        if self._baseline is None:
            self._baseline = draws
        label = len(self.records) if checkpoint is None else checkpoint
        rec = monitor_step(draws, self._baseline, label, self.N, self.m, self.eps)
        self.records.append(rec)
        return rec

    def compare(self, embeddings, checkpoint=None, require_m_above_d: bool = True) -> CheckpointRecord:
        """One checkpoint against the baseline measured earlier, without recording it (the
        baseline is measured once per run, not once per checkpoint)."""
        if self._baseline is None:
            raise ValueError("the monitor has no baseline yet: call update() with the baseline checkpoint first")
        draws = self.draws(embeddings)
        check_block_sizes(self.N, self.m, draws.d, require_m_above_d)
        return monitor_step(draws, self._baseline, "" if checkpoint is None else checkpoint, self.N, self.m, self.eps)

    def table(self) -> list[dict]:
        """All records so far as a list of dicts (one row per checkpoint), ready for a CSV."""
        return [r.as_dict() for r in self.records]
