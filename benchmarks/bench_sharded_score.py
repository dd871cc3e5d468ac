"""Sharded scoring on a Dask cluster: throughput of 1 and 2 local workers against one process.

    python benchmarks/bench_sharded_score.py [--shards 12] [--rows 16384] [--d 384] [--m 2048]
                                             [--workers 1 2] [--texts 0]

Writes ``--shards`` .npy shards of ``--rows`` seeded float32 embeddings each (a temporary
folder), then scores the checkpoint with :func:`sigma_lib.apps.sharded.sharded_tracks`: the run's
observed index set and ``--n-draws`` re-drawn ones, as ``sigma score`` does. ``local`` is one
process (no Dask); ``dask xN`` is a ``LocalCluster`` of N worker processes with one thread each
(cluster start-up and one warm-up run excluded, best of 2 runs). Every configuration must
give the same U.

With ``--texts K`` it also scores K text shards of 400 responses each (JSONL), which the
workers embed with the frozen MiniLM (each worker loads it once, in the warm-up run): the
case where a cluster pays on several machines, since embedding dominates.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import threads

os.environ.setdefault("OMP_NUM_THREADS", "1")


def write_shards(folder: Path, n_shards: int, rows: int, d: int) -> int:
    for k in range(n_shards):
        X = np.random.default_rng([11, k]).standard_normal((rows, d), dtype=np.float32)
        X[:, : d // 2] *= 2.0
        np.save(folder / f"part-{k:05d}.npy", X)
    return n_shards * rows


def write_text_shards(folder: Path, n_shards: int, per_shard: int = 400) -> int:
    words = ("index query table cache thread lock memory pointer compiler kernel socket packet stream buffer "
             "schema column row page file disk process signal queue stack heap graph tree hash key value").split()
    for k in range(n_shards):
        rng = np.random.default_rng([13, k])
        with open(folder / f"part-{k:05d}.jsonl", "w") as f:
            for i in range(per_shard):
                f.write(json.dumps({"text": " ".join(rng.choice(words, size=14)) + f" {k}-{i}"}) + "\n")
    return n_shards * per_shard


def timed(fn, repeats: int = 2):
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run(label: str, folder: Path, N: int, m: int, n_draws: int, workers: list[int]) -> None:
    from sigma_lib.apps.sharded import local_cluster, sharded_tracks
    from sigma_lib.maths.noise import bootstrap_index_sets
    from sigma_lib.maths.observed import select_observed_indices

    sets = [select_observed_indices(N, m, 0), *bootstrap_index_sets(N, m, n_draws, 1)]
    results = {}
    seconds, draws = timed(lambda: sharded_tracks(folder, sets))
    results["local (1 process)"] = (seconds, draws)
    for n in workers:
        client = local_cluster(n_workers=n, threads_per_worker=1, processes=True)
        try:
            sharded_tracks(folder, sets, scheduler=client)  # warm-up: imports (and the encoder) on every worker
            seconds, draws = timed(lambda: sharded_tracks(folder, sets, scheduler=client))
        finally:
            cluster = client.cluster
            client.close()
            cluster.close()
        results[f"dask x{n} workers"] = (seconds, draws)
    ref_U = results["local (1 process)"][1].U
    one = results.get("dask x1 workers", results["local (1 process)"])[0]
    print(f"{label}: N={N} m={m} index sets={len(sets)} threads={threads()}")
    print(f"  {'configuration':<20} {'seconds':>8} {'rows/s':>10} {'vs 1 worker':>12} {'max |U - U_local|':>18}")
    for name, (s, dr) in results.items():
        print(f"  {name:<20} {s:8.2f} {N / s:10.0f} {one / s:12.2f} {float(np.max(np.abs(dr.U - ref_U))):18.1e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shards", type=int, default=12)
    ap.add_argument("--rows", type=int, default=16384)
    ap.add_argument("--d", type=int, default=384)
    ap.add_argument("--m", type=int, default=2048)
    ap.add_argument("--n-draws", type=int, default=20)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--texts", type=int, default=0, help="also score this many text shards (embedded on workers)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "emb"
        folder.mkdir()
        N = write_shards(folder, a.shards, a.rows, a.d)
        run(f"{a.shards} .npy shards of {a.rows} x {a.d} float32", folder, N, a.m, a.n_draws, a.workers)
        if a.texts:
            tfolder = Path(tmp) / "texts"
            tfolder.mkdir()
            Nt = write_text_shards(tfolder, a.texts)
            run(f"{a.texts} JSONL text shards, embedded by the workers", tfolder, Nt, 512, a.n_draws, a.workers)


if __name__ == "__main__":
    main()
