"""Tables about the frozen (or rebuilt) TECH assets, for the corpus chapter of the book."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from ..common import profiles
from ..common.params import require_int, resolve_profile
from .assets import TECH_DIR, load_contexts, load_manifest
from .prompts import BUCKETS, load_prompt_bank

#: The corpus chapter's parameter sets (:data:`sigma_lib.common.profiles.CORPUS`).
CORPUS_PROFILES = profiles.CORPUS


def corpus_parameters(profile: str = "default", **overrides) -> dict:
    """The corpus chapter's parameters (profile plus overrides), checked."""
    params = resolve_profile(CORPUS_PROFILES, profile, overrides, "corpus chapter")
    if params["mode"] not in ("verify", "rebuild"):
        raise ValueError(f"mode must be 'verify' or 'rebuild', got {params['mode']!r}")
    for key, minimum in (("n_contexts", 1), ("n_heldout", 0), ("stride", 1), ("seed", 0), ("examples_per_source", 0)):
        require_int(params, key, minimum)
    return params


def source_table(directory: str | Path = TECH_DIR) -> list[dict]:
    """One row per source: package, version, licence, and the count after every pipeline stage."""
    directory = Path(directory)
    manifest = load_manifest(directory)
    stats = json.loads((directory / "build_stats.json").read_text())
    rows = []
    for s in manifest["sources"]:
        st = stats["sources"][s["name"]]
        rows.append({
            "source": s["name"], "package": s["package"], "version": s["version"], "licence": s["licence"],
            "pages_read": st["pages_read"], "pages_with_prose": st["pages_with_prose"], "words": st["words"],
            "windows": st["windows"], "after_quality": st["after_quality"], "after_dedup": st["after_dedup"],
            "selected": stats["selected"][s["name"]], "heldout": stats["heldout"][s["name"]],
        })
    return rows


def dedup_table(directory: str | Path = TECH_DIR) -> list[dict]:
    """Exact and near-duplicate counts of the build (one row)."""
    stats = json.loads((Path(directory) / "build_stats.json").read_text())
    return [dict(stats["dedup"])]


def context_lengths(directory: str | Path = TECH_DIR) -> list[dict]:
    """Per context: source, split, tokens, words and characters (every context is 64 tokens)."""
    rows = []
    for split in ("train", "heldout"):
        for c in load_contexts(directory, split):
            rows.append({"id": c["id"], "source": c["source"], "split": split, "tokens": c["n_tokens"],
                         "words": len(c["text"].split()), "characters": len(c["text"])})
    return rows


def examples(directory: str | Path = TECH_DIR, per_source: int = 1) -> list[dict]:
    """The first ``per_source`` training contexts of each source (by id, so always the same ones)."""
    by_source: dict[str, list[dict]] = {}
    for c in sorted(load_contexts(directory, "train"), key=lambda c: c["id"]):
        by_source.setdefault(c["source"], []).append(c)
    return [{"id": c["id"], "source": c["source"], "page": c["page"], "text": c["text"].strip()}
            for cs in by_source.values() for c in cs[:per_source]]


def prompt_bucket_table(path: str | Path | None = None) -> list[dict]:
    """Prompt-bank bucket sizes, with the first prompt of each bucket."""
    bank = load_prompt_bank(path)
    counts = Counter(p["bucket"] for p in bank)
    first = {}
    for p in bank:
        first.setdefault(p["bucket"], p)
    return [{"bucket": b, "prompts": counts[b], "example_id": first[b]["id"], "example": first[b]["text"]}
            for b in BUCKETS]
