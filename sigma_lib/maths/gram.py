"""Gram matrices of embeddings, (2.1), (3.1)-(3.3), accumulated in float64.

Embeddings are rows: an array of shape ``(N, d)`` holds ``N`` embeddings of dimension ``d``
(the layout sentence encoders return). The paper's ``X`` is its transpose (``d x N``, one
embedding per column), so ``G = X X^T = sum_j x_j x_j^T`` is ``d x d`` whatever ``N`` is.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from .validation import as_embeddings, check_finite


def unit_normalize(X, name: str = "embeddings") -> np.ndarray:
    """Scale every embedding (row) to unit Euclidean norm, as Track I requires (Sec. 3.4.1).

    Parameters
    ----------
    X : array of shape (N, d)

    Returns
    -------
    ndarray of shape (N, d), float64, each row of norm 1.

    Raises
    ------
    ValueError
        If ``X`` holds NaN/Inf or a zero row (a zero vector has no direction).
    """
    X = as_embeddings(X, name).astype(np.float64, copy=False)
    norms = np.linalg.norm(X, axis=1)
    zero = np.flatnonzero(norms == 0)
    if zero.size:
        raise ValueError(
            f"{name} has {zero.size} all-zero row(s) (first at row {int(zero[0])}); "
            "they cannot be unit-normalised"
        )
    return X / norms[:, None]


def gram_matrix(X) -> np.ndarray:
    """Gram matrix ``G = X X^T = sum_j x_j x_j^T`` (2.1) of row embeddings, in float64.

    Parameters
    ----------
    X : array of shape (N, d); float32 is promoted to float64 before the product.

    Returns
    -------
    ndarray of shape (d, d), symmetric PSD.
    """
    X = as_embeddings(X).astype(np.float64, copy=False)
    G = X.T @ X
    return 0.5 * (G + G.T)


class GramAccumulator:
    """Streaming Gram matrix: add chunks of row embeddings, memory ``O(d^2)`` whatever ``N``.

    Every chunk is converted to float64 before its product, so float32 input loses nothing
    to accumulation round-off. Optionally unit-normalises each row first (Track I convention).

    Parameters
    ----------
    d : int, optional
        Embedding dimension; taken from the first chunk when omitted.
    normalize : bool
        Unit-normalise each row before accumulating.

    Attributes
    ----------
    G : ndarray (d, d)
        The accumulated Gram ``sum_j x_j x_j^T`` so far.
    n : int
        Number of embeddings seen.
    """

    def __init__(self, d: int | None = None, normalize: bool = False):
        self.d = d
        self.normalize = normalize
        self.n = 0
        self._G = None if d is None else np.zeros((d, d))

    def _prepare(self, chunk) -> np.ndarray:
        X = as_embeddings(chunk, "chunk")
        if self.d is None:
            self.d = X.shape[1]
            self._G = np.zeros((self.d, self.d))
        if X.shape[1] != self.d:
            raise ValueError(
                f"chunk has embedding dimension {X.shape[1]}, but earlier chunks had {self.d}"
            )
        return unit_normalize(X, "chunk") if self.normalize else X.astype(np.float64, copy=False)

    def add(self, chunk) -> "GramAccumulator":
        """Add a chunk of shape ``(n_chunk, d)``; returns ``self``."""
        X = self._prepare(chunk)
        self._G += X.T @ X
        self.n += X.shape[0]
        return self

    @property
    def G(self) -> np.ndarray:
        if self._G is None:
            raise ValueError("no embeddings were added: the Gram matrix is undefined")
        return 0.5 * (self._G + self._G.T)


def accumulate_gram(chunks: Iterable, d: int | None = None, normalize: bool = False) -> tuple[np.ndarray, int]:
    """Gram matrix of a stream of row-embedding chunks, (2.1), with ``O(d^2)`` memory.

    Parameters
    ----------
    chunks : iterable of arrays of shape (n_i, d)
    d : int, optional
    normalize : bool
        Unit-normalise each row first.

    Returns
    -------
    (G, N) : the (d, d) float64 Gram matrix and the number of embeddings seen.
    """
    acc = GramAccumulator(d=d, normalize=normalize)
    for chunk in chunks:
        acc.add(chunk)
    return acc.G, acc.n


def gram_matrix_torch(chunks: Iterable, device: str | None = None) -> tuple[np.ndarray, int]:
    """Same as :func:`accumulate_gram`, on a torch device (CUDA when present), in float64.

    Parameters
    ----------
    chunks : iterable of arrays or torch tensors of shape (n_i, d)
    device : str, optional
        ``"cuda"``, ``"cpu"``...; default CUDA if available, else CPU.

    Returns
    -------
    (G, N) : the (d, d) Gram matrix as a float64 numpy array and the count of embeddings.
    """
    import torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    G = None
    n = 0
    for chunk in chunks:
        t = torch.as_tensor(chunk)
        if t.is_complex():
            raise TypeError(
                f"chunk is complex (dtype {t.dtype}), but must be real; pass chunk.real if the "
                "imaginary part is only round-off"
            )
        t = t.to(device=device, dtype=torch.float64)
        if t.ndim != 2:
            raise ValueError(f"chunk must be 2-D with shape (n, d), got shape {tuple(t.shape)}")
        if not torch.isfinite(t).all():
            raise ValueError("chunk contains non-finite values (NaN or Inf)")
        if G is None:
            G = torch.zeros((t.shape[1], t.shape[1]), dtype=torch.float64, device=device)
        elif t.shape[1] != G.shape[0]:
            raise ValueError(f"chunk has embedding dimension {t.shape[1]}, but earlier chunks had {G.shape[0]}")
        G += t.T @ t
        n += t.shape[0]
    if G is None:
        raise ValueError("no embeddings were given: the Gram matrix is undefined")
    G = G.cpu().numpy()
    check_finite(G, "Gram matrix")
    return 0.5 * (G + G.T), n
