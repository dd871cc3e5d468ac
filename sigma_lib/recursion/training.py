"""Fine-tuning on 64-token blocks, and held-out negative log-likelihood (App. C.3).

A training loop a reader can follow in one sitting (after karpathy/nanoGPT): AdamW with weight
decay at a constant learning rate, batches of 16 blocks in a seeded order per epoch, in float32
or in mixed precision (bf16 autocast, or fp16 autocast with loss scaling; :mod:`.precision`),
the same code on the CPU and on a GPU.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
from tqdm import tqdm

from .precision import autocast, grad_scaler
from .seeds import generator


@dataclass
class TrainStats:
    steps: int = 0
    tokens: int = 0
    seconds: float = 0.0
    final_loss: float = float("nan")

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else float("nan")


def train_causal_lm(model, ids: torch.Tensor, mask: torch.Tensor, *, epochs: int, batch_size: int, lr: float,
                    weight_decay: float, seed_parts: tuple, device: str = "cpu", progress: bool = False,
                    desc: str = "training", precision: str = "fp32", fused_adamw: bool = False) -> TrainStats:
    """Train ``model`` in place on blocks ``ids`` (n, L) with next-token loss on unmasked tokens.

    The order of blocks in epoch ``e`` is a permutation drawn from ``generator(*seed_parts, e)``.
    ``precision`` is ``"fp32"``, ``"bf16"`` or ``"fp16"`` (autocast; fp16 with a gradient scaler);
    the weights and AdamW's state stay float32.
    ``fused_adamw`` uses torch's fused AdamW kernel (one pass over each parameter) instead of the
    default multi-tensor one: the same update up to float rounding, and on a 2-core CPU about 13x
    faster for SmolLM2's 135 M parameters (0.2 against 3 s a step, a quarter of the step;
    benchmarks/bench_recursion.py). Off by default so that the committed runs made without it
    resume bit for bit.
    Raises ``FloatingPointError`` if the loss becomes NaN/Inf (the checkpoint is then not saved).
    """
    if ids.shape != mask.shape or ids.ndim != 2 or ids.shape[0] == 0:
        raise ValueError(f"ids and mask must be equal non-empty (n, L) tensors, "
                         f"got {tuple(ids.shape)}, {tuple(mask.shape)}")
    model.to(device).train()
    kernel = {"fused": True} if fused_adamw else {}
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, **kernel)
    scaler = grad_scaler(device, precision)
    stats = TrainStats()
    t0 = time.perf_counter()
    n = ids.shape[0]
    bar = tqdm(total=epochs * math.ceil(n / batch_size), desc=desc, disable=not progress, leave=False)
    for epoch in range(epochs):
        perm = torch.randperm(n, generator=generator(*seed_parts, "epoch", epoch))
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            x, m = ids[idx].to(device), mask[idx].to(device)
            labels = x.masked_fill(m == 0, -100)
            with autocast(device, precision):
                loss = model(input_ids=x, attention_mask=m, labels=labels).loss
            if not torch.isfinite(loss):
                raise FloatingPointError(f"{desc}: the loss became {loss.item()} at epoch {epoch}, step {stats.steps}")
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            stats.steps += 1
            stats.tokens += int(m.sum())
            stats.final_loss = float(loss.detach())
            bar.update(1)
    bar.close()
    model.eval()
    stats.seconds = time.perf_counter() - t0
    return stats


@torch.no_grad()
def block_nll(model, ids: torch.Tensor, mask: torch.Tensor, *, batch_size: int = 64,
              device: str = "cpu", precision: str = "fp32") -> tuple[torch.Tensor, torch.Tensor]:
    """Summed next-token negative log-likelihood (nats) and predicted-token count of every block."""
    model.to(device).eval()
    sums, counts = [], []
    for start in range(0, ids.shape[0], batch_size):
        x, m = ids[start : start + batch_size].to(device), mask[start : start + batch_size].to(device)
        with autocast(device, precision):
            logits = model(input_ids=x, attention_mask=m).logits[:, :-1].float()
        keep = m[:, 1:].float()
        nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), x[:, 1:], reduction="none")
        sums.append((nll * keep).sum(1).cpu())
        counts.append(keep.sum(1).cpu())
    return torch.cat(sums).double(), torch.cat(counts).double()


def nll_with_error(model, ids: torch.Tensor, mask: torch.Tensor, *, batch_size: int = 64,
                   device: str = "cpu", precision: str = "fp32") -> tuple[float, float]:
    """Mean NLL (nats per token) and its standard error over blocks (sd of per-block means / sqrt(n))."""
    sums, counts = block_nll(model, ids, mask, batch_size=batch_size, device=device, precision=precision)
    per_block = sums / counts
    se = float(per_block.std(unbiased=True) / per_block.numel() ** 0.5) if per_block.numel() > 1 else 0.0
    return float(sums.sum() / counts.sum()), se


def params_hash(model) -> str:
    """SHA-256 (16 hex digits) of the model's parameters, in name order: identifies a checkpoint."""
    import hashlib

    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return h.hexdigest()[:16]
