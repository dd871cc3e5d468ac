"""Plotting helpers shared by the book's chapters (report layer; matplotlib only).

Every generation axis takes integer ticks and the label "generation"; every panel has axis labels
with units; every series that has a noise estimate is drawn with its band (±2 standard deviations
unless said otherwise), and the legend says what the band is. The paper's series are drawn in
black and labelled as the paper's.
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

SETTING_STYLE = {"S1": dict(color="C0", marker="o"), "S2": dict(color="C3", marker="s"),
                 "repeat-real": dict(color="C2", marker="^"), "accumulate": dict(color="C1", marker="D"),
                 "accumulate-subsample": dict(color="C4", marker="v"), "S2-a0.25": dict(color="C5", marker="x"),
                 "S2-a0.5": dict(color="C6", marker="P"), "new-real": dict(color="C7", marker="*")}
PAPER_STYLE = dict(color="k", marker=".", linestyle="-")

#: Axis labels (with units) of the generations table's columns.
LABELS = {
    "drift_U": r"Track II drift $\Delta U$ (nats)",
    "drift_gamma_kf": r"Track I drift $\Delta\Gamma_{KF}$ (dimensionless)",
    "distinct_2": "distinct-2 (unique / total word bigrams)",
    "hhi": "hashed 4-gram HHI (dimensionless)",
    "heldout_nll": "held-out NLL (nats / token)",
    "vendi": "Vendi score (effective number of responses)",
    "rankme": "RankMe (effective rank)",
    "weight_distance": r"$\|\theta_g-\theta_0\| / \|\theta_0\|$",
}
BAND_OF = {"drift_U": "noise_U", "drift_gamma_kf": "noise_gamma_kf", "heldout_nll": "heldout_nll_se"}


def generation_axis(ax) -> None:
    """Integer ticks on the x axis, labelled "generation"."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("generation")


def _settings_order(names: Iterable[str]) -> list[str]:
    order = list(SETTING_STYLE)
    return sorted(names, key=lambda s: (order.index(s) if s in order else 99, s))


def plot_with_band(ax, rows: Iterable[Mapping], y: str, band: str | None = None, *, k: float = 2.0,
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
        b = [k * (r.get(band) or 0.0) for r in rows]
        ax.fill_between(g, [a - e for a, e in zip(v, b)], [a + e for a, e in zip(v, b)], color=line.get_color(),
                        alpha=0.18, linewidth=0)
    generation_axis(ax)


def plot_settings(ax, rows: Iterable[Mapping], y: str, band: str | None = None, *, ylabel: str = "",
                  k: float = 2.0, band_label: str | None = None, suffix: str = "", zero: bool = True) -> None:
    """``y`` against generation for every setting in ``rows`` (one line and band each).

    ``band_label`` names the band in the legend (default: "±k sd"); ``suffix`` is appended to each
    setting's legend entry (e.g. " (this run)").
    """
    by: dict[str, list] = {}
    for r in rows:
        by.setdefault(r["setting"], []).append(r)
    for s in _settings_order(by):
        plot_with_band(ax, by[s], y, band, k=k, label=s + suffix, setting=s)
    ax.set_ylabel(ylabel or LABELS.get(y, y))
    if zero:
        ax.axhline(0, color="0.6", linewidth=0.6)
    handles, labels = ax.get_legend_handles_labels()
    if band is not None:
        handles.append(Patch(color="0.5", alpha=0.25, linewidth=0))
        labels.append(band_label or f"band: ±{k:g} sd")
    ax.legend(handles, labels, fontsize=8)


def plot_paper_series(ax, x: Sequence, y: Sequence, ylabel: str,
                      label: str = "the paper, App. C.4 (as printed)") -> None:
    """The paper's printed series (black), on its own axis."""
    ax.plot(x, y, markersize=4, label=label, **PAPER_STYLE)
    generation_axis(ax)
    ax.set_ylabel(ylabel)
    ax.axhline(0, color="0.6", linewidth=0.6)
    ax.legend(fontsize=8)


def beside_paper(rows: Iterable[Mapping], y: str, paper_x: Sequence, paper_y: Sequence, figsize=(10, 3.6)):
    """Two panels: ``y`` of this run per setting with its noise band (left), the paper's series (right).

    The scales differ (a small model over a few generations against OPT-125m over 50), so each
    panel has its own axis.
    """
    import matplotlib.pyplot as plt

    rows = list(rows)
    fig, axes = plt.subplots(1, 2, figsize=figsize)
    plot_settings(axes[0], rows, y, BAND_OF.get(y), suffix=" (this run)",
                  band_label="band: ±2 sd over re-drawn index sets")
    plot_paper_series(axes[1], paper_x, paper_y, LABELS.get(y, y))
    fig.tight_layout()
    return fig


def overview(rows: Iterable[Mapping],
             panels: Sequence[str] = ("drift_U", "drift_gamma_kf", "distinct_2", "heldout_nll"),
             figsize=(10, 6.4)):
    """A 2 x 2 overview of a run: each panel one column of the generations table against generation,
    per setting, with its band where the table has one (index-set noise, standard error of the NLL)."""
    import matplotlib.pyplot as plt

    rows = list(rows)
    fig, axes = plt.subplots(2, 2, figsize=figsize)
    for ax, y in zip(axes.flat, panels):
        band = BAND_OF.get(y)
        label = ("band: ±2 standard errors" if y == "heldout_nll" else "band: ±2 sd over re-drawn index sets") \
            if band else None
        plot_settings(ax, rows, y, band, band_label=label, zero=y.startswith("drift"))
    fig.tight_layout()
    return fig


def panel_grid(n: int, figsize_per_panel, max_columns: int = 2):
    """A figure of ``n`` panels in rows of at most ``max_columns`` (unused axes removed), and the
    axes in order: multi-panel figures stay no wider than about 3:1 in the text column."""
    import matplotlib.pyplot as plt

    cols = min(max_columns, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(figsize_per_panel[0] * cols, figsize_per_panel[1] * rows),
                             squeeze=False)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.remove()
    return fig, flat[:n]


def signals_grid(rows: Iterable[Mapping], labels: Mapping[str, str], columns: int = 3, figsize_per_panel=(4.33, 3.5),
                 band_label: str = "±2 sd", *, zero_everywhere: bool = False):
    """One panel per signal of ``labels`` (``{column: axis label}``), every setting in ``rows`` with
    its ``±2 <column>_sd`` band, and the settings' legend in the first free panel; drift panels get
    a zero line, every panel with ``zero_everywhere`` (differences from a control).
    ``rows`` are wide rows (:func:`sigma_lib.report.controls.long_to_wide`)."""
    import matplotlib.pyplot as plt

    rows = list(rows)
    n = len(labels) + 1  # the legend takes a panel of its own
    nrows = -(-n // columns)
    fig, axes = plt.subplots(nrows, columns, figsize=(figsize_per_panel[0] * columns, figsize_per_panel[1] * nrows),
                             squeeze=False)
    for ax, (key, label) in zip(axes.flat, labels.items()):
        plot_settings(ax, rows, key, f"{key}_sd", ylabel=label, zero=zero_everywhere or key.startswith("drift_"))
        ax.get_legend().remove()
    for ax in list(axes.flat)[len(labels):]:
        ax.axis("off")
    handles, names = axes.flat[0].get_legend_handles_labels()
    axes.flat[len(labels)].legend(handles, names, loc="center", fontsize=11, title=f"setting (band: {band_label})")
    fig.tight_layout()
    return fig


def normalised_overlay(rows: Iterable[Mapping], columns: Mapping[str, str] | None = None, figsize_per_panel=(5, 3.6)):
    """Figure 3 of the paper: several series per setting, each min-max normalised to [0, 1]."""

    columns = columns or {"drift_U": r"Track II $\Delta U$", "drift_gamma_kf": r"Track I $\Delta\Gamma_{KF}$",
                          "distinct_2": "distinct-2", "hhi": "HHI"}
    by: dict[str, list] = {}
    for r in rows:
        by.setdefault(r["setting"], []).append(r)
    settings = _settings_order(by)
    fig, axes = panel_grid(len(settings), figsize_per_panel)
    for ax, s in zip(axes, settings):
        rs = sorted(by[s], key=lambda r: r["generation"])
        g = [r["generation"] for r in rs]
        for col, label in columns.items():
            v = [r[col] for r in rs]
            lo, hi = min(v), max(v)
            ax.plot(g, [(x - lo) / (hi - lo) if hi > lo else 0.0 for x in v], "o-", markersize=4, label=label)
        generation_axis(ax)
        ax.set_ylabel(f"{s}: min–max normalised (0 to 1)")
        ax.set_ylim(-0.05, 1.05)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def bucket_bars(rows: Iterable[Mapping], generation: int, noise_key: str = "reseed_noise_U", figsize=(8, 3.6)):
    """App. C.6: Track II drift per prompt bucket at ``generation``, one bar per setting, with the
    bucket's evaluation noise (±2 sd, :func:`sigma_lib.report.run_report.bucket_table`) as an error bar
    where the run has it."""
    import matplotlib.pyplot as plt
    import numpy as np

    rows = [r for r in rows if r["generation"] == generation]
    buckets = sorted({r["bucket"] for r in rows})
    settings = _settings_order({r["setting"] for r in rows})
    width = 0.8 / max(len(settings), 1)
    fig, ax = plt.subplots(figsize=figsize)
    x = np.arange(len(buckets))
    for i, s in enumerate(settings):
        at = {r["bucket"]: r for r in rows if r["setting"] == s}
        vals = [at[b]["drift_U"] if b in at else np.nan for b in buckets]
        err = [2 * at[b][noise_key] if b in at and at[b].get(noise_key) is not None else 0.0 for b in buckets]
        ax.bar(x + (i - (len(settings) - 1) / 2) * width, vals, width, yerr=err, capsize=3,
               color=SETTING_STYLE.get(s, {}).get("color"), label=s)
    ax.set_xticks(x, buckets)
    ax.set_xlabel("prompt bucket")
    ax.set_ylabel(f"Track II drift at g = {generation} (nats)")
    ax.axhline(0, color="0.6", linewidth=0.6)
    handles, labels = ax.get_legend_handles_labels()
    # beside the axes, not over the bars
    ax.legend(handles, labels, fontsize=8, title="error bar: ±2 sd of\nevaluation noise", title_fontsize=7,
              loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def signals_in_noise_units(series: Iterable[Mapping], exits: Iterable[Mapping], signs: Mapping[str, int],
                           labels: Mapping[str, str] | None = None, figsize_per_panel=(5, 3.6)):
    """Each signal's change from generation 0 divided by its own band, signed so that degradation
    is negative: below -1 a signal has left its band (``exits`` gives each signal's band).

    ``signs`` maps each signal to the factor that makes its degradation negative: +1 for the
    diversity signals (they fall), -1 for the held-out NLL (it rises).
    """

    series, exits = list(series), list(exits)
    labels = labels or {}
    settings = _settings_order({r["setting"] for r in series})
    fig, axes = panel_grid(len(settings), figsize_per_panel)
    for ax, s in zip(axes, settings):
        rs = sorted((r for r in series if r["setting"] == s), key=lambda r: r["generation"])
        g = [r["generation"] for r in rs]
        for name, sign in signs.items():
            band = next(e["band"] for e in exits if e["setting"] == s and e["signal"] == name)
            v0 = rs[0][name]
            y = [((r[name] - v0) * sign / band) if band > 0 else 0.0 for r in rs]
            ax.plot(g, y, "o-", markersize=4, label=labels.get(name, name))
        ax.axhline(-1, color="k", linestyle="--", linewidth=1, label="edge of the band")
        generation_axis(ax)
        ax.set_ylabel(f"{s}: change / band (degradation < 0)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def realisations(study: Iterable[Mapping], other: Iterable[Mapping], pairs: Sequence[Mapping],
                 labels: Mapping[str, str], figsize_per_panel=(4.0, 3.6)):
    """One seed run on two CPU kinds beside the other seeds: one row of panels per realisation pair
    (:func:`sigma_lib.report.cpu_realisations.realisation_pairs`), one panel per signal of ``labels``;
    the pair's two runs in the setting's colour, thicker (solid: the study's, dashed: the other
    CPU's), every other seed of that setting in light grey. Rows are long rows (``replicate``,
    ``setting``, ``signal``, ``generation``, ``change``)."""
    import matplotlib.pyplot as plt

    study, other = list(study), list(other)
    fig, axes = plt.subplots(len(pairs), len(labels), squeeze=False,
                             figsize=(figsize_per_panel[0] * len(labels), figsize_per_panel[1] * len(pairs)))

    def series(rows, replicate, setting, key):
        pts = sorted((r["generation"], r["change"]) for r in rows
                     if (r["replicate"], r["setting"], r["signal"]) == (replicate, setting, key))
        return [g for g, _ in pts], [c for _, c in pts]

    for row, p in zip(axes, pairs):
        color = SETTING_STYLE.get(p["setting"], {}).get("color", "C0")
        seeds = sorted({r["replicate"] for r in study if r["setting"] == p["setting"]})
        for ax, (key, label) in zip(row, labels.items()):
            for seed in seeds:
                if seed != p["seed"]:
                    ax.plot(*series(study, seed, p["setting"], key), color="0.8", linewidth=1, label=f"{seed}")
            ax.plot(*series(study, p["seed"], p["setting"], key), color=color, linewidth=1.8,
                    label=f"{p['seed']} (this CPU kind)")
            ax.plot(*series(other, p["seed"], p["setting"], key), color=color, linewidth=1.8, linestyle="--",
                    label=f"{p['seed']} (another CPU kind)")
            ax.axhline(0, color="0.6", linewidth=0.6)
            ax.set_ylabel(label)
            ax.set_title(f"{p['setting']}: change from generation 0", fontsize=10)
            generation_axis(ax)
        row[0].legend(fontsize=8)
    fig.tight_layout()
    return fig
