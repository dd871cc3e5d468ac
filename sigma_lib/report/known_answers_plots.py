"""Figures of the chapter "Sigma against known answers" (report layer; matplotlib only).

Same conventions as :mod:`sigma_lib.report.plots`: integer generation axes labelled "generation",
units on every axis, every simulated series with its band (±2 standard errors of a mean over
replicates, or ±2 sd over draws), and the legend says what the band is; exact laws are drawn
dashed in black.
"""
from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..maths import gaussian_recursion_law as law
from ..maths.gaussian_recursion_sigma import ridge_floor
from .dose_response import SIGNALS
from .plots import generation_axis, panel_grid

EXACT_STYLE = dict(color="k", linestyle="--", linewidth=1.0)


def _cells(rows: Iterable[Mapping], setting: str) -> dict[tuple[int, int], list[Mapping]]:
    out: dict[tuple[int, int], list[Mapping]] = {}
    for r in rows:
        if r["setting"] == setting:
            out.setdefault((r["d"], r["n"]), []).append(r)
    return {k: sorted(v, key=lambda r: r["generation"]) for k, v in sorted(out.items())}


def _series(ax, rs, mean: str, se: str, exact: str | None, *, color, label: str) -> None:
    g = np.array([0] + [r["generation"] for r in rs])
    first = {"mean_logdet_change": 0.0, "mean_sq_mean_drift": 0.0, "mean_trace_ratio": 1.0}[mean]
    v = np.array([first] + [r[mean] for r in rs])
    e = np.array([0.0] + [2 * r[se] for r in rs])
    ax.plot(g, v, color=color, linewidth=1.2, label=label)
    ax.fill_between(g, v - e, v + e, color=color, alpha=0.2, linewidth=0)
    if exact is not None and rs[0][exact] is not None:
        ax.plot(g, [first] + [r[exact] for r in rs], **EXACT_STYLE)


def law_figure(rows: Iterable[Mapping], setting: str, *, figsize_per_panel=(3.3, 3.0)):
    """One setting: per dimension ``d`` (columns), the simulated mean change of ``log det Sigma``
    (top) and ``|mu_g - mu_0|^2`` (bottom) against generation, one colour per ``n``, ±2 standard errors
    over replicates, and the exact law dashed where it exists (``log det``: ``replace`` only; for
    the other settings the dotted line is Jensen's bound ``d log E[tr Sigma_g / d]``). A ``log det``
    axis that falls below -10 nats is symmetric-log (linear within ±1 nat) so that every ``n`` is visible;
    the legend sits below the panels."""
    import matplotlib.pyplot as plt

    cells = _cells(rows, setting)
    ds = sorted({d for d, _ in cells})
    ns = sorted({n for _, n in cells})
    colors = {n: f"C{i}" for i, n in enumerate(ns)}
    fig, axes = plt.subplots(2, len(ds), figsize=(figsize_per_panel[0] * len(ds), figsize_per_panel[1] * 2),
                             squeeze=False)
    for j, d in enumerate(ds):
        top, bottom = axes[0, j], axes[1, j]
        for (dd, n), rs in cells.items():
            if dd != d:
                continue
            _series(top, rs, "mean_logdet_change", "se_logdet_change", "exact_logdet_change", color=colors[n],
                    label=f"n = {n}")
            if rs[0]["exact_logdet_change"] is None and rs[0]["exact_trace_ratio"] is not None:
                top.plot([0] + [r["generation"] for r in rs], [0.0] + [d * np.log(r["exact_trace_ratio"]) for r in rs],
                         color=colors[n], linestyle=":", linewidth=1.0)
            _series(bottom, rs, "mean_sq_mean_drift", "se_sq_mean_drift", "exact_sq_mean_drift", color=colors[n],
                    label=f"n = {n}")
        if min(r["mean_logdet_change"] for (dd, _), rs in cells.items() if dd == d for r in rs) < -10:
            top.set_yscale("symlog", linthresh=1.0)
        top.set_title(f"{setting}, d = {d}", fontsize=9)
        top.set_ylabel(r"$\log\det\Sigma_g - \log\det\Sigma_0$ (nats)")
        bottom.set_ylabel(r"$|\mu_g - \mu_0|^2$")
        for ax in (top, bottom):
            generation_axis(ax)
            ax.axhline(0, color="0.6", linewidth=0.6)
    handles = [Line2D([], [], color=colors[n], label=f"n = {n}") for n in ns]
    handles += [Patch(color="0.5", alpha=0.3, label="±2 standard errors (replicates)"),
                Line2D([], [], label="exact law", **EXACT_STYLE)]
    if setting != "replace" and setting != "accumulate-subsample":
        handles.append(Line2D([], [], color="0.3", linestyle=":",
                              label=r"Jensen bound $d\log E[\mathrm{tr}\,\Sigma_g/d]$"))
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    return fig


def sigma_drift_figure(sigma: Mapping, *, figsize_per_panel=(4.2, 3.4)):
    """Per Sigma cell: the exact change of ``log det Sigma`` (dashed), the law's ``Delta log det M``
    (second moment), and the mean drifts of Track II (raw uncentred, centred, unit-normalised) over
    replicates with their ±2 sd spread over replicates; the ridge floor ``d log(eps/m)`` dotted."""

    fig, axes = panel_grid(len(sigma), figsize_per_panel)
    series = (("logdet_second_moment", r"law: $\Delta\log\det M$ (second moment)", "0.45"),
              ("U", r"$\Delta U$, uncentred Gram (Track II)", "C0"),
              ("U_centred", r"$\Delta U$, centred Gram", "C2"),
              ("U_unit", r"$\Delta U$, unit-normalised rows (pipeline)", "C3"))
    for ax, ((d, n), sp) in zip(axes, sigma.items()):
        G = sp.U.shape[0] - 1
        g = np.arange(G + 1)
        ax.plot(g, law.replace_logdet_law(d, n, g)[0], label=r"exact $E\,\Delta\log\det\Sigma$ (K.1)", **EXACT_STYLE)
        for key, label, color in series:
            x = sp.drift(key)
            mean, sd = x.mean(axis=1), x.std(axis=1, ddof=1)
            ax.plot(g, mean, color=color, linewidth=1.2, label=label)
            if key != "logdet_second_moment":
                ax.fill_between(g, mean - 2 * sd, mean + 2 * sd, color=color, alpha=0.15, linewidth=0)
        floor = ridge_floor(d, sp.m, eps=sp.eps) - float(sp.U[0].mean())
        ax.axhline(floor, color="0.3", linestyle=":", linewidth=1.0, label=r"ridge floor $d\log(\varepsilon/m) - U_0$")
        ax.set_title(f"replace, d = {d}, n = {n} (N = {sp.N}, m = {sp.m})", fontsize=9)
        ax.set_ylabel("drift from generation 0 (nats)")
        generation_axis(ax)
    handles, labels = axes[0].get_legend_handles_labels()
    handles.append(Patch(color="0.5", alpha=0.25, linewidth=0))
    labels.append("±2 sd over replicates")
    axes[0].legend(handles, labels, fontsize=6.5, loc="lower left")
    fig.tight_layout()
    return fig


def coverage_figure(rows: Iterable[Mapping], *, figsize_per_panel=(4.2, 3.2)):
    """Per Sigma cell (columns): the coverage of each interval for the drift against generation
    (top, nominal 0.95 dashed) and the index-set band against the spread of the drift over
    replicates, ``mean band / sd over replicates`` (bottom)."""
    import matplotlib.pyplot as plt

    rows = [r for r in rows if r["setting"] == "replace" and r["coverage_band"] is not None]
    cells = _cells(rows, "replace")
    fig, axes = plt.subplots(2, len(cells), figsize=(figsize_per_panel[0] * len(cells), figsize_per_panel[1] * 2),
                             squeeze=False)
    curves = (("coverage_band", "index-set band ±2 sd (target $\\Delta\\log\\det M$)", "C0"),
              ("coverage_theorem3", "Theorem 3 (3.11) (target $\\Delta\\log\\det M$)", "C1"),
              ("coverage_bias_corrected", "bias-corrected (target $\\Delta\\log\\det M$)", "C2"),
              ("coverage_centred", "centred, bias-corrected (target $\\Delta\\log\\det\\Sigma$)", "C3"),
              ("coverage_theorem3_vs_sigma", "Theorem 3 judged against $\\Delta\\log\\det\\Sigma$", "C7"))
    for j, ((d, n), rs) in enumerate(cells.items()):
        g = [r["generation"] for r in rs]
        top, bottom = axes[0, j], axes[1, j]
        reps = rs[0]["replicates"]
        for key, label, color in curves:
            p = np.array([r[key] for r in rs])
            top.plot(g, p, color=color, linewidth=1.1, label=label)
        top.axhline(0.95, **EXACT_STYLE)
        top.set_ylim(-0.03, 1.03)
        top.set_ylabel(f"coverage (share of {reps} replicates)")
        top.set_title(f"replace, d = {d}, n = {n}", fontsize=9)
        ratio = [r["mean_band_U"] / r["sd_drift_U"] for r in rs]
        ratio_unit = [r["mean_band_U_unit"] / r["sd_drift_U_unit"] for r in rs]
        bottom.plot(g, ratio, color="C0", label="uncentred rows")
        bottom.plot(g, ratio_unit, color="C3", label="unit-normalised rows")
        bottom.axhline(1.0, **EXACT_STYLE)
        bottom.set_yscale("log")
        bottom.set_ylabel("index-set band / sd over replicates")
        for ax in (top, bottom):
            generation_axis(ax)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    handles.append(Line2D([], [], **EXACT_STYLE))
    labels.append("nominal 0.95")
    axes[0, 0].legend(handles, labels, fontsize=6.5, loc="lower left")
    axes[1, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def dose_figure(summary: Iterable[Mapping], run: str, *, figsize_per_panel=(3.6, 3.0)):
    """One run: each signal's mean change against the replaced fraction ``q`` (one panel per signal,
    2 x 3 with the legend in the last), per mode, with ±2 sd over draws, and the ±2 sd evaluation
    noise (grey) that a change must leave to be seen."""
    import matplotlib.pyplot as plt

    rs = [r for r in summary if r["run"] == run]
    modes = list(dict.fromkeys(r["mode"] for r in rs))
    fig, axes = plt.subplots(2, 3, figsize=(figsize_per_panel[0] * 3, figsize_per_panel[1] * 2))
    for ax, (key, label) in zip(axes.flat, SIGNALS.items()):
        for i, mode in enumerate(modes):
            m = sorted((r for r in rs if r["mode"] == mode), key=lambda r: r["q"])
            q = np.array([r["q"] for r in m])
            v = np.array([r[key] for r in m])
            e = np.array([2 * r[f"{key}_sd"] for r in m])
            ax.plot(q, v, "o-", color=f"C{i}", markersize=3, label=f"replaced by {mode}")
            ax.fill_between(q, v - e, v + e, color=f"C{i}", alpha=0.2, linewidth=0)
        noise = 2 * rs[0][f"{key}_noise"]
        ax.axhspan(-noise, noise, color="0.5", alpha=0.3, linewidth=0)
        ax.set_xlabel("replaced fraction q")
        ax.set_ylabel(label)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    handles += [Patch(color="C0", alpha=0.2), Patch(color="0.5", alpha=0.3)]
    labels += ["±2 sd over draws", "±2 sd evaluation noise"]
    axes.flat[-1].axis("off")
    axes.flat[-1].legend(handles, labels, loc="center", fontsize=10, title=run, title_fontsize=9)
    fig.tight_layout()
    return fig
