"""Backtests of the drift forecasts (:mod:`sigma_lib.maths.forecast`) on every run the book can read.

For a run and a setting with generations ``0..G``, every forecast origin ``t`` in ``1..G-1`` (the
first generation every method can start from) and every horizon ``k`` with ``t + k <= G`` gives one
row: the Track II drift at ``t + k`` as measured, and as forecast from generations ``0..t`` only by
persistence, linear extrapolation and DMD on the log-spectrum of ``G_m/m``. Nothing after the
origin is used by a forecast.

The runs: the recursion chapter's run of the profile (``outputs/<profile>/recursion/run``) and every
committed run under ``runs/`` (a folder with a ``checksums.json``, verified before it is read).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from ..maths.algorithm1 import observed_grams
from ..maths.forecast import METHODS, forecast_drift, log_spectrum, winners
from ..maths.observed import select_observed_indices
from ..recursion.checkpoint import generation_dir, load_embeddings
from . import run_report as rr
from .book import fmt_sig
from .plots import panel_grid


def forecast_runs(profile: str, recursion_dir: str | Path | None = None,
                  committed_root: str | Path | None = None) -> list[tuple[str, Path]]:
    """``(label, folder)`` of every run the chapter backtests: the recursion chapter's run of
    ``profile`` (verified by :func:`run_report.require_run`; labelled by profile, never by path),
    then every committed run (:func:`claims.committed_runs`, each verified by
    :func:`run_report.committed_run`), labelled ``runs/<name>``."""
    from .claims import committed_runs

    runs = [(f"recursion chapter ({profile})", rr.require_run(rr.run_dir_for(profile, recursion_dir)))]
    for path in committed_runs(committed_root):
        verified = rr.committed_run(path)
        if verified is not None:
            runs.append((f"runs/{verified.name}", verified))
    return runs


def run_series(run_dir: str | Path) -> dict[str, dict]:
    """Per setting, the measured series the forecasts start from.

    Returns ``{setting: {"generation", "drift_U", "noise_U", "U", "spectra"}}`` with the first four
    as arrays over generations ``0..G`` (from the run's generations table) and ``spectra`` the
    log-spectra of ``G_m/m`` on the run's fixed observed index set, shape ``(G+1, d)``
    (:func:`sigma_lib.maths.forecast.log_spectrum`, recomputed from the stored embeddings).

    Raises ``ValueError`` if a log-spectrum does not sum to the table's ``U`` (to 1e-6 nats): then
    the spectra are not the ones the table's Track II was measured on.
    """
    run_dir = Path(run_dir)
    cfg = json.loads((run_dir / "manifest.json").read_text())["config"]
    table = rr.rows_by_setting(rr.load_table(run_dir, "generations"))
    cache: dict[Path, np.ndarray] = {}
    out = {}
    for setting, rows in table.items():
        spectra = []
        for r in rows:
            folder = generation_dir(run_dir, setting, r["generation"])
            if folder not in cache:
                emb = load_embeddings(folder)
                observed = select_observed_indices(emb.shape[0], cfg["m"], cfg["seed"])
                (G_m,), _ = observed_grams([emb], [observed], emb.shape[0])
                cache[folder] = log_spectrum(G_m, cfg["m"], cfg["eps"])
            spectrum = cache[folder]
            if abs(spectrum.sum() - r["U"]) > 1e-6 * max(1.0, abs(r["U"])):
                raise ValueError(f"{folder}: the log-spectrum sums to {spectrum.sum()!r} but the table's U is "
                                 f"{r['U']!r}: the embeddings and the table disagree")
            spectra.append(spectrum)
        out[setting] = {"generation": np.array([r["generation"] for r in rows]),
                        "drift_U": np.array([r["drift_U"] for r in rows], dtype=float),
                        "noise_U": np.array([r["noise_U"] for r in rows], dtype=float),
                        "U": np.array([r["U"] for r in rows], dtype=float), "spectra": np.vstack(spectra)}
    return out


def backtest_rows(label: str, series: Mapping[str, Mapping], min_origin: int = 1) -> list[dict]:
    """One row per (setting, origin ``t``, horizon ``k``) of a run: measured drift at ``t + k``,
    each method's forecast and absolute error, the target's index-set noise, and the winner(s).

    Parameters
    ----------
    label : str
        The run's name in the rows.
    series : mapping
        :func:`run_series`'s output.
    min_origin : int
        Smallest origin ``t`` (``>= 1``: linear extrapolation and DMD need two generations).

    Raises
    ------
    ValueError
        If ``min_origin < max(METHODS.values()) - 1`` (a method could not forecast).
    """
    if min_origin < max(METHODS.values()) - 1:
        raise ValueError(f"min_origin must be >= {max(METHODS.values()) - 1} so that every method can forecast, "
                         f"got {min_origin}")
    rows = []
    for setting, s in series.items():
        G = len(s["generation"]) - 1
        for t in range(min_origin, G):
            for k in range(1, G - t + 1):
                pred = forecast_drift(s["drift_U"][: t + 1], s["spectra"][: t + 1], k, s["U"][0])
                actual = float(s["drift_U"][t + k])
                errors = {m: abs(v - actual) for m, v in pred.items()}
                rows.append({"run": label, "setting": setting, "origin": t, "horizon": k, "target": t + k,
                             "actual": actual, "noise_U": float(s["noise_U"][t + k]),
                             **{f"{m}_forecast": v for m, v in pred.items()},
                             **{f"{m}_error": e for m, e in errors.items()},
                             "winner": " + ".join(winners(errors))})
    return rows


def backtest(runs: Iterable[tuple[str, Path]]) -> list[dict]:
    """:func:`backtest_rows` of every ``(label, folder)`` in ``runs``."""
    rows = []
    for label, path in runs:
        rows += backtest_rows(label, run_series(path))
    return rows


def error_table(rows: list[dict], by=("run", "setting", "horizon")) -> list[dict]:
    """Per group (default: run, setting, horizon): the number of forecasts, each method's mean
    absolute error, how often each method wins (ties count for every tied method), and the mean
    two-standard-deviation index-set noise of the targets (errors below it cannot be told apart)."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in by), []).append(r)
    out = []
    for key, rs in groups.items():
        row = dict(zip(by, key))
        row["n_forecasts"] = len(rs)
        for m in METHODS:
            row[f"{m}_mae"] = float(np.mean([r[f"{m}_error"] for r in rs]))
        for m in METHODS:
            row[f"{m}_wins"] = sum(m in r["winner"].split(" + ") for r in rs)
        row["noise_2sd"] = float(np.mean([2 * r["noise_U"] for r in rs]))
        row["best_mae"] = min(METHODS, key=lambda m: row[f"{m}_mae"])
        out.append(row)
    return out


def dmd_verdict(summary: list[dict]) -> dict:
    """Counts over the rows of an :func:`error_table`: in how many groups DMD has the smallest mean
    absolute error, and in how many it beats each baseline; with the total of forecasts won."""
    return {"groups": len(summary), "dmd_best": sum(r["best_mae"] == "dmd" for r in summary),
            "dmd_beats_persistence": sum(r["dmd_mae"] < r["persistence_mae"] for r in summary),
            "dmd_beats_linear": sum(r["dmd_mae"] < r["linear_mae"] for r in summary),
            "forecasts": sum(r["n_forecasts"] for r in summary),
            **{f"{m}_wins": sum(r[f"{m}_wins"] for r in summary) for m in METHODS}}


def dmd_against_baselines(summary: list[dict]) -> dict:
    """Per group of an :func:`error_table`, DMD's MAE against the best baseline's, judged against the
    targets' 2 sd index-set noise: in how many groups DMD's is larger by more than the noise
    (``worse``), smaller by more than it (``better``), or within it (``within``)."""
    out = {"worse": 0, "better": 0, "within": 0}
    for r in summary:
        gap = r["dmd_mae"] - min(r[f"{m}_mae"] for m in METHODS if m != "dmd")
        out["worse" if gap > r["noise_2sd"] else "better" if gap < -r["noise_2sd"] else "within"] += 1
    return out


def dmd_sentence(summary: list[dict]) -> str:
    """The chapter's verdict on DMD in words, from the rows of an :func:`error_table` per run, setting
    and horizon: whether DMD beats the baselines (in bold), judged against the targets' 2 sd
    index-set noise (in how many groups DMD's MAE is above the best baseline's by more than the noise,
    below it by more, or within it); in how many groups each method has the smallest mean absolute
    error, in how many DMD beats each baseline, how many single forecasts each method wins (ties count
    for each), and in how many groups the best error is smaller than the second best by more than the
    noise."""
    v = dmd_verdict(summary)
    vs = dmd_against_baselines(summary)
    best = {m: sum(r["best_mae"] == m for r in summary) for m in METHODS}
    gap_beyond_noise = sum(sorted(r[f"{m}_mae"] for m in METHODS)[1] - min(r[f"{m}_mae"] for m in METHODS)
                           > r["noise_2sd"] for r in summary)
    plain = ("**DMD does not beat the baselines on these runs**" if vs["worse"] > vs["better"] else
             "**DMD beats the baselines beyond noise in more groups than they beat it**, on runs this short"
             if vs["better"] > vs["worse"] else
             "**Neither DMD nor the baselines is ahead beyond noise on these runs**")
    plain += (f": its MAE is above the best baseline's by more than the targets' 2 sd index-set noise in "
              f"{vs['worse']} of the {v['groups']} groups (run, setting, horizon), below it by more than that in "
              f"{vs['better']}, and within that noise in {vs['within']}, where these runs cannot tell the methods "
              "apart.")
    return (f"{plain} DMD has the smallest MAE in {v['dmd_best']} groups, persistence in {best['persistence']}, linear "
            f"extrapolation in {best['linear']}; DMD beats persistence in {v['dmd_beats_persistence']} groups and "
            f"linear extrapolation in {v['dmd_beats_linear']}. Of the {v['forecasts']} single forecasts, DMD wins "
            f"{v['dmd_wins']}, persistence {v['persistence_wins']} and linear extrapolation {v['linear_wins']} (ties "
            f"count for each). In {gap_beyond_noise} of the {v['groups']} groups the best MAE is smaller than the "
            "second best by more than the targets' 2 sd noise.")


def late_origin_sentence(by_horizon: list[dict]) -> str:
    """Per horizon, the method with the smallest pooled mean absolute error and every method's error
    (nats, with the number of forecasts), from an :func:`error_table` by horizon of the forecasts made
    from origins ``t >= 2`` only (so that a jump at the first generation does not dominate); and whether
    its lead over the second best is within the targets' mean 2 sd index-set noise (then these
    forecasts cannot tell the two apart) or beyond it."""
    parts, within = [], []
    for r in by_horizon:
        maes = ", ".join(m + " " + fmt_sig(r[m + "_mae"], 3) for m in METHODS)
        second = sorted(METHODS, key=lambda m: r[m + "_mae"])[1]
        lead = r[second + "_mae"] - r[r["best_mae"] + "_mae"]
        inside = lead <= r["noise_2sd"]
        within.append(inside)
        parts.append(f"$k$ = {r['horizon']}: **{r['best_mae']}** ({maes} nats; {r['n_forecasts']} forecasts; its "
                     f"lead over {second}, {fmt_sig(lead, 3)}, is {'within' if inside else 'beyond'} the 2 sd noise, "
                     f"{fmt_sig(r['noise_2sd'], 3)})")
    close = ("the best method's lead is within noise at every horizon: these forecasts do not tell the methods "
             "apart" if all(within) else "the best method's lead is beyond noise at " +
             ", ".join(f"$k$ = {r['horizon']}" for r, w in zip(by_horizon, within) if not w) +
             (" and within it at the other horizons" if any(within) else ""))
    return (r"From origins $t \ge 2$ only (forecasts that have seen at least two generations, so that a jump at the "
            "first generation does not dominate), the method with the smallest pooled MAE per horizon: "
            + "; ".join(parts) + f". From these origins {close}.")


# -- figures ---------------------------------------------------------------------------------------
METHOD_STYLE = {"persistence": dict(color="C7", marker="o", linestyle=":"),
                "linear": dict(color="C1", marker="^", linestyle="--"),
                "dmd": dict(color="C4", marker="s", linestyle="-")}


def mae_by_horizon_figure(summary: list[dict], figsize_per_panel=(5, 3.4)):
    """One panel per run: each method's mean absolute error against horizon (pooled over settings,
    weighted by forecasts), with the targets' mean ±2 sd index-set noise as a grey line."""
    runs = list(dict.fromkeys(r["run"] for r in summary))
    fig, axes = panel_grid(len(runs), figsize_per_panel)
    for ax, run in zip(axes, runs):
        mine = [r for r in summary if r["run"] == run]
        hs = sorted({r["horizon"] for r in mine})

        def pooled(key):
            return [np.average([r[key] for r in mine if r["horizon"] == h],
                               weights=[r["n_forecasts"] for r in mine if r["horizon"] == h]) for h in hs]

        for m, style in METHOD_STYLE.items():
            ax.plot(hs, pooled(f"{m}_mae"), label=m, **style)
        ax.plot(hs, pooled("noise_2sd"), color="0.5", linewidth=2, alpha=0.6, label="2 sd index-set noise")
        ax.set_title(run, fontsize=9)
        ax.set_xlabel("horizon k (generations ahead)")
        ax.set_ylabel("mean absolute error of $\\Delta U$ (nats)")
        ax.set_xticks(hs)
        ax.set_xlim(min(hs) - 0.5, max(hs) + 0.5)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def forecast_paths_figure(rows: list[dict], series: Mapping[str, Mapping], run: str, figsize_per_panel=(5, 3.4)):
    """One panel per setting of ``run``: the measured drift with its ±2 sd band, and each method's
    forecasts from every origin (thin lines from the origin's measured value)."""
    from matplotlib.ticker import MaxNLocator

    settings = list(series)
    fig, axes = panel_grid(len(settings), figsize_per_panel)
    for ax, setting in zip(axes, settings):
        s = series[setting]
        g, y, b = s["generation"], s["drift_U"], 2 * s["noise_U"]
        ax.fill_between(g, y - b, y + b, color="C0", alpha=0.15, linewidth=0)
        ax.plot(g, y, "-o", color="C0", markersize=4, label="measured (band ±2 sd)")
        mine = [r for r in rows if r["run"] == run and r["setting"] == setting]
        origins = sorted({r["origin"] for r in mine})
        for origin in origins:
            path = sorted((r for r in mine if r["origin"] == origin), key=lambda r: r["horizon"])
            for m, style in METHOD_STYLE.items():
                xs = [origin] + [r["target"] for r in path]
                ys = [y[origin]] + [r[f"{m}_forecast"] for r in path]
                ax.plot(xs, ys, linewidth=1, markersize=3, alpha=0.8, label=m if origin == origins[0] else None,
                        **style)
        ax.axhline(0, color="0.6", linewidth=0.6)
        ax.set_title(f"{run}, {setting}", fontsize=9)
        ax.set_xlabel("generation")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("Track II drift $\\Delta U$ (nats)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
