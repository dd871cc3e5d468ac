"""``sigma``: monitor your own pipeline with Sigma-UB from the command line.

Examples::

    sigma embed responses.jsonl -o gen0.npy                 # texts -> embeddings (frozen MiniLM)
    sigma score gen0.npy gen1.npy gen2.npy --plot drift.png  # drift of checkpoints vs the first
    sigma score run/g0/ run/g1/ --csv drift.csv              # folders of .txt/.jsonl responses
    sigma score 'g0/part-*.npy' 'g1/part-*.npy' --dask local:4  # shards on 4 local workers
    sigma score g0/ g1/ --dask tcp://scheduler:8786          # shards on a Dask cluster

``score`` streams embeddings in chunks (memory independent of N), reports Track I and II, their
drift against the first checkpoint with a noise band (re-drawn observed index sets), and, for
text inputs read here, distinct-2 and hashed 4-gram HHI. A checkpoint may be a folder or a glob
of shards (``.npy``; JSONL or Parquet of embeddings or texts): each shard becomes partial
observed Grams, summed in a fixed order, so ``--dask`` gives the same numbers as a local run.
Bad input gets one line naming the file and exit status 2, and nothing is written.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..common.io import atomic_write_bytes, atomic_write_files, check_writable, csv_text
from ..common.texts import TEXT_SUFFIXES, read_texts
from ..maths.monitor import monitor_step
from ..maths.noise import TrackDraws, bootstrap_index_sets
from ..maths.observed import select_observed_indices
from ..maths.surface import distinct_n, hashed_ngram_hhi
from ..maths.tracks import DEFAULT_EPS
from .sharded import (
    jsonl_is_embeddings,
    list_shards,
    local_cluster,
    partial_grams,
    sharded_partial,
    tracks_from_partial,
)


class UsageError(ValueError):
    """A problem with the user's input: reported without a traceback, exit status 2."""


# -- embed ------------------------------------------------------------------------------------
def embed_command(a) -> None:
    from ..recursion.embedding import embed_texts, load_encoder

    out = check_writable(a.output, "embed -o")
    if out.suffix != ".npy":
        raise UsageError(f"{out}: the output of embed must be a .npy file")
    parts = out.with_name(out.name + ".parts")
    texts = read_texts(a.input, a.field, a.allow_empty)
    parts.mkdir(parents=True, exist_ok=True)
    encoder = None
    n_chunks = (len(texts) + a.chunk_size - 1) // a.chunk_size
    for k in tqdm(range(n_chunks), desc="embed", unit="chunk", disable=a.quiet):
        part = parts / f"chunk_{k:06d}.npy"
        if part.is_file():  # resumable: a finished chunk is never recomputed
            continue
        if encoder is None:
            encoder = load_encoder(a.device, a.model)
        emb = embed_texts(encoder, texts[k * a.chunk_size : (k + 1) * a.chunk_size], a.batch_size)
        atomic_write_bytes(part, _npy_bytes(emb))
    d = np.load(parts / "chunk_000000.npy", mmap_mode="r").shape[1]
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp.npy")
    os.close(fd)
    try:
        mm = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(len(texts), d))
        for k in range(n_chunks):
            mm[k * a.chunk_size : (k + 1) * a.chunk_size] = np.load(parts / f"chunk_{k:06d}.npy")
        mm.flush()
        del mm
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    shutil.rmtree(parts)
    print(f"wrote {len(texts)} embeddings of dimension {d} to {out}")


def _npy_bytes(arr: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


# -- score ------------------------------------------------------------------------------------
def _is_text_input(path: str, emb_field: str = "embedding") -> bool:
    """A text file, or a folder whose files are all texts (read and embedded here when local)."""
    p = Path(path)
    if p.is_file():
        return p.suffix in TEXT_SUFFIXES and not (p.suffix == ".jsonl" and jsonl_is_embeddings(p, emb_field))
    if p.is_dir():
        files = [f for f in p.rglob("*") if f.is_file() and f.suffix in (".npy", ".parquet", *TEXT_SUFFIXES)]
        return bool(files) and all(f.suffix in TEXT_SUFFIXES for f in files) and not any(
            f.suffix == ".jsonl" and jsonl_is_embeddings(f, emb_field) for f in files)
    return False


def _or_nan(fn, *args) -> float:
    """A surface proxy, or NaN when the responses are too short to have any n-gram."""
    try:
        return fn(*args)
    except ValueError:
        return float("nan")


def _check_sizes(path: str, N: int, d: int, a) -> None:
    if N <= d or N < a.m:
        raise UsageError(f"{path}: {N} responses; Sigma-UB needs more responses than the embedding dimension "
                         f"d={d} and at least m={a.m} (lower --m, or sample more responses)")
    if a.m <= d:
        raise UsageError(f"--m {a.m} must exceed the embedding dimension d={d}")


def _index_sets(N: int, a) -> list[np.ndarray]:
    return [select_observed_indices(N, a.m, a.seed), *bootstrap_index_sets(N, a.m, a.n_draws, a.seed + 1)]


def checkpoint_draws(path: str, a, encoder_box: list, scheduler=None) -> tuple[TrackDraws, int, list | None]:
    """Track values of one checkpoint on its run index set and the re-drawn ones: (draws, N, texts).

    Texts given locally are read and embedded here (and kept for the surface proxies); every
    other input, and texts when ``scheduler`` is a Dask cluster, goes through the shard map of
    :mod:`sigma_lib.apps.sharded` (``.npy`` files cut into ``--chunk-size`` row ranges).
    """
    if scheduler is None and _is_text_input(path, a.embedding_field):
        from ..recursion.embedding import embed_texts, load_encoder

        texts = read_texts(path, a.field, a.allow_empty)
        if not encoder_box:
            encoder_box.append(load_encoder(a.device, a.model))
        emb = embed_texts(encoder_box[0], texts, a.batch_size)
        N, d = emb.shape
        _check_sizes(path, N, d, a)
        sets = _index_sets(N, a)
        starts = list(range(0, N, a.chunk_size))
        total = None
        for s in starts:
            p = partial_grams(emb[s : s + a.chunk_size], s, sets, path)
            total = p if total is None else total.add_(p)
        return tracks_from_partial(total, sets, N, a.eps), N, texts
    shards = list_shards(path, a.field, a.embedding_field, a.chunk_size)
    N = shards[-1].start + shards[-1].rows
    if shards[0].kind == "npy":  # the dimension is in the header: check before any work
        _check_sizes(path, N, np.load(shards[0].path, mmap_mode="r").shape[1], a)
    elif N < a.m:
        _check_sizes(path, N, 0, a)
    sets = _index_sets(N, a)
    total = sharded_partial(shards, sets, scheduler=scheduler, model=a.model, device=a.device, batch_size=a.batch_size,
                            allow_empty=a.allow_empty)
    _check_sizes(path, N, total.d, a)
    return tracks_from_partial(total, sets, N, a.eps), N, None


def score_checkpoints(paths: list[str], a, scheduler=None) -> list[dict]:
    encoder_box: list = []
    rows, base_draws = [], None
    for path in tqdm(paths, desc="score", unit="checkpoint", disable=a.quiet):
        draws, N, texts = checkpoint_draws(path, a, encoder_box, scheduler)
        if base_draws is not None and draws.d != base_draws.d:
            raise UsageError(f"{path}: embeddings of dimension {draws.d}, but {paths[0]} has {base_draws.d} "
                             "(mixed encoders?)")
        if base_draws is None:
            base_draws = draws
        rec = monitor_step(draws, base_draws, path, N, a.m, a.eps)
        row = {k: getattr(rec, k) for k in ("checkpoint", "N", "m", "d", "U", "gamma_kf", "drift_U", "noise_U",
                                            "drift_gamma_kf", "noise_gamma_kf")}
        if texts is not None:
            row["distinct_2"] = _or_nan(distinct_n, texts, 2)
            row["hhi"] = _or_nan(hashed_ngram_hhi, texts)
        rows.append(row)
    if len({r["N"] for r in rows}) > 1 and not a.quiet:
        print("note: checkpoints differ in N; Track II is size-corrected, but Track I's tail budget B = N - m differs",
              file=sys.stderr)
    return rows


def format_table(rows: list[dict]) -> str:
    cols = [c for c in ("checkpoint", "N", "U", "drift_U", "noise_U", "gamma_kf", "drift_gamma_kf", "distinct_2", "hhi")
            if any(c in r for r in rows)]

    def fmt(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    cells = [[fmt(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(x[i]) for x in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(x.rjust(w) for x, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def drift_plot(rows: list[dict], path: Path | None = None) -> bytes:
    """The drift plot as PNG bytes (also written atomically to ``path`` when given)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.arange(len(rows))
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, key, label in ((axes[0], "U", r"Track II drift $\Delta U$ (nats)"),
                           (axes[1], "gamma_kf", r"Track I drift $\Delta\Gamma_{KF}$")):
        y = np.array([r[f"drift_{key}"] for r in rows])
        band = 2 * np.nan_to_num(np.array([r[f"noise_{key}"] for r in rows]))
        ax.plot(x, y, "o-")
        ax.fill_between(x, y - band, y + band, alpha=0.25, label="±2 noise")
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xticks(x, [Path(r["checkpoint"]).name for r in rows], rotation=30, fontsize=8)
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
    fig.tight_layout()
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    if path is not None:
        atomic_write_bytes(path, buf.getvalue())
    return buf.getvalue()


def _scheduler(spec: str | None):
    """``None`` (here), or a Dask client: ``local:N`` starts N local workers, anything else is a
    scheduler address (``tcp://host:8786``, or a cluster started by dask-jobqueue)."""
    if not spec:
        return None
    try:
        from distributed import Client
    except ImportError:
        raise UsageError("--dask needs the distributed package (pip install 'dask[distributed]')") from None
    if spec.startswith("local:"):
        try:
            n = int(spec.split(":", 1)[1])
        except ValueError:
            raise UsageError(f"--dask {spec}: expected local:N with N a number of workers") from None
        return local_cluster(n_workers=n)
    try:
        return Client(spec, timeout=30)
    except OSError as exc:
        raise UsageError(f"--dask {spec}: cannot reach the scheduler ({exc})") from None


def score_command(a) -> None:
    for path, what in ((a.csv, "--csv"), (a.plot, "--plot")):
        if path:
            check_writable(path, what)
    client = _scheduler(a.dask)
    try:
        rows = score_checkpoints(a.checkpoints, a, client)
    finally:
        if client is not None:
            cluster = client.cluster if a.dask.startswith("local:") else None
            client.close()
            if cluster is not None:
                cluster.close()
    print(format_table(rows))
    outputs = {}
    if a.csv:
        outputs[a.csv] = csv_text(rows).encode("utf-8")
    if a.plot:
        outputs[a.plot] = drift_plot(rows)  # rendered before anything is written
    if outputs:
        atomic_write_files(outputs)


# -- entry point ------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    intro, rest = __doc__.split("\n\n", 1)
    epilog = rest.replace("Examples::", "examples:", 1).replace("``", "")
    ap = argparse.ArgumentParser(prog="sigma", description=intro.replace("``", ""), epilog=epilog,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--model", default=None,
                        help="sentence-transformers model folder (default: bundled all-MiniLM-L6-v2)")
    common.add_argument("--device", default="cpu")
    common.add_argument("--field", default="text", help="JSON field holding the response (.jsonl inputs)")
    common.add_argument("--allow-empty", action="store_true", help="keep empty responses instead of failing")
    common.add_argument("--batch-size", type=int, default=64)
    common.add_argument("--chunk-size", type=int, default=10_000, help="rows per streamed chunk")
    common.add_argument("--quiet", action="store_true", help="no progress bars")
    e = sub.add_parser("embed", parents=[common], help="texts -> embeddings (.npy)",
                       description="Embed responses (.jsonl, .txt one per line, or a folder of them) into an .npy "
                                   "file; resumable: finished chunks are kept in OUTPUT.parts/ until the end.")
    e.add_argument("input")
    e.add_argument("-o", "--output", required=True)
    e.set_defaults(func=embed_command)
    s = sub.add_parser("score", parents=[common], help="checkpoints -> Track I/II, drift, noise, surface proxies",
                       description="Score checkpoints (.npy embeddings, or texts / folders of texts) against the "
                                   "first one.")
    s.add_argument("checkpoints", nargs="+")
    s.add_argument("--m", type=int, default=512, help="observed block size (> d)")
    s.add_argument("--eps", type=float, default=DEFAULT_EPS)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--n-draws", type=int, default=50, help="re-drawn index sets for the noise band")
    s.add_argument("--csv", help="write the table as CSV")
    s.add_argument("--plot", help="write a drift plot (PNG)")
    s.add_argument("--embedding-field", default="embedding",
                   help="JSONL field / Parquet column holding an embedding (a list of numbers)")
    s.add_argument("--dask", metavar="SCHEDULER", default=None,
                   help="map the shards to partial Grams on a Dask cluster: a scheduler address, or local:N "
                        "for N local worker processes (default: compute here)")
    s.set_defaults(func=score_command)
    return ap


def main(argv=None) -> int:
    a = build_parser().parse_args(argv)
    for name in ("chunk_size", "batch_size"):
        if getattr(a, name) < 1:
            print(f"sigma {a.command}: error: --{name.replace('_', '-')} must be at least 1", file=sys.stderr)
            return 2
    try:
        a.func(a)
    except (ValueError, OSError, EOFError) as exc:  # UsageError, ShardError, unreadable or unwritable files
        msg = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, OSError) and getattr(exc, "filename", None) and str(exc.filename) not in msg:
            msg = f"{exc.filename}: {msg}"
        print(f"sigma {a.command}: error: {msg}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
