"""Per-item random streams: a seed is a hash of (run seed, generation, stage, item id).

Because every context's continuation and every prompt's responses draw from their own stream,
they do not depend on batch size, batch composition or the order of work, and a resumed run
draws exactly what an uninterrupted one would have.
"""
from __future__ import annotations

import hashlib

import torch


def derive_seed(*parts) -> int:
    """A 63-bit seed from any sequence of printable parts (ints, strings), via SHA-256."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def generator(*parts, device: str | torch.device = "cpu") -> torch.Generator:
    """A ``torch.Generator`` seeded with :func:`derive_seed` of ``parts``."""
    g = torch.Generator(device=device)
    g.manual_seed(derive_seed(*parts))
    return g
