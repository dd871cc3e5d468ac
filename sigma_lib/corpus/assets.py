"""The frozen TECH assets shipped inside the package, and their SHA-256 manifest.

Files in ``sigma_lib/data/tech/``: ``contexts.jsonl`` (training contexts), ``heldout.jsonl``
(real contexts never trained on, for real-text perplexity), ``tokenizer.json`` (the project's
BPE), ``prompts.jsonl`` (the frozen prompt bank), ``licenses/*.copyright`` (the licence notices
of every source), ``build_stats.json`` (counts at every stage) and ``manifest.json`` (sources,
versions, parameters and the SHA-256 of every other file).
"""
from __future__ import annotations

import json
from pathlib import Path

from ..common.io import atomic_write_text
from ..common.records import read_jsonl, sha256_file

TECH_DIR = Path(__file__).resolve().parent.parent / "data" / "tech"
MANIFEST = "manifest.json"


def asset_files(directory: str | Path = TECH_DIR) -> list[str]:
    """Relative paths of every asset file under ``directory`` except the manifest, sorted."""
    directory = Path(directory)
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST)


def write_manifest(directory: str | Path, sources: list[dict], parameters: dict, *, extra: dict | None = None) -> dict:
    """Hash every asset in ``directory`` and write ``manifest.json`` atomically; returns it.

    ``extra`` adds top-level entries (provenance) beside ``sources``, ``parameters`` and ``files``.
    """
    directory = Path(directory)
    clash = sorted(set(extra or {}) & {"sources", "parameters", "files"})
    if clash:
        raise ValueError(f"extra manifest entries {clash} would replace the manifest's own")
    manifest = {
        "sources": sources,
        "parameters": parameters,
        "files": {name: sha256_file(directory / name) for name in asset_files(directory)},
        **(extra or {}),
    }
    atomic_write_text(directory / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def load_manifest(directory: str | Path = TECH_DIR) -> dict:
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"no manifest at {path}: the TECH assets are missing (run `make corpus`)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"manifest {path} is corrupt: {exc}") from None


def verify_assets(directory: str | Path = TECH_DIR, *, what: str = "TECH assets") -> dict:
    """Check every file against the manifest; raise ``ValueError`` naming each mismatch.

    Returns the manifest when all files match and no file is missing or unlisted.
    """
    directory = Path(directory)
    manifest = load_manifest(directory)
    expected = manifest["files"]
    problems = []
    for name, digest in sorted(expected.items()):
        path = directory / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256_file(path) != digest:
            problems.append(f"{name}: SHA-256 differs from the manifest")
    for name in asset_files(directory):
        if name not in expected:
            problems.append(f"{name}: not listed in the manifest")
    if problems:
        raise ValueError(f"{what} in {directory} do not match their manifest:\n  " + "\n  ".join(problems))
    return manifest


def load_contexts(directory: str | Path = TECH_DIR, split: str = "train") -> list[dict]:
    """The frozen contexts: ``split="train"`` (contexts.jsonl) or ``"heldout"``."""
    files = {"train": "contexts.jsonl", "heldout": "heldout.jsonl"}
    if split not in files:
        raise ValueError(f"split must be one of {sorted(files)}, got {split!r}")
    return read_jsonl(Path(directory) / files[split])
