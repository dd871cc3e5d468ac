"""Summary of a recursion run, as in the paper's Table 1.

Final drifts ``Delta U(g_max)`` and ``Delta Gamma(g_max)``, least-squares slopes of each drift
against generation over ``0..g_max`` (choice), and "track agreement" = both final drifts
negative.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import scipy.stats


@dataclass(frozen=True)
class RunSummary:
    """One row of Table 1: final drifts (nats / dimensionless) and slopes (per generation)."""

    g_max: int
    drift_U_final: float
    slope_U: float
    drift_gamma_final: float
    slope_gamma: float
    track_agreement: bool

    def as_dict(self) -> dict:
        return asdict(self)


def least_squares_slope(x, y) -> float:
    """Ordinary least-squares slope of ``y`` against ``x`` (scipy.stats.linregress)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of the same length, got {x.shape} and {y.shape}")
    if x.size < 2 or np.ptp(x) == 0:
        raise ValueError("a slope needs at least two distinct x values")
    return float(scipy.stats.linregress(x, y).slope)


def run_summary(generations, drift_U, drift_gamma) -> RunSummary:
    """Table 1 row from per-generation drifts (3.21).

    Parameters
    ----------
    generations : sequence of int, starting at the baseline (drift 0).
    drift_U, drift_gamma : sequences of float, Track II and Track I drifts per generation.
    """
    g = np.asarray(generations, dtype=np.float64)
    dU = np.asarray(drift_U, dtype=np.float64)
    dG = np.asarray(drift_gamma, dtype=np.float64)
    if not (g.shape == dU.shape == dG.shape):
        raise ValueError("generations, drift_U and drift_gamma must have the same length")
    if not np.all(np.isfinite(dU)) or not np.all(np.isfinite(dG)):
        raise ValueError("drifts must be finite")
    last = int(np.argmax(g))
    return RunSummary(
        g_max=int(g[last]),
        drift_U_final=float(dU[last]),
        slope_U=least_squares_slope(g, dU),
        drift_gamma_final=float(dG[last]),
        slope_gamma=least_squares_slope(g, dG),
        track_agreement=bool(dU[last] < 0 and dG[last] < 0),
    )
