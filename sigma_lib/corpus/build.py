"""The TECH corpus pipeline end to end, and its command line.

    python -m sigma_lib.corpus.build --out outputs/corpus          # rebuild into a folder
    python -m sigma_lib.corpus.build --out outputs/corpus --compare # and compare with the frozen files
    python -m sigma_lib.corpus.build --freeze                      # rebuild the frozen assets in place

Stages (App. C.2): HTML pages -> prose paragraphs (boilerplate and code removed) -> English and
prose filters -> BPE tokeniser trained on the raw text -> 64-token windows with a fixed stride
-> quality filter -> exact and near-duplicate removal -> seeded, source-balanced selection of
the training contexts and a disjoint held-out set -> frozen files with a SHA-256 manifest.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Tokenizer
from tqdm import tqdm

from ..common.io import atomic_write_text
from ..common.records import sha256_file, write_jsonl
from .assets import TECH_DIR, asset_files, write_manifest
from .bpe import train_bpe
from .dedup import content_hash, deduplicate
from .filters import is_english, is_prose_paragraph, passes_quality
from .html_text import html_to_paragraphs
from .selection import select_balanced
from .sources import SOURCES, Source, package_version
from .windows import text_windows


@dataclass
class CorpusParams:
    """Parameters of a corpus build (all recorded in the manifest)."""

    n_contexts: int = 1200
    n_heldout: int = 200
    window: int = 64
    stride: int = 64
    seed: int = 0
    vocab_size: int = 4096
    near_dup_threshold: float = 0.7
    max_pages_per_source: int | None = None


def extract_pages(source: Source, root: str | Path | None = None, max_pages: int | None = None,
                  progress: bool = True) -> list[dict]:
    """Prose of every page of a source: ``[{"page": relative path, "text": str}]``, filtered.

    Keeps paragraphs that are prose (:func:`is_prose_paragraph`) and English (:func:`is_english`).
    """
    base = Path(root) if root is not None else Path(source.root)
    pages = source.pages(base)[:max_pages]
    out = []
    for path in tqdm(pages, desc=f"parse {source.name}", disable=not progress, leave=False):
        paragraphs = [p for p in html_to_paragraphs(path.read_bytes()) if is_prose_paragraph(p) and is_english(p)]
        if paragraphs:
            out.append({"page": str(path.relative_to(base)), "text": "\n\n".join(paragraphs)})
    return out


@dataclass
class DedupedWindows:
    """The windows of a build after the quality filter and exact and near-duplicate removal.

    Attributes
    ----------
    windows : ``[{"id", "source", "licence", "page", "start", "text", "content_hash"}]``, in build
        order (sources in the order given, pages sorted, windows by token offset ``start``)
    tokenizer : the BPE trained on the build's prose; every window is ``params.window`` of its tokens
    stats : counts at every stage so far (``build_stats.json`` without the selection)
    """

    windows: list[dict]
    tokenizer: Tokenizer
    stats: dict


def deduplicated_windows(sources: list[Source] | tuple[Source, ...] = SOURCES, params: CorpusParams | None = None, *,
                         roots: dict[str, str | Path] | None = None, progress: bool = True) -> DedupedWindows:
    """Every window a build can choose from: pages -> prose -> BPE -> windows -> quality -> dedup.

    Parameters are those of :func:`build_corpus`. Raises ``FileNotFoundError`` naming the Debian
    package when a source's HTML folder is missing, ``ValueError`` when no prose is extracted.
    """
    params = params or CorpusParams()
    roots = roots or {}
    stats: dict = {"sources": {}}
    pages: list[tuple[Source, dict]] = []
    for src in sources:
        root = roots.get(src.name, src.root)
        if not Path(root).is_dir():
            raise FileNotFoundError(f"source {src.name!r}: HTML folder {root} not found "
                                    f"(install Debian package {src.package})")
        got = extract_pages(src, root, params.max_pages_per_source, progress)
        stats["sources"][src.name] = {"pages_read": len(src.pages(root)[: params.max_pages_per_source]),
                                      "pages_with_prose": len(got), "words": sum(len(p["text"].split()) for p in got)}
        pages += [(src, p) for p in got]
    if not pages:
        raise ValueError("no prose was extracted from any source")

    tokenizer = train_bpe((p["text"] for _, p in pages), vocab_size=params.vocab_size)
    candidates = []
    for src, page in tqdm(pages, desc="windows", disable=not progress, leave=False):
        n_before = len(candidates)
        for start, text in text_windows(page["text"], tokenizer, params.window, params.stride):
            candidates.append({"source": src.name, "licence": src.licence, "page": page["page"], "start": start,
                               "text": text, "quality": passes_quality(text)})
        counted = stats["sources"][src.name]
        counted["windows"] = counted.get("windows", 0) + len(candidates) - n_before
    good = [c for c in candidates if c.pop("quality")]
    for name in stats["sources"]:
        stats["sources"][name]["after_quality"] = sum(c["source"] == name for c in good)
    kept, dedup_stats = deduplicate([c["text"] for c in good], threshold=params.near_dup_threshold)
    stats["dedup"] = dedup_stats
    unique = [good[i] for i in kept]
    for name in stats["sources"]:
        stats["sources"][name]["after_dedup"] = sum(c["source"] == name for c in unique)
    for c in unique:
        c["content_hash"] = content_hash(c["text"])
        c["id"] = f"{c['source']}-{c['content_hash'][:12]}"
    return DedupedWindows(unique, tokenizer, stats)


def context_record(window: dict, tokenizer: Tokenizer) -> dict:
    """A window as a frozen context: ``{"id", "source", "licence", "page", "text", "n_tokens", "content_hash"}``."""
    return {"id": window["id"], "source": window["source"], "licence": window["licence"], "page": window["page"],
            "text": window["text"], "n_tokens": len(tokenizer.encode(window["text"]).ids),
            "content_hash": window["content_hash"]}


def build_corpus(out_dir: str | Path, sources: list[Source] | tuple[Source, ...] = SOURCES,
                 params: CorpusParams | None = None, roots: dict[str, str | Path] | None = None,
                 progress: bool = True, prompts_file: str | Path | None = TECH_DIR / "prompts.jsonl") -> dict:
    """Run the whole pipeline and write the assets and their manifest into ``out_dir``.

    Parameters
    ----------
    out_dir : folder to write (created; existing asset files are replaced atomically)
    sources : the sources to read
    params : :class:`CorpusParams`
    roots : optional ``{source name: folder}`` overriding each source's HTML folder (tests)
    prompts_file : the prompt bank copied alongside (``None`` to skip)

    Returns
    -------
    The manifest (dict).
    """
    params = params or CorpusParams()
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    built = deduplicated_windows(sources, params, roots=roots, progress=progress)
    return write_corpus(out_dir, built, sources, params, roots=roots, prompts_file=prompts_file)


def write_corpus(out_dir: str | Path, built: DedupedWindows, sources: list[Source] | tuple[Source, ...] = SOURCES,
                 params: CorpusParams | None = None, *, roots: dict[str, str | Path] | None = None,
                 prompts_file: str | Path | None = TECH_DIR / "prompts.jsonl") -> dict:
    """Select the training and held-out contexts of ``built`` and write the assets (see :func:`build_corpus`)."""
    params = params or CorpusParams()
    roots = roots or {}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    unique, tokenizer, stats = built.windows, built.tokenizer, dict(built.stats)
    sel, held = select_balanced([c["content_hash"] for c in unique], [c["source"] for c in unique],
                                params.n_contexts, params.n_heldout, params.seed)
    write_jsonl([context_record(unique[i], tokenizer) for i in sel], out / "contexts.jsonl")
    write_jsonl([context_record(unique[i], tokenizer) for i in held], out / "heldout.jsonl")
    atomic_write_text(out / "tokenizer.json", tokenizer.to_str(pretty=True) + "\n")
    lic = out / "licenses"
    lic.mkdir(exist_ok=True)
    for src in sources:
        if src.copyright_file.is_file():
            atomic_write_text(lic / f"{src.name}.copyright", src.copyright_file.read_text(encoding="utf-8"))
    if prompts_file is not None and Path(prompts_file).resolve() != (out / "prompts.jsonl").resolve():
        shutil.copyfile(prompts_file, out / "prompts.jsonl")
    stats["selected"] = {s.name: sum(unique[i]["source"] == s.name for i in sel) for s in sources}
    stats["heldout"] = {s.name: sum(unique[i]["source"] == s.name for i in held) for s in sources}
    atomic_write_text(out / "build_stats.json", json.dumps(stats, indent=1, sort_keys=True) + "\n")
    source_info = [{"name": s.name, "package": s.package, "version": package_version(s.package),
                    "licence": s.licence, "root": str(roots.get(s.name, s.root))} for s in sources]
    return write_manifest(out, source_info, vars(params))


def compare_with_frozen(built: str | Path, frozen: str | Path = TECH_DIR) -> dict[str, bool]:
    """``{file: identical?}`` for every asset file of either folder (SHA-256 comparison)."""
    names = sorted(set(asset_files(built)) | set(asset_files(frozen)))
    return {n: (Path(built, n).is_file() and Path(frozen, n).is_file()
                and sha256_file(Path(built, n)) == sha256_file(Path(frozen, n))) for n in names}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sigma_lib.corpus.build", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="outputs/corpus", help="folder to build into (default: outputs/corpus)")
    ap.add_argument("--freeze", action="store_true", help="build into the package's frozen assets folder")
    ap.add_argument("--compare", action="store_true", help="compare the build with the frozen assets, byte for byte")
    ap.add_argument("--n-contexts", type=int, default=CorpusParams.n_contexts)
    ap.add_argument("--n-heldout", type=int, default=CorpusParams.n_heldout)
    ap.add_argument("--stride", type=int, default=CorpusParams.stride)
    ap.add_argument("--seed", type=int, default=CorpusParams.seed)
    a = ap.parse_args(argv)
    out = TECH_DIR if a.freeze else Path(a.out)
    params = CorpusParams(n_contexts=a.n_contexts, n_heldout=a.n_heldout, stride=a.stride, seed=a.seed)
    manifest = build_corpus(out, params=params)
    print(f"wrote {len(manifest['files'])} files to {out}")
    if a.compare and not a.freeze:
        diff = compare_with_frozen(out)
        for name, same in diff.items():
            print(f"  {'identical' if same else 'DIFFERS  '}  {name}")
        if not all(diff.values()):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
