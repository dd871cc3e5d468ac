"""Plotting helpers shared by the book's chapters (report layer; matplotlib only).

Generation axes take integer ticks; every band is labelled with what it is.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from matplotlib.ticker import MaxNLocator

SETTING_STYLE = {"S1": dict(color="C0", marker="o"), "S2": dict(color="C3", marker="s"),
                 "fresh": dict(color="C2", marker="^")}


def generation_axis(ax) -> None:
    """Integer ticks on the x axis, labelled "generation"."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("generation")


def plot_with_band(ax, rows: Iterable[Mapping], y: str, band: str | None = None, k: float = 2.0,
                   label: str | None = None, setting: str | None = None) -> None:
    """One series against generation with a shaded ``±k * band`` (e.g. ``drift_U`` with ``noise_U``).

    ``rows`` are dicts (or DataFrame records) with ``generation``, ``y`` and, if given, ``band``.
    """
    rows = sorted(rows, key=lambda r: r["generation"])
    g = [r["generation"] for r in rows]
    v = [r[y] for r in rows]
    style = SETTING_STYLE.get(setting or "", {})
    line, = ax.plot(g, v, "-", label=label or setting, markersize=4, **style)
    if band is not None:
        b = [k * (r[band] or 0.0) for r in rows]
        ax.fill_between(g, [a - e for a, e in zip(v, b)], [a + e for a, e in zip(v, b)], color=line.get_color(),
                        alpha=0.18, linewidth=0)
    generation_axis(ax)


def plot_settings(ax, rows: Iterable[Mapping], y: str, band: str | None = None, ylabel: str = "",
                  k: float = 2.0) -> None:
    """``y`` against generation for every setting in ``rows`` (one line and band each)."""
    by: dict[str, list] = {}
    for r in rows:
        by.setdefault(r["setting"], []).append(r)
    for s in sorted(by, key=lambda s: list(SETTING_STYLE).index(s) if s in SETTING_STYLE else 99):
        plot_with_band(ax, by[s], y, band, k, setting=s)
    ax.set_ylabel(ylabel or y)
    ax.axhline(0, color="0.6", linewidth=0.6)
    ax.legend(fontsize=8)
