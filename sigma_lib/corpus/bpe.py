"""The project's byte-level BPE tokeniser, trained on the raw TECH text (``tokenizers``).

The paper tokenises with OPT-125M's GPT-2 byte-level BPE, which cannot be downloaded here. The
default base model uses this tokeniser instead; a Hugging Face base model uses its own on the
same context texts.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

#: End-of-text marker, the only special token.
EOS = "<|endoftext|>"


def train_bpe(texts: Iterable[str], vocab_size: int = 4096, min_frequency: int = 2) -> Tokenizer:
    """Train a GPT-2-style byte-level BPE tokeniser on ``texts``.

    Deterministic for the same texts in the same order (``tokenizers`` breaks ties by byte order).

    Parameters
    ----------
    texts : iterable of str
    vocab_size : int, including the 256 byte symbols and the end-of-text token
    min_frequency : int, minimum count of a pair to be merged
    """
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def load_bpe(path: str | Path) -> Tokenizer:
    """Load a tokeniser saved with ``Tokenizer.save``; a clear error if the file is missing or corrupt."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"tokeniser file not found: {path}")
    try:
        return Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a generic Exception on bad JSON
        raise ValueError(f"tokeniser file {path} is corrupt: {exc}") from None
