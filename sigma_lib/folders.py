"""Atomic folders: a reader sees the whole folder or none of it.

The folder counterpart of :mod:`sigma_lib.io`'s atomic files: the files are written into a
temporary sibling ``<name>.partial-<pid>``, which is renamed into place when complete.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path


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
