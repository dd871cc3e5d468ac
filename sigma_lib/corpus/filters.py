"""English and quality filters for paragraphs and 64-token windows (App. C.2).

Simple, documented heuristics in the spirit of web-text quality filters: a share of common
English function words, a share of letters, a cap on symbol density and on repetition.
"""
from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
# The most frequent English function words: documentation prose uses them at 20-40 %.
ENGLISH_STOPWORDS = frozenset(
    "the of and to a in is it that for on as with be by this are or an at from not can if which you "
    "when but all will each has have its their there than then so into may must should these those "
    "no was were been also use used only one more other such any what how do does".split()
)


def english_score(text: str) -> float:
    """Share of the words of ``text`` that are common English function words (0 if no words)."""
    words = [w.lower() for w in _WORD.findall(text)]
    return sum(w in ENGLISH_STOPWORDS for w in words) / len(words) if words else 0.0


def is_english(text: str, min_stopword_share: float = 0.12, min_ascii_share: float = 0.95) -> bool:
    """Heuristic English filter: enough English function words, and mostly ASCII letters.

    Parameters
    ----------
    text : str
    min_stopword_share : float
        Minimum share of words that are English function words (see :data:`ENGLISH_STOPWORDS`).
    min_ascii_share : float
        Minimum share of ASCII among the letters of ``text``.
    """
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    ascii_share = sum(c.isascii() for c in letters) / len(letters)
    return ascii_share >= min_ascii_share and english_score(text) >= min_stopword_share


def is_prose_paragraph(text: str, min_words: int = 6) -> bool:
    """A paragraph worth keeping: at least ``min_words`` words and mostly letters (not code, not a list of names)."""
    words = text.split()
    if len(words) < min_words:
        return False
    non_space = [c for c in text if not c.isspace()]
    return sum(c.isalpha() for c in non_space) / len(non_space) >= 0.7


def passes_quality(text: str, min_alpha_share: float = 0.7, max_symbol_share: float = 0.1,
                   min_unique_word_share: float = 0.4) -> bool:
    """Window-level quality filter.

    Keeps text whose non-space characters are mostly letters, with few code symbols
    (``{}[]<>=_|\\$#@*~^``), no replacement characters (a cut UTF-8 sequence), and at least
    ``min_unique_word_share`` distinct words (no boilerplate repeated).
    """
    if "\ufffd" in text:
        return False
    non_space = [c for c in text if not c.isspace()]
    if not non_space:
        return False
    alpha = sum(c.isalpha() for c in non_space) / len(non_space)
    symbols = sum(c in "{}[]<>=_|\\$#@*~^" for c in non_space) / len(non_space)
    words = [w.lower() for w in _WORD.findall(text)]
    unique = len(set(words)) / len(words) if words else 0.0
    return alpha >= min_alpha_share and symbols <= max_symbol_share and unique >= min_unique_word_share
