"""Track II of a committed run, measured again with the second encoder (theta_0's hidden states).

For every checkpoint of a committed run (``runs/real-rep/seed-N/<setting>/``), the stored responses
are embedded by :mod:`.hidden_state_embedding` and measured by Algorithm 1 with the run's own ``m``,
``eps``, index sets and re-drawn index sets: ``U``, its drift from generation 0 (3.21) and the
index-set noise band, as in the run's own table. Embedding needs the model (about 45 s per
checkpoint of 540 responses on one core), so the book reads the result as recorded, like the
held-out NLL: ``track2.csv`` and a ``manifest.json`` that records the encoder, the SHA-256 of every
responses file measured (as the run's ``checksums.json`` lists it) and of the table itself. A reader
checks both (:func:`read_hidden_state_track2`); a stale table (the run re-exported with other
responses) is refused by name. Measuring resumes: a generation already in the table, with the same
responses and encoder, is kept; generation 0 is embedded again each time (the baseline).

    python -m sigma_lib.recursion.hidden_state_track2 runs/real-rep/seed-0/S2 ... --out-root runs/real-rep-hidden
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..common.io import atomic_write_files, csv_text
from ..common.records import sha256_file
from .checkpoint import generation_dir, load_texts, stored_generations
from .export import CHECKSUMS, responses_key, verify_committed_run
from .measures import baseline_monitor

TABLE, MANIFEST = "track2.csv", "manifest.json"
COLUMNS = ("setting", "generation", "N", "m", "d", "U", "drift_U", "noise_U", "gamma_kf", "drift_gamma_kf",
           "noise_gamma_kf")
BATCH_SIZE = 64


def _encoder_record(info: dict) -> dict:
    from .hidden_state_embedding import POOLING

    return {"base_model": info["base_model"], "params_hash": info["params_hash"],
            "gguf_sha256": info.get("gguf_sha256"), "pooling": POOLING, "batch_size": BATCH_SIZE}


def _reusable(out_folder: Path, encoder: dict, inputs: dict) -> dict:
    """Rows of an earlier table in ``out_folder`` that were measured on the same responses by the
    same encoder, by ``(setting, generation)``; empty when there is none or it does not verify."""
    try:
        manifest, rows = read_hidden_state_track2(out_folder, inputs)
    except (FileNotFoundError, ValueError):
        return {}
    if manifest["encoder"] != encoder:
        return {}
    return {(r["setting"], int(r["generation"])): r for r in rows}


def measure_run(run_folder: str | Path, out_folder: str | Path, *, cache_dir: str | Path,
                encoder: tuple | None = None, progress: bool = True) -> Path:
    """Measure every checkpoint of the committed run ``run_folder`` with theta_0's hidden states
    and write ``track2.csv`` and ``manifest.json`` to ``out_folder``, atomically after each
    checkpoint (a killed measurement resumes where it stopped). ``encoder``: ``(model, tokenizer,
    info)`` in place of the run's packaged base model (``info`` with ``base_model`` and
    ``params_hash``). Returns ``out_folder``."""
    from tqdm.auto import tqdm

    from .config import index_seed_of
    from .hidden_state_embedding import embed_hidden_states, hidden_state_encoder_info, load_hidden_state_encoder

    run_folder, out_folder = Path(run_folder), Path(out_folder)
    config = verify_committed_run(run_folder)["config"]
    sums = json.loads((run_folder / CHECKSUMS).read_text())
    todo = [(s, g) for s in config["settings"] for g in stored_generations(run_folder, s)[1:]]
    inputs = {responses_key(s, g): sums[responses_key(s, g)] for s, g in [("", 0), *todo]}
    record = _encoder_record(encoder[2] if encoder else hidden_state_encoder_info(config["base_model"], cache_dir))
    kept = _reusable(out_folder, record, inputs)
    if all(c in kept for c in [*((s, 0) for s in config["settings"]), *todo]):
        return out_folder  # measured already, on these responses, by this encoder
    model, tok, _ = encoder or load_hidden_state_encoder(config["base_model"], cache_dir)

    def embed(setting: str, g: int):
        folder = generation_dir(run_folder, setting, g)
        return embed_hidden_states(model, tok, [r["text"] for r in load_texts(folder)], batch_size=BATCH_SIZE)

    index_seed = index_seed_of(config)
    monitor = baseline_monitor(embed("", 0), config["m"], index_seed, config["eps"], config["n_draws"],
                               require_m_above_d=False)
    base = monitor.records[0]
    rows = [{"setting": s, "generation": 0, **{k: getattr(base, k) for k in COLUMNS[2:]}} for s in config["settings"]]
    header = {"run": str(run_folder), "encoder": record, "m": config["m"], "eps": config["eps"],
              "n_draws": config["n_draws"], "index_seed": index_seed}
    for setting, g in tqdm(todo, desc=f"{run_folder.parent.name}/{run_folder.name} hidden-state Track II",
                           disable=not progress):
        if (setting, g) in kept:
            rows.append({k: kept[(setting, g)][k] for k in COLUMNS})
        else:
            rec = monitor.compare(embed(setting, g), g, require_m_above_d=False)
            rows.append({"setting": setting, "generation": g, **{k: getattr(rec, k) for k in COLUMNS[2:]}})
        _write(out_folder, header, rows, {k: v for k, v in inputs.items() if _measured(k, rows)})
    if not todo:
        _write(out_folder, header, rows, inputs)
    return out_folder


def _measured(key: str, rows: list[dict]) -> bool:
    return any(responses_key(r["setting"], int(r["generation"])) == key for r in rows)


def _write(out_folder: Path, header: dict, rows: list[dict], inputs: dict) -> None:
    out_folder.mkdir(parents=True, exist_ok=True)
    table = csv_text([{k: r[k] for k in COLUMNS} for r in rows]).encode()
    manifest = {**header, "inputs": inputs, "table_sha256": hashlib.sha256(table).hexdigest()}
    atomic_write_files({out_folder / TABLE: table,
                        out_folder / MANIFEST: (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()})


def read_hidden_state_track2(out_folder: str | Path, run_inputs: dict) -> tuple[dict, list[dict]]:
    """``(manifest, rows)`` of a measured table, after checking the table against its recorded
    SHA-256 and every responses file it measured against ``run_inputs`` (the run's
    ``checksums.json`` or a part of it). Raises ``FileNotFoundError`` when there is no table and
    ``ValueError`` naming the file when it does not verify."""
    out_folder = Path(out_folder)
    table, manifest_path = out_folder / TABLE, out_folder / MANIFEST
    if not (table.is_file() and manifest_path.is_file()):
        raise FileNotFoundError(f"{out_folder} holds no hidden-state Track II table ({TABLE} and {MANIFEST})")
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"corrupt {manifest_path}: {exc}") from None
    if sha256_file(table) != manifest.get("table_sha256"):
        raise ValueError(f"{table} does not match the SHA-256 recorded in {manifest_path}")
    for key, digest in manifest["inputs"].items():
        if run_inputs.get(key) != digest:
            raise ValueError(f"{table} is stale: it measured {key}, which the run now stores with another "
                             f"SHA-256 (or not at all); measure it again (make hidden-track2)")
    return manifest, _read_rows(table)


def _read_rows(table: Path) -> list[dict]:
    import csv

    integers = {"generation", "N", "m", "d"}
    with open(table, newline="") as f:
        return [{k: v if k == "setting" else int(v) if k in integers else float(v) for k, v in row.items()}
                for row in csv.DictReader(f)]


def main(argv: list[str] | None = None) -> int:
    """``python -m sigma_lib.recursion.hidden_state_track2 RUN_FOLDER... --out-root DIR``: measure
    Track II of committed runs with theta_0's hidden states (``DIR/<seed>/<setting>/``)."""
    import argparse
    import sys

    ap = argparse.ArgumentParser(prog="python -m sigma_lib.recursion.hidden_state_track2",
                                 description=main.__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", help="committed run folders, e.g. runs/real-rep/seed-0/S2")
    ap.add_argument("--out-root", default="runs/real-rep-hidden")
    ap.add_argument("--cache-dir", default="outputs/cache")
    args = ap.parse_args(argv)
    for run in map(Path, args.runs):
        try:
            out = measure_run(run, Path(args.out_root) / run.parent.name / run.name, cache_dir=args.cache_dir)
        except (FileNotFoundError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"hidden-state Track II of {run}: {out / TABLE} (measured, or kept where it still matches)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
