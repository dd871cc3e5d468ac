"""Where the paper's Track I numbers come from: the constant gap between its two C.4 series.

In the paper's App. C.4 table, the Track I drift equals the Track II drift plus a constant from
generation 2 on (8.935 nats), with a different gap at generation 1 and at two later generations.
This module derives that gap from the printed table and tests normalisations that could produce it.

Two facts decide it:

* A drift is a difference against generation 0 (3.21). Any normalisation that depends only on
  sizes fixed across the run (``d``, ``m``, ``N``, ``B = N - m``, ``eps``) cancels in a drift:
  ``d log m``, ``d log(B + eps)``, ``d log(N/(N-m))``... add the same amount at every generation.
  A constant gap between two drifts therefore needs a size that **changes** between generation 0
  and the later ones.
* For the gap to be exactly independent of the spectrum (as printed, to 1e-6 over 25 generations
  whose drifts move by 180 nats), the two tracks must share the same log-determinant term
  ``log det(G + eps I)``, and differ only by ``d log`` of a size. With that size a count ``n_g``
  (embeddings that enter the Gram at generation ``g``), the gap is ``d log(n_g / n_0)``: the ratio
  ``exp(gap / d)`` is then a ratio of integers, which :func:`integer_counts` looks for.

The functions take the printed series as arguments (``sigma_lib/data/paper_reported.json``); none
holds a paper number.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from .validation import check_count, check_eps


def _series(values, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a non-empty, finite 1-D sequence")
    return arr


def track_gaps(drift_U, drift_gamma) -> np.ndarray:
    """Per generation, Track I drift minus Track II drift: ``DeltaGamma_KF(g) - DeltaU(g)`` (3.21).

    Parameters
    ----------
    drift_U, drift_gamma : sequences of float, shape (G+1,)
        The two drift series, generation 0 first.

    Returns
    -------
    array (G+1,), nats.

    Raises
    ------
    ValueError
        If the series are empty, not finite, or of different lengths.
    """
    u, g = _series(drift_U, "drift_U"), _series(drift_gamma, "drift_gamma")
    if u.shape != g.shape:
        raise ValueError(f"drift_U and drift_gamma must have one value per generation each, got {u.size} and {g.size}")
    return g - u


def gap_constant(generation, drift_U, drift_gamma, from_generation: int = 2, atol: float = 1e-5) -> dict:
    """The constant gap between the tracks' drifts from ``from_generation`` on, derived from the table.

    Returns
    -------
    dict
        ``constant``: the median gap over generations ``>= from_generation`` (nats);
        ``n_at_constant`` / ``n_generations``: how many of those generations are within ``atol``
        of it; ``other_generations``: the generations (all of them) whose gap is not.

    Raises
    ------
    ValueError
        If no generation is ``>= from_generation`` or the series disagree in length.
    """
    gen = np.asarray(generation)
    gaps = track_gaps(drift_U, drift_gamma)
    if gen.shape != gaps.shape:
        raise ValueError(f"generation must have one entry per drift value ({gaps.size}), got {gen.size}")
    later = gen >= from_generation
    if not later.any():
        raise ValueError(f"no generation >= {from_generation}")
    c = float(np.median(gaps[later]))
    near = np.abs(gaps - c) <= atol
    return {"constant": c, "n_at_constant": int(np.sum(near & later)), "n_generations": int(np.sum(later)),
            "other_generations": [int(x) for x in gen[~near]]}


def integer_counts(gaps, d: int, max_count: int = 5000, decimals: int = 6) -> dict | None:
    """The smallest count ``n_0 <= max_count`` that makes every ``n_0 exp(gap_g / d)`` a whole number.

    If the gap between the tracks is ``d log(n_g / n_0)``, this recovers the counts ``n_g`` of
    every generation. The tolerance comes from the print precision: each drift is printed to
    ``decimals`` decimals, so a gap is known to ``2 * 10**-decimals`` and ``n_g`` to
    ``n_g * 2 * 10**-decimals / d``.

    Parameters
    ----------
    gaps : sequence of float, shape (G+1,)
        :func:`track_gaps`.
    d : int
        Embedding dimension assumed.
    max_count : int
        Largest ``n_0`` tried.
    decimals : int
        Decimals of the printed drifts.

    Returns
    -------
    dict or None
        ``{"n0": n_0, "counts": [n_g...], "max_residual": largest distance of an n_g to its integer}``,
        or ``None`` if no ``n_0 <= max_count`` works.

    Raises
    ------
    ValueError
        If ``d`` or ``max_count`` is not a positive integer, or ``gaps`` is not finite.
    """
    d = check_count(d, "d")
    max_count = check_count(max_count, "max_count")
    ratios = np.exp(_series(gaps, "gaps") / d)
    n0 = np.arange(1, max_count + 1, dtype=np.float64)[:, None]
    scaled = n0 * ratios[None, :]
    resid = np.abs(scaled - np.round(scaled))
    tol = scaled * 2 * 10.0 ** -decimals / d + 1e-9
    ok = np.flatnonzero(np.all(resid <= tol, axis=1))
    if ok.size == 0:
        return None
    i = int(ok[0])
    return {"n0": i + 1, "counts": [int(x) for x in np.round(scaled[i])], "max_residual": float(resid[i].max())}


def ratio_as_fraction(gap: float, d: int, max_denominator: int = 5000) -> Fraction:
    """``exp(gap / d)`` as the closest fraction with denominator ``<= max_denominator``."""
    d = check_count(d, "d")
    return Fraction(float(np.exp(gap / d))).limit_denominator(check_count(max_denominator, "max_denominator"))


def candidate_gaps(d: int, m: int, N: int, eps: float, n_first: int, n_later: int) -> list[dict]:
    """Normalisations that could separate Track I from Track II, each evaluated at the given sizes.

    For each candidate, ``size_term`` is what it adds to Track I minus Track II at a generation
    (nats), and ``predicted_gap`` what that does to the gap between their drifts (3.21) at a later
    generation; the paper's sizes are the caller's (``d = 384`` MiniLM, ``m``, ``N``; ``n_first``,
    ``n_later``: embeddings entering the Gram at generation 0 and later, when that count varies).

    Parameters
    ----------
    d, m, N : int
        Embedding dimension, observed block and total count (``m <= N``; ``B = N - m``).
    eps : float
        Ridge of (B.1).
    n_first, n_later : int
        Counts for the candidates in which the Gram's count changes between generations.

    Returns
    -------
    list of dict with ``candidate``, ``formula`` (Markdown), ``size_term``, ``predicted_gap``.

    Raises
    ------
    ValueError
        On a non-positive count, ``m > N`` or a non-positive ``eps``.
    """
    d, m, N = check_count(d, "d"), check_count(m, "m"), check_count(N, "N")
    n_first, n_later = check_count(n_first, "n_first"), check_count(n_later, "n_later")
    eps = check_eps(eps)
    if m > N:
        raise ValueError(f"m must be <= N, got m={m}, N={N}")
    B = N - m
    log = np.log

    def fixed(name, formula, term):
        # a size-only term with sizes fixed over the run: the same at generation 0 and later
        return {"candidate": name, "formula": formula, "size_term": float(term),
                "predicted_gap": float(term - term)}

    rows = [
        fixed("(3.19) against (3.20): G_m against G_m/m, m fixed", "$d\\log m$", d * log(m)),
        fixed("tail term of (3.18), B = N - m fixed", "$d\\log(B+\\varepsilon)$", d * log(B + eps)),
        fixed("tail budget relative to the block", "$d\\log\\frac{N}{N-m}$", d * log(N / B) if B else np.inf),
        fixed("whole set against the block", "$d\\log\\frac{N}{m}$", d * log(N / m)),
        fixed("ridge scaled by m (eps against eps/m)", "$d\\log(1+\\varepsilon)$", d * log(1 + eps)),
    ]
    for dim, name in ((d, "d"), (2 * d, "2d")):
        # Track II = log det(G + eps I) - d log n_g (the Gram divided by its count n_g), Track I =
        # log det(G + eps I) - d log(B + eps): their difference d log n_g - d log(B + eps) moves with n_g
        rows.append({"candidate": f"G/n_g in Track II only, n_g the count of embeddings in the Gram ({dim} dimensions)",
                     "formula": f"${name}\\log(n_g/n_0)$", "size_term": float(dim * log(n_later)),
                     "predicted_gap": float(dim * log(n_later / n_first))})
    return rows
