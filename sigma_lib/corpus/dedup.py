"""Exact (content hash) and near-duplicate (MinHash LSH, ``datasketch``) removal."""
from __future__ import annotations

import hashlib
import re
from typing import Sequence

from datasketch import MinHash, MinHashLSH

_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


def normalise(text: str) -> str:
    """Lower-case, whitespace-collapsed form on which exact duplicates are detected."""
    return _WS.sub(" ", text.lower()).strip()


def content_hash(text: str) -> str:
    """SHA-256 (hex) of the normalised text."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def minhash(text: str, num_perm: int = 128, shingle: int = 3, seed: int = 1) -> MinHash:
    """MinHash signature of the text's word ``shingle``-grams."""
    words = _WORD.findall(text.lower())
    grams = {" ".join(words[i : i + shingle]) for i in range(max(1, len(words) - shingle + 1))}
    m = MinHash(num_perm=num_perm, seed=seed)
    m.update_batch([g.encode("utf-8") for g in grams])
    return m


def deduplicate(texts: Sequence[str], threshold: float = 0.7, num_perm: int = 128,
                shingle: int = 3) -> tuple[list[int], dict]:
    """Indices of ``texts`` kept after exact then near-duplicate removal (first occurrence wins).

    Parameters
    ----------
    texts : sequence of str, in a fixed order
    threshold : estimated Jaccard similarity of shingle sets above which a text is a near duplicate
    num_perm, shingle : MinHash size and shingle length (words)

    Returns
    -------
    (kept, stats) : kept indices in input order, and counts ``{"input", "exact_duplicates",
    "near_duplicates", "kept"}``.
    """
    seen: set[str] = set()
    after_exact = []
    for i, t in enumerate(texts):
        h = content_hash(t)
        if h not in seen:
            seen.add(h)
            after_exact.append(i)
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    kept = []
    for i in after_exact:
        sig = minhash(texts[i], num_perm, shingle)
        if lsh.query(sig):
            continue
        lsh.insert(str(i), sig)
        kept.append(i)
    stats = {"input": len(texts), "exact_duplicates": len(texts) - len(after_exact),
             "near_duplicates": len(after_exact) - len(kept), "kept": len(kept)}
    return kept, stats


def near_duplicate_mask(texts: Sequence[str], reference: Sequence[str], threshold: float = 0.7, *,
                        num_perm: int = 128, shingle: int = 3) -> list[bool]:
    """For each of ``texts``, whether it is an exact or near duplicate of any ``reference`` text.

    The test of :func:`deduplicate` (same content hash, or a MinHash LSH collision at
    ``threshold`` with the same ``num_perm`` and ``shingle``), against a fixed reference set
    instead of the texts kept so far. Returns one bool per text, in order.
    """
    hashes = {content_hash(t) for t in reference}
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    for j, t in enumerate(reference):
        lsh.insert(str(j), minhash(t, num_perm, shingle))
    return [content_hash(t) in hashes or bool(lsh.query(minhash(t, num_perm, shingle))) for t in texts]
