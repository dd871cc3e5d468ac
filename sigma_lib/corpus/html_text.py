"""HTML to prose: boilerplate removal and code-block stripping, with a real HTML parser.

BeautifulSoup over lxml finds the page's main content, drops navigation, headers, footers,
sidebars, scripts, code blocks (``<pre>``, highlighted blocks) and tables, and returns the text
of the prose blocks (paragraphs, list items, definitions), one string per block. Inline code
inside a sentence is kept: removing it would break the sentence.
"""
from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

# Containers of the main content, most specific first (Sphinx, mdBook, DocBook, plain HTML).
_MAIN = ["div[role=main]", "main", "div.body", "div#content", "div.content", "article", "div.book", "div.chapter",
         "div.sect1", "body"]
_DROP_TAGS = ["script", "style", "nav", "header", "footer", "aside", "form", "noscript", "pre", "table", "svg",
              "button", "iframe", "object", "head", "title", "img"]
_DROP_CLASSES = re.compile(
    r"(sidebar|related|navigation|navheader|navfooter|breadcrumb|toc|menu|headerlink|highlight|footer|header|"
    r"copyright|searchbox|nav-|skip|programlisting|screen|synopsis|literallayout|fixed)", re.I)
_BLOCKS = ["p", "li", "dd", "blockquote"]
_SPACE = re.compile(r"\s+")
# get_text(" ") puts a space before punctuation that followed an inline tag: "the <code>x</code>."
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?)])(?=\s|$)")


def html_to_paragraphs(html: str | bytes) -> list[str]:
    """Prose blocks of an HTML page, boilerplate and code removed, whitespace collapsed.

    Parameters
    ----------
    html : the page source

    Returns
    -------
    list of str, one per innermost paragraph-like block, in document order; empty blocks dropped.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)  # DocBook pages are XHTML
        soup = BeautifulSoup(html, "lxml")
    main = None
    for selector in _MAIN:
        main = soup.select_one(selector)
        if main is not None:
            break
    if main is None:
        return []
    for tag in main.find_all(_DROP_TAGS):
        tag.decompose()
    boilerplate = [t for t in main.find_all(True) if _DROP_CLASSES.search(
        " ".join([*(t.get("class") or []), t.get("id") or "", t.get("role") or ""]))]
    for tag in boilerplate:
        if not tag.decomposed:  # a parent may already have taken it
            tag.decompose()
    paragraphs = []
    for block in main.find_all(_BLOCKS):
        if block.find(_BLOCKS):  # keep innermost blocks only, so no text is taken twice
            continue
        text = _SPACE.sub(" ", block.get_text(" ", strip=True)).strip()
        text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
        if text:
            paragraphs.append(text)
    return paragraphs


def html_to_text(html: str | bytes) -> str:
    """The page's prose as one string, blocks separated by blank lines."""
    return "\n\n".join(html_to_paragraphs(html))
