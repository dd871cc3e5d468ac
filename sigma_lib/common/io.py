"""Atomic writes of files and folders: a reader never sees half of either, a killed process leaves the old one.

Each writer writes to a temporary file in the target's folder, flushes it to disk, then
``os.replace``-s it over the target (atomic on POSIX within one file system).
:func:`atomic_write_files` writes several files all or nothing (a table is not left behind when
its plot fails), and :func:`check_writable` lets a command refuse a bad output path before it
spends any time computing. :func:`atomic_replace_dir` does the same for a whole folder (written
as a sibling ``<name>.partial-<pid>``, then renamed), and :func:`remove_partials` cleans the
leftovers of killed processes.
"""
from __future__ import annotations

import csv
import io
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Mapping


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _stage(path: Path, data: bytes) -> str:
    """Write ``data`` to a fresh temporary file beside ``path`` (fsynced); returns its name."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return tmp


def check_writable(path: str | os.PathLike, what: str = "output") -> Path:
    """Refuse an output path that cannot be written, before any work is done.

    Raises ``ValueError`` (one line, naming ``path``) when ``path`` is a folder, when a parent
    is not a folder, or when a file cannot be created in its folder (tried for real, so that
    read-only file systems and permissions are caught whoever runs the command). Missing parent
    folders are created.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: {what} path is a folder, not a file")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise ValueError(f"{path}: cannot write the {what} there ({parent} is a file, not a folder)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".probe")
    except OSError as exc:
        raise ValueError(f"{path}: cannot write the {what} there ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(tmp)
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (parent folders are created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _stage(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_files(files: Mapping[str | os.PathLike, bytes]) -> list[Path]:
    """Write several files all or nothing.

    Every file is first staged beside its target; only when all are staged are they moved into
    place. If a move fails, the targets already replaced get their previous content back (or
    are removed when they did not exist), so either every file is new or none is.
    """
    targets = [Path(p) for p in files]
    staged: list[tuple[Path, str]] = []
    try:
        for path, data in zip(targets, files.values()):
            path.parent.mkdir(parents=True, exist_ok=True)
            staged.append((path, _stage(path, data)))
    except BaseException:
        for _, tmp in staged:
            os.unlink(tmp)
        raise
    done: list[tuple[Path, str | None]] = []  # (target, backup of its old content or None)
    try:
        for path, tmp in staged:
            backup = None
            if path.is_file():
                fd, backup = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old")
                os.close(fd)
                os.replace(path, backup)
            try:
                os.replace(tmp, path)
            except BaseException:
                if backup is not None:
                    os.replace(backup, path)
                raise
            done.append((path, backup))
    except BaseException:
        for path, backup in reversed(done):
            if backup is not None:
                os.replace(backup, path)
            elif path.exists():
                path.unlink()
        for _, tmp in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)
        raise
    for _, backup in done:
        if backup is not None and os.path.exists(backup):
            os.unlink(backup)
    return targets


def csv_text(rows: Iterable[Mapping]) -> str:
    """A list of dicts (one per row) as CSV text; see :func:`write_csv`."""
    rows = list(rows)
    if not rows:
        raise ValueError("no rows to write")
    fields = list(dict.fromkeys(k for row in rows for k in row))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, restval="", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (repr(float(v)) if isinstance(v, float) else v) for k, v in row.items()})
    return buf.getvalue()


def write_csv(rows: Iterable[Mapping], path: str | os.PathLike) -> Path:
    """Write a list of dicts (one per row) to CSV, atomically.

    Columns are every key in order of first appearance; a row without a column leaves it empty.
    Floats are written with ``repr`` precision, so a table read back is bit-identical.
    """
    rows = list(rows)
    if not rows:
        raise ValueError(f"no rows to write to {path}")
    return atomic_write_text(path, csv_text(rows))

def atomic_replace_dir(final: str | os.PathLike, fill, keep_existing: bool = False) -> Path:
    """Create the folder ``final`` atomically: ``fill(tmp)`` writes its files into a temporary
    sibling folder, which is then renamed to ``final``; returns ``final``.

    If ``fill`` raises, the temporary folder is removed; if the process is killed, it is left as
    ``<name>.partial-<pid>`` for :func:`remove_partials`. With ``keep_existing`` an existing
    ``final`` (another process finished first) is kept and the new copy dropped; otherwise it is
    replaced.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(final.name + f".partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        fill(tmp)
        if final.exists():
            if keep_existing:
                shutil.rmtree(tmp)
                return final
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def remove_partials(folder: str | os.PathLike, pattern: str = "*.partial-*") -> list[Path]:
    """Remove the leftovers of interrupted :func:`atomic_replace_dir` calls whose process is no
    longer running (another live process's temporary folder is left alone); returns what was removed."""
    removed = []
    for path in Path(folder).glob(pattern):
        m = re.search(r"\.partial-(\d+)$", path.name)
        if m and int(m.group(1)) != os.getpid() and _alive(int(m.group(1))):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
