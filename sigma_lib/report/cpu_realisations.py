"""One seed run twice: is run-to-run noise a matter of which seed?

Seed 0 of the replicated real-LM study was first run on one CPU kind (2026-12-03, kept under
``runs/real-rep-other-cpu/seed-0/<setting>/``) and again, to go on to 20 generations, on another
(``runs/real-rep/seed-0/``). Same code, same seeds: only the last bits of the float32 kernels differ,
so generation 0 differs in a few tokens of a few responses, and every later generation samples from
a slightly different model. If run-to-run noise were a matter of which seed, the two would stay
together; if the recursion amplifies any difference, they part as far as two seeds do.

A realisation pair is read only where its generation 0 differs (the same responses would be the
same run). Two independent runs differ by ``sqrt(2)`` times the between-seed sd on average, the
scale each gap is read against.
"""
from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Mapping, Sequence

from .run_report import COMMITTED_ROOT

#: The first realisation of each seed whose folders another CPU kind re-made.
OTHER_CPU_ROOT = COMMITTED_ROOT / "real-rep-other-cpu"
SIGNALS = ("drift_U", "distinct_2", "heldout_nll")


def differing_responses(folder_a, folder_b) -> tuple[int, int]:
    """``(differing, total)``: how many of generation 0's responses differ between two committed
    folders of one seed, and how many each holds."""
    from ..recursion.checkpoint import generation_dir, load_texts

    a, b = (load_texts(generation_dir(Path(f), "base", 0)) for f in (folder_a, folder_b))
    if len(a) != len(b):
        raise ValueError(f"{folder_a} and {folder_b} hold {len(a)} and {len(b)} responses at generation 0")
    return sum(x["text"] != y["text"] for x, y in zip(a, b)), len(a)


def realisation_pairs(runs: Mapping[str, Sequence], other: Mapping[str, Sequence]) -> list[dict]:
    """Per seed and setting committed in both ``runs`` and ``other`` (``{seed: [folders]}``, as
    :func:`sigma_lib.report.replicates.find_real_replicates` gives them): the two folders and how many
    responses of generation 0 differ; a pair with none differing is the same run and left out."""
    out = []
    for seed, folders in other.items():
        mine = {Path(f).name: f for f in runs.get(seed, [])}
        for folder in folders:
            if Path(folder).name in mine:
                n, total = differing_responses(mine[Path(folder).name], folder)
                if n:
                    out.append({"seed": seed, "setting": Path(folder).name, "study": mine[Path(folder).name],
                                "other": folder, "differing_g0_responses": n, "g0_responses": total})
    return out


def realisation_gaps(study: Sequence[Mapping], other: Sequence[Mapping], pairs: Sequence[Mapping], *,
                     signals: Sequence[str] = SIGNALS) -> list[dict]:
    """Per realisation pair, signal and generation both realisations have: the change from generation
    0 in the study's run and in the other CPU's (rows of :func:`sigma_lib.report.real_study.load_study`
    and of :func:`sigma_lib.report.replicates.load_replicates`), their gap, and the between-seed sd of
    the change at that generation in the study
    (:func:`sigma_lib.report.replicates.replicate_summary`; ``nan`` with fewer than two seeds)."""
    from .replicates import replicate_summary

    def changes(rows, **match):
        return {r["generation"]: r["change"] for r in rows if all(r[k] == v for k, v in match.items())}

    between = {(r["setting"], r["signal"], r["generation"]): r["between_sd"] for r in replicate_summary(study)}
    out = []
    for p in pairs:
        for key in signals:
            mine = changes(study, replicate=p["seed"], setting=p["setting"], signal=key)
            theirs = changes(other, replicate=p["seed"], setting=p["setting"], signal=key)
            for g in sorted(set(mine) & set(theirs) - {0}):
                sd = between[(p["setting"], key, g)]
                out.append({"seed": p["seed"], "setting": p["setting"], "signal": key, "generation": g,
                            "change_study": mine[g], "change_other_cpu": theirs[g], "gap": mine[g] - theirs[g],
                            "between_seed_sd": sd, "gap_in_seed_units": (mine[g] - theirs[g]) / (math.sqrt(2) * sd)
                            if sd > 0 else math.nan})
    return out


def gap_summary(gaps: Sequence[Mapping]) -> list[dict]:
    """Per realisation pair and signal: the generations compared, the gap at the last of them beside
    the between-seed sd there, and the root mean square over generations of the gap in units of
    ``sqrt(2)`` between-seed sds (about 1 when the two realisations part as far as two seeds)."""
    groups: dict = {}
    for r in gaps:
        groups.setdefault((r["seed"], r["setting"], r["signal"]), []).append(r)
    out = []
    for (seed, setting, signal), rows in groups.items():
        last = max(rows, key=lambda r: r["generation"])
        units = [r["gap_in_seed_units"] for r in rows if not math.isnan(r["gap_in_seed_units"])]
        out.append({"seed": seed, "setting": setting, "signal": signal, "generations": len(rows),
                    "last_generation": last["generation"], "gap_at_last": last["gap"],
                    "between_seed_sd_at_last": last["between_seed_sd"],
                    "rms_gap_in_seed_units": math.sqrt(sum(u * u for u in units) / len(units)) if units else math.nan})
    return out


def realisation_sentence(summary: Sequence[Mapping], pairs: Sequence[Mapping], *, labels: Mapping[str, str]) -> str:
    """:func:`gap_summary` in words; ``""`` when no seed has two realisations of a setting."""
    from .book import fmt_sig

    if not summary:
        return ""
    said = []
    for p in pairs:
        rows = [r for r in summary if (r["seed"], r["setting"]) == (p["seed"], p["setting"])]
        if not rows:
            continue
        parts = [f"{labels[r['signal']]} {fmt_sig(r['gap_at_last'], 2)} (the seeds' sd there: "
                 f"{fmt_sig(r['between_seed_sd_at_last'], 2)}; over generations 1 to {r['last_generation']}, "
                 f"{fmt_sig(r['rms_gap_in_seed_units'], 2)} gaps between two seeds, root mean square)" for r in rows]
        said.append(f"{p['seed']}'s {p['setting']} starts from a generation 0 that differs in "
                    f"{p['differing_g0_responses']} of {p['g0_responses']} responses; at $g$ = "
                    f"{rows[0]['last_generation']} this CPU kind's run minus the other's is: " + "; ".join(parts))
    units = [r["rms_gap_in_seed_units"] for r in summary if not math.isnan(r["rms_gap_in_seed_units"])]
    if not units:
        return ". ".join(said) + ". With one seed there is no between-seed spread to compare with."
    typical = statistics.median(units)
    verdict = ("of the order of the gap between two seeds" if typical >= 0.5
               else "smaller than the gap between two seeds")
    return (". ".join(said) + f". Over these signals the median is {fmt_sig(typical, 2)} gaps between two seeds: "
            f"two runs of one seed on two CPU kinds part {verdict}. The between-seed sd rests on "
            "few seeds, so this is a scale, not a test.")
