"""Unused real TECH windows for the ``new-real`` control: select them, freeze them, load them.

    python -m sigma_lib.corpus.new_real --freeze                       # rebuild sigma_lib/data/new_real/
    python -m sigma_lib.corpus.new_real --out outputs/new-real --compare  # rebuild elsewhere and compare

``new-real`` trains generation ``g`` on block ``g - 1`` of this asset: 256 real 64-token windows
(the ``real-cpu`` profile's ``n_contexts``), new at every generation. The windows come from the
same build as the frozen TECH assets (:func:`.build.deduplicated_windows`; the freeze first checks
that the rebuild reproduces ``data/tech`` byte for byte) and are none of the training or held-out
contexts, nor an exact or near duplicate of one (:func:`.dedup.near_duplicate_mask`, the build's
own test). The prompt bank is written by hand, not cut from windows, so nothing is excluded for it.

Blocks follow a seeded, source-stratified schedule: per source, the windows in a seeded order
(as :func:`.selection.select_balanced` orders them); each block takes :func:`block_quotas` of the
windows left, i.e. the training contexts' even mix over the sources while every source lasts,
then an even mix over the sources that remain. Files in ``sigma_lib/data/new_real/``:
``windows.jsonl`` (records of ``contexts.jsonl`` plus ``block``) and ``manifest.json``.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..common.io import atomic_replace_dir
from ..common.records import read_jsonl, sha256_file, write_jsonl
from .assets import MANIFEST, TECH_DIR, load_contexts, verify_assets, write_manifest
from .build import CorpusParams, DedupedWindows, compare_with_frozen, context_record, deduplicated_windows, write_corpus
from .dedup import near_duplicate_mask
from .selection import balanced_quotas
from .sources import SOURCES, Source

NEW_REAL_DIR = TECH_DIR.parent / "new_real"
WINDOWS = "windows.jsonl"
BLOCK_SIZE = 256   # windows per generation (the real-cpu profile's n_contexts)
MAX_BLOCKS = 50    # generations (the paper's protocol)
SEED = 0
FREEZE_COMMAND = "python -m sigma_lib.corpus.new_real --freeze"
RULE = ("Windows of the TECH build after its quality filter and deduplication, minus the training and "
        "held-out contexts (same id or content hash) and their near duplicates (MinHash LSH at the build's "
        "near_dup_threshold). Per source, the windows sorted by content hash and permuted with "
        "numpy.random.default_rng([seed, j]), j the source's rank by name. Block b takes, from the front of "
        "each source's queue, balanced_quotas(windows left per source, block_size) with the remainder of "
        "the uneven split going to the sources with the most windows left: an even mix over every source "
        "while each lasts, then an even mix over the sources that remain. Blocks stop at max_blocks or when "
        "fewer than block_size windows are left; within a block, records are sorted by (source, content_hash).")


def exclude_used(windows: Sequence[dict], used: Sequence[dict], *, threshold: float = 0.7) -> tuple[list[dict], dict]:
    """The windows that are none of ``used`` (same ``id`` or ``content_hash``) nor a near duplicate of one.

    Parameters
    ----------
    windows : dicts with ``id``, ``content_hash`` and ``text`` (:attr:`.build.DedupedWindows.windows`)
    used : the contexts already used (training and held-out), same keys
    threshold : the near-duplicate threshold of :func:`.dedup.near_duplicate_mask`

    Returns
    -------
    (kept, counts) : the windows kept, in input order, and ``{"used", "exact", "near_duplicates"}``.
    """
    ids, hashes = {u["id"] for u in used}, {u["content_hash"] for u in used}
    fresh = [w for w in windows if w["id"] not in ids and w["content_hash"] not in hashes]
    near = near_duplicate_mask([w["text"] for w in fresh], [u["text"] for u in used], threshold)
    kept = [w for w, dup in zip(fresh, near) if not dup]
    return kept, {"used": len(used), "exact": len(windows) - len(fresh), "near_duplicates": sum(near)}


def source_queues(windows: Sequence[dict], *, seed: int = SEED) -> dict[str, list[dict]]:
    """``{source: its windows in a seeded order}``: sorted by content hash, then permuted with
    ``default_rng([seed, j])`` (``j`` the source's rank by name), so the order does not depend on the input's."""
    by_source: dict[str, list[dict]] = {}
    for w in sorted(windows, key=lambda w: w["content_hash"]):
        by_source.setdefault(w["source"], []).append(w)
    queues = {}
    for j, source in enumerate(sorted(by_source)):
        items = by_source[source]
        queues[source] = [items[k] for k in np.random.default_rng([seed, j]).permutation(len(items))]
    return queues


def block_quotas(left: Mapping[str, int], block_size: int = BLOCK_SIZE) -> dict[str, int]:
    """Windows per source in the next block: :func:`.selection.balanced_quotas` of the windows
    ``left`` per source, the remainder of an uneven split going to the sources with the most left
    (so the smallest source lasts as many blocks as it can)."""
    return balanced_quotas(left, block_size, order=sorted(left, key=lambda s: (-left[s], s)))


def is_balanced(counts: Mapping[str, int], sources: Sequence[str]) -> bool:
    """Whether a block has every one of ``sources``, each within one window of the others."""
    n = [counts.get(s, 0) for s in sources]
    return min(n) > 0 and max(n) - min(n) <= 1


def select_new_real(windows: Sequence[dict], used: Sequence[dict], *, block_size: int = BLOCK_SIZE,
                    max_blocks: int = MAX_BLOCKS, seed: int = SEED, threshold: float = 0.7) -> tuple[list[dict], dict]:
    """The new-real windows, block by block (see :data:`RULE`).

    Parameters
    ----------
    windows : the build's deduplicated windows (dicts with ``id``, ``source``, ``content_hash``, ``text``)
    used : the training and held-out contexts (excluded with their near duplicates)
    block_size, max_blocks : windows per block and the most blocks kept
    seed : int, the schedule's seed
    threshold : near-duplicate threshold (the build's ``near_dup_threshold``)

    Returns
    -------
    (selected, counts) : copies of the chosen windows with ``block`` (0-based) added, in block
    order and by (source, content hash) within a block; and the counts ``{"excluded",
    "available", "selected", "per_block", "windows", "blocks", "fully_balanced_blocks"}``
    (``available``: windows per source after the exclusion).
    """
    if block_size < 1 or max_blocks < 1:
        raise ValueError(f"block_size and max_blocks must be positive, got {block_size} and {max_blocks}")
    kept, excluded = exclude_used(windows, used, threshold=threshold)
    queues = source_queues(kept, seed=seed)
    sources = sorted(queues)
    taken = {s: 0 for s in sources}
    selected, per_block = [], []
    while len(per_block) < max_blocks and sum(len(q) - taken[s] for s, q in queues.items()) >= block_size:
        quotas = block_quotas({s: len(queues[s]) - taken[s] for s in sources}, block_size)
        block = [w for s in sources for w in queues[s][taken[s] : taken[s] + quotas[s]]]
        block.sort(key=lambda w: (w["source"], w["content_hash"]))
        selected += [dict(w, block=len(per_block)) for w in block]
        taken = {s: taken[s] + quotas[s] for s in sources}
        per_block.append(quotas)
    counts = {"excluded": excluded, "available": {s: len(queues[s]) for s in sources}, "selected": taken,
              "per_block": per_block, "windows": len(selected), "blocks": len(per_block),
              "fully_balanced_blocks": sum(is_balanced(q, sources) for q in per_block)}
    return selected, counts


def balance_statement(counts: dict) -> str:
    """Which runs of blocks are balanced over which sources, as one sentence (for the manifest)."""
    sources, blocks = sorted(counts["available"]), counts["per_block"]

    def kind(q: dict) -> tuple:
        present = tuple(s for s in sources if q[s])
        return present, is_balanced(q, present)

    runs: list[list[int]] = []
    for b, q in enumerate(blocks):
        if runs and kind(blocks[runs[-1][0]]) == kind(q):
            runs[-1].append(b)
        else:
            runs.append([b])
    parts = []
    for run in runs:
        q = blocks[run[0]]
        (present, balanced), span = kind(q), f"block {run[0]}" if len(run) == 1 else f"blocks {run[0]}-{run[-1]}"
        sizes = sorted({blocks[b][s] for b in run for s in present})
        each = f"{sizes[0]}" if len(sizes) == 1 else f"{sizes[0]}-{sizes[-1]}"
        parts.append(f"{span}: balanced over {', '.join(present)} ({each} each)" if balanced
                     else f"{span}: what is left ({', '.join(f'{s} {q[s]}' for s in present)})")
    return (f"{counts['fully_balanced_blocks']} of {counts['blocks']} blocks balanced over all {len(sources)} sources; "
            + "; ".join(parts) + ".")


def check_rebuild(built: DedupedWindows, tech_dir: str | Path = TECH_DIR, *, sources: Sequence[Source] = SOURCES,
                  params: CorpusParams | None = None, roots: dict[str, str | Path] | None = None) -> None:
    """Raise ``ValueError`` unless ``built`` reproduces every frozen TECH file, manifest included, byte for byte."""
    tech_dir = Path(tech_dir)
    prompts = tech_dir / "prompts.jsonl"
    with tempfile.TemporaryDirectory() as tmp:
        write_corpus(tmp, built, tuple(sources), params, roots=roots,
                     prompts_file=prompts if prompts.is_file() else None)
        same = compare_with_frozen(tmp, tech_dir)
        same[MANIFEST] = sha256_file(Path(tmp, MANIFEST)) == sha256_file(tech_dir / MANIFEST)
    differ = sorted(name for name, ok in same.items() if not ok)
    if differ:
        raise ValueError(f"the rebuild differs from the frozen TECH assets in {tech_dir} ({', '.join(differ)}); "
                         "install the Debian package versions its manifest.json records")


def freeze_new_real(out_dir: str | Path = NEW_REAL_DIR, *, tech_dir: str | Path = TECH_DIR,
                    sources: Sequence[Source] = SOURCES, roots: dict[str, str | Path] | None = None,
                    block_size: int = BLOCK_SIZE, max_blocks: int = MAX_BLOCKS, seed: int = SEED,
                    progress: bool = True) -> dict:
    """Rebuild the TECH windows, check them against ``tech_dir``, select and write the asset.

    Writes ``windows.jsonl`` and ``manifest.json`` into ``out_dir`` (the folder is replaced
    atomically); the same packages and arguments give byte-identical files. ``roots`` overrides
    the sources' HTML folders (tests). Returns the manifest.
    """
    tech_dir = Path(tech_dir)
    tech = verify_assets(tech_dir)
    params = CorpusParams(**tech["parameters"])
    built = deduplicated_windows(tuple(sources), params, roots=roots, progress=progress)
    check_rebuild(built, tech_dir, sources=sources, params=params, roots=roots)
    used = load_contexts(tech_dir, "train") + load_contexts(tech_dir, "heldout")
    chosen, counts = select_new_real(built.windows, used, block_size=block_size, max_blocks=max_blocks, seed=seed,
                                     threshold=params.near_dup_threshold)
    counts["deduplicated"] = {s: sum(w["source"] == s for w in built.windows) for s in sorted(counts["available"])}
    records = [dict(context_record(w, built.tokenizer), block=w["block"]) for w in chosen]
    extra = {"tech_manifest_sha256": sha256_file(tech_dir / MANIFEST), "counts": counts,
             "balance": balance_statement(counts),
             "selection": {"seed": seed, "block_size": block_size, "max_blocks": max_blocks,
                           "near_dup_threshold": params.near_dup_threshold, "rule": RULE,
                           "excluded_files": ["contexts.jsonl", "heldout.jsonl"],
                           "prompts": ("prompts.jsonl is written by hand, not cut from windows: "
                                       "nothing excluded for it")},
             "command": FREEZE_COMMAND}
    manifest: dict = {}

    def fill(folder: Path) -> None:
        write_jsonl(records, folder / WINDOWS, compact=True)  # 6.1 MB instead of 6.3
        manifest.update(write_manifest(folder, tech["sources"], tech["parameters"], extra=extra))

    atomic_replace_dir(out_dir, fill)
    return manifest


def verify_new_real(directory: str | Path = NEW_REAL_DIR) -> dict:
    """Check ``windows.jsonl`` against its manifest's SHA-256; returns the manifest.

    Raises ``FileNotFoundError`` (saying how to freeze it) when a file is missing, ``ValueError``
    naming the file when it differs from the manifest.
    """
    directory = Path(directory)
    for name in (MANIFEST, WINDOWS):
        if not (directory / name).is_file():
            raise FileNotFoundError(f"{directory / name} not found: freeze the new-real windows with "
                                    f"`{FREEZE_COMMAND}` (or `make new-real-asset`)")
    return verify_assets(directory, what="new-real windows")


def load_new_real(block_start: int = 0, n_blocks: int = 1, *, directory: str | Path = NEW_REAL_DIR) -> list[dict]:
    """The records of blocks ``block_start .. block_start + n_blocks - 1``, verified first.

    Records are those of ``contexts.jsonl`` plus ``block``, in file order (block by block, each
    sorted by source then content hash). Raises ``ValueError`` for blocks the asset does not have.
    """
    manifest = verify_new_real(directory)
    n = manifest["counts"]["blocks"]
    if block_start < 0 or n_blocks < 1 or block_start + n_blocks > n:
        raise ValueError(f"blocks {block_start}..{block_start + n_blocks - 1} requested; "
                         f"the new-real asset has blocks 0..{n - 1}")
    stop = block_start + n_blocks
    return [r for r in read_jsonl(Path(directory) / WINDOWS) if block_start <= r["block"] < stop]


def load_new_real_block(block: int, *, directory: str | Path = NEW_REAL_DIR) -> list[dict]:
    """The ``block_size`` records of one block (generation ``block + 1`` of ``new-real``)."""
    return load_new_real(block, 1, directory=directory)


def compare_new_real(built: str | Path, frozen: str | Path = NEW_REAL_DIR) -> dict[str, bool]:
    """``{file: identical?}`` for ``windows.jsonl`` and ``manifest.json`` of two folders (SHA-256)."""
    return {n: Path(built, n).is_file() and Path(frozen, n).is_file()
            and sha256_file(Path(built, n)) == sha256_file(Path(frozen, n)) for n in (WINDOWS, MANIFEST)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sigma_lib.corpus.new_real", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="outputs/new-real", help="folder to write (default: outputs/new-real)")
    ap.add_argument("--freeze", action="store_true", help=f"write the package's frozen folder {NEW_REAL_DIR}")
    ap.add_argument("--compare", action="store_true", help="compare the result with the frozen asset, byte for byte")
    ap.add_argument("--seed", type=int, default=SEED)
    a = ap.parse_args(argv)
    out = NEW_REAL_DIR if a.freeze else Path(a.out)
    manifest = freeze_new_real(out, seed=a.seed)
    c = manifest["counts"]
    print(f"wrote {c['windows']} windows in {c['blocks']} blocks to {out}; {manifest['balance']}")
    if a.compare and not a.freeze:
        same = compare_new_real(out)
        for name, ok in same.items():
            print(f"  {'identical' if ok else 'DIFFERS  '}  {name}")
        return 0 if all(same.values()) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
