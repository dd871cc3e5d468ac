"""Fixed-length token windows: 64-token contexts cut from a page with a fixed stride (App. C.2)."""
from __future__ import annotations

from typing import Iterator

from tokenizers import Tokenizer


def token_windows(ids: list[int], length: int = 64, stride: int = 64) -> Iterator[tuple[int, list[int]]]:
    """``(start, ids[start:start+length])`` for ``start = 0, stride, 2 stride, ...``; full windows only."""
    if length < 1 or stride < 1:
        raise ValueError(f"length and stride must be positive, got {length} and {stride}")
    for start in range(0, len(ids) - length + 1, stride):
        yield start, ids[start : start + length]


def text_windows(text: str, tokenizer: Tokenizer, length: int = 64, stride: int = 64) -> Iterator[tuple[int, str]]:
    """Windows of ``text`` as strings that re-tokenise to exactly ``length`` tokens.

    A window is decoded from its token ids; the few whose decoded text does not encode back to
    exactly ``length`` tokens (a merge across the cut) are skipped, so every context is exactly
    ``length`` tokens of the tokeniser it was cut with.
    """
    ids = tokenizer.encode(text).ids
    for start, window in token_windows(ids, length, stride):
        piece = tokenizer.decode(window)
        if len(tokenizer.encode(piece).ids) == length:
            yield start, piece
