"""The frozen TECH prompt bank: persistent ids, five buckets (App. C.2, C.6)."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from ..common.records import read_jsonl
from .assets import TECH_DIR

BUCKETS = ("Creative", "Divergent", "Analogy/ELI5", "What-if", "Neutral")


def validate_prompt_bank(prompts: list[dict], min_size: int = 163, max_size: int = 200,
                         max_imbalance: float = 1.5) -> None:
    """Raise ``ValueError`` unless the bank has the paper's shape.

    Every prompt has a non-empty ``id``, ``bucket`` and ``text``; ids and texts are unique;
    buckets are the five of the taxonomy, each present, the largest at most ``max_imbalance``
    times the smallest; the size lies in ``[min_size, max_size]``.
    """
    for i, p in enumerate(prompts):
        missing = [k for k in ("id", "bucket", "text") if not isinstance(p.get(k), str) or not p.get(k).strip()]
        if missing:
            raise ValueError(f"prompt {i} lacks a non-empty {', '.join(missing)}")
        if p["bucket"] not in BUCKETS:
            raise ValueError(f"prompt {p['id']} has unknown bucket {p['bucket']!r}; buckets are {BUCKETS}")
    for key in ("id", "text"):
        dup = [k for k, c in Counter(p[key] for p in prompts).items() if c > 1]
        if dup:
            raise ValueError(f"duplicate prompt {key}s: {dup[:3]}")
    if not min_size <= len(prompts) <= max_size:
        raise ValueError(f"the bank has {len(prompts)} prompts; expected {min_size}-{max_size}")
    counts = Counter(p["bucket"] for p in prompts)
    absent = [b for b in BUCKETS if counts[b] == 0]
    if absent:
        raise ValueError(f"buckets without prompts: {absent}")
    if max(counts.values()) > max_imbalance * min(counts.values()):
        raise ValueError(f"buckets are unbalanced: {dict(counts)}")


def load_prompt_bank(path: str | Path | None = None) -> list[dict]:
    """The frozen prompt bank (validated): dicts with ``id``, ``bucket``, ``text``, in file order."""
    prompts = read_jsonl(Path(path) if path is not None else TECH_DIR / "prompts.jsonl")
    validate_prompt_bank(prompts)
    return prompts
