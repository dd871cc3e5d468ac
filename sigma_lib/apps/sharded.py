"""Sigma-UB over a sharded corpus: shards map to partial observed Grams, a fixed tree sums them.

A checkpoint too large for one machine is a list of *shards* (``.npy`` files of embeddings,
JSONL or Parquet files of embeddings or of texts, or row ranges of one large ``.npy``). Every
observed Gram ``G_m = sum_{j in S} x_j x_j^T / |x_j|^2`` is a sum over rows, so each shard
contributes the partial Grams of the observed rows it holds (one per index set: the run's set
and the re-drawn sets of the noise band), and the checkpoint's Grams are their sum. The index
sets are drawn once from ``(N, m, seed)`` on the client, whoever computes the shards.

Here (``scheduler=None``) the shards are read one after another into one running sum: memory
of one set of Grams, whatever ``N``. On a Dask cluster (``scheduler=client``) the map and the
additions run on the workers, along a binary tree fixed by the shard order alone (see
:func:`tree_sum`), so the result does not depend on how many workers run it nor on which one
finishes first, and only the final Grams come back; it equals the single-process sum to
float64 round-off (tested to 1e-12).

Dask (``distributed``) is the engine: it is pure Python and pip-installable, its
``LocalCluster`` runs on one machine, and ``dask-jobqueue`` starts the same workers under
Slurm, PBS, SGE or LSF, the schedulers of the clusters where such corpora are kept.
"""
from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..common.records import decoded_lines, iter_jsonl
from ..common.texts import iter_texts
from ..maths.algorithm1 import sigma_ub_from_gram
from ..maths.gram import unit_normalize
from ..maths.noise import TrackDraws
from ..maths.tracks import DEFAULT_EPS

EMBEDDING_SUFFIXES = (".npy",)
TABLE_SUFFIXES = (".jsonl", ".parquet", ".txt")


class ShardError(ValueError):
    """A problem with one shard's content, named by file (and global row where it applies)."""


@dataclass(frozen=True)
class Shard:
    """Rows ``[lo, lo + rows)`` of one file, which are rows ``[start, start + rows)`` of the corpus.

    ``kind``: ``"npy"`` (an ``(n, d)`` array), ``"jsonl-emb"`` / ``"parquet-emb"`` (an embedding
    per record, in ``field``), or ``"texts"`` (``.jsonl``/``.txt``/``.parquet`` responses, embedded
    where the shard is computed).
    """

    path: str
    kind: str
    start: int
    rows: int
    lo: int = 0
    field: str = "embedding"


@dataclass
class Partial:
    """Partial observed Grams of some rows (one per index set), the rows seen, the dimension."""

    grams: list = field(default_factory=list)
    n: int = 0
    d: int = 0

    def __add__(self, other: "Partial") -> "Partial":
        self._check(other)
        return Partial([a + b for a, b in zip(self.grams, other.grams)], self.n + other.n, self.d)

    def add_(self, other: "Partial") -> "Partial":
        """In-place sum (a streaming accumulator allocates nothing per shard)."""
        self._check(other)
        for a, b in zip(self.grams, other.grams):
            a += b
        self.n += other.n
        return self

    def _check(self, other: "Partial") -> None:
        if self.d != other.d:
            raise ShardError(f"shards differ in embedding dimension: {self.d} and {other.d} (mixed encoders?)")


# -- listing the shards of a checkpoint ------------------------------------------------------
def _npy_shape(path: Path) -> tuple:
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ShardError(f"{path}: not a readable .npy file ({_one_line(exc)})") from None
    if arr.ndim != 2:
        raise ShardError(f"{path}: embeddings must be a 2-D array (N, d), got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ShardError(f"{path}: holds no embeddings (shape {arr.shape})")
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise ShardError(f"{path}: embeddings must be real numbers, got dtype {arr.dtype}")
    return arr.shape


def _one_line(exc: BaseException) -> str:
    """The first sentence of an exception's message, on one line."""
    msg = " ".join(str(exc).split()) or type(exc).__name__
    return msg.split(". ")[0].rstrip(".")


def _parquet(path: Path):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ShardError(f"{path}: reading Parquet needs pyarrow (pip install pyarrow)") from None
    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises its own error types for a corrupt file
        raise ShardError(f"{path}: not a readable Parquet file ({_one_line(exc)})") from None


def jsonl_is_embeddings(path: Path, emb_field: str) -> bool:
    for _, rec in iter_jsonl(path, ShardError):
        return isinstance(rec, dict) and isinstance(rec.get(emb_field), list)
    return False


def _jsonl_records(path: Path) -> int:
    return sum(1 for _, line in decoded_lines(path, ShardError) if line.strip())


def list_shards(spec: str | Path, text_field: str = "text", emb_field: str = "embedding",
                rows_per_shard: int | None = None) -> list[Shard]:
    """The shards of one checkpoint, in corpus order, each with its first global row.

    ``spec`` is a ``.npy`` file, a folder, or a glob pattern (``"gen0/part-*.parquet"``). A folder
    or pattern is read in sorted path order. ``.npy`` files (and Parquet/JSONL files whose
    ``emb_field`` holds a list of numbers) are embeddings; other ``.jsonl``/``.txt``/Parquet files
    are texts (``text_field``). ``rows_per_shard`` cuts each ``.npy`` file into row ranges of
    that size, so that one large file is still spread over several workers.
    """
    spec = str(spec)
    p = Path(spec)
    if any(c in spec for c in "*?["):
        files = sorted(Path(f) for f in glob.glob(spec, recursive=True) if Path(f).is_file())
        if not files:
            raise ShardError(f"{spec}: the pattern matches no file")
    elif p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix in EMBEDDING_SUFFIXES + TABLE_SUFFIXES)
        if not files:
            raise ShardError(f"{p}: folder holds no .npy, .jsonl, .parquet or .txt files")
    elif p.is_file():
        files = [p]
    else:
        raise ShardError(f"{p}: no such file or folder")
    shards: list[Shard] = []
    start = 0
    for f in files:
        if f.suffix == ".npy":
            n = _npy_shape(f)[0]
            step = rows_per_shard or n
            for lo in range(0, n, step):
                shards.append(Shard(str(f), "npy", start + lo, min(step, n - lo), lo))
            start += n
            continue
        if f.suffix == ".parquet":
            pf = _parquet(f)
            names = pf.schema_arrow.names
            if emb_field in names:
                kind, fld = "parquet-emb", emb_field
            elif text_field in names:
                kind, fld = "texts", text_field
            else:
                raise ShardError(f"{f}: no column {emb_field!r} (embeddings) or {text_field!r} (texts); "
                                 f"columns: {names}")
            n = pf.metadata.num_rows
        elif f.suffix == ".jsonl":
            emb = jsonl_is_embeddings(f, emb_field)
            kind, fld = ("jsonl-emb", emb_field) if emb else ("texts", text_field)
            n = _jsonl_records(f)
        elif f.suffix == ".txt":
            kind, fld = "texts", text_field
            n = sum(1 for _ in decoded_lines(f, ShardError))
        else:
            raise ShardError(f"{f}: unknown shard type (expected .npy, .jsonl, .parquet or .txt)")
        if n == 0:
            raise ShardError(f"{f}: holds no records")
        shards.append(Shard(str(f), kind, start, n, 0, fld))
        start += n
    kinds = {"texts" if s.kind == "texts" else "embeddings" for s in shards}
    if len(kinds) > 1:
        raise ShardError(f"{spec}: mixes shards of texts and of embeddings")
    return shards


# -- one shard -> its partial Grams -----------------------------------------------------------
_ENCODERS: dict = {}


def _encoder(model: str | None, device: str):
    """One sentence encoder per worker process (loaded at its first text shard)."""
    key = (model, device)
    if key not in _ENCODERS:
        from ..recursion.embedding import load_encoder

        _ENCODERS[key] = load_encoder(device, model)
    return _ENCODERS[key]


def load_shard(shard: Shard, model: str | None = None, device: str = "cpu", batch_size: int = 64,
               allow_empty: bool = False) -> np.ndarray:
    """The shard's rows as an ``(rows, d)`` array (texts are embedded here, on the worker)."""
    path = Path(shard.path)
    if shard.kind == "npy":
        try:
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
            X = np.asarray(arr[shard.lo : shard.lo + shard.rows])
        except (ValueError, OSError, EOFError) as exc:
            raise ShardError(f"{path}: not a readable .npy file ({_one_line(exc)})") from None
    elif shard.kind == "jsonl-emb":
        rows = []
        for lineno, rec in iter_jsonl(path, ShardError):
            if not isinstance(rec, dict) or not isinstance(rec.get(shard.field), list):
                raise ShardError(f"{path}, line {lineno}: no list field {shard.field!r}")
            rows.append(rec[shard.field])
        X = _rectangular(rows, path)
    elif shard.kind == "parquet-emb":
        col = _parquet(path).read(columns=[shard.field]).column(0).to_pylist()
        X = _rectangular(col, path)
    elif shard.kind == "texts":
        if path.suffix == ".parquet":
            texts = _parquet(path).read(columns=[shard.field]).column(0).to_pylist()
            for i, t in enumerate(texts):
                if not isinstance(t, str) or (not t.strip() and not allow_empty):
                    raise ShardError(f"{path}, row {i}: empty or missing response in column {shard.field!r}")
        else:
            texts = list(iter_texts(path, shard.field, allow_empty))
        from ..recursion.embedding import embed_texts

        X = embed_texts(_encoder(model, device), texts, batch_size)
    else:
        raise ShardError(f"{path}: unknown shard kind {shard.kind!r}")
    if X.ndim != 2 or X.shape[0] != shard.rows:
        raise ShardError(f"{path}: expected {shard.rows} rows, read {X.shape[0] if X.ndim else 0} (file changed?)")
    return X


def _rectangular(rows: list, path: Path) -> np.ndarray:
    lengths = {len(r) if isinstance(r, (list, tuple)) else -1 for r in rows}
    if len(lengths) != 1 or -1 in lengths:
        raise ShardError(f"{path}: embeddings of different lengths {sorted(lengths)[:4]}")
    try:
        return np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError):
        raise ShardError(f"{path}: embeddings must be lists of numbers") from None


def check_rows(X: np.ndarray, path, start: int) -> None:
    """Refuse NaN/Inf and all-zero rows, naming the file and the row in the whole input."""
    finite = np.isfinite(X)
    if not finite.all():
        r, c = (int(v) for v in np.argwhere(~finite)[0])
        raise ShardError(f"{path}: row {start + r} (of the whole input) holds {float(X[r, c])} at column {c}; "
                         "embeddings must be finite")
    zero = np.flatnonzero(~X.any(axis=1))
    if zero.size:
        raise ShardError(f"{path}: row {start + int(zero[0])} (of the whole input) is all zeros; it has no direction")


def partial_grams(X: np.ndarray, start: int, index_sets: Sequence[np.ndarray], path="embeddings") -> Partial:
    """Partial observed Grams of the rows ``[start, start + len(X))`` of the corpus.

    Each index set (sorted global row numbers) contributes the unit-normalised rows it selects
    among these; the sum of the partials over all shards is its observed Gram ``G_m``.
    """
    check_rows(X, path, start)
    d = X.shape[1]
    grams = []
    stop = start + X.shape[0]
    for s in index_sets:
        lo, hi = np.searchsorted(s, [start, stop])
        G = np.zeros((d, d))
        if hi > lo:
            rows = unit_normalize(X[s[lo:hi] - start], str(path))
            G += rows.T @ rows
        grams.append(G)
    return Partial(grams, X.shape[0], d)


def shard_partial(shard: Shard, index_sets: Sequence[np.ndarray], model: str | None = None, device: str = "cpu",
                  batch_size: int = 64, allow_empty: bool = False) -> Partial:
    """Load (or embed) one shard and return its partial Grams: the *map* step, run on a worker."""
    X = load_shard(shard, model, device, batch_size, allow_empty)
    return partial_grams(X, shard.start, index_sets, shard.path)


def _add(a: Partial, b: Partial) -> Partial:
    return a + b


# -- the reduction ----------------------------------------------------------------------------
def tree_sum(items: Sequence, leaf: Callable, add: Callable = _add):
    """``leaf(items[0]) + ... + leaf(items[-1])`` along a tree fixed by ``len(items)`` alone.

    The range is split at the largest power of two below its length (left part complete), so
    the association, and hence every floating-point rounding, is the same whatever executes the
    tree. Evaluated depth first, so at most ``log2(len(items)) + 1`` partial results are alive.
    ``leaf`` and ``add`` may also build a lazy graph (``dask.delayed``).
    """
    def rec(lo: int, hi: int):
        n = hi - lo
        if n == 1:
            return leaf(items[lo])
        half = 1 << ((n - 1).bit_length() - 1)
        return add(rec(lo, lo + half), rec(lo + half, hi))

    if not items:
        raise ShardError("no shards to reduce")
    return rec(0, len(items))


def sharded_partial(shards: Sequence[Shard], index_sets: Sequence[np.ndarray], *, scheduler=None,
                    model: str | None = None, device: str = "cpu", batch_size: int = 64,
                    allow_empty: bool = False) -> Partial:
    """The summed partial Grams of all ``shards``.

    ``scheduler=None`` computes them here, one shard after another; otherwise the map and the
    tree of additions run through Dask: a ``distributed.Client`` (its workers), or any value of
    ``dask.compute(scheduler=...)`` (``"threads"``, ``"processes"``, ``"sync"``).
    """
    sets = [np.asarray(s, dtype=np.int64) for s in index_sets]
    kw = dict(model=model, device=device, batch_size=batch_size, allow_empty=allow_empty)
    if scheduler is None:  # streaming: one running sum, memory of one set of Grams whatever N
        total = None
        for s in shards:
            p = shard_partial(s, sets, **kw)
            total = p if total is None else total.add_(p)
        if total is None:
            raise ShardError("no shards to reduce")
        return total
    import dask

    # The index sets are shipped once (a scattered / shared piece of the graph), not per shard.
    sets_node = dask.delayed(sets, pure=True)
    leaf = dask.delayed(shard_partial, pure=True)
    add = dask.delayed(_add, pure=True)
    graph = tree_sum(shards, lambda s: leaf(s, sets_node, **kw), add)
    (result,) = dask.compute(graph, scheduler=scheduler)
    return result


def tracks_from_partial(total: Partial, index_sets: Sequence[np.ndarray], N: int,
                        eps: float = DEFAULT_EPS) -> TrackDraws:
    """Both tracks on every index set from the summed Grams (as
    :func:`sigma_lib.maths.noise.tracks_over_index_sets`)."""
    if total.n != N:
        raise ShardError(f"expected N={N} embeddings, the shards held {total.n}")
    vals = [sigma_ub_from_gram(0.5 * (G + G.T), N, len(s), eps) for G, s in zip(total.grams, index_sets)]
    return TrackDraws(np.array([v.U for v in vals]), np.array([v.gamma_kf for v in vals]), total.d)


def sharded_tracks(spec, index_sets: Sequence[np.ndarray], *, eps: float = DEFAULT_EPS, scheduler=None,
                   rows_per_shard: int | None = None, text_field: str = "text", emb_field: str = "embedding",
                   **kw) -> TrackDraws:
    """Track I and II of one sharded checkpoint on each index set (see :func:`sharded_partial`)."""
    shards = list_shards(spec, text_field, emb_field, rows_per_shard)
    N = shards[-1].start + shards[-1].rows
    return tracks_from_partial(sharded_partial(shards, index_sets, scheduler=scheduler, **kw), index_sets, N, eps)


def local_cluster(n_workers: int = 2, threads_per_worker: int = 1, processes: bool = True, **kw):
    """A ``distributed.Client`` on a ``LocalCluster`` bound to 127.0.0.1, no dashboard.

    The workers are processes with one thread each by default: the Gram products then use one
    BLAS thread per worker (set ``OMP_NUM_THREADS=1`` for the workers' BLAS), and every shard is
    computed by the same code as in a single process."""
    import warnings

    from distributed import Client, LocalCluster

    with warnings.catch_warnings():  # "Port 8787 is already in use": its health page moves to a free port
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker, processes=processes,
                               host="127.0.0.1", dashboard_address=None, **kw)
    return Client(cluster)
