"""Tables and series for the book's metrics and appendix chapters, from a run directory only.

Every number comes from the run's CSV tables (``run_dir/tables``) or, for the signals beyond the
paper, from the embeddings and responses stored in its generation folders. The paper's own
numbers come from ``data/paper_reported.json`` and are only ever shown labelled as the paper's.
"""
from __future__ import annotations

import csv
import json
from functools import partial
from pathlib import Path

import numpy as np

from ..common.profiles import OUTPUT_FOLDERS
from ..maths.run_summary import run_summary
from ..maths.signals import bootstrap_sd, first_exit, rankme, vendi_score
from ..maths.surface import distinct_n, hashed_ngram_hhi, spearman
from ..recursion.checkpoint import (
    generation_dir,
    load_embeddings,
    load_texts,
    read_done,
    stored_generations,
)
from ..recursion.measures import HHI_BUCKETS, HHI_N
from .book import fmt_sig, is_missing

PAPER_FILE = Path(__file__).resolve().parent.parent / "data" / "paper_reported.json"


def paper_reported() -> dict:
    """The paper's printed Table 1, Table 11 and C.4 series (for side-by-side display only)."""
    return json.loads(PAPER_FILE.read_text())


def parse_number(v: str):
    """A CSV cell as ``None`` (empty), an int, a float, a bool, or the string itself."""
    if v in ("", None):
        return None
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return {"True": True, "False": False}.get(v, v)


def read_csv(path: str | Path) -> list[dict]:
    """A CSV table as dicts of numbers (:func:`parse_number` on every cell)."""
    with open(path, newline="") as f:
        return [{k: parse_number(v) for k, v in row.items()} for row in csv.DictReader(f)]


def load_table(run_dir: str | Path, name: str) -> list[dict]:
    """A run table (``generations``, ``buckets``, ``noise``, ``timings``) as dicts of numbers.

    Raises ``FileNotFoundError`` naming the table when the run has not produced it yet.
    """
    path = Path(run_dir) / "tables" / f"{name}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"no table {path}: run the recursion experiment first (notebooks/recursion.ipynb)")
    return read_csv(path)


def rows_by_setting(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["setting"], []).append(r)
    return {s: sorted(v, key=lambda r: r["generation"]) for s, v in out.items()}


def table1(gen_rows: list[dict]) -> list[dict]:
    """Table 1 from the generations table: g_max, final drifts, least-squares slopes, agreement."""
    rows = []
    for s, r in rows_by_setting(gen_rows).items():
        summ = run_summary([x["generation"] for x in r], [x["drift_U"] for x in r], [x["drift_gamma_kf"] for x in r])
        rows.append({"setting": s, **summ.as_dict(), "noise_U_final": r[-1]["noise_U"]})
    return rows


def table11(gen_rows: list[dict]) -> list[dict]:
    """Table 11: distinct-2 and HHI at g = 0 and g_max, and Spearman correlations over generations."""
    rows = []
    for s, r in rows_by_setting(gen_rows).items():
        dU = [x["drift_U"] for x in r]
        d2 = [x["distinct_2"] for x in r]
        hhi = [x["hhi"] for x in r]
        rows.append({"setting": s, "distinct_2_g0": d2[0], "distinct_2_gmax": d2[-1], "hhi_g0": hhi[0],
                     "hhi_gmax": hhi[-1], "spearman_dU_distinct2": spearman(dU, d2),
                     "spearman_dU_hhi": spearman(dU, hhi), "spearman_distinct2_hhi": spearman(d2, hhi)})
    return rows


def c4_table(gen_rows: list[dict]) -> list[dict]:
    """App. C.4: the plotted points, per setting and generation (drifts and their noise)."""
    keys = ("setting", "generation", "drift_U", "noise_U", "drift_gamma_kf", "noise_gamma_kf")
    return [{k: r[k] for k in keys} for r in sorted(gen_rows, key=lambda r: (r["setting"], r["generation"]))]


def _ratio(a, b):
    if a is None or b is None or isinstance(a, bool) or isinstance(b, bool) or b == 0:
        return None
    return a / b


TABLE1_QUANTITIES = (("g_max", "generations $g_\\max$", None),
                     ("drift_U_final", "final $\\Delta U$ (nats)", "noise_U"),
                     ("slope_U", "slope of $\\Delta U$ (nats per generation)", None),
                     ("drift_gamma_final", "final $\\Delta\\Gamma_{KF}$ (dimensionless)", "noise_gamma_kf"),
                     ("slope_gamma", "slope of $\\Delta\\Gamma_{KF}$ (per generation)", None),
                     ("track_agreement", "tracks agree (both final drifts negative)", None))


def table1_merged(ours: list[dict], paper: list[dict], gen_rows: list[dict]) -> list[dict]:
    """Table 1 row by row: per setting and quantity the paper's value, this run's, the run's noise
    (one standard deviation over re-drawn index sets, for the final drifts) and the ratio run / paper."""
    last = {s: r[-1] for s, r in rows_by_setting(gen_rows).items()}
    theirs = {r["setting"]: r for r in paper}
    rows = []
    for o in ours:
        s = o["setting"]
        for key, label, noise in TABLE1_QUANTITIES:
            p = theirs.get(s, {}).get(key)
            rows.append({"setting": s, "key": key, "quantity": label, "paper": p, "this_run": o[key],
                         "noise": last[s][noise] if noise else None,
                         # a ratio of generation counts (ours 4, the paper's 50) says nothing
                         "ratio": None if key == "g_max" else _ratio(o[key], p)})
    return rows


def track1_scale_sentence(gen_rows: list[dict], across: list[dict] | None = None, n_runs: int = 0) -> str:
    """Track I's scale and, per setting, its final drift judged two ways (the metrics chapter).

    One run: the drift at the last generation against that run's index-set sd (beyond when more
    than 2 sd), which is the *one-run* band only. ``across``: rows of
    :func:`sigma_lib.report.replicates.replicate_summary` for ``drift_gamma_kf`` at each setting's last
    common generation over ``n_runs`` independent runs; a setting's run-to-run verdict is *beyond
    run-to-run noise* when the 95 % t-interval of its mean change excludes zero, else *within*. A
    setting without replicate rows (or with fewer than two runs) is said to have no run-to-run verdict.
    """
    by = rows_by_setting(gen_rows)
    r0 = gen_rows[0]
    B = r0["N"] - r0["m"]
    lines = [f"**Track I's scale.** With $N$ = {r0['N']} responses and $m$ = {r0['m']}, the tail budget is "
             f"$B = N - m$ = {B}, so $\\Gamma_{{KF}} = \\sum_i \\log(1 + \\lambda_i/B)$ {{eq}}`eq-3-19` is at most "
             f"about $m/B$ = {r0['m'] / B:.2f} here and can only move by a fraction of that; this run's "
             f"$\\Gamma_{{KF}}$ is {r0['gamma_kf']:.3g} at generation 0. Its drift is therefore tiny next to "
             "Track II's in nats, and the two must not be compared on one scale."]
    reps = {a["setting"]: a for a in across or [] if a["signal"] == "drift_gamma_kf"}
    for s in sorted(by):
        r = by[s][-1]
        k = abs(r["drift_gamma_kf"]) / r["noise_gamma_kf"] if r["noise_gamma_kf"] else float("inf")
        line = (f"In {s}, Track I moves by {fmt_sig(r['drift_gamma_kf'], 3)} at $g$ = {r['generation']}, {k:.1f} "
                f"times the index-set sd of this one run ({fmt_sig(r['noise_gamma_kf'], 2)}): "
                + ("beyond the one-run (index-set) band" if k > 2 else "within the one-run (index-set) band"))
        a = reps.get(s)
        if a is None or n_runs < 2 or is_missing(a.get("low")):
            line += "; its run-to-run noise is not measured here (no replicate runs of this setting)."
        else:
            beyond = a["low"] > 0 or a["high"] < 0
            line += (" only" if k > 2 and not beyond else "") + "."
            line += (f" Over {a['replicates']} runs its change at $g$ = {a['generation']} is "
                     f"{fmt_sig(a['mean_change'], 3)} [{fmt_sig(a['low'], 3)}, {fmt_sig(a['high'], 3)}] (mean "
                     f"[95 % $t$-interval]), the sd between runs {fmt_sig(a['between_over_index'], 2)} times the "
                     "index-set sd: "
                     + ("**beyond run-to-run noise**." if beyond else "**within run-to-run noise**."))
        lines.append(line)
    return "\n\n".join(lines)


def table11_merged(ours: list[dict], paper: list[dict]) -> list[dict]:
    """Table 11 row by row: per setting and quantity the paper's value, this run's and their difference.

    The paper's three Spearman columns lost their headers in extraction. They are set beside
    rho(Delta U, distinct-2), rho(Delta U, HHI), rho(distinct-2, HHI) in the paper's order, the order
    their signs suggest (S1: +0.926, -0.286, -0.318), but that order is a guess: those rows name the
    printed column and get no difference (claim E13 reads the three columns as "one of").
    """
    quantities = (("distinct_2_g0", "distinct_2_g0", "distinct-2 at $g = 0$"),
                  ("distinct_2_gmax", "distinct_2_gmax", "distinct-2 at $g_\\max$"),
                  ("hhi_g0", "hhi_g0", "HHI at $g = 0$"), ("hhi_gmax", "hhi_gmax", "HHI at $g_\\max$"),
                  ("spearman_dU_distinct2", "spearman_1", "Spearman $\\rho(\\Delta U, \\text{distinct-2})$"),
                  ("spearman_dU_hhi", "spearman_2", "Spearman $\\rho(\\Delta U, \\text{HHI})$"),
                  ("spearman_distinct2_hhi", "spearman_3", "Spearman $\\rho(\\text{distinct-2}, \\text{HHI})$"))
    theirs = {r["setting"]: r for r in paper}
    rows = []
    for o in ours:
        for key, pkey, label in quantities:
            p = theirs.get(o["setting"], {}).get(pkey)
            v = o[key]
            guessed = pkey.startswith("spearman_")
            rows.append({"setting": o["setting"], "key": key, "paper": p, "this_run": v,
                         "quantity": label + (f" (the paper: its printed column {pkey[-1]} of 3, headers lost)"
                                              if guessed else ""),
                         "difference": None if p is None or v is None or guessed else v - p})
    return rows


def c4_merged(gen_rows: list[dict], paper_c4: dict) -> list[dict]:
    """App. C.4 row by row (one row per generation): the paper's printed drifts beside this run's,
    per setting, with the ratio of this run's S1 Track II drift to the paper's."""
    by = rows_by_setting(gen_rows)
    paper = {g: (u, gam) for g, u, gam in zip(paper_c4["generation"], paper_c4["drift_U"], paper_c4["drift_gamma"])}
    gens = sorted(set(paper) | {r["generation"] for r in gen_rows})
    rows = []
    for g in gens:
        row = {"generation": g, "paper_drift_U": paper.get(g, (None, None))[0],
               "paper_drift_gamma": paper.get(g, (None, None))[1]}
        for s, rs in by.items():
            r = next((x for x in rs if x["generation"] == g), None)
            for key in ("drift_U", "noise_U", "drift_gamma_kf", "noise_gamma_kf"):
                row[f"{s}_{key}"] = None if r is None else r[key]
        if "S1" in by:
            row["S1_over_paper_U"] = _ratio(row.get("S1_drift_U"), row["paper_drift_U"])
        rows.append(row)
    return rows


def track1_gap_sentence(const: dict, found: dict | None, finals: list[dict], *, d: int, n_paper: int | None,
                        gap_rows: list[dict] | None = None) -> str:
    """Where the constant gap between the paper's two C.4 series comes from, in words (the appendix).

    ``const`` is :func:`sigma_lib.maths.track1_offset.gap_constant` of the printed series, ``found``
    its :func:`~sigma_lib.maths.track1_offset.integer_counts` at the encoder width ``d`` (``None``: no
    whole count makes the gaps, and the sentence says the count explanation fails), ``finals`` the
    paper's Table 1 gap and the count ratio it needs per setting, ``n_paper`` the largest count
    recovered. The sentence gives the derived gap, the counts ``n_0`` and ``n_g`` that make every gap
    ``d log(n_g/n_0)``, that no fixed-size normalisation reproduces it while dividing by the count
    does, and which of Table 1's rows (S1, S2) share that gap. ``gap_rows`` (``generation`` and
    ``gap`` per generation, the printed series' :func:`~sigma_lib.maths.track1_offset.track_gaps`)
    adds how far the generations from 2 on that are not at the constant deviate from it, so the
    constant is said to hold only as nearly as it does. A gap shared with Table 1's S1 row is
    reported as consistent with an S1 series, not as identifying it: the gap is set by the counts,
    which any setting evaluated on the same counts would share.
    """
    if found is None:
        return (f"No whole count $n_0 \\le 5000$ makes the gaps $d\\log(n_g/n_0)$ at $d$ = {d}: the count "
                "explanation fails.")
    others = [g for g in const["other_generations"] if g >= 2]
    s1 = next((r for r in finals if r["setting"] == "S1"), None)
    s2 = next((r for r in finals if r["setting"] == "S2"), None)
    off = [abs(r["gap"] - const["constant"]) for r in gap_rows or [] if r["generation"] in others]
    deviation = (f", which differ from it by up to {fmt_sig(max(off), 4)} nats: the Track I drift is the Track II "
                 "drift plus one constant only nearly" if off else "")
    return (
        f"**Derived gap:** {fmt_sig(const['constant'], 7)} nats at {const['n_at_constant']} of the "
        f"{const['n_generations']} generations from 2 on"
        + (f" (the others: generation{'s' if len(others) > 1 else ''} {', '.join(map(str, others))}{deviation})"
           if others else "")
        + f". At $d$ = {d} every gap is $d\\log(n_g/n_0)$ with whole counts: "
        f"$n_0$ = {found['n0']}, $n_g$ between {min(found['counts'][1:])} and {max(found['counts'])}, to within "
        f"{fmt_sig(found['max_residual'], 2)} of a whole number; no other encoder width tried does this. "
        f"**No fixed-size normalisation reproduces it** (each predicts a gap of 0); dividing the Gram by the number "
        f"of embeddings actually used, in Track II only, does: "
        f"{d}·log({n_paper}/{found['n0']}) = {fmt_sig(d * np.log(n_paper / found['n0']), 7)} nats. "
        + (f"The paper's Table 1 S1 row has the same gap ({fmt_sig(s1['gap'], 4)} nats), consistent with its C.4 "
           "series being S1's (the paper does not say which it is); but the gap is set by the counts alone, so a "
           "series of any setting evaluated on the same counts would share it, and it does not identify the setting. "
           if s1 is not None else "")
        + (f"The S2 row's gap ({fmt_sig(s2['gap'], 5)} nats) would need {fmt_sig(s2['ratio'], 3)} times more "
           f"embeddings at $g_\\max$ than at $g = 0$, which no count of at most {n_paper} allows: S2's Track I was not "
           f"computed the same way, or not from the same counts." if s2 is not None else ""))


def recorded_metrics(folder: str | Path) -> dict:
    """What the engine measured for one generation: ``metrics.json`` of a committed run (verified
    with its checksums by :func:`committed_run`), else the metrics of the run directory's verified
    ``done.json``."""
    folder = Path(folder)
    if (folder / "metrics.json").is_file():
        return json.loads((folder / "metrics.json").read_text())
    return read_done(folder)["metrics"]


def bucket_table(run_dir: str | Path) -> list[dict]:
    """App. C.6: Track II drift per prompt bucket at every generation, with the bucket's size and
    the evaluation noise of a bucket's drift, as the engine measured it (the run's ``noise_buckets``
    table, or its generation-0 record for older runs); nothing is recomputed here.

    theta_0 evaluated a second time with other seeds gives, per bucket, one drift that is pure
    evaluation noise (``reseed_drift_U``): one draw, not a standard deviation. ``reseed_noise_U`` is
    their root mean square over the buckets, the standard deviation of a bucket's drift under
    evaluation noise alone if the buckets (of similar sizes) are alike: ``n_buckets`` degrees of freedom.
    """
    rows = load_table(run_dir, "buckets")
    if (Path(run_dir) / "tables" / "noise_buckets.csv").is_file():
        draws = {b["bucket"]: b["reseed_drift_U"] for b in load_table(run_dir, "noise_buckets")}
    else:
        reseed = recorded_metrics(generation_dir(run_dir, "base", 0)).get("reseed", {})
        draws = {b["bucket"]: b["drift_U"] for b in reseed.get("buckets", [])}
    pooled = float(np.sqrt(np.mean([d**2 for d in draws.values()]))) if draws else None
    return [{**r, "reseed_drift_U": draws.get(r["bucket"]), "reseed_noise_U": pooled,
             "reseed_noise_dof": len(draws)} for r in rows]


#: A bucket "contracts most" only when its lead over the next-lowest bucket exceeds this many
#: standard deviations of the difference of two bucket drifts (sqrt(2) times one bucket's sd).
BUCKET_LEAD_SDS = 2.0


def _signed(x, digits: int = 3) -> str:
    """``x`` with a leading ``+`` when positive (:func:`~sigma_lib.report.book.fmt_sig` otherwise)."""
    return ("+" if x > 0 else "") + fmt_sig(x, digits)


def bucket_contraction(rows: list[dict], generation: int | None = None,
                       settings: list[str] | None = None) -> list[dict]:
    """Per setting: does any prompt bucket contract at ``generation``, and does one contract most?

    ``rows`` are :func:`bucket_table` rows (``reseed_noise_U``: sd of one bucket's drift under
    evaluation noise, ``None`` when the run has none); ``generation`` defaults to the last one in
    ``rows``, ``settings`` (the order of the result) to their order in ``rows``. Per setting:
    ``negative`` (buckets with a drift below zero), ``beyond`` (below ``-2 sd``: contracts beyond
    noise), the ``lowest`` and ``next`` buckets with their drifts, the ``lead`` of the lowest over the
    next (nats), its band ``lead_band`` = ``BUCKET_LEAD_SDS * sqrt(2) * sd`` (twice the sd of a
    difference of two independent bucket drifts), and ``stands_out``: ``True`` when the lowest bucket
    contracts beyond noise and leads the next by more than the band, ``False`` when it does not,
    ``None`` (untestable) without a noise estimate.
    """
    rows = list(rows)
    if not rows:
        return []
    g = max(r["generation"] for r in rows) if generation is None else generation
    at = [r for r in rows if r["generation"] == g]
    out = []
    for s in settings or list(dict.fromkeys(r["setting"] for r in at)):
        mine = sorted((r for r in at if r["setting"] == s), key=lambda r: r["drift_U"])
        if not mine:
            continue
        sd = mine[0].get("reseed_noise_U")
        sd = None if is_missing(sd) else float(sd)
        drifts = [r["drift_U"] for r in mine]
        lead = drifts[1] - drifts[0] if len(mine) > 1 else None
        band = BUCKET_LEAD_SDS * np.sqrt(2.0) * sd if sd is not None else None
        beyond = None if sd is None else sum(d < -2 * sd for d in drifts)
        stands = (None if sd is None or lead is None
                  else bool(drifts[0] < -2 * sd and lead > band))
        out.append({"setting": s, "generation": g, "n_buckets": len(mine), "noise_sd": sd,
                    "negative": sum(d < 0 for d in drifts), "beyond": beyond,
                    "lowest": mine[0]["bucket"], "lowest_drift": drifts[0],
                    "next": mine[1]["bucket"] if len(mine) > 1 else None,
                    "next_drift": drifts[1] if len(mine) > 1 else None, "highest_drift": drifts[-1],
                    "lead": lead, "lead_band": band, "stands_out": stands,
                    "reseed_noise_dof": mine[0].get("reseed_noise_dof")})
    return out


def _bucket_clause(c: dict) -> str:
    n = c["n_buckets"]
    if c["negative"] == 0:
        return (f"{c['setting']}: no bucket contracts, every drift is positive "
                f"({_signed(c['lowest_drift'])} to {_signed(c['highest_drift'])} nats)")
    k = c["negative"]
    head = (f"{c['setting']}: " + (f"all {n} buckets have" if k == n else f"{k} of {n} buckets have" if k > 1
                                   else f"1 of {n} buckets has") + " a negative drift")
    if c["noise_sd"] is None:
        return (head + f", the lowest {c['lowest']} ({fmt_sig(c['lowest_drift'], 4)})"
                + (f", {fmt_sig(c['lead'], 3)} nats below {c['next']}" if c["lead"] is not None else "")
                + "; without an evaluation-noise estimate, whether any bucket contracts most is untestable")
    if c["beyond"] == 0:
        return head + ", none below −2 sd: no bucket contracts beyond noise"
    head += (", all of them below −2 sd" if c["beyond"] == c["negative"] else f", {c['beyond']} of them below −2 sd")
    if c["lead"] is None:
        return head
    pair = (f"{c['lowest']} ({fmt_sig(c['lowest_drift'], 4)}), is {fmt_sig(c['lead'], 3)} nats below the next, "
            f"{c['next']} ({fmt_sig(c['next_drift'], 4)})")
    if c["stands_out"]:
        return head + f"; the lowest, **{pair}**, beyond the lead band: {c['lowest']} contracts most"
    return head + f"; the lowest, {pair}, within the lead band: no bucket stands out beyond noise"


def bucket_contraction_sentence(summary: list[dict]) -> str:
    """App. C.6 in words (:func:`bucket_contraction`): the rule, then per setting whether any bucket
    contracts (beyond ``-2 sd`` of evaluation noise) and whether one contracts most (its lead over
    the next beyond ``BUCKET_LEAD_SDS`` sd of a difference of two bucket drifts), else that no bucket
    stands out beyond noise."""
    if not summary:
        return "No bucket table in this run."
    sd = summary[0]["noise_sd"]
    g = summary[0]["generation"]
    if sd is None:
        rule = (f"At $g$ = {g} (this run has no evaluation-noise estimate per bucket, so a contraction cannot be "
                "told from noise): ")
    else:
        dof = summary[0].get("reseed_noise_dof")
        rule = (f"At $g$ = {g}, against the evaluation noise of one bucket's drift (sd {fmt_sig(sd, 3)} nats"
                + (f", {dof} degrees of freedom" if dof else "") + "): a bucket contracts beyond noise when its "
                f"drift is below −2 sd ({fmt_sig(-2 * sd, 3)} nats), and one bucket contracts most only when its "
                f"lead over the next-lowest exceeds {fmt_sig(BUCKET_LEAD_SDS, 2)} sd of a difference of two bucket "
                f"drifts ({fmt_sig(BUCKET_LEAD_SDS, 2)}·√2·sd = {fmt_sig(summary[0]['lead_band'], 3)} nats). ")
    return rule + "; ".join(_bucket_clause(c) for c in summary) + "."


#: The signals whose noise is a bootstrap over theta_0's responses: what each resamples (the
#: responses' texts or their ``(N, d)`` embeddings) and the statistic, as the engine measures it.
G0_BOOTSTRAP = {"distinct_2": ("texts", partial(distinct_n, n=2)),
                "hhi": ("texts", partial(hashed_ngram_hhi, n=HHI_N, n_buckets=HHI_BUCKETS)),
                "vendi": ("embeddings", vendi_score), "rankme": ("embeddings", rankme)}


def bootstrap_sds(run_dir: str | Path, keys=tuple(G0_BOOTSTRAP), n_draws: int = 30, seed: int = 0) -> dict[str, float]:
    """Standard deviation of each signal in ``keys`` at theta_0 over ``n_draws`` bootstrap resamples
    of its responses (:data:`G0_BOOTSTRAP`); each signal's resamples are seeded by ``seed`` alone."""
    base = generation_dir(run_dir, "base", 0)
    items: dict[str, object] = {}
    out = {}
    for key in keys:
        kind, statistic = G0_BOOTSTRAP[key]
        if kind not in items:
            items[kind] = load_embeddings(base) if kind == "embeddings" else [r["text"] for r in load_texts(base)]
        out[key] = bootstrap_sd(items[kind], statistic, n_draws, seed)
    return out


def with_spectral_peers(run_dir: str | Path, setting: str, row: dict) -> dict:
    """A generations-table ``row`` with its Vendi score and RankMe: as the engine measured them, or,
    for runs made before it did, computed from the generation's stored embeddings."""
    if row.get("vendi") is not None:
        return row
    emb = load_embeddings(generation_dir(run_dir, setting, row["generation"]))
    return {**row, "vendi": vendi_score(emb), "rankme": rankme(emb)}


def beyond_signals(run_dir: str | Path, n_draws: int = 30, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """Signals beside Sigma-UB on the same responses, and the generation at which each leaves its band.

    Returns ``(series, exits)``: per setting and generation the Track II drift, Vendi score, RankMe,
    distinct-2 and held-out NLL; and per signal and setting its band (2 sd: index-set noise for
    Track II, bootstrap over responses at g = 0 for Vendi, RankMe and distinct-2, bootstrap over
    held-out contexts for the NLL) and the first generation outside it.
    """
    gen_rows = load_table(run_dir, "generations")
    bands = {k: 2 * v for k, v in bootstrap_sds(run_dir, ("vendi", "rankme", "distinct_2"), n_draws, seed).items()}
    series, exits = [], []
    for s, rows in rows_by_setting(gen_rows).items():
        for r in rows:
            r = with_spectral_peers(run_dir, s, r)
            series.append({"setting": s, "generation": r["generation"], "drift_U": r["drift_U"],
                           "vendi": r["vendi"], "rankme": r["rankme"], "distinct_2": r["distinct_2"],
                           "heldout_nll": r["heldout_nll"]})
        mine = [x for x in series if x["setting"] == s]
        gens = [x["generation"] for x in mine]
        noise_U = [r["noise_U"] for r in rows if r["generation"] > 0]
        signal_bands = {"drift_U": (2 * float(np.mean(noise_U)) if noise_U else 0.0, -1), "vendi": (bands["vendi"], -1),
                        "rankme": (bands["rankme"], -1), "distinct_2": (bands["distinct_2"], -1),
                        "heldout_nll": (2 * (rows[0].get("heldout_nll_se") or 0.0), +1)}
        for name, (band, direction) in signal_bands.items():
            exits.append({"setting": s, "signal": name, "band": band, "direction": "fall" if direction < 0 else "rise",
                          "first_generation_outside_band": first_exit(gens, [x[name] for x in mine], band, direction)})
    return series, exits


def repository_outputs() -> Path:
    """``outputs/`` of the repository checkout this library runs from (else of the working directory)."""
    root = Path(__file__).resolve().parents[2]
    return (root if (root / "notebooks").is_dir() else Path.cwd()) / "outputs"


def run_dir_for(profile: str, recursion_dir: str | Path | None = None) -> Path:
    """The recursion run a chapter reads: ``recursion_dir/run``, by default the one the recursion
    notebook writes for this profile (``outputs/default/recursion`` for the book,
    ``outputs/nbval/recursion`` for the test profile)."""
    if recursion_dir is None:
        if profile not in OUTPUT_FOLDERS:
            raise ValueError(f"profile must be one of {sorted(OUTPUT_FOLDERS)} (or pass recursion_dir), "
                             f"got {profile!r}")
        recursion_dir = repository_outputs() / OUTPUT_FOLDERS[profile] / "recursion"
    return Path(recursion_dir) / "run"


def require_run(run_dir: str | Path) -> Path:
    """The recursion run a chapter reads, after checking it is complete and every generation
    folder verifies; chapters only read (they never start the engine).

    Raises ``FileNotFoundError`` saying which notebook makes the run when it is missing or
    unfinished, ``ValueError`` naming a corrupt file.
    """
    run_dir = Path(run_dir)
    manifest = run_dir / "manifest.json"
    if not manifest.is_file() or not (run_dir / "tables" / "generations.csv").is_file():
        raise FileNotFoundError(f"no finished recursion run at {run_dir}: execute notebooks/recursion.ipynb first "
                                f"(`make book` orders the chapters; nbval makes the test run before the notebooks)")
    cfg = json.loads(manifest.read_text())["config"]
    for setting in cfg["settings"]:
        for g in range(cfg["generations"] + 1):
            folder = generation_dir(run_dir, setting, g)
            if not (folder / "done.json").is_file():
                raise FileNotFoundError(f"the recursion run at {run_dir} is unfinished ({folder} is missing): "
                                        f"execute notebooks/recursion.ipynb to finish it")
            read_done(folder)
    return run_dir


# -- committed runs (runs/<name>/) ------------------------------------------------------------
COMMITTED_ROOT = Path(__file__).resolve().parents[2] / "runs"
NOT_RECOMPUTABLE = ("heldout_nll", "heldout_nll_se", "weight_distance", "weight_step", "train_final_loss",
                    "train_tokens", "n_real_blocks", "n_synthetic_blocks", "start_params", "end_params")


def committed_run(name_or_path: str | Path) -> Path | None:
    """The verified folder of a committed run (``runs/<name>`` or a path), or ``None`` if absent.

    A run that is absent is simply not shown; one that is present but corrupt raises ``ValueError``
    naming the file (:func:`sigma_lib.recursion.export.verify_committed_run`).
    """
    from ..recursion.export import CHECKSUMS, verify_committed_run

    path = Path(name_or_path)
    if not path.is_absolute() and not path.exists():
        path = COMMITTED_ROOT / path
    if not (path / CHECKSUMS).is_file():
        return None
    verify_committed_run(path)
    return path


#: Agreement of a recomputed table with the stored one: the last bits depend on the BLAS threads
#: (0 with one thread, about 1e-12 with two, on the committed runs).
RECOMPUTE_TOLERANCE = 1e-9


def tolerance_label(tolerance: float = RECOMPUTE_TOLERANCE) -> str:
    """``1e-9`` for 1e-9: a tolerance as the book prints it."""
    return f"{tolerance:.0e}".replace("e-0", "e-")


def recompute_generations(run_path: str | Path, *, ends_only: bool = False) -> list[dict]:
    """The generations table of a run recomputed from its stored embeddings and responses
    (``ends_only``: generation 0 and each setting's last generation, a quicker check).

    Track I and II with drift and noise band (the run's ``m``, ``eps``, ``n_draws`` and index-set
    seed, ``index_seed`` or else ``seed``, from its manifest), distinct-2, HHI and the count of
    empty responses are recomputed; the columns that need the model weights (``NOT_RECOMPUTABLE``:
    held-out NLL, weight distance, training loss...) are read from each generation's recorded metrics.
    """
    from ..recursion.config import index_seed_of
    from ..recursion.measures import baseline_monitor, surface_metrics, track_metrics

    run_path = Path(run_path)
    cfg = json.loads((run_path / "manifest.json").read_text())["config"]
    base = generation_dir(run_path, "base", 0)
    emb0 = load_embeddings(base)
    monitor = baseline_monitor(emb0, cfg["m"], index_seed_of(cfg), cfg["eps"], cfg["n_draws"])
    rows = []
    for setting in cfg["settings"]:
        stored_gens = stored_generations(run_path, setting)
        for g in stored_gens[:1] + stored_gens[-1:] if ends_only and len(stored_gens) > 1 else stored_gens:
            folder = generation_dir(run_path, setting, g)
            stored = recorded_metrics(folder)
            emb = load_embeddings(folder)
            row = {"setting": setting, "generation": g}
            row.update(track_metrics(emb, monitor))
            row.update(surface_metrics([r["text"] for r in load_texts(folder)]))
            row.update({k: stored[k] for k in NOT_RECOMPUTABLE if k in stored})
            rows.append(row)
    return rows


def largest_difference(recomputed: list[dict], stored: list[dict],
                       keys=("U", "gamma_kf", "drift_U", "noise_U", "drift_gamma_kf", "distinct_2", "hhi")) -> float:
    """Largest absolute difference between two generations tables on ``keys`` (matched by setting and
    generation)."""
    index = {(r["setting"], r["generation"]): r for r in stored}
    diffs = [abs(float(r[k]) - float(index[(r["setting"], r["generation"])][k]))
             for r in recomputed for k in keys if (r["setting"], r["generation"]) in index]
    if not diffs:
        raise ValueError("the two tables share no (setting, generation) row")
    return max(diffs)


def control_comparison(gen_rows: list[dict]) -> list[dict]:
    """Each signal's final value in every setting, and whether S2 departs from the repeat-real control.

    The band of the difference S2 - repeat-real is twice the combined standard deviation of the two
    final values (index-set noise for the tracks, standard error for the held-out NLL); signals
    without a per-checkpoint noise estimate get no verdict. A departure is ``"toward collapse"`` when
    S2 lies on the collapse side of the control (lower diversity, higher HHI or held-out NLL), else
    ``"the other way"``.
    """
    last = {s: r[-1] for s, r in rows_by_setting(gen_rows).items()}
    if not {"S2", "repeat-real"} <= set(last):
        raise ValueError("the control comparison needs the S2 and repeat-real settings")
    # (key, noise column, label, sign of a change toward collapse)
    signals = [("drift_U", "noise_U", "Track II drift (nats)", -1),
               ("drift_gamma_kf", "noise_gamma_kf", "Track I drift", -1),
               ("heldout_nll", "heldout_nll_se", "held-out NLL (nats/token)", +1),
               ("distinct_2", None, "distinct-2", -1), ("hhi", None, "hashed 4-gram HHI", +1),
               ("weight_distance", None, "weight distance from theta_0", 0)]
    rows = []
    for key, noise, label, sign in signals:
        row = {"signal": label, **{s: last[s].get(key) for s in last}}
        diff = last["S2"][key] - last["repeat-real"][key]
        band = 2 * (last["S2"][noise] ** 2 + last["repeat-real"][noise] ** 2) ** 0.5 if noise else None
        departs = None if band is None else bool(abs(diff) > band)
        row.update({"S2 - repeat-real": diff, "band (2 sd)": band, "S2 departs from the control": departs,
                    "direction": None if not departs else "toward collapse" if sign * diff > 0 else "the other way"})
        rows.append(row)
    return rows


def heldout_nll_sentence(gen_rows: list[dict], control: str = "repeat-real",
                         collapse: tuple[str, ...] = ("S1", "S2"), base_final_loss: float | None = None) -> str:
    """The held-out NLL's rise per setting, and what the ``control`` that trains on real text only says.

    Per setting the change of ``heldout_nll`` from generation 0 to its last generation with a band of
    twice the two standard errors combined (as if independent: conservative, the contexts are the
    same). When the control's NLL rises beyond its band, the rise is said not to be specific to
    training on the model's own text; the control is compared with each ``collapse`` setting present
    (difference of the final NLLs, band twice their combined se). The control's training loss
    (``train_final_loss``: the last training batch of each generation) at its first and last
    generation, beside its final held-out NLL and ``base_final_loss`` (theta_0's last batch, from the
    manifest), is reported as consistent with fitting the repeated contexts, not as proof.
    """
    by = {s: rs for s, rs in rows_by_setting(gen_rows).items()
          if not is_missing(rs[0].get("heldout_nll")) and not is_missing(rs[-1].get("heldout_nll"))}
    if not by:
        return "This run has no held-out NLL."

    def rise(s):
        r0, r1 = by[s][0], by[s][-1]
        return (r1["heldout_nll"] - r0["heldout_nll"],
                2 * float(np.hypot(r0["heldout_nll_se"] or 0.0, r1["heldout_nll_se"] or 0.0)), r1["generation"])

    parts = [f"{s} {_signed(d)} ± {fmt_sig(b, 2)}" for s in by for d, b, _ in [rise(s)]]
    g = max(rs[-1]["generation"] for rs in by.values())
    text = (f"Held-out NLL from $g$ = 0 to its last generation ($g$ = {g}), in nats per token (±2 se, the two "
            f"generations' standard errors combined): {', '.join(parts)}.")
    if control not in by:
        return text
    d, band, _ = rise(control)
    if d <= band:
        return text + (f" In the {control} control, which trains on real text only, it "
                       + ("falls beyond that band." if d < -band else "stays within that band."))
    last = {s: by[s][-1] for s in by}
    comps = []
    for s in collapse:
        if s not in by:
            continue
        diff = last[control]["heldout_nll"] - last[s]["heldout_nll"]
        b = 2 * float(np.hypot(last[control]["heldout_nll_se"] or 0.0, last[s]["heldout_nll_se"] or 0.0))
        word = "by more than" if diff > b else "by less than" if diff < -b else "not distinguishably from"
        comps.append(f"{word} {s} (difference of the final NLLs {_signed(diff)} ± {fmt_sig(b, 2)})")
    text += (f" The {control} control, which trains on real text only, rises beyond its band"
             + (", " + " and ".join(comps) if comps else "")
             + ": a rise of the held-out NLL is therefore not specific to training on the model's own text.")
    losses = [(r["generation"], r.get("train_final_loss")) for r in by[control] if r["generation"] >= 1]
    losses = [(gg, x) for gg, x in losses if not is_missing(x)]
    if losses:
        (g1, l1), (g2, l2) = losses[0], losses[-1]
        gap = last[control]["heldout_nll"] - l2
        base = by[control][0]["heldout_nll"] - base_final_loss if not is_missing(base_final_loss) else None
        text += (f" Its training loss (the last training batch of a generation, `train_final_loss`) is "
                 f"{fmt_sig(l1, 3)} at $g$ = {g1} and {fmt_sig(l2, 3)} at $g$ = {g2}, {fmt_sig(gap, 3)} below its "
                 f"held-out NLL there"
                 + (f" ($\\theta_0$'s last training batch: {fmt_sig(base_final_loss, 3)}, {fmt_sig(base, 3)} below "
                    "its held-out NLL)" if base is not None else "")
                 + ": consistent with fitting the contexts it is trained on again and again; one batch's loss is "
                 "noisy, and the run does not show that this fitting is what raises the held-out NLL.")
    return text


def response_samples(run_path: str | Path, n_prompts: int = 3, chars: int = 200) -> list[dict]:
    """The first response to ``n_prompts`` prompts (spread over the buckets) from theta_0 and from the
    last stored generation of every setting, cut to ``chars`` characters."""
    run_path = Path(run_path)
    cfg = json.loads((run_path / "manifest.json").read_text())["config"]
    base = [r for r in load_texts(generation_dir(run_path, "base", 0)) if r["response"] == 0]
    picked = base[:: max(1, len(base) // n_prompts)][:n_prompts]
    ids = [r["prompt_id"] for r in picked]
    models = [("theta_0", generation_dir(run_path, "base", 0))]
    for s in cfg["settings"]:
        done = [g for g in range(1, cfg["generations"] + 1)
                if (generation_dir(run_path, s, g) / "responses.jsonl").is_file()]
        if done:
            models.append((f"{s}, generation {done[-1]}", generation_dir(run_path, s, done[-1])))
    rows = []
    for pid in ids:
        for name, folder in models:
            text = next(r["text"] for r in load_texts(folder) if r["prompt_id"] == pid and r["response"] == 0)
            rows.append({"prompt": pid, "model": name, "response": " ".join(text.split())[:chars]})
    return rows
