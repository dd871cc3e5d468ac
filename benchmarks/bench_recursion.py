"""Speed of the recursion engine against the limit of the machine, measured in one run.

    python benchmarks/bench_recursion.py [--models gpt-small smollm2-135m] [--precisions fp32 bf16]

For each base model and precision: the matrix-product limit of this machine in that precision
(GFLOP/s of a large square matmul, measured here, now), then sampling tokens/s (batched, KV
cache, the engine's nucleus sampler on real TECH contexts) and training tokens/s (AdamW on
64-token blocks, batch 16), each as a fraction of the limit: a sampled token costs about
2 * params FLOP, a trained one about 6 * params. For the small model, the batched sampler is also
compared with sampling one prompt at a time (same tokens). Finally, seconds per stage per
generation from a finished run's timings table (``--run-dir``, default the committed real-LM run).

``--profile`` adds, per model and precision, the ten costliest torch operators of one training
step and of one batched sampling call (``torch.profiler``, self CPU time): where the time goes.

Fused AdamW (2026-12-03, same machine kind without AMX, one run while two experiments and a book
build shared the 2 cores, so the limits and fractions of that run are not comparable; the ratio is):
SmolLM2-135M training, 48 blocks of 64 tokens, foreach AdamW 38 tok/s against fused 50 (1.33x) in fp32
and 38 against 57 (1.52x) in bf16; sampling is unchanged. The optimizer step alone: 3.0 s against 0.22 s
for 108 M parameters on 2 threads.

Where the time went (SmolLM2-135M, 2 threads, 2026-12-03, a machine of this kind *without* AMX:
``lscpu`` lists avx512_bf16 but no amx flags; ``torch.backends.cpu.get_cpu_capability()`` = AVX512):

* the limit itself: a 1024x576 @ 576x1536 matmul ran at 0.14 TFLOP/s in bf16 and 0.28 in fp32,
  so on such a machine bf16 is the *slow* path (earlier sessions measured 1.7-2.4 TFLOP/s in bf16 on
  machines with AMX). Check the printed limits before choosing ``precision``.
* training step, bf16 autocast (16 x 64 tokens): ``aten::mm`` 60 % of self CPU time, weight casts
  (``aten::copy_``/``_to_copy``) 9 %, log-softmax over the 49,152-token vocabulary and its backward
  9 %, SDPA attention 7 %, AdamW's foreach ops about 6 %.
* sampling, fp32 (batch 128, 64-token prompts, 16 new tokens): ``aten::mm`` 52 %, elementwise
  ``mul`` (RMSNorm, RoPE, SiLU gating) 14 %, KV-cache ``cat`` 6 %, SDPA 5 %, ``topk`` of the nucleus
  5 %, fancy indexing 4 %, the float64 softmax 2 %.

The float32 path of the replicated study (2026-12-04, an AMD EPYC machine of this kind: ``lscpu``
lists avx512_bf16, no AMX; measured with one thread while the study's run used the two cores, so
read ratios, not rates):

* one training step of SmolLM2-135M (16 x 64 tokens, fused AdamW, SDPA attention): ``aten::mm``
  84 % of self CPU time, log-softmax over the vocabulary and its backward 4.3 %, elementwise ``mul``
  2.1 %, SDPA forward and backward 2.6 %, fused AdamW 0.7 %. A training step is its matrix products:
  nothing else is left to remove in float32. The study's own S2 generation 1 on the two cores,
  alone for part of it: 6.0 s a step (170 tokens/s, about 0.14 TFLOP/s, half the float32 limit of
  0.28-0.30 measured on earlier machines of this kind).
* one sampling call (batch 128, random 64-token prompts, 16 new tokens): ``aten::mm`` 59 %, ``topk``
  16 % (random prompts give flat distributions whose nucleus exceeds the first 1,024 candidates, so
  all three candidate sizes run; real contexts need them far less often, 5 % above), ``mul`` 5 %,
  SDPA 4 %, indexing 3 %, ``cat`` 2.5 %.
* the matmul limit at the model's own shapes on this machine, one thread: float32 87-100 GFLOP/s,
  bfloat16 192-218 GFLOP/s (2.2x); the 49,152-token LM head 74 against 163. So on this machine the
  bf16 path is the fast one (oneDNN uses avx512_bf16), while the machine above, also without AMX, ran
  bf16 at half float32's speed: the machines of this kind differ, check the printed limits before
  choosing ``precision``. The replicated study stays float32 so that its seeds are replicates of one
  protocol whatever machine runs them.

The default run on an idle machine of that kind (2026-12-04, 2 threads, ``--profile``; the table is
in the README): SmolLM2-135M trains at 73 % of the float32 limit of its own shapes (``aten::mm``
76 % of a step) and 53 % in bf16, whose limit is only 2.1x float32's here; sampling runs at 21-22 %,
43-51 % of it the forward pass over the prompts, 10-11 % the nucleus draws. The small GPT samples at
9 % of its limit: nucleus draws 40-43 % of the time (``topk`` over a wide nucleus: median 622 of
4,096 tokens for theta_0 on TECH contexts), the decoding steps 39-46 % (profile: ``addmm`` 26 %,
``topk`` 19 %, SDPA at query length 1 14 %, ``copy_`` 11 %, ``gelu`` 10 %, KV-cache ``cat`` 6 %).
What is left would change the tokens drawn (another attention kernel, a float32 or approximate
nucleus), which the engine does not do: same seeds, same tokens.
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
from sigma_lib.recursion.precision import PRECISIONS, inference_copy
from sigma_lib.recursion.sampling import SampleStats, sample
from sigma_lib.recursion.seeds import derive_seed
from sigma_lib.recursion.training import train_causal_lm


def matmul_gflops(dtype: torch.dtype, device: str, n: int = 2048, repeats: int = 10) -> float:
    """Best-of-3 GFLOP/s of an ``n x n`` matrix product in ``dtype`` (the limit the models are held to)."""
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    best = float("inf")
    for _ in range(4):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(repeats):
            a @ b
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 * repeats / best / 1e9


def model_shape_gflops(model, dtype: torch.dtype, device: str, tokens: int, repeats: int = 3) -> float:
    """GFLOP/s of the model's own matrix products: every ``nn.Linear`` weight (the LM head
    included) applied to ``tokens`` rows in ``dtype``, best of ``repeats`` passes: the limit a
    forward pass over ``tokens`` tokens could reach on this machine."""
    shapes = [tuple(m.weight.shape) for m in model.modules() if isinstance(m, torch.nn.Linear)]
    weights = {s: torch.randn(*s, device=device).to(dtype) for s in set(shapes)}
    xs = {s[1]: torch.randn(tokens, s[1], device=device).to(dtype) for s in set(shapes)}
    flops = sum(2 * tokens * o * i for o, i in shapes)
    best = float("inf")
    for _ in range(repeats + 1):  # the first pass warms up
        t = time.perf_counter()
        for s in shapes:
            xs[s[1]] @ weights[s].T
        best = min(best, time.perf_counter() - t)
    return flops / best / 1e9


def train_rate(path, ids, mask, cfg, device: str, precision: str, fused: bool) -> float:
    """Training tokens/s of one epoch over ``ids`` (a freshly loaded theta_0 each time)."""
    model, _ = load_pretrained(str(path), device)
    return train_causal_lm(model, ids, mask, epochs=1, batch_size=cfg.batch_size, lr=cfg.lr,
                           weight_decay=cfg.weight_decay, seed_parts=("bench",), device=device,
                           precision=precision, fused_adamw=fused).tokens_per_second


def bench_model(name: str, precisions: list[str], a) -> None:
    cfg = run_config("default", base_model=name, device=a.device)
    contexts = [c["text"] for c in load_contexts()]
    path, info = build_base_model(cfg, contexts, a.cache_dir)
    model, tok = load_pretrained(str(path), a.device)
    n_params = sum(p.numel() for p in model.parameters())
    ids, mask = encode_blocks(tok, contexts, cfg.context_tokens)
    prompts = [row[m.bool()].tolist() for row, m in zip(ids[: a.prompts], mask[: a.prompts])]
    seeds = [derive_seed(0, "bench", i) for i in range(len(prompts))]
    print(f"\nmodel={name} ({n_params:,} parameters)  sampling: {len(prompts)} contexts x {a.new_tokens} new tokens, "
          f"batch {a.batch_size}; training: {a.train_blocks} blocks x {cfg.context_tokens} tokens, "
          f"batch {cfg.batch_size}")
    print("  limits: a square matmul (2048^3) and the model's own matmul shapes at the training batch's tokens; "
          "today: foreach AdamW, new: fused AdamW (sampling is the same path in both)")
    print(f"  {'precision':<9} {'square':>7} {'shapes':>7} {'sample tok/s':>12} {'of shapes':>9} "
          f"{'train today':>11} {'train new':>9} {'ratio':>6} {'of square':>9} {'of shapes':>9}")
    for precision in precisions:
        dtype = PRECISIONS[precision]
        limit = matmul_gflops(dtype, a.device)
        shapes = model_shape_gflops(model, dtype, a.device, tokens=cfg.batch_size * cfg.context_tokens)
        st = SampleStats()
        sample(inference_copy(model, precision), prompts, seeds, a.new_tokens, batch_size=a.batch_size,
               pad_id=tok.pad_token_id, device=a.device, stats=st)
        blocks = (ids[: a.train_blocks], mask[: a.train_blocks])
        today = train_rate(path, *blocks, cfg, a.device, precision, fused=False)
        new = train_rate(path, *blocks, cfg, a.device, precision, fused=True)
        per_token = 6 * n_params / 1e9  # GFLOP of a trained token
        print(f"  {precision:<9} {limit:7.0f} {shapes:7.0f} {st.tokens_per_second:12.0f} "
              f"{st.tokens_per_second * 2 * n_params / 1e9 / shapes:9.1%} {today:11.0f} {new:9.0f} {new / today:6.2f} "
              f"{new * per_token / limit:9.1%} {new * per_token / shapes:9.1%}")
        print(f"  {'':<9} sampling's seconds: prompts' forward {st.prompt_seconds / st.seconds:.0%}, nucleus draws "
              f"{st.nucleus_seconds / st.seconds:.0%}, decoding steps' forward and batching "
              f"{1 - (st.prompt_seconds + st.nucleus_seconds) / st.seconds:.0%}")
    if a.profile:
        for precision in precisions:
            profile_steps(model, path, ids[: cfg.batch_size], mask[: cfg.batch_size], prompts[: a.batch_size],
                          seeds[: a.batch_size], precision=precision, pad_id=tok.pad_token_id, device=a.device)
    if a.naive_prompts and n_params < 10_000_000:
        n = a.naive_prompts
        one, many = SampleStats(), SampleStats()
        out1 = sample(model, prompts[:n], seeds[:n], a.new_tokens, batch_size=1, pad_id=tok.pad_token_id,
                      device=a.device, stats=one)
        outb = sample(model, prompts[:n], seeds[:n], a.new_tokens, batch_size=n, pad_id=tok.pad_token_id,
                      device=a.device, stats=many)
        print(f"  fp32, {n} prompts: batched {many.tokens_per_second:.0f} tokens/s against one at a time "
              f"{one.tokens_per_second:.0f} ({many.tokens_per_second / one.tokens_per_second:.1f}x; "
              f"identical tokens: {out1 == outb})")


def profile_steps(model, path, ids, mask, prompts, seeds, *, precision: str, pad_id: int, device: str,
                  new_tokens: int = 8, top: int = 10) -> None:
    """Print the ``top`` costliest operators (self CPU time) of one training step on ``ids`` (B, L)
    and of one sampling call of ``new_tokens`` tokens for ``prompts``, after a warm-up of each."""
    from torch.profiler import ProfilerActivity, profile

    def report(title, fn):
        fn()  # warm-up: first calls allocate and pick kernels
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            fn()
        rows = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
        total = sum(e.self_cpu_time_total for e in rows) or 1
        print(f"  profile {precision} {title}: " + ", ".join(
            f"{e.key} {e.self_cpu_time_total / total:.0%}" for e in rows[:top]))

    fresh, _ = load_pretrained(str(path), device)
    report("train step", lambda: train_causal_lm(fresh, ids, mask, epochs=1, batch_size=ids.shape[0], lr=1e-5,
                                                 weight_decay=0.0, seed_parts=("profile",), device=device,
                                                 precision=precision))
    infer = inference_copy(model, precision)
    report("sampling", lambda: sample(infer, prompts, seeds, new_tokens, batch_size=len(prompts), pad_id=pad_id,
                                      device=device))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["gpt-small", "smollm2-135m"])
    ap.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=sorted(PRECISIONS))
    ap.add_argument("--prompts", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument("--train-blocks", type=int, default=128)
    ap.add_argument("--naive-prompts", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--profile", action="store_true", help="also print the costliest operators (torch.profiler)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--run-dir", default="runs/real-cpu")
    ap.add_argument("--cache-dir", default="outputs/cache")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"device={a.device} threads={a.threads} cpu_capability={torch.backends.cpu.get_cpu_capability()}")
    for name in a.models:
        bench_model(name, a.precisions, a)

    timings = Path(a.run_dir) / "tables" / "timings.csv"
    if timings.is_file():
        per = defaultdict(lambda: defaultdict(list))
        for r in csv.DictReader(open(timings)):
            if int(r["generation"]) > 0:
                per[r["setting"]][r["stage"]].append(float(r["seconds"]))
        print(f"\nseconds per stage per generation (mean; {timings}):")
        for setting, stages in per.items():
            print(f"  {setting:<6} " + "  ".join(f"{st} {sum(v) / len(v):6.1f}" for st, v in stages.items()))


if __name__ == "__main__":
    main()
