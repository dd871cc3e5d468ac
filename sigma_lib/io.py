"""Atomic file writes: a reader never sees half a file, a killed process leaves the old one.

Each writer writes to a temporary file in the target's folder, flushes it to disk, then
``os.replace``-s it over the target (atomic on POSIX within one file system).
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path
from typing import Iterable, Mapping


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (parent folders are created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_csv(rows: Iterable[Mapping], path: str | os.PathLike) -> Path:
    """Write a list of dicts (one per row) to CSV, atomically.

    Columns are every key in order of first appearance; a row without a column leaves it empty.
    Floats are written with ``repr`` precision, so a table read back is bit-identical.
    """
    rows = list(rows)
    if not rows:
        raise ValueError(f"no rows to write to {path}")
    fields = list(dict.fromkeys(k for row in rows for k in row))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, restval="", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (repr(float(v)) if isinstance(v, float) else v) for k, v in row.items()})
    return atomic_write_text(path, buf.getvalue())
