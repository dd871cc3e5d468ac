"""The replicated real-LM study (issue 20) against run-to-run noise: SmolLM2-135M, seeds, new-real.

Input: the committed folders of the study, ``{"seed-0": [folder of S2, folder of new-real, ...]}``
(:func:`sigma_lib.report.replicates.find_real_replicates`). Every signal of
:data:`sigma_lib.report.controls.SIGNALS` plus one reference-based signal, the Fréchet distance of
the responses to held-out real TECH text (:mod:`sigma_lib.report.reference_distance`), gets the
same treatment (:mod:`sigma_lib.report.replicates`):

* per setting and generation, the change from generation 0 *and* from generation 1 (which removes
  the first generation's adaptation jump), averaged over seeds, with the between-seed sd and the
  95 % t-interval beside the one-run band (:func:`study_summary`);
* each collapse setting minus ``new-real``, paired by seed, with its t-interval (:func:`against_control`);
* the **first-signal table**: per signal and collapse setting, the first generation from which that
  paired difference stays beyond its t-interval in the collapse direction (:func:`first_signal_table`);
* least-squares slopes over generations ``>= 1``, per seed, with their t-interval (:func:`slopes`).

With ``r`` seeds an interval rests on ``r - 1`` degrees of freedom (t_{0.975} is 12.7 for two seeds
and 4.3 for three): the functions give no interval from a single seed.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

from .claims import UNTESTABLE
from .controls import COLLAPSE, SIGNAL_LABELS, control_shares, last_generations, merge_series
from .replicates import first_signal, load_replicates, paired_differences, replicate_summary, slopes
from .run_report import RECOMPUTE_TOLERANCE, tolerance_label
from .second_encoder import HIDDEN, HIDDEN_LABEL, hidden_state_root, hidden_state_rows  # noqa: F401 (re-exported)

CONTROL = "new-real"
FRECHET = "frechet"
#: Every signal of the study with its label; the Fréchet distance rises when the responses leave real text.
LABELS = {**SIGNAL_LABELS, HIDDEN: HIDDEN_LABEL, FRECHET: "Fréchet distance to held-out TECH"}
#: The signals the paper measures (its claims are judged on these alone).
PAPER_SIGNALS = frozenset(SIGNAL_LABELS)


def frechet_rows(folders: Sequence, *, reference, replicate: str, n_draws: int, seed: int = 0) -> list[dict]:
    """The Fréchet distance to ``reference`` ((n, d) embeddings of held-out TECH text) of every
    checkpoint of one seed's committed folders, as rows of
    :func:`sigma_lib.report.controls.signal_series` (``signal`` = ``"frechet"``, ``sd`` the bootstrap
    sd of generation 0's distance in the first folder; ``nan`` when ``n_draws`` is 0)."""
    from .reference_distance import frechet_band, frechet_series

    band = frechet_band(folders[0], reference=reference, n_draws=n_draws, seed=seed) if n_draws > 0 else math.nan
    per_folder = [[{"source": replicate, "replicate": replicate, "setting": r["setting"], "generation": r["generation"],
                    "signal": FRECHET, "value": r["frechet"], "change": r["frechet_change"], "sd": band}
                   for r in frechet_series(folder, reference=reference)] for folder in folders]
    return merge_series(*per_folder)  # a setting already read from an earlier folder is skipped


def load_study(runs: Mapping[str, Sequence], *, reference=None, hidden_root=None, n_draws: int,
               seed: int = 0) -> list[dict]:
    """Every signal of every seed's committed settings (one row per seed, setting, generation and
    signal; see :func:`sigma_lib.report.replicates.load_replicates`), the Fréchet distance to
    ``reference`` included unless it is ``None``, and Track II with the second encoder from the
    tables under ``hidden_root`` unless it is ``None`` (:func:`hidden_state_rows`)."""
    rows = load_replicates(runs, n_draws=n_draws, seed=seed)
    for name, folders in runs.items() if reference is not None else ():
        rows += frechet_rows(folders, reference=reference, replicate=name, n_draws=n_draws, seed=seed)
    for name, folders in runs.items() if hidden_root is not None else ():
        rows += hidden_state_rows(folders, root=hidden_root, replicate=name)
    return rows


def seeds_per_setting(series: Sequence[Mapping]) -> dict[str, int]:
    """``{setting: number of seeds that have it}``, in the order the series lists the settings."""
    seeds: dict[str, set] = {}
    for r in series:
        seeds.setdefault(r["setting"], set()).add(r["replicate"])
    return {s: len(v) for s, v in seeds.items()}


def shared_generations(series: Sequence[Mapping]) -> list[dict]:
    """The rows of each setting up to the last generation that every seed of that setting reached:
    the statistics over seeds compare like with like. The later generations of a seed run further
    (seed 0 to 20 generations) are read by :func:`beyond_shared` alone."""
    from .replicate_claims import last_common_generation

    last = {s: last_common_generation(series, s) for s in {r["setting"] for r in series}}
    return [dict(r) for r in series if r["generation"] <= last[r["setting"]]]


def study_summary(series: Sequence[Mapping], *, level: float = 0.95) -> list[dict]:
    """:func:`sigma_lib.report.replicates.replicate_summary` from generation 0 and from generation 1,
    over the generations every seed has (:func:`shared_generations`)."""
    series = shared_generations(series)
    return replicate_summary(series, baseline=0, level=level) + replicate_summary(series, baseline=1, level=level)


def against_control(series: Sequence[Mapping], *, control: str = CONTROL, level: float = 0.95) -> list[dict]:
    """Each collapse setting minus ``control``, paired by seed, with its t-interval, from generation 0
    and from generation 1 (:func:`sigma_lib.report.replicates.paired_differences`), over the
    generations every seed has (:func:`shared_generations`)."""
    rows = [r for r in shared_generations(series) if r["setting"] in COLLAPSE or r["setting"] == control]
    return [d for b in (0, 1) for d in paired_differences(rows, control, baseline=b, level=level)
            if d["setting"] in COLLAPSE]


#: Marks a first signal at the last generation: it rests on that one generation alone.
LAST_ONLY = " (last only)"


def first_generation(cell: str | None) -> int | None:
    """The generation of a first-signal table cell (``"3"``, ``"10 (last only)"``), ``None`` otherwise."""
    head = (cell or "").split(" ")[0]
    return int(head) if head.isdigit() else None


def first_signal_table(differences: Sequence[Mapping]) -> list[dict]:
    """The first-signal table: one row per signal, one column per collapse setting and baseline
    (``"S2 from g0"``): the first generation from which the setting stays beyond ``control``'s
    run-to-run interval (marked :data:`LAST_ONLY` when that is the last generation, which one
    generation alone then carries), ``"never"`` when it does not by its last generation, ``"one seed"``
    when the pair exists in one seed only (no interval), ``"–"`` when the table has no such pair."""
    table: dict[str, dict] = {}
    for f in first_signal(differences):
        column = f"{f['setting']} from g{f['baseline']}"
        cell = ("one seed" if f["replicates"] < 2 else "never" if f["first_generation"] is None
                else f"{f['first_generation']}{LAST_ONLY}" if f["first_generation"] == f["generations"]
                else str(f["first_generation"]))
        table.setdefault(f["signal"], {"signal": LABELS.get(f["signal"], f["signal"])})[column] = cell
    columns = sorted({c for row in table.values() for c in row if c != "signal"})
    order = list(LABELS)
    return [{"signal": table[k]["signal"], **{c: table[k].get(c, "–") for c in columns}}
            for k in sorted(table, key=order.index)]


def study_slopes(series: Sequence[Mapping], *, level: float = 0.95) -> list[dict]:
    """Slopes over generations ``>= 1`` per setting and signal, with their t-interval over seeds and
    whether it excludes zero (``"rises"``, ``"falls"``, ``"within noise"``, ``"one seed"``), over the
    generations every seed has (:func:`shared_generations`): each seed's slope spans the same generations."""
    series = shared_generations(series)
    out = []
    order, settings = list(LABELS), list(dict.fromkeys(r["setting"] for r in series))
    for s in sorted(slopes(series, first_generation=1, level=level),
                    key=lambda s: (settings.index(s["setting"]), order.index(s["signal"]))):
        trend = ("one seed" if s["replicates"] < 2 else "rises" if s["low"] > 0 else "falls" if s["high"] < 0
                 else "within noise")
        out.append({**s, "signal": LABELS.get(s["signal"], s["signal"]), "trend": trend})
    return out


def beyond_shared(series: Sequence[Mapping]) -> list[dict]:
    """What a seed run further than the others shows after the generations every seed has: per such
    seed, setting and signal, the change from generation 0 at the last shared generation ``g_s`` and at
    its own last ``g_l``, the change between them, its least-squares slope over ``g_s..g_l`` (signal
    units per generation), that change minus the control's over the same generations of the same seed
    (``nan`` for the control, or when it stopped elsewhere) and, for scale, the between-seed sd of the
    change at ``g_s`` (:func:`sigma_lib.report.replicates.replicate_summary`; ``nan`` with one seed). One
    seed beyond ``g_s`` gives no run-to-run interval: a description, not a verdict."""
    import numpy as np

    from .replicate_claims import last_common_generation
    from .replicates import replicate_summary

    shared = {s: last_common_generation(series, s) for s in {r["setting"] for r in series}}
    by: dict = {}
    for r in series:
        by.setdefault((r["replicate"], r["setting"], r["signal"]), {})[r["generation"]] = r["change"]
    between = {(r["setting"], r["signal"], r["generation"]): r["between_sd"] for r in replicate_summary(series)}
    out = []
    for (rep, setting, signal), changes in by.items():
        g_s, g_l = shared[setting], max(changes)
        if g_l <= g_s:
            continue
        gens = [g for g in sorted(changes) if g >= g_s]
        out.append({"seed": rep, "setting": setting, "signal": signal, "shared_generation": g_s,
                    "last_generation": g_l, "change_at_shared": changes[g_s], "change_at_last": changes[g_l],
                    "change_after_shared": changes[g_l] - changes[g_s],
                    "slope_after_shared": float(np.polyfit(gens, [changes[g] for g in gens], 1)[0]),
                    "between_seed_sd_at_shared": between[(setting, signal, g_s)]})
    control = {(r["seed"], r["signal"], r["shared_generation"], r["last_generation"]): r["change_after_shared"]
               for r in out if r["setting"] == CONTROL}
    for r in out:
        other = control.get((r["seed"], r["signal"], r["shared_generation"], r["last_generation"]))
        r["minus_control_after_shared"] = (r["change_after_shared"] - other
                                           if other is not None and r["setting"] != CONTROL else math.nan)
    order, settings = list(LABELS), list(dict.fromkeys(r["setting"] for r in series))
    return sorted(out, key=lambda r: (r["seed"], order.index(r["signal"]), settings.index(r["setting"])))


def beyond_shared_sentence(rows: Sequence[Mapping], *, signals=("drift_U", "distinct_2", "heldout_nll")) -> str:
    """:func:`beyond_shared` in words, for ``signals``: how far each setting moved after the last
    shared generation, beside the seeds' spread there; ``""`` when no seed ran further."""
    from .book import and_join, fmt_sig

    if not rows:
        return ""
    seed, g_s = rows[0]["seed"], rows[0]["shared_generation"]
    ran = {r["setting"]: r["last_generation"] for r in rows if r["seed"] == seed}
    same = len(set(ran.values())) == 1
    reach = (f"{seed}'s {and_join(ran)} ran on to $g$ = {next(iter(ran.values()))}" if same
             else f"{seed} ran on: " + ", ".join(f"{s} to $g$ = {g}" for s, g in ran.items()))
    until = next(iter(ran.values())) if same else "each setting's last generation"
    clauses = []
    for key in signals:
        these = [r for r in rows if r["signal"] == key and r["seed"] == seed]
        if these:
            moved = ", ".join(f"{r['setting']} {fmt_sig(r['change_after_shared'], 2)}" for r in these)
            spread = ", ".join(f"{r['setting']} {fmt_sig(r['between_seed_sd_at_shared'], 2)}" for r in these)
            apart = "".join(f", {r['setting']} − {CONTROL} {fmt_sig(r['minus_control_after_shared'], 2)}"
                            for r in these if not math.isnan(r["minus_control_after_shared"]))
            clauses.append(f"{LABELS[key]}: {moved}{apart} (the seeds' sd at $g$ = {g_s}: {spread})")
    return (f"{reach}. From $g$ = {g_s} to {until} the changes were: " + "; ".join(clauses)
            + f". One seed beyond $g$ = {g_s} has no run-to-run interval, so these are descriptions, not verdicts.")


def _separating(table: Sequence[Mapping], setting: str, baseline: int) -> tuple[dict, list] | None:
    """``(cells, ranked)``: the non-empty cells of ``setting``'s column for ``baseline`` and the
    separating signals with their cells, earliest first; ``None`` when every cell is "one seed"."""
    column = f"{setting} from g{baseline}"
    cells = {r["signal"]: r.get(column) for r in table if r.get(column) not in (None, "–")}
    if cells and all(c == "one seed" for c in cells.values()):
        return None
    sep = [(k, v) for k, v in cells.items() if first_generation(v) is not None]
    return cells, sorted(sep, key=lambda kv: (first_generation(kv[1]), kv[0]))


def _listed(ranked: Sequence) -> str:
    """``[(signal, cell)]`` as "distinct-2 from $g$ = 1, Track II at $g$ = 10, the last generation, only"."""
    return ", ".join(f"{k} {_when(cell)}" for k, cell in ranked)


def first_signal_sentence(table: Sequence[Mapping], *, setting: str = "S2", baseline: int = 0) -> str:
    """In words: which signals separate ``setting`` from the control over seeds, and from when."""
    found = _separating(table, setting, baseline)
    if found is None:
        return f"{setting} and {CONTROL} share only one seed so far: no run-to-run interval yet"
    cells, ranked = found
    if not cells:
        return f"{setting} is not in the study's committed runs"
    if not ranked:
        return (f"against the spread between seeds, no signal separates {setting} from {CONTROL} "
                f"(change from generation {baseline})")
    verb = "separates" if len(ranked) == 1 else "separate"
    return (f"against the spread between seeds, {len(ranked)} of {len(cells)} signals {verb} {setting} from "
            f"{CONTROL} (change from generation {baseline}): {_listed(ranked)}")


def paired_seeds(differences: Sequence[Mapping]) -> dict[str, int]:
    """``{collapse setting: number of seeds that have both it and the control}`` from
    :func:`against_control`'s rows: what its intervals rest on."""
    out: dict[str, int] = {}
    for d in differences:
        out[d["setting"]] = max(out.get(d["setting"], 0), d["replicates"])
    return out


def _when(cell: str | None) -> str:
    g = first_generation(cell)
    if g is None:
        return "never"
    return f"at $g$ = {g}, the last generation, only" if LAST_ONLY in cell else f"from $g$ = {g}"


def _surface_clause(table: Sequence[Mapping], setting: str, baseline: int) -> tuple[bool, str] | None:
    """``(leads, clause)``: whether a surface signal separates ``setting`` from the control before
    every one of Sigma's tracks (Track II with the second encoder among them when measured), measured
    from ``baseline``; ``None`` when the table cannot tell."""
    column = f"{setting} from g{baseline}"
    cell = {r["signal"]: r.get(column) for r in table}
    names = (("Track II", "drift_U"), ("Track I", "drift_gamma_kf"),
             (r"Track II with $\theta_0$'s hidden states", HIDDEN))
    tracks = {name: cell.get(LABELS[key]) for name, key in names}
    tracks = {name: c for name, c in tracks.items() if c not in (None, "–")}
    if not tracks or any(c == "one seed" for c in tracks.values()):
        return None
    g_sigma = min((g for c in tracks.values() if (g := first_generation(c)) is not None), default=math.inf)
    earlier = [f"{name} ({_when(cell[name])})" for name in (LABELS["distinct_2"], LABELS["hhi"])
               if (g := first_generation(cell.get(name))) is not None and g < g_sigma]
    said = ", ".join(f"{name} {_when(c)}" for name, c in tracks.items())
    if not earlier:
        return False, (f"measured from generation {baseline}, no surface signal separates {setting} from {CONTROL} "
                       f"before Sigma's tracks do ({said})")
    verb = "separates" if len(earlier) == 1 else "separate"
    return True, (f"measured from generation {baseline}, {' and '.join(earlier)} {verb} {setting} from {CONTROL} "
                  f"before {'either' if len(tracks) <= 2 else 'any'} of Sigma's tracks does ({said})")


def surface_sentence(table: Sequence[Mapping], *, setting: str = "S2") -> str:
    """Does a cheap surface signal (distinct-2, HHI) separate ``setting`` from the control, over
    seeds, earlier than both of Sigma's tracks, with changes measured from generation 0 and from
    generation 1? One sentence, or ``""`` when the table cannot tell (one seed)."""
    clauses = [c for b in (0, 1) if (c := _surface_clause(table, setting, b)) is not None]
    if not clauses:
        return ""
    leads = [lead for lead, _ in clauses]
    opening = ("A cheap surface signal discriminates better than Sigma here" if all(leads) else
               "A cheap surface signal discriminates better than Sigma on one of the two baselines" if any(leads) else
               "No cheap surface signal discriminates better than Sigma here")
    text = "; ".join(c for _, c in clauses)
    return f"{opening}: {text[0].lower()}{text[1:]}."


def signal_in_words(table: Sequence[Mapping], key: str = "drift_U") -> str:
    """One signal's row of the first-signal table in words: from which generation it separates each
    collapse setting from the control over seeds, with changes from generation 0 and from generation 1."""
    row = next((r for r in table if r["signal"] == LABELS[key]), None)
    if row is None:
        return f"{LABELS[key]} is not in the study's table"
    parts = []
    for s in ("S2", "S1"):
        c0, c1 = (row.get(f"{s} from g{b}") for b in (0, 1))
        if {c0, c1} <= {None, "–"}:
            continue
        if "one seed" in (c0, c1):
            parts.append(f"{s} and {CONTROL} share one seed only, so no interval")
        elif c0 == c1 == "never":
            parts.append(f"it never separates {s} from {CONTROL} (changes from generation 0 or 1)")
        elif c0 == c1:
            parts.append(f"it separates {s} from {CONTROL} {_when(c0)} (changes from generation 0 or 1)")
        elif "never" in (c0, c1):
            (seen, b_seen), b_never = ((c1, 1), 0) if c0 == "never" else ((c0, 0), 1)
            parts.append(f"it separates {s} from {CONTROL} {_when(seen)} (changes from generation {b_seen}) and "
                         f"never with changes from generation {b_never}")
        else:
            parts.append(f"it separates {s} from {CONTROL} {_when(c0)} (changes from generation 0) and {_when(c1)} "
                         "(from generation 1)")
    return "; ".join(parts) or f"no collapse setting shares a seed with {CONTROL}"


def second_encoder_sentence(differences: Sequence[Mapping], table: Sequence[Mapping]) -> str:
    """Track II with the book's encoder beside Track II with theta_0's hidden states (:data:`HIDDEN`):
    S2 minus the control at the last shared generation (change from generation 0) with its
    t-interval over seeds, and the first-signal ``table`` in words for each; ``""`` when the second
    encoder has not been measured."""
    from .book import fmt_sig

    def last(key):
        rows = [d for d in differences if d["signal"] == key and d["setting"] == "S2" and d["baseline"] == 0]
        return max(rows, key=lambda d: d["generation"], default=None)

    if last(HIDDEN) is None:
        return ""
    parts = []
    for key, name in (("drift_U", "all-MiniLM-L6-v2"), (HIDDEN, r"$\theta_0$'s hidden states")):
        d = last(key)
        interval = f"95 % interval {fmt_sig(d['low'], 3)} to {fmt_sig(d['high'], 3)}, {d['replicates']} seeds"
        parts.append(f"With {name}, Track II's S2 − {CONTROL} is {fmt_sig(d['difference'], 3)} nats "
                     f"at $g$ = {d['generation']} ({interval}) and {signal_in_words(table, key)}")
    return (". ".join(parts) + ". The encoders differ in dimension (384 and 576) and geometry, so "
            "their nats do not compare; their signs, intervals and first generations do.")


def real_claims(series: Sequence[Mapping], runs: Mapping[str, Sequence], *, level: float = 0.95) -> list[dict]:
    """The paper's recursion claims E1-E14 judged over the study's seeds
    (:func:`sigma_lib.report.replicate_claims.replicate_claims`), E14 on each seed's S1 folder; all at
    the generations every seed has (:func:`shared_generations`)."""
    from . import run_report as rr
    from .replicate_claims import replicate_claims

    shared = shared_generations(series)
    g_s1 = max((r["generation"] for r in shared if r["setting"] == "S1"), default=0)
    buckets = {name: [b for b in rr.bucket_table(f) if b["generation"] <= g_s1]
               for name, folders in runs.items() for f in folders if f.name == "S1"}
    paper_signals = [r for r in shared if r["signal"] in PAPER_SIGNALS]
    judged = replicate_claims(paper_signals, buckets=buckets, level=level)
    # one seed gives no interval: such a claim cannot be judged against run-to-run noise yet
    return [c if c["runs"] >= 2 else {**c, "verdict": UNTESTABLE, "value": c["value"] + " (one seed)"}
            for c in judged]


def differences_wide(differences: Sequence[Mapping], *, baseline: int = 0) -> list[dict]:
    """The paired differences from the control as wide rows for
    :func:`sigma_lib.report.plots.signals_grid` (``"S2 − new-real"`` as the setting, the band the
    t-interval over seeds)."""
    from .replicates import summary_wide

    return summary_wide([{**d, "setting": f"{d['setting']} − {d['control']}", "mean_change": d["difference"]}
                         for d in differences if d["baseline"] == baseline])


def in_words(table: Sequence[Mapping], paired: Mapping[str, int] | None = None) -> str:
    """The first-signal table in words: per collapse setting, how many signals separate it from the
    control from generation 0 and from generation 1, and from when (over ``paired[setting]`` seeds,
    :func:`paired_seeds`, when given); then whether a surface signal leads Sigma's tracks
    (:func:`surface_sentence`)."""
    settings = [s for s in ("S2", "S1") if any(f"{s} from g0" in r for r in table)]
    found = {s: [_separating(table, s, b) for b in (0, 1)] for s in settings}
    if all(f is None or not f[0] for fs in found.values() for f in fs):
        return (f"{' and '.join(settings)} share only one seed with {CONTROL} so far: "
                "no run-to-run interval yet.")
    clauses = []
    for s, per_baseline in found.items():
        if all(f is None for f in per_baseline):
            clauses.append(f"{s} shares only one seed with {CONTROL} so far")
            continue
        over = f" (over the {paired[s]} seeds that have both)" if paired and s in paired else ""
        if not any(f[1] for f in per_baseline if f is not None):
            clauses.append(f"{s} separates from {CONTROL}{over} on no signal (changes from generation 0 or 1)")
            continue
        parts = [f"{len(f[1])} of {len(f[0])} signals from generation {b} ({_listed(f[1])})" if f[1] else
                 f"none of {len(f[0])} from generation {b}" for b, f in enumerate(per_baseline) if f is not None]
        clauses.append(f"{s} separates from {CONTROL}{over} on " + " and on ".join(parts))
    return (f"Against the spread between seeds, {'; '.join(clauses)}. " + surface_sentence(table)).strip()


def study_sentence(table: Sequence[Mapping], paired: Mapping[str, int]) -> str:
    """The study's verdict for the introduction: over how many seeds S2 and the control are paired
    (:func:`paired_seeds`), and which signals separate S2 from the control from when
    (:func:`first_signal_sentence`)."""
    return (f"over the {paired.get('S2', 0)} seeds of the replicated study that have both S2 and {CONTROL}, "
            + first_signal_sentence(table, setting="S2"))


def one_run_sentence(series: Sequence[Mapping], verdicts: Sequence[Mapping], *, replicate: str) -> str:
    """One seed of the study against its own bands, in one sentence: how much each control moves
    Track II against S2, and on how many signals each collapse setting separates from it
    (``verdicts``: :func:`sigma_lib.report.controls.verdict_table` of ``series``)."""
    last = last_generations(series)
    lengths = (f"{next(iter(last.values()))} generations" if len(set(last.values())) == 1
               else ", ".join(f"{s} {g}" for s, g in last.items()) + " generations")
    shares = control_shares(series, "drift_U")
    pairs = [k for k in verdicts[0] if " vs " in k]
    moved = [f"{c} moves Track II {v:.2f} times as much as S2" for c, v in shares.items()]
    separated = [f"{k.split(' vs ')[0]} separates from {k.split(' vs ')[1]} on "
                 f"{sum(v[k] is not None for v in verdicts)} of {len(verdicts)} signals" for k in pairs]
    return (f"in the replicated study's {replicate} ({', '.join(last)}; {lengths}; one run's bands), "
            + "; ".join(moved + separated))


def frechet_sentence(rows: Sequence[Mapping], *, band: float, replicate: str) -> str:
    """The Fréchet distance of each setting at the last generation every setting has, its change
    from generation 0 and the band (twice ``band``, the bootstrap sd of one checkpoint), and what the
    changes say: a fall beyond the band is a move toward held-out real text."""
    g_last = min(last_generations(rows).values())
    last = {r["setting"]: r for r in rows if r["generation"] == g_last}
    closer = [s for s, r in last.items() if r["frechet_change"] < -2 * band]
    away = [s for s, r in last.items() if r["frechet_change"] > 2 * band]
    moved = ([f"{', '.join(closer)} moved closer to it"] if closer else []) + (
        [f"{', '.join(away)} moved away from it"] if away else [])
    said = ("; ".join(moved) or "no setting moved beyond the band") if not math.isnan(band) else "no band yet"
    values = "; ".join(f"{s} {r['frechet']:.3f} (change {r['frechet_change']:+.3f})".replace("change -", "change −")
                       for s, r in last.items())
    return (f"At generation {g_last} ({replicate}): {values}, band ±{2 * band:.3f} around each checkpoint. "
            f"A lower distance is closer to held-out TECH text: {said}.")


def baseline_sentence(runs: Mapping[str, Sequence]) -> str:
    """Whether every committed folder of each seed holds the same generation 0 (the SHA-256 of its
    responses in the folder's ``checksums.json``), so that a seed's settings are paired on one
    evaluation of theta_0: float32 kernels differ in their last bits between CPU kinds, and a seed's
    settings run on two machines can start from responses that differ in a few tokens."""
    import json
    from pathlib import Path

    from ..recursion.export import CHECKSUMS, responses_key

    split = []
    for name, folders in runs.items():
        hashes = {f.name: json.loads((Path(f) / CHECKSUMS).read_text()).get(responses_key("", 0)) for f in folders}
        if len(set(hashes.values())) > 1:
            groups: dict = {}
            for setting, digest in hashes.items():
                groups.setdefault(digest, []).append(setting)
            split.append(f"{name} ({' | '.join(', '.join(g) for g in groups.values())})")
    if not split:
        return ("Within every seed, all committed settings start from the same generation 0 (the same responses "
                "of $\\theta_0$).")
    return ("Not every seed's settings start from the same generation 0: in " + "; ".join(split) + " the "
            "responses of $\\theta_0$ differ. That happens when a seed's settings run on different CPU kinds, whose "
            "float32 kernels differ in their last bits, which sampling turns into a few other tokens. Each setting's "
            "changes are still measured from its own generation 0.")


def new_real_provenance(runs: Mapping[str, Sequence]) -> list[dict]:
    """Are the new-real contexts what the control's name says? Per seed with a committed new-real
    folder: the generations, the windows per generation, the windows shared between two generations
    (0: new real text every generation) and the windows that are also held-out or training contexts
    of the frozen TECH assets (0: never evaluated on, never in S1/S2's real data), from the
    ``real_context_ids`` each generation's ``metrics.json`` records."""
    import json

    from ..corpus.assets import load_contexts
    from ..recursion.checkpoint import generation_dir

    frozen = {"heldout": {c["id"] for c in load_contexts(split="heldout")},
              "train": {c["id"] for c in load_contexts(split="train")}}
    out = []
    for name, folders in runs.items():
        for folder in [f for f in folders if f.name == CONTROL]:
            gens = sorted(int(p.name.split("_")[1]) for p in (folder / CONTROL).glob("gen_*"))
            ids = [json.loads((generation_dir(folder, CONTROL, g) / "metrics.json").read_text())["real_context_ids"]
                   for g in gens]
            seen = [i for block in ids for i in block]
            out.append({"seed": name, "generations": len(gens), "windows per generation": min(map(len, ids)),
                        "repeated across generations": len(seen) - len(set(seen)),
                        "also held out": len(set(seen) & frozen["heldout"]),
                        "also training contexts": len(set(seen) & frozen["train"])})
    return out


def provenance_sentence(rows: Sequence[Mapping]) -> str:
    """:func:`new_real_provenance` in words: whether every seed's new-real trained on new, unused text."""
    bad = [r["seed"] for r in rows if r["repeated across generations"] or r["also held out"]
           or r["also training contexts"]]
    if bad:
        return f"**new-real is not what its name says in {', '.join(bad)}**: it reuses windows (see the table)."
    return (f"In every seed ({', '.join(r['seed'] for r in rows)}) new-real trained on new TECH windows every "
            "generation, none of them held out or among the training contexts.")



def recomputation_check(runs: Mapping[str, Sequence], *, tolerance: float = RECOMPUTE_TOLERANCE,
                        ends_only: bool = False) -> list[dict]:
    """Each committed folder's generations table recomputed from its stored embeddings and responses
    (:func:`sigma_lib.report.run_report.recompute_generations`: Track I and II with drift and band,
    distinct-2, HHI; ``ends_only``: generation 0 and the last generation alone), against the table
    the engine wrote: one row per seed and setting with the checkpoints compared, the largest
    absolute difference and whether it is within ``tolerance`` (the last bits depend on the BLAS
    threads, so a difference of 1e-12 is agreement)."""
    from . import run_report as rr

    out = []
    for name, folders in runs.items():
        for folder in folders:
            stored = [r for r in rr.load_table(folder, "generations") if r["setting"] == folder.name]
            recomputed = [r for r in rr.recompute_generations(folder, ends_only=ends_only)
                          if r["setting"] == folder.name]
            gap = rr.largest_difference(recomputed, stored)
            out.append({"seed": name, "setting": folder.name, "checkpoints": len(recomputed),
                        "largest difference": gap, "agrees": gap <= tolerance})
    return out


def recomputation_sentence(rows: Sequence[Mapping], *, tolerance: float = RECOMPUTE_TOLERANCE) -> str:
    """:func:`recomputation_check` in words: whether every stored table is what its stored files give."""
    bad = [f"{r['seed']} {r['setting']}" for r in rows if not r["agrees"]]
    if not bad:
        n, tol = sum(r["checkpoints"] for r in rows), tolerance_label(tolerance)
        return (f"Recomputed from the stored embeddings and responses, the {n} committed checkpoints give the "
                f"engine's tables to better than {tol} (the last bits depend on the BLAS threads): the "
                "tables below rest on what is stored.")
    worst = max(r["largest difference"] for r in rows)
    return (f"**The stored tables of {', '.join(bad)} differ from what their stored files give** (largest "
            f"difference {worst:.3g}): do not trust them before this is explained.")
