"""A reference-based distribution signal (issue 20): how far each checkpoint's responses lie from
held-out real TECH text, as the Fréchet distance between Gaussians fitted to their embeddings
(:func:`sigma_lib.maths.signals.frechet_distance`), with the run's own frozen encoder.

Unlike Sigma-UB, which measures the spread of the responses alone, this compares them with real
text: a model that drifts away from the domain raises it even when its outputs stay diverse.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..maths.signals import frechet_distance


def heldout_embeddings(config: dict, *, device: str = "cpu") -> np.ndarray:
    """The run's held-out TECH contexts (the ``n_heldout`` the engine scores its NLL on), embedded
    with the bundled frozen encoder: ``(n_heldout, d)`` float32."""
    from ..corpus.assets import load_contexts
    from ..recursion.data import spread_subset
    from ..recursion.embedding import embed_texts, load_encoder

    texts = [c["text"] for c in spread_subset(load_contexts(split="heldout"), config.get("n_heldout"))]
    return embed_texts(load_encoder(device), texts, config.get("embed_batch_size", 64))


def frechet_series(run_dir: str | Path, *, reference: np.ndarray) -> list[dict]:
    """Per setting and generation of a (verified) run: the Fréchet distance of its stored response
    embeddings to ``reference`` (squared embedding units), and its change from generation 0."""
    from ..recursion.checkpoint import generation_dir, load_embeddings
    from .run_report import load_table, rows_by_setting

    run_dir = Path(run_dir)
    out = []
    for setting, rows in rows_by_setting(load_table(run_dir, "generations")).items():
        base = None
        for r in rows:
            g = int(r["generation"])
            folder = generation_dir(run_dir, "base" if g == 0 else setting, g)
            fd = frechet_distance(load_embeddings(folder), reference)
            base = fd if base is None else base
            out.append({"setting": setting, "generation": g, "frechet": fd, "frechet_change": fd - base})
    return out


def frechet_band(run_dir: str | Path, *, reference: np.ndarray, n_draws: int = 30, seed: int = 0) -> float:
    """Standard deviation of generation 0's Fréchet distance over ``n_draws`` bootstrap resamples of
    its responses: the band of one checkpoint, as for the other bootstrapped signals."""
    from ..maths.signals import bootstrap_sd
    from ..recursion.checkpoint import generation_dir, load_embeddings

    emb0 = load_embeddings(generation_dir(Path(run_dir), "base", 0))
    return bootstrap_sd(emb0, lambda e: frechet_distance(e, reference), n_draws, seed)
