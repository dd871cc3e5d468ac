"""Surface-form diversity proxies (App. C.1, C.5): distinct-n, hashed n-gram HHI, Spearman.

Tokenisation (choice): lower-cased words and single punctuation marks (regex ``\\w+|[^\\w\\s]``);
pass ``tokenize=`` to use another (a BPE tokeniser, say). State the choice beside every table.
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from typing import Callable, Iterable, Sequence

import numpy as np
import scipy.stats

_TOKEN = re.compile(r"\w+|[^\w\s]")


def default_tokenize(text: str) -> list[str]:
    """Lower-cased word and punctuation tokens (the default of every proxy here)."""
    return _TOKEN.findall(text.lower())


def _as_responses(texts: Iterable[str]) -> list[str]:
    """``texts`` as a list of response strings; a bare ``str`` is refused, not split into characters."""
    if isinstance(texts, (str, bytes)):
        raise TypeError(
            f"texts must be a list of response strings, got a single {type(texts).__name__} "
            f"of length {len(texts)} (it would be read as one response per character); "
            "wrap one response in a list: [text]"
        )
    return list(texts)


def _ngrams(texts: Iterable[str], n: int, tokenize: Callable[[str], list[str]]):
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    texts = _as_responses(texts)
    if not texts:
        raise ValueError("no responses were given")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"response {i} is {type(t).__name__}, expected str")
    for t in texts:
        toks = tokenize(t)
        for j in range(len(toks) - n + 1):
            yield tuple(toks[j : j + n])


def distinct_n(texts: Iterable[str], n: int = 2, tokenize: Callable[[str], list[str]] = default_tokenize) -> float:
    """Distinct-n (Li et al., 2016): unique n-grams / total n-grams, **pooled** over all responses.

    Pooled means the n-grams of every response of a generation are counted together (one ratio
    per generation), not one ratio per response averaged; published implementations differ, so
    say which. N-grams do not cross response boundaries.

    Parameters
    ----------
    texts : list of str
        One string per response. A bare ``str`` raises ``TypeError`` (iterating it would give
        one "response" per character).
    n : int
        N-gram length, ``>= 1``.
    tokenize : callable
        ``str -> list[str]``; default :func:`default_tokenize`.

    Raises
    ------
    TypeError
        If ``texts`` is a single string, or holds something other than strings.
    ValueError
        If there are no responses, or no response has ``n`` tokens (e.g. all empty).
    """
    counts = Counter(_ngrams(texts, n, tokenize))
    total = sum(counts.values())
    if total == 0:
        raise ValueError(f"no {n}-grams: every response is shorter than {n} tokens (empty responses?)")
    return len(counts) / total


def _bucket(ngram: tuple[str, ...], n_buckets: int) -> int:
    # A keyed hash would differ between processes (PYTHONHASHSEED); blake2b is stable.
    digest = hashlib.blake2b("\x1f".join(ngram).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") % n_buckets


def hashed_ngram_hhi(
    texts: Iterable[str], n: int = 4, n_buckets: int = 2**20, tokenize: Callable[[str], list[str]] = default_tokenize
) -> float:
    """Hashed n-gram Herfindahl-Hirschman index (App. C.1): ``sum_k p_k^2``.

    Each n-gram is hashed (BLAKE2b, stable across processes) into one of ``n_buckets`` buckets;
    ``p_k`` is bucket ``k``'s share of all n-grams, pooled over the responses. Higher = more
    concentrated. Defaults ``n = 4``, ``n_buckets = 2**20`` (choice; state them in every table).
    ``texts`` is a list of response strings; a bare ``str`` raises ``TypeError``.
    """
    if n_buckets < 1:
        raise ValueError(f"n_buckets must be at least 1, got {n_buckets}")
    buckets = Counter(_bucket(g, n_buckets) for g in _ngrams(texts, n, tokenize))
    total = sum(buckets.values())
    if total == 0:
        raise ValueError(f"no {n}-grams: every response is shorter than {n} tokens (empty responses?)")
    p = np.fromiter(buckets.values(), dtype=np.float64) / total
    return float(np.sum(p * p))


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rank correlation of two per-generation series (scipy.stats.spearmanr)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or x.size < 3:
        raise ValueError("spearman needs two 1-D series of the same length, at least 3 points")
    return float(scipy.stats.spearmanr(x, y).statistic)
