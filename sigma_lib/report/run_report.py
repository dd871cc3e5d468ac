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
)
from ..recursion.measures import HHI_BUCKETS, HHI_N
from .book import fmt_sig

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


def table11_merged(ours: list[dict], paper: list[dict]) -> list[dict]:
    """Table 11 row by row: per setting and quantity the paper's value, this run's and their difference.

    The paper's three Spearman columns lost their headers in extraction; they are matched, in the
    paper's order, to rho(Delta U, distinct-2), rho(Delta U, HHI), rho(distinct-2, HHI), the order
    their signs suggest (S1: +0.926, -0.286, -0.318).
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
            rows.append({"setting": o["setting"], "key": key, "quantity": label, "paper": p, "this_run": v,
                         "difference": None if p is None or v is None else v - p})
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


def track1_gap_sentence(const: dict, found: dict | None, finals: list[dict], *, d: int, n_paper: int | None) -> str:
    """Where the constant gap between the paper's two C.4 series comes from, in words (the appendix).

    ``const`` is :func:`sigma_lib.maths.track1_offset.gap_constant` of the printed series, ``found``
    its :func:`~sigma_lib.maths.track1_offset.integer_counts` at the encoder width ``d`` (``None``: no
    whole count makes the gaps, and the sentence says the count explanation fails), ``finals`` the
    paper's Table 1 gap and the count ratio it needs per setting, ``n_paper`` the largest count
    recovered. The sentence gives the derived gap, the counts ``n_0`` and ``n_g`` that make every gap
    ``d log(n_g/n_0)``, that no fixed-size normalisation reproduces it while dividing by the count
    does, and which of Table 1's rows (S1, S2) share that gap.
    """
    if found is None:
        return (f"No whole count $n_0 \\le 5000$ makes the gaps $d\\log(n_g/n_0)$ at $d$ = {d}: the count "
                "explanation fails.")
    others = [g for g in const["other_generations"] if g >= 2]
    s1 = next((r for r in finals if r["setting"] == "S1"), None)
    s2 = next((r for r in finals if r["setting"] == "S2"), None)
    return (
        f"**Derived gap:** {fmt_sig(const['constant'], 7)} nats at {const['n_at_constant']} of the "
        f"{const['n_generations']} generations from 2 on (the others: generation{'s' if len(others) > 1 else ''} "
        f"{', '.join(map(str, others))}). At $d$ = {d} every gap is $d\\log(n_g/n_0)$ with whole counts: "
        f"$n_0$ = {found['n0']}, $n_g$ between {min(found['counts'][1:])} and {max(found['counts'])}, to within "
        f"{fmt_sig(found['max_residual'], 2)} of a whole number; no other encoder width tried does this. "
        f"**No fixed-size normalisation reproduces it** (each predicts a gap of 0); dividing the Gram by the number "
        f"of embeddings actually used, in Track II only, does: "
        f"{d}·log({n_paper}/{found['n0']}) = {fmt_sig(d * np.log(n_paper / found['n0']), 7)} nats. "
        + (f"The paper's Table 1 S1 row has the same gap ({fmt_sig(s1['gap'], 4)} nats), so its C.4 series is S1; "
           if s1 is not None else "")
        + (f"its S2 row's gap ({fmt_sig(s2['gap'], 5)} nats) would need {fmt_sig(s2['ratio'], 3)} times more "
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


def recompute_generations(run_path: str | Path) -> list[dict]:
    """The generations table of a run recomputed from its stored embeddings and responses.

    Track I and II with drift and noise band (the run's ``m``, ``eps``, ``n_draws`` and index-set
    seed, ``index_seed`` or else ``seed``, from its manifest), distinct-2, HHI and the count of
    empty responses are recomputed; the columns that need the model weights (``NOT_RECOMPUTABLE``:
    held-out NLL, weight distance, training loss...) are read from each generation's recorded metrics.
    """
    from ..recursion.config import RunConfig
    from ..recursion.measures import baseline_monitor, surface_metrics, track_metrics

    run_path = Path(run_path)
    cfg = json.loads((run_path / "manifest.json").read_text())["config"]
    base = generation_dir(run_path, "base", 0)
    emb0 = load_embeddings(base)
    index_seed = RunConfig(seed=cfg["seed"], index_seed=cfg.get("index_seed")).index_seed_value
    monitor = baseline_monitor(emb0, cfg["m"], index_seed, cfg["eps"], cfg["n_draws"])
    rows = []
    for setting in cfg["settings"]:
        for g in range(cfg["generations"] + 1):
            folder = base if g == 0 else generation_dir(run_path, setting, g)
            if not ((folder / "metrics.json").is_file() or (folder / "done.json").is_file()):
                break
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
    without a per-checkpoint noise estimate get no verdict.
    """
    last = {s: r[-1] for s, r in rows_by_setting(gen_rows).items()}
    if not {"S2", "repeat-real"} <= set(last):
        raise ValueError("the control comparison needs the S2 and repeat-real settings")
    signals = [("drift_U", "noise_U", "Track II drift (nats)"), ("drift_gamma_kf", "noise_gamma_kf", "Track I drift"),
               ("heldout_nll", "heldout_nll_se", "held-out NLL (nats/token)"), ("distinct_2", None, "distinct-2"),
               ("hhi", None, "hashed 4-gram HHI"), ("weight_distance", None, "weight distance from theta_0")]
    rows = []
    for key, noise, label in signals:
        row = {"signal": label, **{s: last[s].get(key) for s in last}}
        diff = last["S2"][key] - last["repeat-real"][key]
        band = 2 * (last["S2"][noise] ** 2 + last["repeat-real"][noise] ** 2) ** 0.5 if noise else None
        row.update({"S2 - repeat-real": diff, "band (2 sd)": band,
                    "S2 departs from the control": None if band is None else bool(abs(diff) > band)})
        rows.append(row)
    return rows


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
