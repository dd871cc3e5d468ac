"""Forecasting the drift a few generations ahead: dynamic mode decomposition against two baselines.

The paper's outlook proposes Koopman operators for the recursion's spectral dynamics. The simplest
finite-dimensional version is (exact) dynamic mode decomposition, DMD (Schmid 2010; Tu et al. 2014):
given snapshots ``x_0, ..., x_t`` of a state, fit one linear map ``A`` with ``x_{j+1} ~ A x_j``
by least squares,

    A = Y X^+,   X = [x_0 ... x_{t-1}],   Y = [x_1 ... x_t],                       (DMD)

(``X^+`` the Moore-Penrose pseudo-inverse, truncated to the numerical rank of ``X``), and forecast
``x_{t+k} = A^k x_t``. The state used by the book is the generation's log-spectrum of ``G_m/m``,

    x_g = ( log(lambda_i(G_m/m) + eps/m) )_{i=1..d},   so that   sum_i x_{g,i} = U_g   (3.20), (B.18),

and the forecast Track II drift is ``sum_i x_{t+k,i} - U_0`` (3.21).

It is written in NumPy (no PyDMD) on purpose: a run has 3 to 6 snapshots, so the whole fit is one
SVD of a ``d x t`` matrix with ``t <= 5``. PyDMD's ``DMD(exact=True)`` fits the same operator (its
eigenvalues agree with :attr:`DMDModel.eigenvalues` at the same rank) but forecasts from modes and
amplitudes fitted to the first snapshot, with rank heuristics and time grids that add nothing to
"apply the fitted map ``k`` times to the last snapshot".

The two baselines: persistence (the next value is the last one) and linear extrapolation through
the last two values.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .validation import as_gram, check_count, check_eps


def _series(values, name: str, min_length: int) -> np.ndarray:
    """``values`` as a finite 1-D float array of at least ``min_length`` entries."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence (one value per generation), got shape {arr.shape}")
    if arr.size < min_length:
        raise ValueError(f"{name} needs at least {min_length} values, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return arr


def _horizon(steps) -> int:
    if isinstance(steps, (bool, np.bool_)) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer (generations ahead), got {steps!r}")
    return int(steps)


def persistence_forecast(values, steps: int = 1) -> float:
    """Persistence: the value ``steps`` generations after the last one is the last one.

    Parameters
    ----------
    values : sequence of float, shape (t+1,)
        The series up to the forecast origin (``t + 1 >= 1`` values, oldest first).
    steps : int
        Horizon ``k >= 1`` in generations.

    Returns
    -------
    float, ``values[-1]``.

    Raises
    ------
    ValueError
        If ``values`` is empty, not 1-D or not finite, or ``steps`` is not a positive integer.
    """
    _horizon(steps)
    return float(_series(values, "values", 1)[-1])


def linear_forecast(values, steps: int = 1) -> float:
    """Linear extrapolation through the last two values: ``y_t + k (y_t - y_{t-1})``.

    Parameters
    ----------
    values : sequence of float, shape (t+1,), ``t >= 1``
    steps : int
        Horizon ``k >= 1`` in generations.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If there are fewer than two values, they are not finite, or ``steps`` is not a positive integer.
    """
    k = _horizon(steps)
    y = _series(values, "values", 2)
    return float(y[-1] + k * (y[-1] - y[-2]))


@dataclass(frozen=True)
class DMDModel:
    """An exact DMD fit ``A = Y X^+`` kept in factored form, ``A = Y V S^{-1} U^T``.

    Attributes
    ----------
    left : array (n, r)
        ``U``, the leading left singular vectors of ``X`` (r = numerical rank).
    right : array (n, r)
        ``Y V S^{-1}``; ``A x = right @ (left.T @ x)``.
    eigenvalues : array (r,), complex
        Eigenvalues of the reduced operator ``U^T A U`` (the DMD eigenvalues: growth per generation).
    rank : int
        ``r``.
    """

    left: np.ndarray
    right: np.ndarray
    eigenvalues: np.ndarray
    rank: int

    @property
    def operator(self) -> np.ndarray:
        """The full ``n x n`` operator ``A = Y X^+`` (only for small ``n``: tests, inspection)."""
        return self.right @ self.left.T

    def step(self, x: np.ndarray) -> np.ndarray:
        """``A x`` for a state ``x`` of shape (n,)."""
        return self.right @ (self.left.T @ x)


def dmd_fit(snapshots, rank: int | None = None, rtol: float = 1e-10) -> DMDModel:
    """Exact dynamic mode decomposition of a snapshot sequence (DMD in the module docstring).

    Parameters
    ----------
    snapshots : array (t+1, n)
        One state per row, oldest first; at least two rows (one transition).
    rank : int, optional
        Truncation rank ``r`` of ``X``'s SVD; by default its numerical rank (singular values above
        ``rtol`` times the largest). A larger ``rank`` than the numerical rank is refused.
    rtol : float
        Relative threshold of the numerical rank, in ``(0, 1)``.

    Returns
    -------
    DMDModel

    Raises
    ------
    ValueError
        If ``snapshots`` is not a finite 2-D array with at least two rows and one column, ``X`` is
        zero, or ``rank`` is not an integer in ``[1, numerical rank]``.
    """
    S = np.asarray(snapshots, dtype=np.float64)
    if S.ndim != 2 or S.shape[0] < 2 or S.shape[1] < 1:
        raise ValueError(f"snapshots must be a 2-D array (generations, state) with at least 2 rows, "
                         f"got shape {S.shape}")
    if not np.all(np.isfinite(S)):
        raise ValueError("snapshots must be finite (no NaN or inf)")
    if not 0 < rtol < 1:
        raise ValueError(f"rtol must lie in (0, 1), got {rtol!r}")
    X, Y = S[:-1].T, S[1:].T
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    if s.size == 0 or s[0] == 0:
        raise ValueError("the snapshots before the last are all zero: DMD has nothing to fit")
    numerical = int(np.sum(s > rtol * s[0]))
    if rank is None:
        r = numerical
    else:
        if isinstance(rank, (bool, np.bool_)) or not isinstance(rank, (int, np.integer)) or not 1 <= rank <= numerical:
            raise ValueError(f"rank must be an integer in [1, {numerical}] (the numerical rank of X), got {rank!r}")
        r = int(rank)
    Ur, sr, Vr = U[:, :r], s[:r], Vt[:r].T
    right = Y @ Vr / sr
    reduced = Ur.T @ right
    return DMDModel(left=Ur, right=right, eigenvalues=np.linalg.eigvals(reduced), rank=r)


def dmd_forecast(snapshots, steps: int = 1, rank: int | None = None) -> np.ndarray:
    """The state ``steps`` generations after the last snapshot, ``A^k x_t`` with ``A`` from :func:`dmd_fit`.

    Parameters
    ----------
    snapshots : array (t+1, n), ``t >= 1``
    steps : int
        Horizon ``k >= 1``.
    rank : int, optional
        Passed to :func:`dmd_fit`.

    Returns
    -------
    array (n,)

    Raises
    ------
    ValueError
        As :func:`dmd_fit`, or if ``steps`` is not a positive integer.
    """
    k = _horizon(steps)
    model = dmd_fit(snapshots, rank)
    x = np.asarray(snapshots, dtype=np.float64)[-1]
    for _ in range(k):
        x = model.step(x)
    return x


def log_spectrum(G_m, m: int, eps: float) -> np.ndarray:
    """The DMD state of one checkpoint: ``log(lambda_i(G_m/m) + eps/m)``, in decreasing order.

    Its sum is Track II, ``U = log det(G_m/m + (eps/m) I)`` (3.20), (B.18).

    Parameters
    ----------
    G_m : array (d, d)
        Observed Gram of the checkpoint (symmetric PSD).
    m : int
        Observed block size (positive integer).
    eps : float
        Ridge of (B.1), finite and ``> 0``.

    Returns
    -------
    array (d,)

    Raises
    ------
    ValueError
        If ``G_m`` is not symmetric PSD, ``m`` is not a positive integer or ``eps <= 0``.
    """
    eps = check_eps(eps)
    m = check_count(m, "m")
    lam = np.linalg.eigvalsh(as_gram(G_m, "G_m"))[::-1]
    return np.log(np.clip(lam, 0.0, None) / m + eps / m)


#: The forecast methods of :func:`forecast_drift`, with the fewest past values each needs.
METHODS = {"persistence": 1, "linear": 2, "dmd": 2}


def forecast_drift(drifts, spectra, steps: int, baseline_u: float) -> dict:
    """Each method's forecast of the Track II drift ``steps`` generations after the last given one.

    Parameters
    ----------
    drifts : sequence of float, shape (t+1,)
        Track II drift ``U_g - U_0`` for generations ``0..t`` (3.21).
    spectra : array (t+1, d)
        The log-spectra (:func:`log_spectrum`) of the same generations; row sums are ``U_g``.
    steps : int
        Horizon ``k >= 1``.
    baseline_u : float
        ``U_0``, subtracted from the DMD forecast of ``U``.

    Returns
    -------
    dict
        ``{"persistence": ..., "linear": ..., "dmd": ...}``; a method that needs more past values
        than given (``METHODS``) is ``None``.

    Raises
    ------
    ValueError
        If ``drifts`` and ``spectra`` disagree in length or are not finite, or ``steps`` is not a
        positive integer.
    """
    y = _series(drifts, "drifts", 1)
    S = np.asarray(spectra, dtype=np.float64)
    if S.ndim != 2 or S.shape[0] != y.size:
        raise ValueError(f"spectra must have one row per drift value ({y.size}), got shape {S.shape}")
    out = {"persistence": persistence_forecast(y, steps)}
    out["linear"] = linear_forecast(y, steps) if y.size >= METHODS["linear"] else None
    out["dmd"] = float(dmd_forecast(S, steps).sum() - baseline_u) if y.size >= METHODS["dmd"] else None
    return out


def winners(errors: dict, atol: float = 1e-12) -> list[str]:
    """The methods with the smallest absolute error (several when they tie within ``atol``)."""
    valid = {k: abs(v) for k, v in errors.items() if v is not None}
    if not valid:
        raise ValueError("no method has an error to compare")
    best = min(valid.values())
    return sorted(k for k, v in valid.items() if v <= best + atol)
