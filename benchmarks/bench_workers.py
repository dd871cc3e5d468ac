"""The book's recursion run in one process against its settings in worker processes, in one run.

    python benchmarks/bench_workers.py [--generations 4] [--configs 2x1 1x3] [--repeats 1]

The defaults compare the book's run (1x3) with one two-thread process (2x1), as the committed
small-model runs were made. Each configuration ``TxW`` (``threads`` torch threads per process,
``workers`` processes) runs the ``default`` profile from a fresh run folder in a fresh process
(``python -m sigma_lib.recursion``), theta_0 taken from a cache filled beforehand (one per thread
count: its bits depend on it), so the figures are generation 0 and every setting's generations. The
configurations alternate when repeated, and the wall times are printed with their ratio to the
first configuration's: on these noisy machines read the ratio, not the seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(args: list[str]) -> float:
    """Wall seconds of ``python -m sigma_lib.recursion ARGS`` in a fresh process."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sigma_lib.recursion", *args], check=True, env=os.environ.copy(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generations", type=int, default=4)
    ap.add_argument("--configs", nargs="+", default=["2x1", "1x3"], help="THREADSxWORKERS")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--cache-dir", default="outputs/bench-workers/cache")
    a = ap.parse_args()
    configs = [tuple(int(x) for x in c.split("x")) for c in a.configs]
    common = ["--profile", "default", "--cache-dir", a.cache_dir, "--set", f"generations={a.generations}"]
    with tempfile.TemporaryDirectory() as tmp:
        for threads in sorted({t for t, _ in configs}):  # theta_0 of each thread count, timed by the engine
            folder = Path(tmp) / f"theta0-{threads}"
            run([*common, "--run-dir", str(folder), "--set", f"threads={threads}", "--set", "settings=S1",
                 "--set", "generations=1", "--set", "reseed_baseline=false"])
            info = json.loads((folder / "manifest.json").read_text())["base_model"]
            print(f"theta_0 at {threads} thread(s): trained in {info['train_seconds']:.0f} s (as the cache "
                  f"{a.cache_dir} records it; trained now if it was not there)")
        seconds = {c: [] for c in configs}
        for r in range(a.repeats):
            for threads, workers in configs:
                folder = Path(tmp) / f"run-{threads}x{workers}-{r}"
                sets = ["--set", f"threads={threads}", "--set", f"workers={workers}"]
                seconds[(threads, workers)].append(run([*common, "--run-dir", str(folder), *sets]))
                shutil.rmtree(folder)
    first = min(seconds[configs[0]])
    print(f"default profile, {a.generations} generations of S1, S2, repeat-real and accumulate; best of {a.repeats}:")
    for (threads, workers), s in seconds.items():
        print(f"  {threads} thread(s) x {workers} process(es): {min(s):6.0f} s  ({first / min(s):.2f}x the first)")


if __name__ == "__main__":
    main()
