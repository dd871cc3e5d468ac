"""A second frozen encoder: theta_0's own mean-pooled last hidden states.

The book's encoder is all-MiniLM-L6-v2 (:mod:`.embedding`). Track II measured with another,
unrelated encoder tells whether a drift belongs to the responses or to one encoder's view of
them. The base model theta_0 ships offline with the run (the packaged SmolLM2-135M), so it is
the second encoder that needs nothing more: each response is fed alone, without its prompt, and
its last hidden states (after the final norm) are averaged over its tokens. The model stays
frozen at theta_0 whatever generation wrote the response, and runs in float32.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

POOLING = "mean of the last hidden states (after the final norm) over the response's own tokens, float32"


def _converted(base_model: str, cache_dir: str | Path) -> tuple[Path, dict]:
    from .base_model import convert_packaged, is_packaged

    if not is_packaged(base_model):
        raise ValueError(f"the hidden-state encoder needs a packaged base model, got {base_model!r}")
    return convert_packaged(base_model, cache_dir)


def hidden_state_encoder_info(base_model: str, cache_dir: str | Path) -> dict:
    """The hashes of theta_0 of ``base_model`` (a packaged GGUF model, converted once into
    ``cache_dir`` and verified), without loading it."""
    return _converted(base_model, cache_dir)[1]


def load_hidden_state_encoder(base_model: str, cache_dir: str | Path):
    """``(model, tokenizer, info)``: theta_0 of ``base_model`` on the CPU, in eval mode, with
    :func:`hidden_state_encoder_info`."""
    from .base_model import load_pretrained

    path, info = _converted(base_model, cache_dir)
    model, tok = load_pretrained(str(path))
    tok.padding_side = "right"
    return model, tok, info


def embed_hidden_states(model, tokenizer, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
    """Mean-pooled last hidden states of ``texts``, shape ``(N, hidden size)`` float32 (576 for
    SmolLM2-135M); not normalised (Sigma-UB normalises). An empty text is read as the tokenizer's
    end-of-sequence token, so that every response has at least one token to pool. Raises
    ``ValueError`` on an empty list or non-finite output."""
    import torch

    if not texts:
        raise ValueError("no texts to embed")
    texts = [t or tokenizer.eos_token for t in texts]
    backbone = model.get_decoder()
    out = []
    with torch.inference_mode():
        for i in range(0, len(texts), batch_size):
            batch = tokenizer(texts[i:i + batch_size], return_tensors="pt", padding=True)
            hidden = backbone(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            out.append(((hidden * mask).sum(1) / mask.sum(1)).float().numpy())
    emb = np.concatenate(out).astype(np.float32)
    if not np.isfinite(emb).all():
        raise ValueError("the hidden-state encoder returned non-finite embeddings")
    return emb
