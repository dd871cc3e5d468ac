"""Input checks shared by every module: one place for the error messages.

Each check raises ``ValueError`` (or ``TypeError``) naming the argument and the problem, in the
style of scikit-learn, so that a bad embedding file fails loudly before any maths runs.
"""
from __future__ import annotations

import numpy as np


def as_embeddings(X, name: str = "embeddings", allow_float32: bool = True) -> np.ndarray:
    """Return ``X`` as a 2-D float array of shape ``(N, d)``: one embedding per row.

    Raises ``ValueError`` if ``X`` is not 2-D, is empty, or holds NaN or Inf.
    Float32 input is kept as float32 (callers accumulate in float64); other dtypes become float64.
    """
    X = np.asarray(X)
    if X.dtype == object or not np.issubdtype(X.dtype, np.number):
        raise TypeError(f"{name} must be a numeric array, got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D with shape (N, d), got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {X.shape})")
    if not (allow_float32 and X.dtype == np.float32):
        X = X.astype(np.float64, copy=False)
    check_finite(X, name)
    return X


def check_finite(A: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` naming how many NaN / Inf entries ``A`` holds, and the first one."""
    finite = np.isfinite(A)
    if not finite.all():
        bad = np.argwhere(~finite)
        n_nan = int(np.isnan(A).sum())
        n_inf = int(np.isinf(A).sum())
        raise ValueError(
            f"{name} contains non-finite values ({n_nan} NaN, {n_inf} Inf; first at index "
            f"{tuple(int(i) for i in bad[0])})"
        )


def as_square_symmetric(A, name: str = "A", rtol: float = 1e-8) -> np.ndarray:
    """Return ``A`` as a float64 symmetric matrix, symmetrised ``(A + A^T) / 2``.

    Raises ``ValueError`` if ``A`` is not square, holds NaN/Inf, or is not symmetric to
    ``rtol`` relative to its largest entry (float accumulation leaves ~1e-16 asymmetry, a wrong
    input leaves much more).
    """
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {A.shape}")
    if A.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    check_finite(A, name)
    scale = float(np.max(np.abs(A))) or 1.0
    asym = float(np.max(np.abs(A - A.T)))
    if asym > rtol * scale:
        raise ValueError(
            f"{name} is not symmetric: max |A - A^T| = {asym:.3g} (relative {asym / scale:.3g} > {rtol:g})"
        )
    return 0.5 * (A + A.T)


def check_block_sizes(N: int, m: int, d: int, require_m_above_d: bool = True) -> None:
    """Check the paper's regime ``d < m <= N`` (Sec. 3.1) and raise a clear ``ValueError`` if not.

    ``m <= d`` makes the observed Gram ``G_m`` rank-deficient (log det = -inf); the regularised
    monitors stay finite, so callers that accept that (bucket slices) pass
    ``require_m_above_d=False``.
    """
    for value, label in ((N, "N"), (m, "m"), (d, "d")):
        if int(value) != value or value < 1:
            raise ValueError(f"{label} must be a positive integer, got {value!r}")
    if m > N:
        raise ValueError(f"observed block size m={m} exceeds the number of embeddings N={N}")
    if require_m_above_d and m <= d:
        raise ValueError(
            f"observed block size m={m} must exceed the embedding dimension d={d} "
            f"(the paper's regime d < m < N); with m <= d the observed Gram is singular"
        )
