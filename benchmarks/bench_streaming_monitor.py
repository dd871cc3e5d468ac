"""Stream N x 384 embeddings through the Sigma monitor in chunks: wall time and peak memory.

    python benchmarks/bench_streaming_monitor.py [--sizes 250000 1000000] [--chunk 16384]

Embeddings are generated chunk by chunk (seeded, float32) and never held whole. One pass feeds
the monitor (fixed observed set + 20 re-drawn sets for the noise band) and, alongside, the full
unit-normalised d x d Gram, so the exact L_eps(G) can be compared with the Track I envelope.
Each size runs in a fresh process: memory independent of N shows as equal peaks.
"""
from __future__ import annotations

import argparse

from _common import run_isolated, threads

CODE = """
import json, time, numpy as np
from _common import peak_rss_mib, reset_peak_rss
from sigma_lib import SigmaMonitor, GramAccumulator, regularized_logdet, track1_envelope, DEFAULT_EPS
N, d, chunk = {N}, {d}, {chunk}
base = reset_peak_rss()
full = GramAccumulator(d=d, normalize=True)
gen_seconds = 0.0
def chunks():
    global gen_seconds
    for i, s in enumerate(range(0, N, chunk)):
        t = time.perf_counter()
        X = np.random.default_rng([7, i]).standard_normal((min(chunk, N - s), d), dtype=np.float32)
        X[:, : d // 2] *= 2.0
        gen_seconds += time.perf_counter() - t
        full.add(X)
        yield X
t0 = time.perf_counter()
mon = SigmaMonitor(N, {m}, seed=0, n_draws=20)
rec = mon.update(chunks())
Leps = regularized_logdet(full.G, DEFAULT_EPS)
dt = time.perf_counter() - t0
print(json.dumps({{"seconds": dt, "gen_seconds": gen_seconds, "peak_mib": peak_rss_mib() - base,
                  "U": rec.U, "gamma_kf": rec.gamma_kf, "sd_U": rec.sd_U, "L_eps_G": Leps,
                  "envelope": rec.gamma_kf + d * np.log(N - {m} + DEFAULT_EPS)}}))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[250_000, 1_000_000])
    ap.add_argument("--d", type=int, default=384)
    ap.add_argument("--m", type=int, default=2048)
    ap.add_argument("--chunk", type=int, default=16384)
    a = ap.parse_args()
    print(f"d={a.d} m={a.m} chunk={a.chunk} threads={threads()}")
    print(f"{'N':>9} {'wall s':>8} {'of which gen s':>15} {'peak MiB':>9} {'U':>10} {'sd_U':>7} "
          f"{'L_eps(G)':>10} {'TrackI env':>10}")
    for N in a.sizes:
        r = run_isolated(CODE.format(N=N, d=a.d, m=a.m, chunk=a.chunk))
        print(f"{N:>9} {r['seconds']:8.2f} {r['gen_seconds']:15.2f} {r['peak_mib']:9.1f} {r['U']:10.2f} "
              f"{r['sd_U']:7.3f} {r['L_eps_G']:10.1f} {r['envelope']:10.1f}")


if __name__ == "__main__":
    main()
