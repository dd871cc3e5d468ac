"""Run-to-run noise: every signal over replicate runs (seeds), with t-intervals (issues 20 and 24).

One replicate is a whole run made with another ``seed`` (training order, pool and evaluation
sampling; and, unless kept, theta_0 and the observed index sets). The index-set band of one run is
sampling noise of the measurement at fixed responses; the spread *between* replicates is what a
second run of the same experiment would show, and the band a verdict must use.

Input rows are those of :func:`sigma_lib.report.controls.signal_series` with a ``replicate`` key
added (one row per replicate, setting, generation and signal: ``value``, ``sd`` the index-set or
bootstrap sd of one checkpoint). With ``r`` replicates the interval of a mean is
``mean +- t_{0.975, r-1} sd / sqrt(r)``; a collapse setting is compared with a control by the
*paired* difference (same replicate: the same theta_0 evaluation at generation 0), so that what the
two share cancels.
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np
from scipy import stats

from .book import and_join, fmt_sig
from .controls import SIGNALS

#: Direction of collapse of every signal (-1: falls, +1: rises), the Fréchet distance to held-out
#: real text (:mod:`sigma_lib.report.real_study`) included: it rises when the responses leave real text.
DIRECTION = {**{key: sign for key, _, sign, _ in SIGNALS}, "frechet": +1, "drift_U_hidden": -1}


def tag_replicate(rows: Iterable[Mapping], replicate: str) -> list[dict]:
    """``rows`` of one run with ``replicate`` (its name, e.g. ``"seed-1"``) added to each."""
    return [{**r, "replicate": replicate} for r in rows]


def t_interval(values: Sequence[float], *, level: float = 0.95) -> dict:
    """Mean, between-replicate sd (``ddof=1``) and the half-width of the t-interval of the mean.

    One value gives an sd and half-width of ``nan``: a single run says nothing about run-to-run noise.
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("t_interval needs at least one value")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    if x.size == 1:
        return {"n": 1, "mean": float(x[0]), "sd": math.nan, "half_width": math.nan}
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * sd / math.sqrt(x.size))
    return {"n": int(x.size), "mean": float(x.mean()), "sd": sd, "half_width": half}


def _changes(rows: Iterable[Mapping], baseline: int) -> dict:
    """``{(setting, signal, generation): {replicate: (change from `baseline`, index-set sd)}}``."""
    rows = list(rows)
    base = {(r["replicate"], r["setting"], r["signal"]): r["value"] for r in rows if r["generation"] == baseline}
    out: dict = defaultdict(dict)
    for r in rows:
        key = (r["replicate"], r["setting"], r["signal"])
        if r["generation"] >= baseline and key in base:
            out[(r["setting"], r["signal"], r["generation"])][r["replicate"]] = (r["value"] - base[key], r["sd"])
    return out


def replicate_summary(rows: Iterable[Mapping], *, baseline: int = 0, level: float = 0.95) -> list[dict]:
    """Per setting, signal and generation: the change from generation ``baseline`` averaged over
    replicates, its between-replicate sd and t-interval, beside the index-set sd of one checkpoint
    (root mean square over replicates) and the ratio of the two.

    ``baseline=1`` measures drift from generation 1, which removes the first generation's
    adaptation jump that every setting shares.
    """
    out = []
    for (setting, signal, g), per in sorted(_changes(rows, baseline).items()):
        t = t_interval([c for c, _ in per.values()], level=level)
        index_sd = math.sqrt(sum(sd**2 for _, sd in per.values()) / len(per))
        out.append({"setting": setting, "signal": signal, "generation": g, "baseline": baseline,
                    "replicates": t["n"], "mean_change": t["mean"], "between_sd": t["sd"],
                    "low": t["mean"] - t["half_width"], "high": t["mean"] + t["half_width"],
                    "index_set_sd": index_sd,
                    "between_over_index": t["sd"] / index_sd if index_sd > 0 else math.nan})
    return out


def paired_differences(rows: Iterable[Mapping], control: str, *, baseline: int = 0,
                       level: float = 0.95) -> list[dict]:
    """Per other setting, signal and generation: the mean over replicates of (setting - ``control``)
    of the change from ``baseline``, paired by replicate, with its t-interval and whether the
    interval lies wholly on the side where the signal moves under collapse (``beyond``)."""
    ch = _changes(rows, baseline)
    out = []
    for (setting, signal, g), per in sorted(ch.items()):
        ref = ch.get((control, signal, g))
        if setting == control or not ref:
            continue
        common = sorted(set(per) & set(ref))
        if not common:
            continue
        t = t_interval([per[k][0] - ref[k][0] for k in common], level=level)
        low, high = t["mean"] - t["half_width"], t["mean"] + t["half_width"]
        sign = DIRECTION.get(signal, -1)
        beyond = bool(high < 0) if sign < 0 else bool(low > 0)
        out.append({"setting": setting, "control": control, "signal": signal, "generation": g,
                    "baseline": baseline, "replicates": t["n"], "difference": t["mean"], "between_sd": t["sd"],
                    "low": low, "high": high, "beyond": beyond})
    return out


def first_signal(differences: Sequence[Mapping]) -> list[dict]:
    """Per signal, setting and baseline: the first generation from which the paired difference from
    the control stays beyond its t-interval at every later generation (``None``: never), and the
    number of replicates it rests on."""
    series: dict = defaultdict(list)
    for d in differences:
        series[(d["signal"], d["setting"], d["control"], d["baseline"])].append(d)
    out = []
    for (signal, setting, control, baseline), ds in series.items():
        ds = sorted(ds, key=lambda d: d["generation"])
        first = None
        for d in reversed(ds):
            if not d["beyond"] or d["generation"] == d["baseline"]:
                break
            first = d["generation"]
        out.append({"signal": signal, "setting": setting, "control": control, "baseline": baseline,
                    "first_generation": first, "generations": max(d["generation"] for d in ds),
                    "replicates": min(d["replicates"] for d in ds)})
    return out


def slopes(rows: Iterable[Mapping], *, first_generation: int = 1, level: float = 0.95) -> list[dict]:
    """Per setting and signal: each replicate's least-squares slope of the value over generations
    ``>= first_generation`` (units of the signal per generation), their mean and t-interval."""
    per: dict = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["generation"] >= first_generation:
            per[(r["setting"], r["signal"])][r["replicate"]].append((r["generation"], r["value"]))
    out = []
    for (setting, signal), reps in sorted(per.items()):
        fits = [np.polyfit(*zip(*sorted(pts)), 1)[0] for pts in reps.values() if len(pts) >= 2]
        if not fits:
            continue
        t = t_interval(fits, level=level)
        out.append({"setting": setting, "signal": signal, "from_generation": first_generation,
                    "replicates": t["n"], "slope": t["mean"], "between_sd": t["sd"],
                    "low": t["mean"] - t["half_width"], "high": t["mean"] + t["half_width"]})
    return out


def load_replicates(runs: Mapping[str, object], *, n_draws: int, seed: int = 0) -> list[dict]:
    """Every signal of every run in ``runs`` (``{replicate name: run folder}``, each verified by the
    caller), tagged with its replicate (:func:`sigma_lib.report.controls.signal_series`).

    A replicate may be a list of folders (one run's settings committed apart, e.g. the book's run
    and its controls); a setting already read from an earlier folder is skipped.
    """
    from .controls import merge_series, signal_series

    rows: list[dict] = []
    for name, paths in runs.items():
        paths = paths if isinstance(paths, (list, tuple)) else [paths]
        rows += tag_replicate(merge_series(*(signal_series(p, n_draws, seed=seed, source=name) for p in paths)), name)
    return rows


@dataclass
class ReplicateRuns:
    """The replicates of the book's default run found in this checkout (:func:`find_replicates`).

    ``paths``: every run read, by name (``seed-0`` is the book's own run); ``table``:
    :func:`replicate_table`; ``all_varied``: the independent replicates (each seed changes theta_0,
    the index sets and the recursion); ``kept``: runs that keep seed 0's theta_0 and index sets and
    change only the recursion's seed (they enter the split of the noise sources, not the intervals);
    ``reference``: the run whose one-run bands the other chapters draw (seed 0 when read).
    """

    paths: dict
    table: list
    all_varied: list
    kept: list

    @property
    def reference(self) -> str | None:
        return "seed-0" if "seed-0" in self.all_varied else (self.all_varied[0] if self.all_varied else None)

    def independent(self) -> dict:
        """``{name: folder}`` of the independent replicates (:attr:`all_varied`)."""
        return {name: self.paths[name] for name in self.all_varied}

    def describe(self) -> str:
        """Which runs the intervals rest on, in words (for a caption)."""
        committed = [n for n in self.all_varied if n != "seed-0"]
        parts = (["seed-0 (this book's run)"] if "seed-0" in self.all_varied else []) + (
            [f"{', '.join(committed)} (committed under `runs/default-seeds/`)"] if committed else [])
        return f"Runs: {' and '.join(parts) or 'none'}."

    @property
    def enough(self) -> bool:
        """Two independent runs at least: the least that gives a between-run sd."""
        return len(self.all_varied) >= 2


def find_replicates(profile: str, *, recursion_dir=None) -> ReplicateRuns:
    """The book's run (when the profile reads it) and the committed seeds of :data:`REPLICATES`,
    each verified, with the runs that are not replicates of the first one left out (``used`` no)."""
    from ..common.params import resolve_profile
    from ..common.profiles import REPLICATES
    from . import book
    from . import run_report as rr
    from .claims import manifest

    P = resolve_profile(REPLICATES, profile, {}, "replicates")
    paths = {}
    if P["book_run"]:
        paths["seed-0"] = book.recursion_run(profile, recursion_dir).run_dir
    for name in P["seed_runs"] + P["kept_runs"]:
        path = rr.committed_run(name)
        if path is not None:
            paths[name.split("/")[-1]] = path
    table = replicate_table({name: manifest(path)["config"] for name, path in paths.items()}) if paths else []
    used = [r["run"] for r in table if r["used"] == "yes"]
    seeds = ["seed-0"] + [s.split("/")[-1] for s in P["seed_runs"]]
    kept = [s.split("/")[-1] for s in P["kept_runs"]]
    return ReplicateRuns(paths={n: paths[n] for n in used}, table=table,
                         all_varied=[n for n in used if n in seeds], kept=[n for n in used if n in kept])


def noise_sources(rows: Sequence[Mapping], *, all_varied: Sequence[str], recursion_only: Sequence[str],
                  reference: str, signal: str = "drift_U") -> list[dict]:
    """Where the spread of ``signal`` between runs comes from, per setting and generation ``>= 1``.

    * ``index_set_sd``: the index-set sd of one checkpoint of ``reference`` (re-drawn index sets);
    * ``recursion_sd``: the sd over ``recursion_only`` (runs that share theta_0 and the index sets
      and differ only in the recursion's seed: training order, pool and evaluation sampling);
    * ``all_varied_sd``: the sd over ``all_varied`` (runs whose seed also changes theta_0 and the
      index sets);
    * ``theta0_sd``: what that leaves for theta_0, ``sqrt(all - recursion - index set)`` of the
      variances (``nan`` where the difference is negative: too few runs to tell).

    Each sd comes with its degrees of freedom (runs - 1); with two or three runs these are rough.
    """
    changes = _changes([r for r in rows if r["signal"] == signal], 0)
    out = []
    for (setting, _, g), per in sorted(changes.items()):
        if g == 0 or reference not in per:
            continue
        rec = [per[k][0] for k in recursion_only if k in per]
        full = [per[k][0] for k in all_varied if k in per]
        index_sd = per[reference][1]
        rec_sd = float(np.std(rec, ddof=1)) if len(rec) > 1 else math.nan
        full_sd = float(np.std(full, ddof=1)) if len(full) > 1 else math.nan
        rest = full_sd**2 - (0.0 if math.isnan(rec_sd) else rec_sd**2) - index_sd**2
        out.append({"setting": setting, "generation": g, "signal": signal, "index_set_sd": index_sd,
                    "recursion_sd": rec_sd, "recursion_dof": len(rec) - 1 if rec else None,
                    "all_varied_sd": full_sd, "all_varied_dof": len(full) - 1 if full else None,
                    "theta0_sd": math.sqrt(rest) if rest >= 0 else math.nan,
                    "all_over_index": full_sd / index_sd if index_sd > 0 else math.nan})
    return out


SEED_KEYS = ("seed", "base_seed", "index_seed")


def replicate_table(configs: Mapping[str, Mapping]) -> list[dict]:
    """One row per run (``{name: manifest config}``): its three seeds, its settings and generations,
    and whether it is a replicate of the first run (the same protocol up to the seeds)."""
    from .controls import comparable

    first = next(iter(configs.values()))
    out = []
    for name, cfg in configs.items():
        differs = [k for k in comparable(first, cfg) if k not in SEED_KEYS + ("generations", "keep_checkpoints")]
        seed = cfg["seed"]
        out.append({"run": name, "recursion seed": seed,
                    "theta_0 seed": seed if cfg.get("base_seed") is None else cfg["base_seed"],
                    "index-set seed": seed if cfg.get("index_seed") is None else cfg["index_seed"],
                    "settings": ", ".join(cfg["settings"]), "generations": cfg["generations"],
                    "used": "no" if differs else "yes", "why": f"differs on {', '.join(differs)}" if differs else ""})
    return out


def summary_wide(summary: Sequence[Mapping]) -> list[dict]:
    """:func:`replicate_summary` as one row per ``(setting, generation)`` for
    :func:`sigma_lib.report.plots.signals_grid`: ``<signal>`` the mean change and ``<signal>_sd``
    half the t-interval's half-width, so that the grid's ``±2 sd`` band is the t-interval."""
    wide: dict = {}
    for r in summary:
        row = wide.setdefault((r["setting"], r["generation"]), {"setting": r["setting"], "generation": r["generation"]})
        row[r["signal"]] = r["mean_change"]
        row[f"{r['signal']}_sd"] = (r["high"] - r["low"]) / 4 if not math.isnan(r["high"]) else 0.0
    return list(wide.values())


def find_real_replicates(root=None) -> dict[str, list]:
    """The committed folders of the replicated real-LM study (``runs/real-rep/seed-<n>/<setting>/``,
    issue 20), each verified: ``{"seed-0": [folder of S2, folder of new-real, ...], ...}`` in the
    order :data:`sigma_lib.recursion.config.SETTINGS` lists the settings. Empty when none is committed."""
    from pathlib import Path

    from ..recursion.config import SETTINGS
    from . import run_report as rr

    root = Path(root) if root is not None else rr.COMMITTED_ROOT / "real-rep"
    out: dict[str, list] = {}
    for seed_dir in sorted(root.glob("seed-*")) if root.is_dir() else []:
        folders = [seed_dir / s for s in SETTINGS if (seed_dir / s / "checksums.json").is_file()]
        verified = [rr.committed_run(f) for f in folders]
        if verified:
            out[seed_dir.name] = verified
    return out


def _verdict_counts(changed: Sequence[Mapping]) -> dict:
    """The changed rows of an ``s2_vs_s1`` table by direction: ``lost`` (one run's bands showed a
    difference the spread between runs does not), ``gained`` (the other way) and ``reversed`` (one
    setting ahead in one run, the other over runs)."""
    out: dict = {"lost": [], "gained": [], "reversed": []}
    for r in changed:
        key = ("lost" if r["runs say"] == "no difference" else "gained" if r["one run says"] == "no difference"
               else "reversed")
        out[key].append(r)
    return out


def _agree(n: int, verb: str) -> str:
    """``verb`` agreeing with a count: "1 of the 6 verdicts changes", "2 of the 6 verdicts change"."""
    return verb + "s" if n == 1 else verb


def s2_s1_summary(table: Sequence[Mapping], n_runs: int) -> str:
    """The chapter's finding on S2 against S1 in one clause (glued into the introduction): of the
    verdicts per signal and generation (rows of the chapter's ``s2_vs_s1`` table, ``changed`` non-empty
    where the verdict over ``n_runs`` runs differs from one run's), how many change, in which direction
    (a difference lost, gained or reversed), and at the last generation for how many signals S2 is ahead
    of S1 beyond run-to-run noise."""
    changed = [r for r in table if r["changed"]]
    ways = _verdict_counts(changed)
    n = {k: len(v) for k, v in ways.items()}
    how = [f"{n['lost']} {_agree(n['lost'], 'lose')} a difference one run's bands showed",
           f"{n['gained']} {_agree(n['gained'], 'gain')} one they did not show"] + (
        [f"{n['reversed']} {_agree(n['reversed'], 'reverse')}"] if n["reversed"] else [])
    g_last = max(r["generation"] for r in table)
    at_last = [r for r in table if r["generation"] == g_last]
    return (f"against the spread between {n_runs} independent runs of the small model, {len(changed)} of {len(table)} "
            f"S2-against-S1 verdicts (signal and generation) {_agree(len(changed), 'change')} from what one run's own "
            f"bands say" + (f" ({', '.join(how)})" if changed else "") + f"; at generation {g_last}, S2 is ahead of "
            f"S1 beyond run-to-run noise for {sum(r['runs say'] == 'S2 ahead' for r in at_last)} of {len(at_last)} "
            "signals")


def changed_verdicts_sentence(table: Sequence[Mapping]) -> str:
    """Which S2-against-S1 verdicts (rows of the chapter's ``s2_vs_s1`` table) change when the band is
    the spread between runs instead of one run's own: "No verdict changes" or how many do, by direction,
    each named by signal and generation with its verdict from one run and from the runs. A difference
    that one run's bands show and the runs do not means that one run was over-confident there; one that
    the runs show and one run's bands do not means that one run's bands were wider than the spread
    between runs (too cautious)."""
    changed = [r for r in table if r["changed"]]
    if not changed:
        return "No verdict changes when the band is the spread between runs."

    def named(rows):
        return "; ".join(f"{r['signal']} at $g$ = {r['generation']} ({r['one run says']} → {r['runs say']})"
                         for r in rows)

    ways = _verdict_counts(changed)
    parts = [f"{len(changed)} of the {len(table)} verdicts {_agree(len(changed), 'change')} when the band is the "
             "spread between runs."]
    if ways["lost"]:
        parts.append(f"In {len(ways['lost'])}, one run's bands show a difference that the spread between runs does "
                     f"not (one run is over-confident there): {named(ways['lost'])}.")
    if ways["gained"]:
        parts.append(f"In {len(ways['gained'])}, the runs show a difference that one run's bands do not (those bands "
                     f"are wider than the spread between runs, too cautious there): {named(ways['gained'])}.")
    if ways["reversed"]:
        parts.append(f"In {len(ways['reversed'])}, the runs reverse one run's verdict: {named(ways['reversed'])}.")
    return " ".join(parts)


def ratio_thresholds(n_runs: int, level: float = 0.95) -> tuple[float, float]:
    """``(low, high)``: a between-run sd from ``n_runs`` runs over a known sd (the one-run band, taken
    as exact) tells the two apart at ``level`` (two-sided chi-squared test with ``n_runs - 1`` degrees
    of freedom, normal errors) only when the ratio is below ``low`` or above ``high``."""
    if n_runs < 2:
        raise ValueError(f"a between-run sd needs at least two runs, got {n_runs}")
    k = n_runs - 1
    return (math.sqrt(stats.chi2.ppf((1 - level) / 2, k) / k), math.sqrt(stats.chi2.ppf((1 + level) / 2, k) / k))


def _ratio_told(rows: Sequence[Mapping], name, level: float) -> dict:
    """Rows of :func:`replicate_summary` whose ratio a chi-squared test at ``level`` tells apart from 1
    (:func:`ratio_thresholds`): ``{"above": {signal name: [settings]}, "below": {...}}``."""
    told: dict = {"above": defaultdict(list), "below": defaultdict(list)}
    for r in rows:
        low, high = ratio_thresholds(r["replicates"], level)
        ratio = r["between_over_index"]
        if ratio > high or ratio < low:
            told["above" if ratio > high else "below"][name(r["signal"])].append(r["setting"])
    return told


def spread_sentence(summary: Sequence[Mapping], labels: Mapping[str, str], *, level: float = 0.95) -> str:
    """Signal by signal, whether the spread between runs is larger or smaller than the one-run band,
    from rows of :func:`replicate_summary` (one generation and baseline: the chapter's table): the
    signals whose ratio ``between_over_index`` is above 1 in every setting, below 1 in every setting,
    or either (naming the settings below 1), each with its range; then which ratios a chi-squared test
    at ``level`` tells apart from 1 (:func:`ratio_thresholds`), the rest being within what so few runs
    can tell. ``labels``: the signals' names (a trailing unit in parentheses is dropped)."""
    rows = [r for r in summary if r["replicates"] >= 2 and not math.isnan(r["between_over_index"])]
    if not rows:
        return "No signal has a between-run sd beside a one-run band: nothing to compare."
    by: dict = defaultdict(list)
    for r in rows:
        by[r["signal"]].append(r)

    def name(signal):
        return re.sub(r" \([^()]*\)$", "", labels.get(signal, signal))

    def listed(signals, mixed=False):
        items = []
        for sig in signals:
            ratios = [r["between_over_index"] for r in by[sig]]
            below = ", ".join(r["setting"] for r in by[sig] if r["between_over_index"] < 1)
            items.append(f"{name(sig)} ({fmt_sig(min(ratios), 2)} to {fmt_sig(max(ratios), 2)}"
                         + (f"; below 1 in {below}" if mixed else "") + ")")
        return and_join(items)

    more = [sig for sig, rs in by.items() if all(r["between_over_index"] > 1 for r in rs)]
    less = [sig for sig, rs in by.items() if all(r["between_over_index"] < 1 for r in rs)]
    mixed = [sig for sig in by if sig not in more + less]
    parts = ([f"{listed(more)} spread more between runs than the one-run band says, in every setting"] if more else [])
    parts += [f"{listed(less)} spread less, in every setting"] if less else []
    parts += [f"{listed(mixed, mixed=True)} more in some settings and less in others"] if mixed else []
    told = _ratio_told(rows, name, level)
    ns = sorted({r["replicates"] for r in rows})
    low, high = ratio_thresholds(ns[0], level)
    pct = f"{100 * level:g} %"
    test = (f"With {ns[0]} runs a between-run sd has {ns[0] - 1} degrees of freedom, so a ratio tells the two apart "
            f"at the {pct} level only above {fmt_sig(high, 3)} or below {fmt_sig(low, 3)}" if len(ns) == 1 else
            f"With {ns[0]} to {ns[-1]} runs a between-run sd has few degrees of freedom, so a ratio tells the two "
            f"apart at the {pct} level only far from 1")
    n_settings = {name(sig): len(rs) for sig, rs in by.items()}
    found = ", ".join(
        f"{sum(map(len, told[k].values()))} {k}" + (" (" + "; ".join(
            f"{sig} in {'every setting' if len(sets) == n_settings[sig] > 1 else ', '.join(sets)}"
            for sig, sets in told[k].items()) + ")" if told[k] else "") for k in told)
    return (f"Signal by signal (the ratio of the sd between runs to the one-run sd): {'; '.join(parts)}. {test} "
            f"(a chi-squared test that takes the one-run sd as exact). Of the {len(rows)} ratios, {found}; the others "
            "cannot tell whether the spread between runs is larger or smaller than one run's band.")
