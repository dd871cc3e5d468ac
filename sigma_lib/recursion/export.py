"""Committed runs: what of a run directory is kept in the repository, and its verification.

A run that cost an hour of CPU (or GPU time that may not come again) is committed under
``runs/<name>/`` without model weights: the manifest, the tables, and per generation the
responses, their embeddings, the synthetic pool and the measured metrics, so that every metric
of the book can be recomputed from what is stored. ``checksums.json`` holds the SHA-256 of every
file and is checked before anything is read.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..common.io import atomic_replace_dir
from ..common.records import sha256_file
from .checkpoint import generation_dir, is_done, read_done

CHECKSUMS = "checksums.json"
KEPT = ("responses.jsonl", "responses_reseed.jsonl", "embeddings.npy", "embeddings_reseed.npy", "pool.jsonl")
MAX_BYTES = 25 * 2**20


def responses_key(setting: str, generation: int) -> str:
    """The key of a checkpoint's responses in a committed run's ``checksums.json``
    (``base/gen_000/responses.jsonl`` for generation 0, whatever the setting)."""
    return (generation_dir("", setting, generation) / "responses.jsonl").as_posix()


def _map_setting_column(tables: Path, fn) -> None:
    """Rewrite every CSV table in ``tables`` in place: each row's ``setting`` becomes ``fn(setting)``,
    and a row whose ``fn`` is ``None`` is dropped; tables without the column are left alone."""
    import csv
    import io

    for table in sorted(tables.glob("*.csv")):
        text = table.read_text()
        rows = list(csv.reader(io.StringIO(text)))
        if not rows or "setting" not in rows[0]:
            continue
        col = rows[0].index("setting")
        kept = [rows[0]] + [r[:col] + [fn(r[col])] + r[col + 1:] for r in rows[1:] if fn(r[col]) is not None]
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(kept)
        table.write_text(out.getvalue())


def export_run(run_dir: str | Path, dest: str | Path, max_bytes: int = MAX_BYTES, *, pools: bool = True,
               settings: list[str] | None = None) -> Path:
    """Copy the keepable part of a finished (or partly finished) run to ``dest``, atomically.

    Each generation folder contributes its kept files (``KEPT``) and ``metrics.json`` (the
    metrics of its ``done.json``); each is verified against ``done.json`` first. ``pools=False``
    leaves out the synthetic pools (``pool.jsonl``: what a generation trained on, which no metric
    of the book is recomputed from), for runs that would not fit otherwise. ``settings`` exports
    only those settings (and generation 0): one committed folder per setting of a long run, its
    manifest's ``settings`` and tables cut to them. Raises ``ValueError`` if the export would exceed
    ``max_bytes``.
    """
    run_dir = Path(run_dir)
    if not (run_dir / "manifest.json").is_file():
        raise FileNotFoundError(f"{run_dir} holds no run (no manifest.json)")

    def fill(tmp: Path) -> None:
        shutil.copy2(run_dir / "manifest.json", tmp / "manifest.json")
        if (run_dir / "tables").is_dir():
            shutil.copytree(run_dir / "tables", tmp / "tables")
        if settings is not None:
            manifest = json.loads((tmp / "manifest.json").read_text())
            manifest["config"]["settings"] = [s for s in manifest["config"]["settings"] if s in settings]
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
            if (tmp / "tables").is_dir():
                _map_setting_column(tmp / "tables", lambda s: s if s in settings else None)
        for folder in sorted(run_dir.glob("*/gen_*")):
            if ".partial-" in folder.name or not is_done(folder):
                continue
            if settings is not None and folder.parent.name not in (*settings, "base"):
                continue
            done = read_done(folder)
            out = tmp / folder.relative_to(run_dir)
            out.mkdir(parents=True)
            for name in (KEPT if pools else tuple(k for k in KEPT if k != "pool.jsonl")):
                if (folder / name).is_file():
                    shutil.copy2(folder / name, out / name)
            (out / "metrics.json").write_text(json.dumps(done["metrics"], indent=1, sort_keys=True) + "\n")
        files = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
        size = sum((tmp / f).stat().st_size for f in files)
        if size > max_bytes:
            raise ValueError(f"the export of {run_dir} would take {size / 2**20:.1f} MiB, "
                             f"above {max_bytes / 2**20:.0f} MiB")
        (tmp / CHECKSUMS).write_text(json.dumps({f: sha256_file(tmp / f) for f in files}, indent=1,
                                                sort_keys=True) + "\n")

    return atomic_replace_dir(dest, fill)


def verify_committed_run(path: str | Path) -> dict:
    """The manifest of a committed run after checking every file against ``checksums.json``.

    Raises ``FileNotFoundError`` if ``path`` holds no committed run and ``ValueError`` naming
    the first file that is missing, unlisted or does not match its SHA-256.
    """
    path = Path(path)
    if not (path / CHECKSUMS).is_file():
        raise FileNotFoundError(f"{path} holds no committed run (no {CHECKSUMS})")
    try:
        sums = json.loads((path / CHECKSUMS).read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"corrupt {path / CHECKSUMS}: {exc}") from None
    present = {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()} - {CHECKSUMS}
    for extra in sorted(present - set(sums)):
        raise ValueError(f"{path / extra} is not listed in {path / CHECKSUMS}")
    for name, digest in sorted(sums.items()):
        f = path / name
        if not f.is_file():
            raise ValueError(f"committed run: {f} is missing")
        if sha256_file(f) != digest:
            raise ValueError(f"committed run: {f} does not match its SHA-256 in {CHECKSUMS}")
    return json.loads((path / "manifest.json").read_text())


def rename_setting(path: str | Path, old: str, new: str) -> Path:
    """Rename setting ``old`` to ``new`` in the committed run at ``path``, atomically: its folder,
    the manifest's ``settings``, the ``setting`` column of every table, and the checksums.

    The run is verified first. Used once, when the ``fresh`` control became ``repeat-real``
    (it trains on the same real contexts every generation): the data is unchanged, only the name.
    """
    path = Path(path)
    manifest = verify_committed_run(path)
    if old not in manifest["config"]["settings"] or new in manifest["config"]["settings"]:
        raise ValueError(f"{path}: setting {old!r} is not in its manifest, or {new!r} already is")

    def fill(tmp: Path) -> None:
        shutil.copytree(path, tmp, dirs_exist_ok=True)
        (tmp / CHECKSUMS).unlink()
        if (tmp / old).is_dir():
            (tmp / old).rename(tmp / new)
        manifest["config"]["settings"] = [new if s == old else s for s in manifest["config"]["settings"]]
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        _map_setting_column(tmp / "tables", lambda s: new if s == old else s)
        files = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
        (tmp / CHECKSUMS).write_text(json.dumps({f: sha256_file(tmp / f) for f in files}, indent=1,
                                                sort_keys=True) + "\n")

    return atomic_replace_dir(path, fill)


def main(argv: list[str] | None = None) -> int:
    """``python -m sigma_lib.recursion.export RUN_DIR DEST [--settings S2] [--without-pools]``:
    commit what a run (finished or not) has finished so far."""
    import argparse
    import sys

    ap = argparse.ArgumentParser(prog="python -m sigma_lib.recursion.export", description=main.__doc__.split("\n")[0])
    ap.add_argument("run_dir")
    ap.add_argument("dest")
    ap.add_argument("--settings", default=None, help="only these settings (comma-separated) and generation 0")
    ap.add_argument("--without-pools", action="store_true", help="leave the synthetic pools out")
    args = ap.parse_args(argv)
    try:
        dest = export_run(args.run_dir, args.dest, pools=not args.without_pools,
                          settings=args.settings.split(",") if args.settings else None)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"committed run written to {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
