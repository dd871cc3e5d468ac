"""Small stand-ins shared by the integration tests: a tiny random causal LM and a deterministic
encoder, so that a Trainer, Lightning or two gloo processes run in seconds on a CPU."""
from __future__ import annotations

import zlib

import numpy as np

DIM = 8


class HashEncoder:
    """A deterministic stand-in for a SentenceTransformer: each text maps to a fixed random vector
    (seeded by its CRC-32) plus a component along its length, so the rows are full rank."""

    def __init__(self, dim: int = DIM):
        self.dim = dim

    def get_sentence_embedding_dimension(self) -> int:
        return self.dim

    def encode(self, texts, batch_size=64, convert_to_numpy=True, show_progress_bar=False, normalize_embeddings=False):
        rows = []
        for t in texts:
            v = np.random.default_rng(zlib.crc32(t.encode("utf-8"))).standard_normal(self.dim)
            v[0] += 0.1 * len(t)
            rows.append(v)
        return np.asarray(rows, dtype=np.float32)


def tiny_lm(seed: int = 0):
    """(model, tokenizer): a one-layer GPT-2 with random weights on the project's tokenizer."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from sigma_lib.recursion.base_model import project_tokenizer

    tok = project_tokenizer()
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=16, n_positions=64, vocab_size=len(tok)))
    return model, tok


class CharTokenizer:
    """A character tokenizer (ids 1..63; 0 pads and ends), with the calls the probe makes."""

    pad_token_id = 0
    eos_token_id = 0

    def __call__(self, text):
        return {"input_ids": [1 + (ord(c) % 63) for c in text]}

    def decode(self, ids, skip_special_tokens=True):
        return "".join(chr(ord("!") + i) for i in ids if i)


def toy_lm(seed: int = 0):
    """(model, tokenizer): a pure-torch causal LM (no transformers import: a subprocess starts in
    about two seconds) with the interface :func:`sigma_lib.recursion.sampling.sample` uses."""
    from types import SimpleNamespace

    import torch

    class ToyLM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(64, 16)
            self.out = torch.nn.Linear(16, 64)

        def forward(self, input_ids, attention_mask=None, position_ids=None, past_key_values=None, use_cache=False,
                    logits_to_keep=0):
            h = self.emb(input_ids)
            w = attention_mask[:, -input_ids.shape[1]:, None].to(h.dtype)
            ctx = (h * w).cumsum(1) / w.cumsum(1).clamp_min(1.0)  # mean of the prefix so far
            return SimpleNamespace(logits=self.out(torch.tanh(ctx + h)), past_key_values=None)

    torch.manual_seed(seed)
    return ToyLM(), CharTokenizer()


PROMPTS = ["How does an index speed up a query?", "What is a mutex?", "Explain a hash table.",
           "Why use a B-tree?", "What does fsync do?", "Describe a page cache.", "What is a socket?",
           "How do goroutines communicate?", "What is a borrow checker?", "Explain MVCC.",
           "What is a write-ahead log?", "How is a heap laid out?"]


def prompts(n: int = 12) -> list[str]:
    from sigma_lib.corpus.prompts import load_prompt_bank

    return [p["text"] for p in load_prompt_bank()][:n]


def probe(tok, bank=None, **kw):
    """A SigmaProbe with N = 12 prompts x 3 = 36 responses, m = 20 > d = 8, blocks of 8 slots."""
    from sigma_lib.apps.callback import SigmaProbe

    args = dict(responses_per_prompt=3, max_new_tokens=3, m=20, n_draws=5, warn_at=50.0, batch_size=8,
                encoder=HashEncoder())
    args.update(kw)
    return SigmaProbe(bank or prompts(), tok, **args)
