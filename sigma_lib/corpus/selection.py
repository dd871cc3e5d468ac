"""Deterministic, seeded, source-balanced selection of contexts (and a disjoint held-out set)."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np


def balanced_quotas(available: Mapping[str, int], total: int, *, order: Sequence[str] | None = None) -> dict[str, int]:
    """Split ``total`` across sources as evenly as their sizes allow (water-filling).

    Sources are served in name order, or in ``order`` (every source once); the first served get
    the remainder of an uneven split, and a source smaller than its fair share gives the rest to
    the others. Raises ``ValueError`` if fewer than ``total`` items exist in all.
    """
    if sum(available.values()) < total:
        raise ValueError(f"only {sum(available.values())} candidates for {total} contexts")
    if order is not None and sorted(order) != sorted(available):
        raise ValueError(f"order {list(order)} must list every source of {sorted(available)} once")
    quotas = {k: 0 for k in available}
    remaining = total
    open_ = [k for k in (sorted(available) if order is None else order) if available[k] > 0]
    while remaining > 0:
        share, extra = divmod(remaining, len(open_))
        for j, k in enumerate(open_):
            want = share + (1 if j < extra else 0)
            take = min(want, available[k] - quotas[k])
            quotas[k] += take
            remaining -= take
        open_ = [k for k in open_ if quotas[k] < available[k]]
    return quotas


def select_balanced(keys: Sequence[str], sources: Sequence[str], n_select: int, n_heldout: int,
                    seed: int) -> tuple[list[int], list[int]]:
    """Seeded selection of ``n_select`` training and ``n_heldout`` held-out items, balanced by source.

    Parameters
    ----------
    keys : a stable key per item (its content hash); items are ordered by key before the shuffle,
        so the result does not depend on the input order.
    sources : the source of each item
    n_select, n_heldout : sizes of the two disjoint sets
    seed : int

    Returns
    -------
    (selected, heldout) : item indices, each sorted by (source, key).
    """
    by_source: dict[str, list[int]] = {}
    for i in sorted(range(len(keys)), key=lambda i: keys[i]):
        by_source.setdefault(sources[i], []).append(i)
    quotas = balanced_quotas({s: len(v) for s, v in by_source.items()}, n_select + n_heldout)
    held_quotas = balanced_quotas({s: quotas[s] for s in by_source}, n_heldout)
    selected, heldout = [], []
    for j, source in enumerate(sorted(by_source)):
        rng = np.random.default_rng([seed, j])
        order = [by_source[source][k] for k in rng.permutation(len(by_source[source]))]
        h = held_quotas[source]
        heldout += order[:h]
        selected += order[h : quotas[source]]

    def key(i):
        return (sources[i], keys[i])

    return sorted(selected, key=key), sorted(heldout, key=key)
