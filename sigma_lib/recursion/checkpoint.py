"""Generation folders written atomically and verified on reading.

A generation's folder is written under a temporary name and renamed when complete, with a
``done.json`` holding the metrics, the SHA-256 of every file, and the SHA-256 of its own content
(``digest``: the canonical JSON of metrics and files), so that an edited ``done.json`` is caught
like an edited file. A folder without ``done.json`` is an interrupted write and is ignored
(recomputed); a file whose hash differs is a corrupt checkpoint and raises an error that names it.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np

from ..common.records import read_jsonl, sha256_file, write_jsonl

DONE = "done.json"


def generation_dir(run_dir: str | Path, setting: str, generation: int) -> Path:
    """``run_dir/<setting>/gen_<g>``; generation 0 (theta_0, shared by S1 and S2) is ``run_dir/base/gen_000``."""
    return Path(run_dir) / ("base" if generation == 0 else setting) / f"gen_{generation:03d}"


def stored_generations(run_dir: str | Path, setting: str) -> list[int]:
    """The generations ``0, 1, ...`` of ``setting`` that ``run_dir`` holds finished (``done.json`` in a
    run directory, ``metrics.json`` in a committed run), up to the first one missing."""
    out: list[int] = []
    while any((generation_dir(run_dir, setting, len(out)) / name).is_file() for name in (DONE, "metrics.json")):
        out.append(len(out))
    return out


def save_model(path: Path, model, tokenizer) -> None:
    """A model's weights and its tokenizer in the folder ``path`` (loaded back by ``load_pretrained``)."""
    model.to("cpu").save_pretrained(path)
    tokenizer.save_pretrained(path)


class GenerationWriter:
    """Collects a generation's files in a temporary folder; :meth:`commit` makes them visible at once."""

    def __init__(self, final: Path):
        self.final = Path(final)
        self.tmp = self.final.with_name(self.final.name + f".partial-{os.getpid()}")
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True)

    def jsonl(self, name: str, rows: list[dict]) -> None:
        write_jsonl(rows, self.tmp / name)

    def array(self, name: str, arr: np.ndarray) -> None:
        np.save(self.tmp / name, arr, allow_pickle=False)

    def model(self, model, tokenizer) -> None:
        save_model(self.tmp / "model", model, tokenizer)

    def commit(self, metrics: dict) -> None:
        files = sorted(str(p.relative_to(self.tmp)) for p in self.tmp.rglob("*") if p.is_file())
        _write_done(self.tmp / DONE, {"metrics": metrics, "files": {f: sha256_file(self.tmp / f) for f in files}})
        if self.final.exists():
            shutil.rmtree(self.final)
        os.replace(self.tmp, self.final)


def _content_digest(done: dict) -> str:
    body = json.dumps({"metrics": done["metrics"], "files": done["files"]}, sort_keys=True, allow_nan=True)
    return hashlib.sha256(body.encode()).hexdigest()


def _write_done(path: Path, done: dict) -> None:
    done = {"metrics": done["metrics"], "files": done["files"]}
    done["digest"] = _content_digest(done)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(done, indent=1, sort_keys=True))
    os.replace(tmp, path)


def is_done(folder: Path) -> bool:
    return (Path(folder) / DONE).is_file()


def read_done(folder: Path, verify: bool = True) -> dict:
    """The ``done.json`` of a finished generation, after checking every file's SHA-256.

    Raises ``ValueError`` naming the corrupt or missing file (delete the folder to recompute it).
    """
    folder = Path(folder)
    try:
        done = json.loads((folder / DONE).read_text())
        ok = (isinstance(done["files"], dict) and isinstance(done["metrics"], dict)
              and done["digest"] == _content_digest(done))
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"corrupt checkpoint {folder / DONE} ({exc.__class__.__name__}: {exc}); "
                         f"delete {folder} to recompute it") from None
    if not ok:
        raise ValueError(f"corrupt checkpoint: {folder / DONE} does not match its own digest (edited after it was "
                         f"written?); delete {folder} to recompute it")
    if verify:
        for name, digest in done["files"].items():
            path = folder / name
            if not path.is_file():
                raise ValueError(f"corrupt checkpoint: {path} is missing; delete {folder} to recompute it")
            if sha256_file(path) != digest:
                raise ValueError(f"corrupt checkpoint: {path} does not match its SHA-256; delete {folder} "
                                 "to recompute it")
    return done


def load_embeddings(folder: Path) -> np.ndarray:
    return np.load(Path(folder) / "embeddings.npy", allow_pickle=False)


def load_texts(folder: Path, name: str = "responses.jsonl") -> list[dict]:
    return read_jsonl(Path(folder) / name)


def remove_model(folder: Path) -> None:
    """Drop a finished generation's model weights (``keep_checkpoints="last"``), keeping the rest.

    ``done.json`` is rewritten without the model files so the folder still verifies.
    """
    folder = Path(folder)
    if not (folder / "model").is_dir():
        return
    done = read_done(folder, verify=False)
    done["files"] = {k: v for k, v in done["files"].items() if not k.startswith("model/")}
    _write_done(folder / DONE, done)
    shutil.rmtree(folder / "model")


def add_model(folder: Path, model, tokenizer) -> None:
    """Put back a finished generation's model weights that :func:`remove_model` dropped (re-trained
    and checked by the caller): written beside the folder, moved in at once, then listed in ``done.json``."""
    folder = Path(folder)
    tmp = folder / f"model.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    save_model(tmp, model, tokenizer)
    done = read_done(folder)
    if (folder / "model").exists():
        shutil.rmtree(folder / "model")
    os.replace(tmp, folder / "model")
    done["files"].update({str(p.relative_to(folder)): sha256_file(p) for p in (folder / "model").rglob("*")
                          if p.is_file()})
    _write_done(folder / DONE, done)
