"""Reading response texts: JSON lines (a field per record), plain text (a response per line), or a
folder of such files, with clear errors for empty inputs, empty responses and bytes that are not
UTF-8 (each naming the file and line)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from .records import decoded_lines, iter_jsonl

TEXT_SUFFIXES = (".jsonl", ".txt")


def text_files(path: str | Path) -> list[Path]:
    """The file itself, or every ``.jsonl``/``.txt`` file of a folder (sorted, recursively)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES)
        if not files:
            raise ValueError(f"{path}: folder holds no .jsonl or .txt files")
        return files
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file or folder")
    return [path]


def iter_texts(path: str | Path, field: str = "text", allow_empty: bool = False) -> Iterator[str]:
    """Responses of a file or folder, in order.

    ``.jsonl``: one JSON object per line, the response in ``field``. Anything else: one response
    per line. Raises ``ValueError`` naming the file and line of a bad record, or of an empty
    response unless ``allow_empty``.
    """
    n = 0
    for f in text_files(path):
        for lineno, text in (_jsonl_field(f, field) if f.suffix == ".jsonl" else _plain_lines(f)):
            if not text.strip() and not allow_empty:
                raise ValueError(f"{f}, line {lineno}: empty response (pass --allow-empty to keep empty responses)")
            n += 1
            yield text
    if n == 0:
        raise ValueError(f"{path}: no responses found (empty input)")


def _jsonl_field(f: Path, field: str) -> Iterator[tuple[int, str]]:
    for lineno, rec in iter_jsonl(f):
        if not isinstance(rec, dict) or not isinstance(rec.get(field), str):
            raise ValueError(f"{f}, line {lineno}: no string field {field!r}")
        yield lineno, rec[field]


def _plain_lines(f: Path) -> Iterator[tuple[int, str]]:
    for lineno, line in decoded_lines(f):
        yield lineno, line.rstrip("\n")


def read_texts(path: str | Path, field: str = "text", allow_empty: bool = False) -> list[str]:
    return list(iter_texts(path, field, allow_empty))
