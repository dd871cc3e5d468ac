"""Input checks shared by every module: one place for the error messages.

Each check raises ``ValueError`` (or ``TypeError`` for a wrong kind of object) naming the
argument, the problem and what to do, in the style of scikit-learn's ``check_array``, so that a
bad input fails loudly before any maths runs instead of being silently misread (a negative
index wrapped around, a float index truncated, an imaginary part dropped, a string read as a
list of characters).
"""
from __future__ import annotations

import numbers

import numpy as np

#: Relative round-off tolerance of the PSD check: a symmetric ``d x d`` matrix counts as positive
#: semi-definite when ``lambda_min >= -PSD_RTOL * d * max_ij |A_ij|``. ``d max|A_ij|`` bounds
#: ``||A||_2``; a float64 Gram's eigenvalue round-off is ``~ d eps_machine ||A||_2``, far below
#: this for any ``d`` up to ~1e5, while a matrix that is not a Gram fails by orders of magnitude.
PSD_RTOL = 1e-10


def _real_numeric(A, name: str) -> np.ndarray:
    """``A`` as an array of a real numeric dtype; ``TypeError`` for complex, text or objects."""
    A = np.asarray(A)
    if A.dtype.kind == "c":
        raise TypeError(
            f"{name} is complex (dtype {A.dtype}), but must be real; pass {name}.real if the "
            "imaginary part is only round-off"
        )
    if A.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a numeric array, got dtype {A.dtype}")
    return A


def as_embeddings(X, name: str = "embeddings", allow_float32: bool = True) -> np.ndarray:
    """Return ``X`` as a 2-D float array of shape ``(N, d)``: one embedding per row.

    Raises ``TypeError`` if ``X`` is not real-valued numeric (complex, boolean, text, objects)
    and ``ValueError`` if it is not 2-D, is empty, or holds NaN or Inf.
    Float32 input is kept as float32 (callers accumulate in float64); other dtypes become float64.
    """
    X = _real_numeric(X, name)
    if X.dtype == bool:
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

    Raises ``TypeError`` if ``A`` is complex or not numeric (its imaginary part is never
    dropped silently), and ``ValueError`` if ``A`` is not square, holds NaN/Inf, or is not
    symmetric to ``rtol`` relative to its largest entry (float accumulation leaves ~1e-16
    asymmetry, a wrong input leaves much more).
    """
    A = _real_numeric(A, name).astype(np.float64, copy=False)
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


def psd_tolerance(A: np.ndarray) -> float:
    """Round-off tolerance ``PSD_RTOL * d * max_ij |A_ij|`` below which an eigenvalue counts as 0."""
    return PSD_RTOL * A.shape[0] * float(np.max(np.abs(A)))


def check_psd(A: np.ndarray, name: str, eigenvalues=None) -> None:
    """Raise ``ValueError`` unless the symmetric matrix ``A`` is positive semi-definite.

    ``A`` passes when ``lambda_min(A) >= -tol`` with ``tol =`` :func:`psd_tolerance` (round-off).
    Cheap: one Cholesky attempt of ``A + tol I`` (``d^3 / 3`` flops); the eigenvalues are computed
    only when it fails, to report the smallest. Pass ``eigenvalues`` (ascending) when the caller
    has them already: then nothing is factored.
    """
    tol = psd_tolerance(A)
    if eigenvalues is None:
        try:
            np.linalg.cholesky(A + tol * np.eye(A.shape[0]))
            return
        except np.linalg.LinAlgError:
            eigenvalues = np.linalg.eigvalsh(A)
    lam_min = float(eigenvalues[0])
    if lam_min < -tol:
        raise ValueError(
            f"{name} is not positive semi-definite: its smallest eigenvalue is {lam_min:.3g} "
            f"(round-off tolerance {tol:.2g}); a Gram matrix X^T X has none below 0, so pass the "
            f"float64 Gram of your embeddings (sigma_lib.gram_matrix)"
        )


def as_gram(A, name: str = "G_m") -> np.ndarray:
    """Return ``A`` as a float64 symmetric PSD matrix: :func:`as_square_symmetric` then :func:`check_psd`."""
    A = as_square_symmetric(A, name)
    check_psd(A, name)
    return A


def check_eps(eps, name: str = "eps") -> float:
    """Return the ridge ``eps`` of (B.1) as a float; ``ValueError`` unless finite and ``> 0``."""
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(eps).__name__} {eps!r}")
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(
            f"{name} must be a finite positive number (the ridge of (B.1), e.g. 1e-3), got {eps!r}"
        )
    return float(eps)


def check_count(value, name: str) -> int:
    """Return a count (``N``, ``m``, ``d``) as ``int``; refuse non-integers and values below 1.

    Whole-number floats (``100.0``) are accepted; ``100.5`` is refused, never truncated.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive integer, got {type(value).__name__} {value!r}")
    if not np.isfinite(value) or int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer (a count), got {value!r}")
    return int(value)


def check_observed_size(N, m) -> tuple[int, int]:
    """Return ``(N, m)`` as ints; ``ValueError`` unless both are positive integers with ``m <= N``."""
    N, m = check_count(N, "N"), check_count(m, "m")
    if m > N:
        raise ValueError(f"observed block size m={m} exceeds the number of embeddings N={N}")
    return N, m


def check_block_sizes(N: int, m: int, d: int, require_m_above_d: bool = True) -> None:
    """Check the paper's regime ``d < m <= N`` (Sec. 3.1) and raise a clear ``ValueError`` if not.

    ``m <= d`` makes the observed Gram ``G_m`` rank-deficient (log det = -inf); the regularised
    monitors stay finite, so callers that accept that (bucket slices) pass
    ``require_m_above_d=False``.
    """
    N, m = check_observed_size(N, m)
    d = check_count(d, "d")
    if require_m_above_d and m <= d:
        raise ValueError(
            f"observed block size m={m} must exceed the embedding dimension d={d} "
            f"(the paper's regime d < m < N); with m <= d the observed Gram is singular"
        )


def as_index_set(
    indices, name: str = "observed", N: int | None = None, require_sorted: bool = False
) -> np.ndarray:
    """Return row indices as a non-empty 1-D ``int64`` array of distinct, non-negative integers.

    Refuses what numpy indexing would silently misread: a boolean mask (``TypeError``), a
    non-whole float (numpy would truncate it), a negative index (numpy would count it from the
    end), a duplicate (the observed block is a *set* of ``m`` rows) and, when ``N`` is given, an
    index ``>= N``. Whole-number floats (``3.0``) are accepted.

    Parameters
    ----------
    indices : array-like of int
    name : str
        The argument's name, for the messages.
    N : int, optional
        Number of rows indexed; checks the range ``[0, N)`` when given.
    require_sorted : bool
        Also require strictly increasing order (streaming consumers); otherwise any order.

    Returns
    -------
    ndarray of shape (m,), dtype int64, in the given order.
    """
    idx = np.asarray(indices)
    if idx.dtype == bool:
        raise TypeError(
            f"{name} is a boolean mask; pass the integer indices of the rows instead, e.g. np.flatnonzero(mask)"
        )
    if idx.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold integer row indices, got dtype {idx.dtype}")
    if idx.ndim != 1 or idx.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of row indices, got shape {idx.shape}")
    if idx.dtype.kind == "f":
        whole = np.isfinite(idx) & (idx == np.round(idx))
        if not whole.all():
            j = int(np.flatnonzero(~whole)[0])
            raise ValueError(
                f"{name} must hold whole-number row indices, got {float(idx[j]):g} at position {j}; "
                "indices are never rounded or truncated"
            )
    idx = idx.astype(np.int64)
    if idx.min() < 0:
        j = int(np.flatnonzero(idx < 0)[0])
        raise ValueError(
            f"{name} holds the negative index {int(idx[j])} at position {j}; row indices must lie in "
            "[0, N) (they never count from the end)"
        )
    if N is not None:
        check_index_range(idx, N, name)
    steps = np.diff(idx)
    if require_sorted and np.any(steps < 0):
        j = int(np.flatnonzero(steps < 0)[0]) + 1
        raise ValueError(
            f"{name} must be sorted ascending (index {int(idx[j])} at position {j} is out of order); "
            "sort it first (np.sort)"
        )
    ordered = idx if require_sorted else np.sort(idx)
    dup = np.flatnonzero(np.diff(ordered) == 0)
    if dup.size:
        raise ValueError(
            f"{name} holds the index {int(ordered[dup[0]])} more than once ({dup.size} duplicate(s)); "
            "the observed block is a set of distinct rows: remove the duplicates (np.unique)"
        )
    return idx


def check_index_range(idx: np.ndarray, N: int, name: str = "observed") -> None:
    """Raise ``ValueError`` naming the first index of ``idx`` outside ``[0, N)``."""
    over = np.flatnonzero(idx >= N)
    if over.size:
        j = int(over[0])
        raise ValueError(
            f"{name} index {int(idx[j])} (position {j}) is out of range for N={N} embeddings; "
            f"valid row indices are 0 to {N - 1}"
        )
