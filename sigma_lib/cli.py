"""``sigma``: monitor your own pipeline with Sigma-UB from the command line.

Examples::

    sigma embed responses.jsonl -o gen0.npy                 # texts -> embeddings (frozen MiniLM)
    sigma score gen0.npy gen1.npy gen2.npy --plot drift.png  # drift of checkpoints vs the first
    sigma score run/g0/ run/g1/ --csv drift.csv              # folders of .txt/.jsonl responses

``score`` streams embeddings in chunks (memory independent of N), reports Track I and II, their
drift against the first checkpoint with a noise band (re-drawn observed index sets), and, for
text inputs, distinct-2 and hashed 4-gram HHI. Bad input gets a message and exit status 2, and
nothing is written.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .io import atomic_write_bytes, write_csv
from .noise import bootstrap_index_sets, tracks_over_index_sets
from .observed import select_observed_indices
from .surface import distinct_n, hashed_ngram_hhi
from .texts import read_texts
from .tracks import DEFAULT_EPS


class UsageError(ValueError):
    """A problem with the user's input: reported without a traceback, exit status 2."""


# -- embed ------------------------------------------------------------------------------------
def embed_command(a) -> None:
    from .recursion.embedding import embed_texts, load_encoder

    out = Path(a.output)
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
        buf = _npy_bytes(emb)
        atomic_write_bytes(part, buf)
    d = np.load(parts / "chunk_000000.npy", mmap_mode="r").shape[1]
    tmp = out.with_name(f".{out.name}.tmp.npy")
    mm = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(len(texts), d))
    for k in range(n_chunks):
        mm[k * a.chunk_size : (k + 1) * a.chunk_size] = np.load(parts / f"chunk_{k:06d}.npy")
    mm.flush()
    del mm
    tmp.replace(out)
    shutil.rmtree(parts)
    print(f"wrote {len(texts)} embeddings of dimension {d} to {out}")


def _npy_bytes(arr: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


# -- score ------------------------------------------------------------------------------------
def _embedding_chunks(path: Path, chunk: int):
    arr = np.load(path, mmap_mode="r", allow_pickle=False)
    if arr.ndim != 2:
        raise UsageError(f"{path}: embeddings must be a 2-D array (N, d), got shape {arr.shape}")
    return arr.shape, (np.asarray(arr[s : s + chunk]) for s in range(0, arr.shape[0], chunk))


def _checkpoint(path: str, a, encoder_box: list):
    """(N, d, chunk iterator factory, texts or None) of one checkpoint argument."""
    p = Path(path)
    if p.suffix == ".npy":
        if not p.is_file():
            raise UsageError(f"{p}: no such file")
        shape, _ = _embedding_chunks(p, a.chunk_size)
        return shape[0], shape[1], (lambda: _embedding_chunks(p, a.chunk_size)[1]), None
    from .recursion.embedding import embed_texts, load_encoder

    texts = read_texts(p, a.field, a.allow_empty)
    if not encoder_box:
        encoder_box.append(load_encoder(a.device, a.model))
    emb = embed_texts(encoder_box[0], texts, a.batch_size)
    return emb.shape[0], emb.shape[1], (lambda: (emb[s : s + a.chunk_size] for s in range(0, len(emb), a.chunk_size))), texts


def _or_nan(fn, *args) -> float:
    """A surface proxy, or NaN when the responses are too short to have any n-gram."""
    try:
        return fn(*args)
    except ValueError:
        return float("nan")


def score_checkpoints(paths: list[str], a) -> list[dict]:
    encoder_box: list = []
    rows, base, base_draws = [], None, None
    for i, path in enumerate(tqdm(paths, desc="score", unit="checkpoint", disable=a.quiet)):
        N, d, chunks, texts = _checkpoint(path, a, encoder_box)
        if base is not None and d != base["d"]:
            raise UsageError(f"{path}: embeddings of dimension {d}, but {paths[0]} has {base['d']} (mixed encoders?)")
        if N <= d or N < a.m:
            raise UsageError(f"{path}: {N} responses; Sigma-UB needs more responses than the embedding dimension "
                             f"d={d} and at least m={a.m} (lower --m, or sample more responses)")
        if a.m <= d:
            raise UsageError(f"--m {a.m} must exceed the embedding dimension d={d}")
        sets = [select_observed_indices(N, a.m, a.seed), *bootstrap_index_sets(N, a.m, a.n_draws, a.seed + 1)]
        try:
            draws = tracks_over_index_sets(chunks(), sets, N, a.eps)
        except ValueError as exc:
            raise UsageError(f"{path}: {exc}") from None
        if base is None:
            base, base_draws = {"d": d, "N": N}, draws
        change = draws - base_draws if draws.U.size == base_draws.U.size else None
        row = {"checkpoint": path, "N": N, "m": a.m, "d": d, "U": float(draws.U[0]), "gamma_kf": float(draws.gamma_kf[0]),
               "drift_U": float(draws.U[0] - base_draws.U[0]), "noise_U": change[1:].sd_U if change else float("nan"),
               "drift_gamma_kf": float(draws.gamma_kf[0] - base_draws.gamma_kf[0]),
               "noise_gamma_kf": change[1:].sd_gamma_kf if change else float("nan")}
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
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)
    cells = [[fmt(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(x[i]) for x in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(x.rjust(w) for x, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def drift_plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.arange(len(rows))
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, key, label in ((axes[0], "U", r"Track II drift $\Delta U$ (nats)"), (axes[1], "gamma_kf", r"Track I drift $\Delta\Gamma_{KF}$")):
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
    atomic_write_bytes(path, buf.getvalue())


def score_command(a) -> None:
    rows = score_checkpoints(a.checkpoints, a)
    print(format_table(rows))
    if a.csv:
        write_csv(rows, a.csv)
    if a.plot:
        drift_plot(rows, Path(a.plot))


# -- entry point ------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="sigma", description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n")[1] if "\n\n" in __doc__ else None,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--model", default=None, help="sentence-transformers model folder (default: bundled all-MiniLM-L6-v2)")
    common.add_argument("--device", default="cpu")
    common.add_argument("--field", default="text", help="JSON field holding the response (.jsonl inputs)")
    common.add_argument("--allow-empty", action="store_true", help="keep empty responses instead of failing")
    common.add_argument("--batch-size", type=int, default=64)
    common.add_argument("--chunk-size", type=int, default=10_000, help="rows per streamed chunk")
    common.add_argument("--quiet", action="store_true", help="no progress bars")
    e = sub.add_parser("embed", parents=[common], help="texts -> embeddings (.npy)",
                       description="Embed responses (.jsonl, .txt one per line, or a folder of them) into an .npy file; "
                                   "resumable: finished chunks are kept in OUTPUT.parts/ until the end.")
    e.add_argument("input")
    e.add_argument("-o", "--output", required=True)
    e.set_defaults(func=embed_command)
    s = sub.add_parser("score", parents=[common], help="checkpoints -> Track I/II, drift, noise, surface proxies",
                       description="Score checkpoints (.npy embeddings, or texts / folders of texts) against the first one.")
    s.add_argument("checkpoints", nargs="+")
    s.add_argument("--m", type=int, default=512, help="observed block size (> d)")
    s.add_argument("--eps", type=float, default=DEFAULT_EPS)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--n-draws", type=int, default=50, help="re-drawn index sets for the noise band")
    s.add_argument("--csv", help="write the table as CSV")
    s.add_argument("--plot", help="write a drift plot (PNG)")
    s.set_defaults(func=score_command)
    return ap


def main(argv=None) -> int:
    a = build_parser().parse_args(argv)
    try:
        a.func(a)
    except (UsageError, ValueError, FileNotFoundError) as exc:
        print(f"sigma {a.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
