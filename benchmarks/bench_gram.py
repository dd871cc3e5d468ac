"""Gram accumulation throughput against the same machine's numpy matmul, in one run.

    python benchmarks/bench_gram.py [--n 200000] [--d 384] [--chunk 8192]

Prints GFLOP/s of (a) one numpy float64 matmul ``X^T X`` over the whole array (the reference),
(b) sigma_lib's streaming accumulator over float32 chunks (float64 accumulation), and their
ratio (goal >= 0.8). FLOPs are counted as ``2 N d^2`` for both.
"""
from __future__ import annotations

import argparse

import numpy as np
from _common import Timer, threads

from sigma_lib import GramAccumulator


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        with Timer() as t:
            fn()
        times.append(t.seconds)
    return min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--d", type=int, default=384)
    ap.add_argument("--chunk", type=int, default=8192)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    X32 = rng.standard_normal((a.n, a.d), dtype=np.float32)
    X64 = X32.astype(np.float64)
    flops = 2.0 * a.n * a.d * a.d

    def reference():
        return X64.T @ X64

    def streaming():
        acc = GramAccumulator(d=a.d)
        for s in range(0, a.n, a.chunk):
            acc.add(X32[s : s + a.chunk])
        return acc.G

    np.testing.assert_allclose(streaming(), reference(), rtol=1e-10)
    t_ref = best_of(reference, a.repeats)
    t_acc = best_of(streaming, a.repeats)
    g_ref, g_acc = flops / t_ref / 1e9, flops / t_acc / 1e9
    print(f"N={a.n} d={a.d} chunk={a.chunk} threads={threads()} (best of {a.repeats})")
    print(f"numpy float64 matmul X^T X       : {t_ref:7.3f} s  {g_ref:7.1f} GFLOP/s")
    print(f"sigma_lib streaming (f32 -> f64) : {t_acc:7.3f} s  {g_acc:7.1f} GFLOP/s")
    print(f"ratio streaming / matmul         : {g_acc / g_ref:7.2f}  (goal >= 0.8)")


if __name__ == "__main__":
    main()
