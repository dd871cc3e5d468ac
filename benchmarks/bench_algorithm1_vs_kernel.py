"""Algorithm 1 against the d x d routes and the N x N kernel, time and peak memory.

    python benchmarks/bench_algorithm1_vs_kernel.py [--sizes 2000 5000 10000] [--d 384] [--m 1024]

For each N: (a) Algorithm 1 on a fixed observed block of m rows (two d x d Cholesky
factorisations); (b) the full d x d Gram of all N rows and its L_eps (what Track I bounds);
(c) the Vendi score through its d x d dual (vendi-score's ``score_dual``, which its README
recommends whenever d < N: the route a user would take); (d) the N x N cosine-similarity matrix
and its eigenvalues (``score_X``'s route, shown for scale only: nobody should take it when d < N).
The peers' own packages, RankMe and the text proxies are in ``bench_peers.py``.
Each runs in a fresh process (fast methods best of 5); peak memory is the step's own: VmHWM, reset after the inputs
are made, minus the resident size at that moment.
"""
from __future__ import annotations

import argparse

from _common import run_isolated, threads

SETUP = """
import json, time, numpy as np
from _common import peak_rss_mib, reset_peak_rss
from sigma_lib import *
from vendi_score.vendi import score_dual
rng = np.random.default_rng(0)
X = unit_normalize(rng.standard_normal(({N}, {d})))
base = reset_peak_rss()
times = []
for _ in range({repeats}):
    t0 = time.perf_counter()
"""

# (statement, repetitions): fast methods are timed best-of-5, the kernel route once.
CASES = {
    "algorithm1 (m rows)": ("r = algorithm1(X, select_observed_indices({N}, {m}, 0)); out = r.U", 5),
    "full d x d Gram + L_eps": ("out = regularized_logdet(gram_matrix(X), DEFAULT_EPS)", 5),
    "Vendi, d x d dual (score_dual)": ("out = score_dual(X)", 5),
    "N x N kernel eigvalsh (score_X)": ("K = X @ X.T / {N}; lam = np.linalg.eigvalsh(K); out = float(lam.sum())", 1),
}

TAIL = """
    times.append(time.perf_counter() - t0)
print(json.dumps({{"seconds": min(times), "peak_mib": peak_rss_mib() - base}}))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 5000, 10000])
    ap.add_argument("--d", type=int, default=384)
    ap.add_argument("--m", type=int, default=1024)
    a = ap.parse_args()
    print(f"d={a.d} m={a.m} threads={threads()}")
    print(f"{'N':>6}  {'method':<32} {'seconds':>9} {'peak MiB':>9} {'time / Alg. 1':>14} {'time / dual':>12}")
    for N in a.sizes:
        res = {}
        for name, (body, repeats) in CASES.items():
            code = (SETUP + "    " + body + TAIL).format(N=N, d=a.d, m=min(a.m, N), repeats=repeats)
            res[name] = run_isolated(code)
        t1 = res["algorithm1 (m rows)"]["seconds"]
        tdual = res["Vendi, d x d dual (score_dual)"]["seconds"]
        for name, r in res.items():
            print(f"{N:>6}  {name:<32} {r['seconds']:9.4f} {r['peak_mib']:9.1f} {r['seconds'] / t1:14.1f} "
                  f"{r['seconds'] / tdual:12.1f}")


if __name__ == "__main__":
    main()
