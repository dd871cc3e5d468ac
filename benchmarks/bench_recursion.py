"""Speed of the recursion engine's stages, measured in one run.

    python benchmarks/bench_recursion.py [--prompts 256] [--naive-prompts 32] [--run-dir outputs/recursion/run]

Prints (1) sampling tokens/s of the batched KV-cache sampler against a naive loop that samples
one prompt at a time, and against batching without the cache; (2) training tokens/s of one
epoch of fine-tuning; (3) seconds per stage per generation from a finished run's timings table
(default: the book's run). The model is the default theta_0 (gpt-small), trained and cached
under outputs/default/recursion/cache (the book's cache) on first use.
"""
from __future__ import annotations

import argparse
import csv
import time
from collections import defaultdict
from pathlib import Path

import torch

from sigma_lib.corpus.assets import load_contexts
from sigma_lib.recursion.base_model import build_base_model, load_pretrained
from sigma_lib.recursion.config import run_config
from sigma_lib.recursion.data import encode_blocks
from sigma_lib.recursion.sampling import SampleStats, sample
from sigma_lib.recursion.seeds import derive_seed
from sigma_lib.recursion.training import train_causal_lm


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=256)
    ap.add_argument("--naive-prompts", type=int, default=32)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--run-dir", default="outputs/default/recursion/run")
    ap.add_argument("--cache-dir", default="outputs/default/recursion/cache")
    a = ap.parse_args()
    cfg = run_config("default", device=a.device)
    torch.set_num_threads(cfg.threads)
    contexts = [c["text"] for c in load_contexts()]
    path, info = build_base_model(cfg, contexts, a.cache_dir)
    model, tok = load_pretrained(str(path), a.device)
    ids, mask = encode_blocks(tok, contexts, cfg.context_tokens)
    prompts = [row[m.bool()].tolist() for row, m in zip(ids[: a.prompts], mask[: a.prompts])]
    seeds = [derive_seed(0, "bench", i) for i in range(len(prompts))]
    print(f"device={a.device} threads={cfg.threads} model={cfg.base_model} ({info.get('n_parameters', '?')} parameters)")

    results = {}
    for name, n, bs, cache in (("batched, KV cache", a.prompts, cfg.sample_batch_size, True),
                               ("one prompt at a time, KV cache", a.naive_prompts, 1, True),
                               ("batched, no cache", a.naive_prompts, cfg.sample_batch_size, False)):
        st = SampleStats()
        out = sample(model, prompts[:n], seeds[:n], a.new_tokens, batch_size=bs, device=a.device, use_cache=cache, stats=st)
        results[name] = (st.tokens_per_second, out)
        print(f"sampling, {name:<32}: {st.tokens_per_second:9.0f} tokens/s  ({n} prompts x {a.new_tokens} tokens)")
    same = results["batched, KV cache"][1][: a.naive_prompts] == results["one prompt at a time, KV cache"][1]
    print(f"speed-up of batching with the cache over one at a time: "
          f"{results['batched, KV cache'][0] / results['one prompt at a time, KV cache'][0]:.1f}x "
          f"(identical tokens: {same})")

    model.train()
    t = time.perf_counter()
    st = train_causal_lm(model, ids, mask, 1, cfg.batch_size, cfg.lr, cfg.weight_decay, ("bench",), a.device)
    print(f"training, 1 epoch of {ids.shape[0]} blocks x {ids.shape[1]} tokens: {st.tokens_per_second:9.0f} tokens/s "
          f"({time.perf_counter() - t:.1f} s)")

    timings = Path(a.run_dir) / "tables" / "timings.csv"
    if timings.is_file():
        per = defaultdict(list)
        for r in csv.DictReader(open(timings)):
            if int(r["generation"]) > 0:
                per[r["stage"]].append(float(r["seconds"]))
        print(f"seconds per stage per generation (mean over {len(next(iter(per.values())))} generations, {timings}):")
        for stage, v in per.items():
            print(f"  {stage:<10} {sum(v) / len(v):7.1f}")
    else:
        print(f"(no finished run at {a.run_dir}: run `make book` for the per-stage table)")


if __name__ == "__main__":
    main()
