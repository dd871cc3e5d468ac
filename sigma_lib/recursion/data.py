"""Training blocks and the constant-budget real/synthetic mixture (Sec. 4, App. C.3)."""
from __future__ import annotations

import numpy as np
import torch

from .seeds import generator


def encode_blocks(tokenizer, texts: list[str], length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token blocks of shape ``(n, length)``: each text truncated (or right-padded) to ``length``.

    Returns ``(ids, mask)``, ``mask`` 1 on real tokens, 0 on padding (padding is not trained on).
    """
    if not texts:
        raise ValueError("no texts to encode")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    ids = torch.full((len(texts), length), pad, dtype=torch.long)
    mask = torch.zeros((len(texts), length), dtype=torch.long)
    for i, t in enumerate(texts):
        tok = tokenizer(t, add_special_tokens=False)["input_ids"][:length]
        ids[i, : len(tok)] = torch.tensor(tok, dtype=torch.long)
        mask[i, : len(tok)] = 1
    return ids, mask


def mixture_indices(n_budget: int, n_real: int, n_synthetic: int, alpha: float,
                    *seed_parts) -> tuple[list[int], list[int]]:
    """Which real and which synthetic blocks form ``D_mix``: ``round(alpha n)`` real, the rest synthetic.

    The budget is constant (``n_budget = |D_real|`` blocks); each part is a seeded sample without
    replacement, so the mixture depends only on ``(seed_parts, alpha)``.

    Returns
    -------
    (real_indices, synthetic_indices)
    """
    k_real = int(round(alpha * n_budget))
    k_syn = n_budget - k_real
    if k_real > n_real or k_syn > n_synthetic:
        raise ValueError(f"mixture needs {k_real} real and {k_syn} synthetic blocks; have {n_real} and {n_synthetic}")
    g_real = generator(*seed_parts, "mix-real")
    g_syn = generator(*seed_parts, "mix-synthetic")
    real = torch.randperm(n_real, generator=g_real)[:k_real].sort().values.tolist()
    syn = torch.randperm(n_synthetic, generator=g_syn)[:k_syn].sort().values.tolist()
    return real, syn


def spread_subset(items: list, n: int | None) -> list:
    """``n`` items spread evenly over the list (all of them if ``n`` is None): a balanced subset
    of a list sorted by source or bucket."""
    if n is None or n >= len(items):
        return list(items)
    idx = np.unique(np.linspace(0, len(items) - 1, n).round().astype(int))
    return [items[i] for i in idx]
