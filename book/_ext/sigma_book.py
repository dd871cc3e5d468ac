"""Two small Sphinx additions for this book (loaded through ``sphinx.local_extensions``).

1. **Plumbing hidden.** Every chapter is a papermill-parameterised notebook. Its ``parameters``
   cell and the ``injected-parameters`` cell that papermill adds when it executes the notebook are
   configuration, not content: both get myst-nb's ``remove-cell`` tag as the notebook is read, so no
   page opens with them (the tag cannot be written into the injected cell beforehand: papermill
   creates it). Each chapter states its parameters in its "Re-run this chapter" note instead.

2. **The paper's equation numbers.** An equation labelled ``eq-3-4`` (or ``eq-B-19``) is numbered
   ``(3.4)`` (``(B.19)``), the paper's number, both beside the equation and wherever the ``{eq}``
   role cites it, in any chapter. Other labels keep Sphinx's own numbering. Needs
   ``math_numfig = False`` (set in ``_config.yml``) so that Sphinx prints the number stored here.
"""
from __future__ import annotations

import json
import re

from sphinx.domains.math import MathDomain
from sphinx.util import logging

logger = logging.getLogger(__name__)

PLUMBING_TAGS = ("parameters", "injected-parameters")
PAPER_LABEL = re.compile(r"^eq-([0-9]+|[A-Z])-([0-9]+)$")


def paper_number(label: str) -> str | None:
    """``"3.4"`` for the label ``eq-3-4``, ``"B.19"`` for ``eq-B-19``; ``None`` for other labels."""
    match = PAPER_LABEL.match(label)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def hide_plumbing(app, docname: str, source: list[str]) -> None:
    """Add ``remove-cell`` to the parameter cells of a notebook as Sphinx reads it."""
    if not str(app.env.doc2path(docname)).endswith(".ipynb"):
        return
    try:
        notebook = json.loads(source[0])
    except json.JSONDecodeError:
        return  # not a JSON notebook (e.g. a text-based one): nothing to do
    changed = False
    for cell in notebook.get("cells", []):
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if any(t in tags for t in PLUMBING_TAGS) and "remove-cell" not in tags:
            tags.append("remove-cell")
            changed = True
    if changed:
        source[0] = json.dumps(notebook)


class PaperMathDomain(MathDomain):
    """The math domain, numbering ``eq-<section>-<n>`` labels as the paper does."""

    def note_equation(self, docname: str, labelid: str, location=None) -> None:
        number = paper_number(labelid)
        if number is None:
            return super().note_equation(docname, labelid, location)
        if labelid in self.equations:
            other = self.equations[labelid][0]
            logger.warning(f"duplicate label of equation {labelid}, other instance in {other}", location=location)
        self.equations[labelid] = (docname, number)


def setup(app):
    app.connect("source-read", hide_plumbing)
    app.add_domain(PaperMathDomain, override=True)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
