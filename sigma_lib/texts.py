"""Reading response texts: JSON lines (a field per record), plain text (a response per line), or a
folder of such files, with clear errors for empty inputs, empty responses and bytes that are not
UTF-8 (each naming the file and line)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

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
        for lineno, line in _decoded_lines(f):
            if f.suffix == ".jsonl":
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{f}, line {lineno}: not valid JSON ({exc.msg})") from None
                if not isinstance(rec, dict) or not isinstance(rec.get(field), str):
                    raise ValueError(f"{f}, line {lineno}: no string field {field!r}")
                text = rec[field]
            else:
                text = line.rstrip("\n")
            if not text.strip() and not allow_empty:
                raise ValueError(f"{f}, line {lineno}: empty response (pass --allow-empty to keep empty responses)")
            n += 1
            yield text
    if n == 0:
        raise ValueError(f"{path}: no responses found (empty input)")


def _decoded_lines(f: Path) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of a UTF-8 file; a line that is not UTF-8 raises ``ValueError``
    naming the file, the line and the byte (decoding line by line, so the line number is exact)."""
    with open(f, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ValueError(f"{f}, line {lineno}: not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column "
                                 f"{exc.start + 1}); re-encode the file as UTF-8") from None
            yield lineno, line.replace("\r\n", "\n")


def read_texts(path: str | Path, field: str = "text", allow_empty: bool = False) -> list[str]:
    return list(iter_texts(path, field, allow_empty))
