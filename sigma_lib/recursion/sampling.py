"""Batched nucleus sampling with a KV cache, left padding and one random stream per row.

Each row (a context or a prompt's k-th response) draws its uniforms from its own
``torch.Generator``, so what it samples depends only on its seed and the model, not on batch
size or on which rows share its batch. Decoding: temperature, then top-p (nucleus) truncation,
then inverse-CDF sampling with the row's uniform (App. C.3: top-p 0.95, temperature 1.0).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from tqdm import tqdm


@dataclass
class SampleStats:
    """Tokens generated and seconds spent (for tokens/s), with two parts of those seconds: the
    forward passes over the prompts (``prompt_seconds``) and the nucleus draws (``nucleus_seconds``);
    the rest is the forward passes of the decoding steps and the batching around them."""

    new_tokens: int = 0
    seconds: float = 0.0
    prompt_seconds: float = 0.0
    nucleus_seconds: float = 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.new_tokens / self.seconds if self.seconds > 0 else float("nan")


def nucleus_sample(logits: torch.Tensor, uniforms: torch.Tensor, top_p: float, temperature: float, *,
                   candidates: tuple[int, ...] = (1024, 8192)) -> torch.Tensor:
    """Sample one token per row from ``softmax(logits / temperature)`` restricted to its top-p nucleus.

    Parameters
    ----------
    logits : (B, V) float tensor
    uniforms : (B,) float64 tensor of U(0, 1) draws, one per row
    top_p : nucleus mass in (0, 1]; the smallest set of most likely tokens with mass >= top_p
    temperature : > 0
    candidates : the nucleus is first sought among the ``candidates[0]`` most likely tokens
        (``torch.topk``), then, for rows whose nucleus is larger, among ``candidates[1]``, and
        only then by a full sort. The result is the same either way; the fast paths avoid sorting
        the whole vocabulary (49,152 tokens for SmolLM2) at every step.

    Returns
    -------
    (B,) long tensor of token ids.
    """
    scaled = logits.double() if temperature == 1.0 else logits.double() / temperature
    probs = torch.softmax(scaled, dim=-1)
    out = torch.empty(probs.shape[0], dtype=torch.long, device=probs.device)
    todo = torch.arange(probs.shape[0], device=probs.device)
    uniforms = uniforms.to(probs.device)
    for k in tuple(candidates) + (probs.shape[1],):
        k = min(k, probs.shape[1])
        top_p_sorted, top_idx = probs[todo].topk(k, dim=-1, sorted=True)
        covered = (top_p_sorted.sum(-1) >= top_p) | (k == probs.shape[1])
        if covered.any():
            out[todo[covered]] = _pick(top_p_sorted[covered], top_idx[covered], uniforms[todo[covered]], top_p)
        todo = todo[~covered]
        if todo.numel() == 0:
            break
    return out


def _pick(sorted_p: torch.Tensor, order: torch.Tensor, uniforms: torch.Tensor, top_p: float) -> torch.Tensor:
    """Inverse-CDF draw within the nucleus of probabilities sorted in decreasing order."""
    cum = sorted_p.cumsum(dim=-1)
    keep = (cum - sorted_p) < top_p  # a token is kept if the mass before it is below top_p
    kept = sorted_p * keep
    cum = kept.cumsum(dim=-1)
    target = uniforms.to(cum.device, torch.float64).unsqueeze(1) * cum[:, -1:]
    pick = torch.searchsorted(cum, target).clamp_max(cum.shape[1] - 1)
    return order.gather(1, pick).squeeze(1)


@torch.no_grad()
def sample(model, prompts: list[list[int]], seeds: list[int], max_new_tokens: int, *, top_p: float = 0.95,
           temperature: float = 1.0, batch_size: int = 64, pad_id: int = 0, device: str = "cpu",
           use_cache: bool = True, progress: bool = False, desc: str = "sampling",
           stats: SampleStats | None = None, banned_ids: list[int] | None = None) -> list[list[int]]:
    """Continue every prompt by ``max_new_tokens`` sampled tokens; returns the new tokens per prompt.

    Parameters
    ----------
    model : a causal LM (``transformers``), in eval mode
    prompts : token ids of each prompt (non-empty)
    seeds : one seed per prompt (see :func:`sigma_lib.recursion.seeds.derive_seed`)
    max_new_tokens : tokens to sample per prompt
    batch_size : prompts per forward pass; results do not depend on it
    use_cache : reuse keys and values (KV cache); ``False`` recomputes the whole prefix each step
    banned_ids : token ids never sampled (their probability set to 0), e.g. an instruction-tuned
        model's end-of-turn and other special tokens, so that every continuation has exactly
        ``max_new_tokens`` tokens of text
    """
    if len(prompts) != len(seeds):
        raise ValueError(f"{len(prompts)} prompts but {len(seeds)} seeds")
    if any(len(p) == 0 for p in prompts):
        raise ValueError("every prompt needs at least one token")
    model.eval()
    banned = torch.tensor(sorted(set(banned_ids or [])), dtype=torch.long, device=device)
    out: list[list[int]] = [None] * len(prompts)  # type: ignore[list-item]
    # Sort by length so batches waste little padding; the result is independent of this order.
    order = sorted(range(len(prompts)), key=lambda i: (len(prompts[i]), i))
    t0 = time.perf_counter()
    for start in tqdm(range(0, len(order), batch_size), desc=desc, disable=not progress, leave=False):
        rows = order[start : start + batch_size]
        draws = _row_uniforms([seeds[i] for i in rows], max_new_tokens)
        ids, mask = _left_pad([prompts[i] for i in rows], pad_id)
        width = ids.shape[1]
        # The attention mask is allocated at its final width once; step t uses its first columns.
        full_mask = torch.cat([mask, torch.ones((len(rows), max_new_tokens), dtype=torch.long)], dim=1).to(device)
        ids = ids.to(device)
        new = torch.empty((len(rows), max_new_tokens), dtype=torch.long, device=device)
        past = None
        for step in range(max_new_tokens):
            t_step = time.perf_counter()
            cur_mask = full_mask[:, : width + step]
            positions = (cur_mask.cumsum(-1) - 1).clamp_min(0)
            if use_cache and past is not None:
                res = model(input_ids=new[:, step - 1 : step], attention_mask=cur_mask, position_ids=positions[:, -1:],
                            past_key_values=past, use_cache=True)
            else:
                cur_ids = torch.cat([ids, new[:, :step]], dim=1)
                res = model(input_ids=cur_ids, attention_mask=cur_mask, position_ids=positions, use_cache=use_cache,
                            logits_to_keep=1)
            past = res.past_key_values if use_cache else None
            logits = res.logits[:, -1, :]
            if banned_ids:
                logits = logits.index_fill(1, banned, float("-inf"))
            t_draw = time.perf_counter()
            new[:, step] = nucleus_sample(logits, draws[:, step], top_p, temperature)
            if stats is not None:
                stats.nucleus_seconds += time.perf_counter() - t_draw
                stats.prompt_seconds += (t_draw - t_step) if step == 0 else 0.0
        new = new.cpu()
        for r, i in enumerate(rows):
            out[i] = new[r].tolist()
    if stats is not None:
        stats.new_tokens += len(prompts) * max_new_tokens
        stats.seconds += time.perf_counter() - t0
    return out


def _row_uniforms(seeds: list[int], n: int) -> torch.Tensor:
    """``(len(seeds), n)`` float64 U(0, 1) draws, row ``r`` from its own generator seeded ``seeds[r]``
    (the same numbers as one draw per step: torch's CPU generator fills a tensor serially)."""
    draws = torch.empty((len(seeds), n), dtype=torch.float64)
    for r, seed in enumerate(seeds):
        g = torch.Generator()
        g.manual_seed(seed)
        draws[r] = torch.rand(n, generator=g, dtype=torch.float64)
    return draws


def _left_pad(prompts: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids ``(B, W)`` left-padded with ``pad_id`` to the longest prompt, and the attention mask."""
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for r, p in enumerate(prompts):
        ids[r, width - len(p):] = torch.tensor(p)
        mask[r, width - len(p):] = 1
    return ids, mask


def truncate_at_eos(tokens: list[int], eos_id: int | None) -> list[int]:
    """Tokens up to (not including) the first end-of-sequence token."""
    if eos_id is not None and eos_id in tokens:
        return tokens[: tokens.index(eos_id)]
    return tokens
