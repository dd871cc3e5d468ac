"""The TECH sources: permissively licensed documentation shipped as Debian packages (App. C.2).

The paper's Kubernetes documentation (CC BY 4.0) is not packaged in Debian, so it is not used;
the Go documentation pages of ``golang-1.19-doc`` (BSD-3-Clause: the language specification, an older
copy of it, the assembler guide and the memory model) take its place.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Source:
    """One documentation source.

    Attributes
    ----------
    name : short id used in context ids
    package : the Debian package that ships the HTML
    licence : SPDX-style licence name
    root : folder of the HTML
    patterns : glob patterns, relative to ``root``, of the pages read (prose, not API indexes)
    exclude : file names skipped (print-all pages that repeat every other page, indexes)
    """

    name: str
    package: str
    licence: str
    root: str
    patterns: tuple[str, ...]
    exclude: tuple[str, ...] = ()

    @property
    def copyright_file(self) -> Path:
        """Debian's machine-readable copyright file of the package (the licence notice)."""
        return Path("/usr/share/doc") / self.package / "copyright"

    def pages(self, root: str | Path | None = None) -> list[Path]:
        """The HTML pages read from this source, sorted (so every build reads them in one order)."""
        base = Path(root) if root is not None else Path(self.root)
        found = {p for pat in self.patterns for p in base.glob(pat) if p.is_file() and p.name not in self.exclude}
        return sorted(found)


SOURCES: tuple[Source, ...] = (
    Source("python", "python3.11-doc", "PSF-2.0", "/usr/share/doc/python3.11/html",
           ("tutorial/*.html", "howto/*.html", "faq/*.html", "reference/*.html", "using/*.html", "library/*.html"),
           ("index.html", "genindex.html")),
    Source("postgresql", "postgresql-doc-15", "PostgreSQL", "/usr/share/doc/postgresql-doc-15/html", ("*.html",),
           ("index.html", "bookindex.html")),
    Source("sqlite", "sqlite3-doc", "public-domain", "/usr/share/doc/sqlite3", ("*.html",),
           ("index.html", "docs.html", "sitemap.html", "keyword_index.html", "toc.html")),
    Source("rust", "rust-doc", "MIT OR Apache-2.0", "/usr/share/doc/rust-doc/html/book", ("*.html",),
           ("print.html", "index.html", "SUMMARY.html", "title-page.html", "README.html", "toc.html")),
    Source("go", "golang-1.19-doc", "BSD-3-Clause", "/usr/share/doc/golang-1.19-doc/html", ("*.html",)),
)


def source_by_name(name: str) -> Source:
    for s in SOURCES:
        if s.name == name:
            return s
    raise ValueError(f"unknown source {name!r}; choose from {[s.name for s in SOURCES]}")


def package_version(package: str) -> str | None:
    """Installed version of a Debian package (``dpkg-query``), or ``None`` if not installed."""
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True,
                             check=False)
    except FileNotFoundError:
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None
